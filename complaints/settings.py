"""Settings from the environment (prefix COMPLAINTS_, plus DATABASE_URL);
every one has a working default for `make run`."""

import functools
import typing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import AliasChoices, Field, IPvAnyNetwork, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from complaints.holidays_fr import calendar_around, parse_closed_days, region_subdivision
from complaints.payload_codec import parse_keys
from complaints.policy import (
    BUILT_IN_REGIMES,
    DEFAULT_PRIORITY_DEADLINES,
    GENERAL,
    ComplaintPolicy,
    Mediator,
    PriorityDeadlines,
    Regime,
    RegimeRules,
    Span,
)
from complaints.submission import DocumentLimits
from complaints.working_days import WorkingCalendar

DEFAULT_DOCUMENT_TYPES = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/heic",
    "text/plain",
    "message/rfc822",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
]

AlertSink = Literal["email", "webhook", "log"]
ALERT_SINKS: tuple[str, ...] = typing.get_args(AlertSink)


def alert_sink_problems(sinks: list[str], webhook_url: str | None) -> list[str]:
    """What keeps the configured alert sinks from working, in words."""
    problems = [
        f"unknown alert sink {sink!r} (the sinks are {', '.join(ALERT_SINKS)})"
        for sink in sinks
        if sink not in ALERT_SINKS
    ]
    if "webhook" in sinks and not (webhook_url or "").strip():
        problems.append("COMPLAINTS_ALERT_SINKS includes webhook but COMPLAINTS_ALERT_WEBHOOK_URL is not set")
    return problems


# An emailing activity's attempt: one SMTP exchange, bounded as a whole by
# smtp_timeout_seconds (at most SMTP_TIMEOUT_MAX_SECONDS), and the register's
# reads and writes around it. A workflow gives an emailing activity this
# start-to-close timeout, so that an attempt is not timed out while it sends.
SMTP_TIMEOUT_MAX_SECONDS = 20.0
EMAIL_ATTEMPT_TIMEOUT_SECONDS = 30.0


MIN_SECRET_BYTES = 32
GENERATE = "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def secret_problem(field: str, value: str) -> str | None:
    """Why a configured secret cannot be used, in words; None when it can."""
    name = f"COMPLAINTS_{field.upper()}"
    if field == "payload_keys":
        try:
            parse_keys(value)
        except ValueError as error:
            return f"{name}: {error} (see README: generating the secrets)"
        return None
    parts = [part.strip() for part in value.split(",")] if field == "codec_tokens" else [value]
    if any(len(part.encode()) < MIN_SECRET_BYTES for part in parts):
        return f"{name}: shorter than {MIN_SECRET_BYTES} bytes, guessable; {GENERATE}"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPLAINTS_", env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "COMPLAINTS_DATABASE_URL"),
        description="PostgreSQL URL; unset, the command line uses the local stack's embedded server under data_dir.",
    )
    database_pool_max: int = 10

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://localhost:8233"
    task_queue: str = "complaints"
    # Reaching a Temporal service other than the local dev server (self-hosted
    # cluster, Temporal Cloud). Any TLS file, the server name or an API key
    # turns TLS on; cert and key go together (mutual TLS). See connect_options().
    temporal_tls: bool = False
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: str | None = None

    worker_shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    # What one worker process takes at once: no more than it can finish well inside
    # the 10 s workflow task timeout on a small machine (one GIL per process).
    worker_max_workflow_tasks: int = Field(default=16, gt=0)
    worker_max_activities: int = Field(default=32, gt=0)
    worker_max_local_activities: int = Field(default=16, gt=0)
    worker_max_cached_workflows: int = Field(default=1000, ge=0)  # the sticky cache
    worker_processes: int = Field(default=1, gt=0)  # worker processes `complaints run` starts
    # Admission: complaints recorded but not yet started or acknowledged, past which the
    # API says it is behind (readiness 503, Retry-After) and operations are alerted once.
    backlog_threshold: int = Field(default=300, gt=0)
    backlog_retry_after_seconds: int = Field(default=30, gt=0)
    metrics_address: str | None = "127.0.0.1:9464"  # the worker's Prometheus /metrics; empty: off
    # The worker's probes, /health/live and /health/ready (worker/health.py); empty: off.
    worker_health_address: str | None = None
    # Payload encryption: "id:base64key,..." (AES-256); unset, a key made under data_dir.
    payload_keys: str | None = Field(default=None, repr=False)
    payload_key_id: str | None = None  # the key that encrypts; default: the first listed
    codec_server_address: str = "127.0.0.1:8234"
    codec_tokens: str | None = Field(default=None, repr=False)  # comma-separated bearer tokens
    # The UI only decodes; /encode turns the codec server into an encryption oracle.
    codec_encode_enabled: bool = False
    # Migration switch: take payloads written before encryption (or by a client
    # without the keys) as they are. Off, they reach no handler (payload_codec.py).
    accept_plaintext_payloads: bool = False
    codec_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:8233", "http://localhost:8080"]
    )
    # Without tokens, only clients from these networks may decode.
    codec_trusted_networks: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])

    smtp_host: str = "localhost"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # A whole SMTP exchange (connect, login, send) is given up after this.
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=SMTP_TIMEOUT_MAX_SECONDS)
    mail_from: str = "reclamations@example.org"
    organisation_name: str = "Service clients"
    operations_email: str = "operations@example.org"
    # SLA alert sinks, comma-separated: email (to operations_email), webhook, log.
    alert_sinks: Annotated[list[AlertSink], NoDecode] = ["email", "log"]
    alert_webhook_url: str | None = None
    alert_webhook_secret: str | None = Field(default=None, repr=False)  # HMAC-SHA256 key
    sla_digest_cron: str = "0 7 * * *"  # in `timezone`
    # Events out (docs/events.md): the CloudEvents `source`, the attempts before an
    # event goes to the dead letters, the first retry's wait (doubling), the journal's polling.
    events_source: str = Field(default="urn:complaints", min_length=1)
    events_max_attempts: int = Field(default=8, gt=0)
    events_retry_initial_seconds: float = Field(default=1.0, gt=0)
    events_poll_seconds: float = Field(default=2.0, gt=0)
    # How often complaints recorded while the Temporal service was down are started.
    intake_sweep_seconds: int = Field(default=60, gt=0)

    # Plain text in the environment: "10 days", "2 months", "30 seconds".
    ack_deadline: Annotated[Span, NoDecode] = Span.model_validate("10 days")
    response_deadline: Annotated[Span, NoDecode] = Span.model_validate("2 months")
    # JSON, e.g. {"P1": {"assessment": "1 day", "response": "7 days"}, ...}
    priority_deadlines: dict[str, PriorityDeadlines] = DEFAULT_PRIORITY_DEADLINES
    warning_fraction: float = Field(default=0.75, gt=0, lt=1)
    pause_while_awaiting_customer: bool = True
    information_reminder: Annotated[Span, NoDecode] = Span.model_validate("7 days")
    information_timeout: Annotated[Span, NoDecode] = Span.model_validate("15 days")
    compensation_approval_threshold: Decimal = Decimal(200)
    approval_wait: Annotated[Span, NoDecode] = Span.model_validate("2 days")
    verdict_wait: Annotated[Span, NoDecode] = Span.model_validate("15 days")
    review_deadline: Annotated[Span, NoDecode] = Span.model_validate("15 days")
    survey_reminder: Annotated[Span, NoDecode] = Span.model_validate("5 days")
    survey_wait: Annotated[Span, NoDecode] = Span.model_validate("10 days")
    mediator_name: str | None = "Médiateur de la consommation"
    mediator_contact: str | None = "liste des médiateurs agréés : https://www.economie.gouv.fr/mediation-conso"
    currency: str = "EUR"
    recurrence_window_days: int = Field(default=365, gt=0)

    # --- Regulatory regimes and the working-day calendar (docs/deadlines.md) ---
    # The regime of a complaint no rule of `regimes` matches: general (the
    # deadlines above, from receipt), acpr, payment_services, investment_services
    # or a name of `regime_definitions`.
    default_regime: str = GENERAL
    # JSON: {"category": {"Paiement": "payment_services"}, "product": {"PEA": "investment_services"},
    #        "channel": {"letter": "acpr"}}; category first, then product, then channel.
    regimes: RegimeRules = RegimeRules()
    # JSON: regimes of the organisation's own, e.g. {"contractual": {"title": "Contrat cadre",
    #   "acknowledgement": "5 business days", "answer": {"span": "1 calendar month", "counts_from": "sending"}}}
    regime_definitions: dict[str, Regime] = {}
    # Public holidays beyond metropolitan France's: alsace-moselle (Good Friday,
    # 26 December) or a `holidays` subdivision of France ("974", "La Réunion").
    holiday_region: str | None = None
    # The organisation's own closed days, comma-separated: 2026-12-24 (that day) or 12-24 (every year).
    closed_days: Annotated[list[str] | None, NoDecode] = None

    reference_prefix: str = "REC"
    locale: str = "fr_FR"
    timezone: str = "Europe/Paris"

    max_document_bytes: int = 10 * 1024 * 1024
    max_documents: int = 10
    # the total of a complaint's documents, over every reply (count: max_documents)
    max_complaint_document_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    allowed_document_types: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_DOCUMENT_TYPES))

    # --- HTTP API and web pages ---
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    # Where complainants reach the web pages: the base of the links in emails.
    public_base_url: str = "http://localhost:8000"
    # Signs the complainant's links; unset: a random secret kept under data_dir.
    link_secret: str | None = Field(default=None, repr=False)
    link_max_age_days: int = Field(default=90, gt=0)
    # Submissions of the public complaint form per client address ("10/minute;60/hour"; empty: no limit).
    public_form_rate: str = "10/minute;60/hour"
    # Requests with a wrong API key, per client address; requests through customers' signed links, per address.
    failed_key_rate: str = "10/minute;100/hour"
    customer_link_rate: str = "60/minute;600/hour"
    # The proxies (addresses or networks, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; empty: none, the peer's address is the client's.
    trusted_proxies: Annotated[list[IPvAnyNetwork] | None, NoDecode] = None
    # An API client may date a complaint's receipt this far back (an admin key, or the import, further).
    received_at_window_days: int = Field(default=30, gt=0)
    # A new API key's lifetime (`complaints users add --expires` sets another); 0: keys never expire.
    api_key_lifetime_days: int = Field(default=365, ge=0)
    # The operators' console (/console): a session ends after this long idle, or this long after sign-in.
    console_idle_minutes: int = Field(default=30, gt=0)
    console_session_hours: int = Field(default=10, gt=0)
    # Failed sign-ins allowed per account and per address within the window, then refused until it passes.
    console_sign_in_attempts: int = Field(default=5, gt=0)
    console_sign_in_window_minutes: int = Field(default=15, gt=0)

    # --- Inbound mailbox and import ---
    # The SMTP endpoint of the complaints address (`complaints inbound`, `complaints run`).
    inbound_host: str = "localhost"
    inbound_port: int = 2525
    # A larger message is refused at once (552), so its sender is told.
    inbound_max_message_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    # A message not taken in within this time is answered 451: the sender retries.
    inbound_timeout_seconds: float = Field(default=60.0, gt=0)
    # Replies reach a complaint's run only from the complainant's address, authenticated by
    # the Authentication-Results header of our own MX: its authserv-id(s), comma-separated
    # (anyone can write that header; only ours counts). None: no reply is signalled, all go to triage.
    inbound_trusted_authserv_ids: Annotated[list[str] | None, NoDecode] = None
    # `dkim`: an aligned DKIM pass only; `dkim_or_spf`: or an aligned SPF pass.
    inbound_authentication: Literal["dkim", "dkim_or_spf"] = "dkim_or_spf"
    # A message with more MIME parts, or nested deeper, is refused for good (554) before it is parsed.
    inbound_max_parts: int = Field(default=100, gt=0)
    inbound_max_depth: int = Field(default=10, gt=0)
    # SMTP sessions served at once; one more is answered 421 (the sender retries later).
    inbound_max_sessions: int = Field(default=20, gt=0)
    # Acknowledgement emails to one address per 24 hours; beyond, the acknowledgement goes by post.
    acknowledgements_per_address_per_day: int = Field(default=5, gt=0)

    # --- Reports and actions ---
    # The quality list: the quality report (HTML with charts, and text) is emailed there.
    quality_email: str = "qualite@example.org"
    quality_report_cron: str = "0 8 * * 1"  # weekly, Mondays 08:00, in `timezone`
    # The quality report covers this many full weeks before the week it is made in.
    quality_report_weeks: int = Field(default=13, gt=0)
    actions_review_cron: str = "30 7 * * *"  # the daily check of overdue actions, in `timezone`
    # How often the projection reports read is brought up to the journal.
    report_refresh_minutes: int = Field(default=10, gt=0)

    # --- Personal data ---
    # A closed complaint's personal data is erased this many years after its
    # closure (the statistics stay); 0 keeps it until erased on request.
    retention_years: int = Field(default=5, ge=0, le=100)
    retention_cron: str = "30 3 * * *"  # the daily erasure of expired complaints, in `timezone`

    @field_validator("link_secret", "payload_keys", "codec_tokens")
    @classmethod
    def _secrets_long_enough(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            problem = secret_problem(str(info.field_name), value)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("database_url")
    @classmethod
    def _database_password_long_enough(cls, value: str | None) -> str | None:
        password = urlsplit(value).password if value else None
        if password and len(password.encode()) < MIN_SECRET_BYTES:  # none: a local socket, peer-authenticated
            raise ValueError(f"DATABASE_URL: the password is shorter than {MIN_SECRET_BYTES} bytes; {GENERATE}")
        return value

    @field_validator("public_form_rate", "failed_key_rate", "customer_link_rate")
    @classmethod
    def _rates_parse(cls, rates: str) -> str:
        if rates.strip():
            parse_many(rates)  # says which part it could not read
        return rates

    @field_validator("priority_deadlines")
    @classmethod
    def _every_priority(cls, value: dict[str, PriorityDeadlines]) -> dict[str, PriorityDeadlines]:
        return {**DEFAULT_PRIORITY_DEADLINES, **value}  # priorities not given keep their defaults

    @field_validator(
        "allowed_document_types",
        "codec_cors_origins",
        "codec_trusted_networks",
        "trusted_proxies",
        "alert_sinks",
        "closed_days",
        "inbound_trusted_authserv_ids",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("closed_days")
    @classmethod
    def _closed_days_read(cls, value: list[str] | None) -> list[str] | None:
        return parse_closed_days(value) if value is not None else None

    @field_validator("holiday_region")
    @classmethod
    def _region_known(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        region_subdivision(value)  # says which regions there are
        return value or None

    @field_validator("regime_definitions")
    @classmethod
    def _own_names(cls, value: dict[str, Regime]) -> dict[str, Regime]:
        taken = sorted(set(value) & {GENERAL, *BUILT_IN_REGIMES})
        if taken:
            raise ValueError(f"{', '.join(taken)}: a built-in regime's name; give the organisation's regime its own")
        return value

    @model_validator(mode="after")
    def _alert_sinks_work(self) -> "Settings":
        problems = alert_sink_problems(list(self.alert_sinks), self.alert_webhook_url)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _regimes_known(self) -> "Settings":
        known = {GENERAL, *BUILT_IN_REGIMES, *self.regime_definitions}
        unknown = sorted(({self.default_regime} | self.regimes.names()) - known)
        if unknown:
            raise ValueError(
                f"unknown regime(s) in COMPLAINTS_DEFAULT_REGIME or COMPLAINTS_REGIMES: {', '.join(unknown)}; "
                f"the regimes are {', '.join(sorted(known))}"
            )
        return self

    def working_calendar(self, year: int) -> WorkingCalendar:
        """The closed days a complaint whose first event is in `year` needs."""
        calendar = _calendar(self.timezone, self.holiday_region or "", tuple(self.closed_days or ()), year)
        # The cached one stays as made; a complaint taken in now counts every span in it.
        return calendar.model_copy(deep=True, update={"every_span": True})

    @property
    def complaint_policy(self) -> ComplaintPolicy:
        """The policy of a complaint taken in now."""
        return self.complaint_policy_at(datetime.now(UTC))

    def complaint_policy_at(self, first_event: datetime) -> ComplaintPolicy:
        """The policy of a complaint whose first event (its sending, else its
        receipt) is `first_event`: its calendar covers the years it can span."""
        calendar = self.working_calendar(WorkingCalendar(timezone=self.timezone).local_date(first_event).year)
        mediator = (
            Mediator(name=self.mediator_name, contact=self.mediator_contact)
            if self.mediator_name and self.mediator_contact
            else None
        )
        return ComplaintPolicy(
            acknowledgement=self.ack_deadline,
            response=self.response_deadline,
            by_priority=self.priority_deadlines,
            warning_fraction=self.warning_fraction,
            pause_while_awaiting_customer=self.pause_while_awaiting_customer,
            information_reminder=self.information_reminder,
            information_timeout=self.information_timeout,
            approval_threshold=self.compensation_approval_threshold,
            approval_wait=self.approval_wait,
            verdict_wait=self.verdict_wait,
            review=self.review_deadline,
            survey_reminder=self.survey_reminder,
            survey_wait=self.survey_wait,
            mediator=mediator,
            recurrence_window=timedelta(days=self.recurrence_window_days),
            calendar=calendar,
            regimes={**BUILT_IN_REGIMES, **self.regime_definitions},
            regime_rules=self.regimes,
            default_regime=self.default_regime,
        )

    @property
    def document_limits(self) -> DocumentLimits:
        return DocumentLimits(
            max_bytes=self.max_document_bytes,
            max_count=self.max_documents,
            allowed_types=self.allowed_document_types,
            max_total_bytes=self.max_complaint_document_bytes,
        )

    @property
    def mail_dir(self) -> Path:
        """Where the local SMTP sink keeps every message it receives."""
        return self.data_dir / "mail"

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"


@functools.lru_cache(maxsize=32)
def _calendar(timezone: str, region: str, closed_days: tuple[str, ...], year: int) -> WorkingCalendar:
    return calendar_around(timezone, region, closed_days, year)

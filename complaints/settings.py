"""Settings from the environment (prefix COMPLAINTS_, plus DATABASE_URL);
every one has a working default for `make run`."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from limits import parse_many
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from complaints.policy import (
    DEFAULT_PRIORITY_DEADLINES,
    ComplaintPolicy,
    Mediator,
    PriorityDeadlines,
    Span,
)
from complaints.submission import DocumentLimits

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
    metrics_address: str | None = "127.0.0.1:9464"  # the worker's Prometheus /metrics; empty: off
    # Payload encryption: "id:base64key,..." (AES-256); unset, a key made under data_dir.
    payload_keys: str | None = Field(default=None, repr=False)
    payload_key_id: str | None = None  # the key that encrypts; default: the first listed
    codec_server_address: str = "127.0.0.1:8234"
    codec_tokens: str | None = Field(default=None, repr=False)  # comma-separated bearer tokens
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
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "reclamations@example.org"
    organisation_name: str = "Service clients"
    operations_email: str = "operations@example.org"
    # SLA alert sinks, comma-separated: email (to operations_email), webhook, log.
    alert_sinks: Annotated[list[AlertSink], NoDecode] = ["email", "log"]
    alert_webhook_url: str | None = None
    alert_webhook_secret: str | None = Field(default=None, repr=False)  # HMAC-SHA256 key
    sla_digest_cron: str = "0 7 * * *"  # in `timezone`
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
    survey_reminder: Annotated[Span, NoDecode] = Span.model_validate("5 days")
    survey_wait: Annotated[Span, NoDecode] = Span.model_validate("10 days")
    mediator_name: str | None = "Médiateur de la consommation"
    mediator_contact: str | None = "liste des médiateurs agréés : https://www.economie.gouv.fr/mediation-conso"
    currency: str = "EUR"
    recurrence_window_days: int = Field(default=365, gt=0)

    reference_prefix: str = "REC"
    locale: str = "fr_FR"
    timezone: str = "Europe/Paris"

    max_document_bytes: int = 10 * 1024 * 1024
    max_documents: int = 10
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

    # --- Inbound mailbox and import ---
    # The SMTP endpoint of the complaints address (`complaints inbound`, `complaints run`).
    inbound_host: str = "localhost"
    inbound_port: int = 2525
    # A larger message is refused at once (552), so its sender is told.
    inbound_max_message_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    # A message not taken in within this time is answered 451: the sender retries.
    inbound_timeout_seconds: float = Field(default=60.0, gt=0)

    # --- Reports and actions ---
    # The quality list: the quality report (HTML with charts, and text) is emailed there.
    quality_email: str = "qualite@example.org"
    quality_report_cron: str = "0 8 * * 1"  # weekly, Mondays 08:00, in `timezone`
    # The quality report covers this many full weeks before the week it is made in.
    quality_report_weeks: int = Field(default=13, gt=0)
    actions_review_cron: str = "30 7 * * *"  # the daily check of overdue actions, in `timezone`
    # How often the projection reports read is brought up to the journal.
    report_refresh_minutes: int = Field(default=10, gt=0)

    @field_validator("public_form_rate")
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
        "alert_sinks",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def complaint_policy(self) -> ComplaintPolicy:
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
            survey_reminder=self.survey_reminder,
            survey_wait=self.survey_wait,
            mediator=mediator,
            recurrence_window=timedelta(days=self.recurrence_window_days),
        )

    @property
    def document_limits(self) -> DocumentLimits:
        return DocumentLimits(
            max_bytes=self.max_document_bytes,
            max_count=self.max_documents,
            allowed_types=self.allowed_document_types,
        )

    @property
    def mail_dir(self) -> Path:
        """Where the local SMTP sink keeps every message it receives."""
        return self.data_dir / "mail"

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"

"""SLA alerts to operations, through every configured sink: email, a webhook
(JSON, HMAC-signed; chat tools' incoming webhooks read its `text`), the log.

Each sink gets each alert once, and fails on its own: every sink is tried
whatever the others did. A sink that fails for now (unreachable, a webhook 5xx,
408 or 429, an SMTP 4xx) is retried with the activity; one that refuses the
alert for good (a webhook 3xx or 4xx, an SMTP 5xx) is recorded as a failed
delivery (alert_deliveries, the journal, the log) and not tried again. Once
only such refusals are left, the activity fails for good: a non-retryable
ApplicationError of type AlertUndeliverable. A sink that cannot work as configured
(the webhook without its URL, an unknown sink) stops the worker at start."""

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiosmtplib
import asyncpg
import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.letters import Letters
from activities.outbox import EmailingActivities, EmailRefused, Outbox, permanent_refusal
from complaints import journal
from complaints.alerts import DeadlineAlert, EmailRefusalAlert
from complaints.settings import Settings, alert_sink_problems
from complaints.temporal_client import workflow_ui_url

log = logging.getLogger("complaints.alerts")  # the log sink: the alerts themselves, nothing else
diagnostics = logging.getLogger(__name__)  # what became of a delivery

DEADLINE_LABELS = {
    "acknowledgement": "d'accusé de réception",
    "assessment": "d'évaluation",
    "response": "de réponse",
    "approval": "d'approbation du dédommagement",
    "regulatory": "réglementaire de réponse",
    "review": "de réexamen",
}
# The failure types of send_alert: still to be delivered somewhere (retried), or
# refused for good by every sink that has not delivered it (not retried).
ALERT_NOT_DELIVERED = "AlertNotDelivered"
ALERT_UNDELIVERABLE = "AlertUndeliverable"  # the complaint workflow's ALERT_RETRY does not retry it
SIGNATURE_HEADER = "X-Complaints-Signature"
TIMESTAMP_HEADER = "X-Complaints-Timestamp"


class WebhookUnconfigured(RuntimeError):
    """The webhook sink has no URL to post to (refused at worker start)."""


def refused_for_good(error: BaseException) -> str | None:
    """Why `error` is a sink's refusal for good of an alert, or None when a
    later attempt may go through."""
    if isinstance(error, WebhookUnconfigured):
        return str(error)
    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
        if status < 500 and status not in (408, 429):
            return f"the webhook answered {status} {error.response.reason_phrase}"
        return None
    if isinstance(error, EmailRefused):
        return f"the SMTP server refused the email for good ({error.code or '5xx'})"
    code = permanent_refusal(error)
    if code is None and isinstance(error, aiosmtplib.SMTPResponseException) and error.code >= 500:
        code = error.code  # a login refused (535), a command refused: not fixed by retrying
    if code is not None:
        return f"the SMTP server answered {code}: {error}"[:500]
    return None


def _described(error: BaseException) -> str:
    """A failure in words for the activity's failure, which is not encrypted:
    never the webhook's URL (chat tools put their secret in it)."""
    if isinstance(error, httpx.HTTPStatusError):
        return f"the webhook answered {error.response.status_code} {error.response.reason_phrase}"
    if isinstance(error, httpx.HTTPError):
        return f"the webhook could not be reached ({type(error).__name__})"
    return f"{type(error).__name__}: {error}"[:500]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over "<timestamp>.<body>" (timestamp binds replays)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class AlertActivities(EmailingActivities):
    def __init__(self, pool: asyncpg.Pool, settings: Settings, outbox: Outbox, letters: Letters) -> None:
        super().__init__(pool, settings, outbox, letters)
        self._sinks: dict[str, Callable[[DeadlineAlert, dict[str, Any]], Awaitable[None]]] = {
            "email": self._email,
            "webhook": self._webhook,
            "log": self._log,
        }
        # Settings changed in code (model_copy) are not validated again: refuse here too.
        problems = alert_sink_problems(list(settings.alert_sinks), settings.alert_webhook_url)
        if problems:
            raise ValueError("the alert sinks cannot work as configured: " + "; ".join(problems))

    @activity.defn
    async def send_alert(self, alert: DeadlineAlert) -> None:
        """Deliver the alert to every sink that has not had it yet, each on its own."""
        facts = await self._facts(alert)
        answered = {
            row["sink"]: row["error"]
            for row in await self._pool.fetch(
                "SELECT sink, error FROM alert_deliveries WHERE alert_key = $1", alert.key
            )
        }
        pending, refused = [], []
        for sink in self._settings.alert_sinks:
            if sink in answered:
                if answered[sink] is not None:  # refused for good earlier
                    refused.append(f"{sink}: {answered[sink]}")
                continue
            try:
                await self._sinks[sink](alert, facts)
            except Exception as error:  # any one sink's failure: the next sinks are still tried
                reason = refused_for_good(error)
                if reason is None:
                    diagnostics.warning("alert %s not delivered to %s yet: %s", alert.key, sink, _described(error))
                    pending.append(f"{sink}: {_described(error)}")
                else:
                    await self._failed(alert, sink, reason)
                    refused.append(f"{sink}: {reason}")
                continue
            await self._delivered(alert, sink)
        _raise_unless_delivered(alert.key, pending, refused)

    async def _facts(self, alert: DeadlineAlert) -> dict[str, Any]:
        """What an alert says: no personal data, only the complaint's handling facts."""
        row = await self._pool.fetchrow(
            """SELECT received_at, channel, priority, handler, escalation_level, phase
                 FROM complaints WHERE reference = $1""",
            alert.reference,
        )
        settings = self._settings
        return {
            "reference": alert.reference,
            "deadline": alert.deadline,
            "kind": alert.kind,
            "due_at": alert.due_at,
            "received_at": row["received_at"],
            "channel": row["channel"],
            "priority": row["priority"],
            "handler": row["handler"],
            "escalation_level": row["escalation_level"],
            "phase": row["phase"],
            "link": workflow_ui_url(settings, alert.reference),
        }

    async def _email(self, alert: DeadlineAlert, facts: dict[str, Any]) -> None:
        subject, body = self._letters.render(
            f"{alert.kind}_alert",
            **{**facts, "priority": facts["priority"] or "—", "handler": facts["handler"] or "non assignée"},
            deadline_label=DEADLINE_LABELS[alert.deadline],
            ui_link=facts["link"],
        )
        await self._outbox.send_once(
            key=f"{alert.key}:email",
            reference=alert.reference,
            kind="alert",
            recipient=self._settings.operations_email,
            subject=subject,
            body=body,
        )

    async def _webhook(self, alert: DeadlineAlert, facts: dict[str, Any]) -> None:
        verb = "will pass" if alert.kind == "warning" else "has passed"
        event = {
            "type": f"sla.{alert.kind}",
            "id": alert.key,
            **facts,
            "text": f"[{alert.kind.upper()}] {alert.reference}: the {alert.deadline} deadline {verb} "
            f"({facts['due_at']:%Y-%m-%d %H:%M} UTC), priority {facts['priority'] or '—'}, "
            f"handler {facts['handler'] or 'unassigned'}. {facts['link']}",
        }
        await self._post(event, alert.key)

    async def _post(self, event: dict[str, Any], key: str) -> None:
        """POST `event` to the webhook, signed, `key` as its Idempotency-Key."""
        settings = self._settings
        if not settings.alert_webhook_url:  # refused at worker start: never here
            raise WebhookUnconfigured("the webhook sink has no URL: set COMPLAINTS_ALERT_WEBHOOK_URL")
        body = json.dumps(event, default=str).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "Idempotency-Key": key, TIMESTAMP_HEADER: timestamp}
        if settings.alert_webhook_secret:
            headers[SIGNATURE_HEADER] = sign(settings.alert_webhook_secret, timestamp, body)
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(settings.alert_webhook_url, content=body, headers=headers)
            response.raise_for_status()

    async def _log(self, alert: DeadlineAlert, facts: dict[str, Any]) -> None:
        log.warning("SLA %s: %s", alert.kind, json.dumps(facts, default=str))

    # --- an address refusing mail for good ---------------------------------------

    @activity.defn
    async def alert_email_refused(self, alert: EmailRefusalAlert) -> None:
        """Tell operations, on every sink, that the complainant's address refuses
        mail for good (its letters go by post now). Each sink on its own: one
        failing for now makes the activity retried (the email sink sends once,
        the webhook carries the alert's key); refusals for good alone fail it
        with AlertUndeliverable, not retried."""
        facts = await self._facts_of_refusal(alert)
        sinks = {"email": self._email_refusal, "webhook": self._webhook_refusal, "log": self._log_refusal}
        pending: list[str] = []
        refused: list[str] = []
        for sink in self._settings.alert_sinks:
            try:
                await sinks[sink](alert, facts)
            except Exception as error:  # any one sink's failure: the next sinks are still tried
                reason = refused_for_good(error)
                diagnostics.warning("alert %s not delivered to %s: %s", alert.key, sink, reason or _described(error))
                (pending if reason is None else refused).append(f"{sink}: {reason or _described(error)}")
        _raise_unless_delivered(alert.key, pending, refused)

    async def _facts_of_refusal(self, alert: EmailRefusalAlert) -> dict[str, Any]:
        row = await self._pool.fetchrow("SELECT handler, phase FROM complaints WHERE reference = $1", alert.reference)
        return {
            "reference": alert.reference,
            "template": alert.template,
            "reason": alert.reason,
            "handler": row["handler"],
            "phase": row["phase"],
            "link": workflow_ui_url(self._settings, alert.reference),
        }

    async def _email_refusal(self, alert: EmailRefusalAlert, facts: dict[str, Any]) -> None:
        subject, body = self._letters.render(
            "email_refused_alert", **{**facts, "handler": facts["handler"] or "non assignée"}, ui_link=facts["link"]
        )
        await self._outbox.send_once(
            key=f"{alert.key}:email",
            reference=alert.reference,
            kind="alert",
            recipient=self._settings.operations_email,
            subject=subject,
            body=body,
        )

    async def _webhook_refusal(self, alert: EmailRefusalAlert, facts: dict[str, Any]) -> None:
        text = (
            f"[EMAIL REFUSED] {alert.reference}: the complainant's address refuses mail for good "
            f"({alert.template}); its letters go by post now. {facts['link']}"
        )
        await self._post({"type": "complaint.email_refused", "id": alert.key, **facts, "text": text}, alert.key)

    async def _log_refusal(self, alert: EmailRefusalAlert, facts: dict[str, Any]) -> None:
        log.warning("email refused for good: %s", json.dumps(facts, default=str))

    async def _failed(self, alert: DeadlineAlert, sink: str, reason: str) -> None:
        """Record the sink's refusal for good, for operations to see."""
        diagnostics.error("alert %s refused for good by the %s sink: %s", alert.key, sink, reason)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO alert_deliveries (alert_key, sink, status, delivered_at, failed_at, error)
                   VALUES ($1, $2, 'failed', NULL, now(), $3) ON CONFLICT DO NOTHING""",
                alert.key,
                sink,
                reason,
            )
            await journal.append(
                conn,
                alert.reference,
                "alert_failed",
                "system",
                {"deadline": alert.deadline, "kind": alert.kind, "sink": sink, "error": reason},
                step_key=f"{alert.key}:{sink}",
            )

    async def _delivered(self, alert: DeadlineAlert, sink: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO alert_deliveries (alert_key, sink) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                alert.key,
                sink,
            )
            await journal.append(
                conn,
                alert.reference,
                f"alert_{'emailed' if sink == 'email' else 'sent_' + sink}",
                "system",
                {"deadline": alert.deadline, "kind": alert.kind, "sink": sink},
                step_key=f"{alert.key}:{sink}",
            )


def _raise_unless_delivered(key: str, pending: list[str], refused: list[str]) -> None:
    """Sinks not reached yet make the activity retry; sinks that refused for good end it."""
    if pending:
        raise ApplicationError(f"alert {key} not delivered yet to " + "; ".join(pending), type=ALERT_NOT_DELIVERED)
    if refused:
        raise ApplicationError(
            f"alert {key} refused for good by " + "; ".join(refused), type=ALERT_UNDELIVERABLE, non_retryable=True
        )

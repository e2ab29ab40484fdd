"""SLA alerts to operations, through every configured sink: email, a webhook
(JSON, HMAC-signed; chat tools' incoming webhooks read its `text`), the log.
Each sink gets each alert once; a sink that fails is retried, never skipped."""

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.letters import Letters
from activities.outbox import EmailingActivities, Outbox
from complaints import journal
from complaints.alerts import DeadlineAlert
from complaints.settings import Settings
from complaints.temporal_client import workflow_ui_url

log = logging.getLogger("complaints.alerts")

DEADLINE_LABELS = {
    "acknowledgement": "d'accusé de réception",
    "assessment": "d'évaluation",
    "response": "de réponse",
    "approval": "d'approbation du dédommagement",
    "regulatory": "réglementaire de réponse",
    "review": "de réexamen",
}
SIGNATURE_HEADER = "X-Complaints-Signature"
TIMESTAMP_HEADER = "X-Complaints-Timestamp"


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

    @activity.defn
    async def send_alert(self, alert: DeadlineAlert) -> None:
        """Deliver the alert to every sink that has not had it yet."""
        facts = await self._facts(alert)
        failures = []
        for sink in self._settings.alert_sinks:
            if await self._pool.fetchval(
                "SELECT 1 FROM alert_deliveries WHERE alert_key = $1 AND sink = $2", alert.key, sink
            ):
                continue
            try:
                await self._sinks[sink](alert, facts)
            except (httpx.HTTPError, OSError, ValueError) as error:
                failures.append(f"{sink}: {error}")
                continue
            await self._delivered(alert, sink)
        if failures:
            raise ApplicationError(f"alert {alert.key} not delivered to " + "; ".join(failures))

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
        settings = self._settings
        if not settings.alert_webhook_url:
            raise ValueError("the webhook sink needs COMPLAINTS_ALERT_WEBHOOK_URL")
        verb = "will pass" if alert.kind == "warning" else "has passed"
        event = {
            "type": f"sla.{alert.kind}",
            "id": alert.key,
            **facts,
            "text": f"[{alert.kind.upper()}] {alert.reference}: the {alert.deadline} deadline {verb} "
            f"({facts['due_at']:%Y-%m-%d %H:%M} UTC), priority {facts['priority'] or '—'}, "
            f"handler {facts['handler'] or 'unassigned'}. {facts['link']}",
        }
        body = json.dumps(event, default=str).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "Idempotency-Key": alert.key, TIMESTAMP_HEADER: timestamp}
        if settings.alert_webhook_secret:
            headers[SIGNATURE_HEADER] = sign(settings.alert_webhook_secret, timestamp, body)
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(settings.alert_webhook_url, content=body, headers=headers)
            response.raise_for_status()

    async def _log(self, alert: DeadlineAlert, facts: dict[str, Any]) -> None:
        log.warning("SLA %s: %s", alert.kind, json.dumps(facts, default=str))

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

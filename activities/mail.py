"""Emails the workflow sends: the acknowledgement to the complainant, SLA
alerts to operations. Content is read from the register, never from history."""

from datetime import datetime

import asyncpg
from temporalio import activity

from activities.letters import Letters
from activities.outbox import Outbox
from complaints import journal
from complaints.lifecycle import AcknowledgementEmail, DeadlineBreach
from complaints.settings import Settings

DESCRIPTION_EXCERPT = 400
DEADLINE_LABELS = {"acknowledgement": "d'accusé de réception"}


class MailActivities:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings
        self._outbox = Outbox(pool, settings)
        self._letters = Letters(settings)

    @activity.defn
    async def send_acknowledgement(self, request: AcknowledgementEmail) -> datetime:
        """Email the acknowledgement; returns when it was sent."""
        complaint = await self._complaint(request.reference)
        documents = await self._pool.fetch(
            "SELECT filename FROM documents WHERE complaint_reference = $1 ORDER BY id",
            request.reference,
        )
        subject, body = self._letters.render(
            "acknowledgement",
            reference=request.reference,
            name=complaint["complainant_name"],
            received_at=complaint["received_at"],
            subject=complaint["subject"],
            product=complaint["product"],
            description_excerpt=_excerpt(complaint["description"]),
            documents=[row["filename"] for row in documents],
            desired_resolution=complaint["desired_resolution"],
            response_due_at=request.response_due_at,
        )
        key = f"{request.reference}:acknowledgement"
        sent_at = await self._outbox.send_once(
            key=key,
            reference=request.reference,
            kind="acknowledgement",
            recipient=complaint["complainant_email"],
            subject=subject,
            body=body,
        )
        async with self._pool.acquire() as conn:
            await journal.append(
                conn,
                request.reference,
                "acknowledgement_emailed",
                "system",
                {"sent_at": sent_at},
                step_key=key,
            )
        return sent_at

    @activity.defn
    async def send_breach_alert(self, breach: DeadlineBreach) -> None:
        """Tell operations a deadline passed."""
        complaint = await self._complaint(breach.reference)
        subject, body = self._letters.render(
            "breach_alert",
            reference=breach.reference,
            deadline=breach.deadline,
            deadline_label=DEADLINE_LABELS[breach.deadline],
            received_at=complaint["received_at"],
            channel=complaint["channel"],
            due_at=breach.due_at,
            phase=complaint["phase"],
            ui_link=f"{self._settings.temporal_ui_url}/namespaces/"
            f"{self._settings.temporal_namespace}/workflows/{breach.reference}",
        )
        key = f"{breach.reference}:{breach.deadline}:breach:email"
        await self._outbox.send_once(
            key=key,
            reference=breach.reference,
            kind="alert",
            recipient=self._settings.operations_email,
            subject=subject,
            body=body,
        )
        async with self._pool.acquire() as conn:
            await journal.append(
                conn,
                breach.reference,
                "alert_emailed",
                "system",
                {"deadline": breach.deadline, "to": self._settings.operations_email},
                step_key=key,
            )

    async def _complaint(self, reference: str) -> asyncpg.Record:
        row = await self._pool.fetchrow("SELECT * FROM complaints WHERE reference = $1", reference)
        if row is None:
            raise LookupError(f"complaint {reference} is not in the register")
        return row


def _excerpt(text: str) -> str:
    if len(text) <= DESCRIPTION_EXCERPT:
        return text
    return text[:DESCRIPTION_EXCERPT].rsplit(" ", 1)[0] + " […]"

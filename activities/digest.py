"""The daily SLA digest: open complaints at risk (warning) or in breach, by
priority and handler, emailed to operations once per day."""

from collections import defaultdict

import asyncpg
from pydantic import BaseModel
from temporalio import activity

from activities.outbox import EmailingActivities


class DigestSummary(BaseModel):
    day: str
    at_risk: int
    breached: int


class DigestActivities(EmailingActivities):
    @activity.defn
    async def send_sla_digest(self, day: str) -> DigestSummary:
        rows = await self._pool.fetch(
            """SELECT reference, priority, coalesce(handler, '—') AS handler, sla_status, phase,
                      escalation_level, response_due_at, regime, regulatory_due_at
                 FROM complaints
                WHERE phase <> 'closed' AND sla_status IN ('warning', 'breached')
                ORDER BY priority NULLS LAST, handler, response_due_at"""
        )
        groups: dict[tuple[str, str], list[asyncpg.Record]] = defaultdict(list)
        for row in rows:
            groups[(row["priority"] or "—", row["handler"])].append(row)
        summary = DigestSummary(
            day=day,
            at_risk=sum(row["sla_status"] == "warning" for row in rows),
            breached=sum(row["sla_status"] == "breached" for row in rows),
        )
        subject, body = self._letters.render(
            "sla_digest",
            day=day,
            groups=sorted(groups.items()),
            summary=summary,
            ui_url=self._settings.temporal_ui_url,
        )
        await self._outbox.send_once(
            key=f"sla-digest:{self._settings.task_queue}:{day}",
            reference=None,
            kind="sla_digest",
            recipient=self._settings.operations_email,
            subject=subject,
            body=body,
        )
        return summary

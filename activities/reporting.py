"""Reporting's activities: the quality report (computed, drawn, stored, then
emailed to the quality list, each once per run), the daily check that
alerts once per overdue action through the alert sinks, and the refresh of
the projection reports read."""

import asyncio
from datetime import datetime

import asyncpg
from pydantic import BaseModel
from temporalio import activity

from activities.alerts import DEADLINE_LABELS
from activities.outbox import Outbox
from complaints.alerts import DeadlineAlert
from complaints.settings import Settings
from reporting import projection
from reporting.actions import overdue_alerts
from reporting.charts import charts
from reporting.document import QUALITY_REPORT_TITLE, render_html, render_text
from reporting.figures import period_text
from reporting.kpis import kpi_report
from reporting.periods import quality_period

# Alert emails name the deadline that passed; an action's is reporting's own.
DEADLINE_LABELS.setdefault("action", "d'une action corrective ou d'amélioration")


class QualityReportJob(BaseModel):
    key: str  # the run's: a retry finds the report it stored
    as_of: datetime
    # No period: the configured number of full weeks before the week of `as_of`.
    period_from: datetime | None = None
    period_to: datetime | None = None


class StoredReport(BaseModel):
    id: int
    key: str
    period_from: datetime
    period_to: datetime
    recipient: str
    emailed_at: datetime | None = None


_STORED = "id, key, period_from, period_to, recipient, emailed_at"


class ReportingActivities:
    def __init__(self, pool: asyncpg.Pool, settings: Settings, outbox: Outbox) -> None:
        self._pool = pool
        self._settings = settings
        self._outbox = outbox

    @activity.defn
    async def generate_quality_report(self, job: QualityReportJob) -> StoredReport:
        """Compute the period's indicators, render them (HTML with charts,
        and text) and store them, once per key."""
        found = await self._pool.fetchrow(f"SELECT {_STORED} FROM quality_reports WHERE key = $1", job.key)
        if found:
            return StoredReport(**dict(found))
        settings = self._settings
        period_from, period_to = job.period_from, job.period_to
        if period_from is None or period_to is None:
            period_from, period_to = quality_period(job.as_of, settings.quality_report_weeks, settings.timezone)
        report = await kpi_report(
            self._pool,
            period_from,
            period_to,
            None,
            as_of=job.as_of,
            timezone=settings.timezone,
            currency=settings.currency,
        )
        drawn = await asyncio.to_thread(charts, report)  # CPU-bound: off the event loop
        html = render_html(report, QUALITY_REPORT_TITLE, drawn)
        text = render_text(report, QUALITY_REPORT_TITLE)
        await self._pool.execute(
            """INSERT INTO quality_reports (key, period_from, period_to, figures, html, text, recipient)
               VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7) ON CONFLICT (key) DO NOTHING""",
            job.key,
            period_from,
            period_to,
            report.model_dump_json(),
            html,
            text,
            settings.quality_email,
        )
        return StoredReport(
            **dict(await self._pool.fetchrow(f"SELECT {_STORED} FROM quality_reports WHERE key = $1", job.key))
        )

    @activity.defn
    async def email_quality_report(self, report_id: int) -> datetime:
        """Email the stored report to its recipient, once: HTML with a text part."""
        row = await self._pool.fetchrow(
            "SELECT key, html, text, recipient, period_from, period_to FROM quality_reports WHERE id = $1", report_id
        )
        period = period_text(row["period_from"], row["period_to"], self._settings.timezone)
        sent_at = await self._outbox.send_once(
            key=f"quality-report:{row['key']}",
            reference=None,
            kind="quality_report",
            recipient=row["recipient"],
            subject=f"{QUALITY_REPORT_TITLE} — {period}",
            body=row["text"],
            html=row["html"],  # the stored report's, so a retry sends the same message
        )
        await self._pool.execute(
            "UPDATE quality_reports SET emailed_at = coalesce(emailed_at, $2) WHERE id = $1", report_id, sent_at
        )
        return sent_at

    @activity.defn
    async def record_overdue_actions(self, as_of: datetime) -> list[DeadlineAlert]:
        """One alert per overdue action, recorded; those still to deliver."""
        settings = self._settings
        return await overdue_alerts(self._pool, as_of, settings.timezone, list(settings.alert_sinks))

    @activity.defn
    async def refresh_report_projection(self) -> int:
        """Bring the reports' projection up to the journal; the complaints recomputed."""
        return await projection.refresh(self._pool, wait=True)

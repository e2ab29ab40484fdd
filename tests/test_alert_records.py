"""The register's SLA status as alerts are recorded: a later warning of
another deadline (the regulatory clock's, say) never hides a breach, and an
alert recorded again changes nothing."""

from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
from temporalio.testing import ActivityEnvironment

from activities.register import RegisterActivities
from complaints.alerts import DeadlineAlert
from complaints.intake import record_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission


async def test_a_warning_after_a_breach_leaves_the_complaint_breached(
    pool: asyncpg.Pool, settings: Settings, complaint: Callable[..., ComplaintSubmission]
) -> None:
    reference = (await record_complaint(pool, settings, complaint(), actor="t")).reference
    register, now = RegisterActivities(pool), datetime.now(UTC)
    breach = DeadlineAlert(reference=reference, deadline="acknowledgement", kind="breach", due_at=now)
    warning = DeadlineAlert(reference=reference, deadline="regulatory", kind="warning", due_at=now)
    for alert in (breach, warning, breach):
        await ActivityEnvironment().run(register.record_alert, alert)

    row = await pool.fetchrow("SELECT sla_status, escalation_level FROM complaints WHERE reference = $1", reference)
    assert (row["sla_status"], row["escalation_level"]) == ("breached", 1)
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE complaint_reference = $1", reference) == 2

"""The share of complaints acknowledged and answered within the regulatory
deadline, per regime (issue 12 #6), from the register through the report
projection."""

from datetime import timedelta

import asyncpg

from complaints import journal
from reporting.kpis import kpi_report
from reporting.model import DeadlineCompliance
from tests.helpers.seeded_register import AS_OF, MARCH, acknowledge, add_complaint, alert, at

DAY = timedelta(days=1)


async def test_the_regulatory_deadline_met_or_missed_per_regime(pool: asyncpg.Pool) -> None:
    # ACPR: one answered in time, one answered late; payment services: one
    # unanswered whose regulatory breach was raised, one still pending.
    in_time = await add_complaint(pool, "REG-1", at(2), regime="acpr")
    late = await add_complaint(pool, "REG-2", at(3), regime="acpr")
    breached = await add_complaint(pool, "REG-3", at(4), regime="payment_services")
    pending = await add_complaint(pool, "REG-4", at(30), regime="payment_services")
    for ref, received in ((in_time, at(2)), (late, at(3)), (breached, at(4)), (pending, at(30))):
        await acknowledge(pool, ref, received + DAY)
    await pool.execute(
        "UPDATE complaints SET regulatory_due_at = $2, responded_at = $3, phase = 'responded' WHERE reference = $1",
        in_time,
        at(2) + 60 * DAY,
        at(2) + 20 * DAY,
    )
    await pool.execute(
        "UPDATE complaints SET regulatory_due_at = $2, responded_at = $3, phase = 'responded' WHERE reference = $1",
        late,
        at(3) + 20 * DAY,
        at(3) + 21 * DAY,
    )
    await pool.execute(
        "UPDATE complaints SET regulatory_due_at = $2, responded_at = NULL WHERE reference = $1",
        breached,
        at(4) + 21 * DAY,
    )
    await alert(pool, breached, "regulatory", "breach", at(4) + 21 * DAY)
    await pool.execute(
        "UPDATE complaints SET regulatory_due_at = NULL, responded_at = NULL WHERE reference = $1", pending
    )

    # ACPR, contested: the first response in time, but the final answer is the
    # review's — pending until it goes, then judged by it.
    contested = await add_complaint(pool, "REG-5", at(5), regime="acpr")
    await acknowledge(pool, contested, at(5) + DAY)
    await pool.execute(
        """UPDATE complaints SET regulatory_due_at = $2, responded_at = $3, phase = 'review',
                  customer_verdict = 'contested' WHERE reference = $1""",
        contested,
        at(5) + 60 * DAY,
        at(5) + 10 * DAY,
    )

    report = await kpi_report(pool, *MARCH, by="regime", as_of=AS_OF)
    assert report.overall.deadlines.regulatory == DeadlineCompliance(met=1, missed=2, pending=2)
    async with pool.acquire() as conn:
        await journal.append(conn, contested, "review_responded", "Bruno", step_key=f"{contested}:review")
    report = await kpi_report(pool, *MARCH, by="regime", as_of=AS_OF)
    assert report.overall.deadlines.regulatory == DeadlineCompliance(met=1, missed=3, pending=1)  # now: late
    groups = {group.key: group.indicators.deadlines for group in report.groups}
    assert groups["acpr"].regulatory == DeadlineCompliance(met=1, missed=2, pending=0)
    assert groups["payment_services"].regulatory == DeadlineCompliance(met=0, missed=1, pending=1)
    assert groups["acpr"].regulatory.share_met == 1 / 3
    # Acknowledged within the regime's acknowledgement deadline (all in a day), per regime.
    assert groups["acpr"].acknowledgement == DeadlineCompliance(met=3, missed=0, pending=0)
    assert groups["payment_services"].acknowledgement == DeadlineCompliance(met=2, missed=0, pending=0)

"""A register seeded for the reports: five complaints received in March 2026
(three closed, two open), one the month before, two in April; their
acknowledgements, alerts, surveys, compensations and corrective actions.

The register is written through the project's own write paths where they
exist (acknowledgement, alerts, surveys, compensations, journal), so the
facts the reports read are kept as in production."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from activities.compensation import CompensationActivities, CompensationGrant
from activities.register import Acknowledgement, RegisterActivities, SurveyRecord
from complaints import journal
from complaints.alerts import DeadlineAlert
from complaints.customer_signals import SurveyAnswer
from complaints.operator_commands import Compensation, CompensationKind
from reporting.actions import overdue_alerts

PARIS = ZoneInfo("Europe/Paris")
MARCH = (datetime(2026, 3, 1, tzinfo=PARIS), datetime(2026, 4, 1, tzinfo=PARIS))
AS_OF = datetime(2026, 4, 15, 12, 0, tzinfo=PARIS)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
TEN_DAYS = 10 * DAY


@dataclass
class Seeded:
    refs: dict[str, str]
    actions: dict[str, int]


async def add_complaint(pool: asyncpg.Pool, reference: str, received_at: datetime, **columns: Any) -> str:
    values = {
        "reference": reference,
        "received_at": received_at,
        "channel": "email",
        "complainant_name": "Client",
        "subject": "Réclamation",
        "description": "Le colis est arrivé abîmé.",
        "ack_due_at": received_at + TEN_DAYS,
        **columns,
    }
    names = ", ".join(values)
    places = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    async with pool.acquire() as conn, conn.transaction():  # as intake does: journaled with its row
        await conn.execute(f"INSERT INTO complaints ({names}) VALUES ({places})", *values.values())
        await journal.append(conn, reference, "received", "system", step_key=f"{reference}:received")
    return reference


async def acknowledge(pool: asyncpg.Pool, reference: str, at: datetime) -> None:
    """The register's own acknowledgement: it judges the 10-day deadline. The
    seeded complaint keeps the phase it was given."""
    phase = await pool.fetchval("SELECT phase FROM complaints WHERE reference = $1", reference)
    await RegisterActivities(pool).record_acknowledgement(
        Acknowledgement(
            reference=reference, method="email", acknowledged_at=at, response_due_at=at + 60 * DAY, actor="system"
        )
    )
    await pool.execute("UPDATE complaints SET phase = $2 WHERE reference = $1", reference, phase)


async def alert(pool: asyncpg.Pool, reference: str, deadline: str, kind: str, due_at: datetime) -> None:
    await RegisterActivities(pool).record_alert(
        DeadlineAlert(reference=reference, deadline=deadline, kind=kind, due_at=due_at)
    )


async def survey(pool: asyncpg.Pool, reference: str, csat: int | None = None, ces: int = 3, nps: int = 5) -> None:
    """The survey emailed (journaled as the mail activity does), and answered when `csat` is given."""
    async with pool.acquire() as conn:
        await journal.append(conn, reference, "survey_emailed", "system", step_key=f"{reference}:survey:sent")
    if csat is not None:
        await RegisterActivities(pool).record_survey(
            SurveyRecord(reference=reference, answer=SurveyAnswer(csat=csat, ces=ces, nps=nps))
        )


async def compensate(pool: asyncpg.Pool, reference: str, number: int, kind: CompensationKind, amount: str) -> None:
    await CompensationActivities(pool, "EUR").grant_compensation(
        CompensationGrant(
            reference=reference,
            key=f"{reference}:compensation:{number}",
            compensation=Compensation(kind=kind, amount=Decimal(amount), description="geste"),
            proposed_by="Alice",
        )
    )


async def add_action(
    pool: asyncpg.Pool, reference: str, kind: str, owner: str, due_on: date, root_cause: str | None = None
) -> int:
    return await pool.fetchval(
        """INSERT INTO actions (step_key, complaint_reference, kind, description, owner, due_on,
                                root_cause_category, created_by)
           VALUES ($1, $2, $3, 'Revoir l''emballage des vases', $4, $5, $6, 'Alice') RETURNING id""",
        f"{reference}:action:{owner}",
        reference,
        kind,
        owner,
        due_on,
        root_cause,
    )


def at(day: int, hour: int = 9, minute: int = 0, month: int = 3) -> datetime:
    """A Paris time, in UTC: adding days to it adds exactly 86,400 s each (DST falls on 29 March)."""
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


async def seed_register(pool: asyncpg.Pool) -> Seeded:
    """Five complaints received in March 2026 (A, B, C closed; D, E open), one
    the month before, one just after; alerts, surveys, compensations, actions."""
    r: dict[str, str] = {}
    # A: acknowledged in an hour, answered in 5 days, closed after 20: accepted, surveyed and happy.
    r["A"] = await add_complaint(
        pool,
        "T-A",
        at(2),
        product="Vase",
        category="livraison",
        handler="alice",
        customer_id="C1",
        priority="P2",
        recurring=False,
        responded_at=at(2) + HOUR + 5 * DAY,
        closed_at=at(2) + 20 * DAY,
        phase="closed",
        outcome="accepted",
        customer_verdict="accepted",
        root_cause_category="emballage",
        assessment_deadline_met=True,
        response_deadline_met=True,
    )
    await acknowledge(pool, r["A"], at(2) + HOUR)
    await survey(pool, r["A"], csat=5, ces=1, nps=10)
    await compensate(pool, r["A"], 1, CompensationKind.REFUND, "30.00")
    # B: acknowledged on the 10th day to the second (met); the response came late (warning,
    # breach); contested, reviewed, still not fully accepted: pointed to the mediator.
    r["B"] = await add_complaint(
        pool,
        "T-B",
        at(5, 10),
        product="Vase",
        category="livraison",
        handler="bruno",
        customer_id="C2",
        channel="phone",
        priority="P3",
        recurring=True,
        responded_at=at(5, 10) + 20 * DAY,
        closed_at=at(5, 10) + 30 * DAY,
        phase="closed",
        outcome="partially_accepted",
        customer_verdict="contested",
        root_cause_category="emballage",
        assessment_deadline_met=True,
        response_deadline_met=False,
    )
    await acknowledge(pool, r["B"], at(5, 10) + TEN_DAYS)
    await alert(pool, r["B"], "response", "warning", at(5, 10) + 18 * DAY)
    await alert(pool, r["B"], "response", "breach", at(5, 10) + 18 * DAY)
    async with pool.acquire() as conn:
        await journal.append(conn, r["B"], "contested", "complainant", step_key="T-B:contested")
        await journal.append(conn, r["B"], "review_responded", "Chloé", step_key="T-B:review_responded")
    await survey(pool, r["B"], csat=2, ces=4, nps=7)
    await compensate(pool, r["B"], 1, CompensationKind.CREDIT_NOTE, "50.00")
    await compensate(pool, r["B"], 2, CompensationKind.COMMERCIAL_GESTURE, "20.50")
    # C: acknowledged one second late (missed, breach), assessed late, rejected; surveyed, no answer.
    r["C"] = await add_complaint(
        pool,
        "T-C",
        at(10, 14),
        product="Lampe",
        category="facturation",
        handler="alice",
        customer_id="C3",
        priority="P3",
        recurring=False,
        responded_at=at(10, 14) + TEN_DAYS + timedelta(seconds=1) + 3 * DAY,
        closed_at=at(10, 14) + 25 * DAY,
        phase="closed",
        outcome="rejected",
        customer_verdict="accepted",
        root_cause_category="facturation erronée",
        assessment_deadline_met=False,
        response_deadline_met=True,
    )
    await acknowledge(pool, r["C"], at(10, 14) + TEN_DAYS + timedelta(seconds=1))
    await alert(pool, r["C"], "acknowledgement", "breach", at(10, 14) + TEN_DAYS)
    await survey(pool, r["C"])
    # D: open, being handled; its response deadline passed (warning, breach): missed though no flag says so yet.
    r["D"] = await add_complaint(
        pool,
        "T-D",
        at(3, 8),
        product="Lampe",
        category="sécurité",
        channel="web",
        customer_id="C1",
        priority="P1",
        recurring=True,
        phase="handling",
        assessment_deadline_met=True,
    )
    await acknowledge(pool, r["D"], at(3, 8) + 2 * HOUR)
    await alert(pool, r["D"], "response", "warning", at(8))
    await alert(pool, r["D"], "response", "breach", at(10))
    # E: received late on the last evening of March, never acknowledged: the breach was raised.
    r["E"] = await add_complaint(pool, "T-E", at(31, 23, 30), channel="letter", phase="intake")
    await alert(pool, r["E"], "acknowledgement", "breach", at(31, 23, 30) + TEN_DAYS)
    # F: the month before (root cause trend); G: the first instant of April (not in March);
    # H: in April, of A's root cause (after A's action was done).
    r["F"] = await add_complaint(
        pool,
        "T-F",
        at(20, month=2),
        product="Vase",
        phase="closed",
        closed_at=at(25, month=2),
        root_cause_category="emballage",
    )
    await compensate(pool, r["F"], 1, CompensationKind.APOLOGY, "0")
    r["G"] = await add_complaint(pool, "T-G", at(1, 0, month=4), product="Vase")
    r["H"] = await add_complaint(pool, "T-H", at(5, month=4), product="Vase", root_cause_category="emballage")
    # Actions: A's corrective action done on 25 March; D's overdue since 10 April; C's due end of April.
    actions = {
        "A": await add_action(pool, r["A"], "corrective", "qualité", date(2026, 3, 20), "emballage"),
        "D": await add_action(pool, r["D"], "improvement", "logistique", date(2026, 4, 10)),
        "C": await add_action(pool, r["C"], "corrective", "logistique", date(2026, 4, 30), "facturation erronée"),
    }
    await pool.execute("UPDATE actions SET status = 'done', done_at = $2 WHERE id = $1", actions["A"], at(25, 10))
    # An overdue action's alert is not an SLA alert of its complaint.
    await overdue_alerts(pool, AS_OF, "Europe/Paris", ["email"])
    return Seeded(r, actions)

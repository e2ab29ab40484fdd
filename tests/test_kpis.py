"""The indicators over a seeded register, every one asserted to its value;
the edge cases (no complaint in the period, complaints still open, surveys
not answered, a deadline met to the second); every output format showing the
same figures; corrective actions tracked to completion from the command line.

The register is written through the project's own write paths where they
exist (acknowledgement, alerts, surveys, compensations, journal), so the
facts the reports read are kept as in production."""

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from activities.compensation import CompensationActivities, CompensationGrant
from activities.register import Acknowledgement, RegisterActivities, SurveyRecord
from complaints import journal
from complaints.alerts import DeadlineAlert
from complaints.customer_signals import SurveyAnswer
from complaints.operator_commands import Compensation, CompensationKind
from complaints.settings import Settings
from reporting.actions import complete_action, list_actions, overdue_alerts
from reporting.document import scopes
from reporting.figures import display, report_sections
from reporting.formats import as_csv, as_json, figures, render
from reporting.kpis import kpi_report
from reporting.model import (
    ActionRecurrence,
    DeadlineCompliance,
    DurationStats,
    KindTotal,
    KpiReport,
    RootCause,
)
from tests.test_cli import complaints

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
        DeadlineAlert(reference=reference, deadline=deadline, kind=kind, due_at=due_at)  # type: ignore[arg-type]
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


async def test_every_indicator_of_a_seeded_register(pool: asyncpg.Pool) -> None:
    seeded = await seed_register(pool)
    report = await kpi_report(pool, *MARCH, as_of=AS_OF)
    o = report.overall

    assert o.volumes.model_dump() == {"received": 5, "open": 2, "closed": 3}
    assert {phase: n for phase, n in o.backlog.by_phase.items() if n} == {"intake": 1, "handling": 1}
    assert sum(o.backlog.by_phase.values()) == 2
    # D received on 3 March (43 days before AS_OF), E on 31 March at 23:30 (14.5 days)
    assert o.backlog.by_age == {"under_10_days": 0, "10_to_30_days": 1, "30_to_60_days": 1, "over_60_days": 0}

    # receipt→acknowledgement: A 1 h, D 2 h, B 10 days, C 10 days + 1 s (E: none yet)
    ack = [3600, 7200, 864000, 864001]
    assert o.times.receipt_to_acknowledgement == DurationStats(
        count=4,
        mean_seconds=sum(ack) / 4,
        median_seconds=7200,  # nearest rank: ⌈0.5 × 4⌉ = 2
        p90_seconds=864001,  # ⌈0.9 × 4⌉ = 4
    )
    # acknowledgement→response: A 5 days, C 3 days, B 10 days (D: not answered yet)
    assert o.times.acknowledgement_to_response == DurationStats(
        count=3, mean_seconds=18 * 86400 / 3, median_seconds=5 * 86400, p90_seconds=10 * 86400
    )
    # receipt→closure: A 20, C 25, B 30 days; the open D and E are left out
    assert o.times.receipt_to_closure == DurationStats(
        count=3, mean_seconds=25 * 86400, median_seconds=25 * 86400, p90_seconds=30 * 86400
    )

    # acknowledgement: A, D, and B to the second met; C late; E unacknowledged, breach raised
    assert o.deadlines.acknowledgement == DeadlineCompliance(met=3, missed=2, pending=0)
    assert o.deadlines.acknowledgement.share_met == 0.6
    assert o.deadlines.assessment == DeadlineCompliance(met=3, missed=1, pending=1)  # E not assessed
    # response: A, C met; B late; D's breach raised while open; E pending
    assert o.deadlines.response == DeadlineCompliance(met=2, missed=2, pending=1)
    assert o.deadlines.response.share_met == 0.5
    assert o.alerts.model_dump() == {"warnings": 2, "breaches": 4, "complaints_warned": 2, "complaints_breached": 4}

    assert o.decisions.model_dump() == {
        "accepted": 1,
        "partially_accepted": 1,
        "rejected": 1,
        "contests": 1,
        "reviews": 1,
        "mediation_referrals": 1,
    }
    assert o.compensations.count == 3 and o.compensations.amount == Decimal("100.50")  # F's is February's
    assert o.compensations.by_kind == {
        "credit_note": KindTotal(count=1, amount=Decimal("50.00")),
        "refund": KindTotal(count=1, amount=Decimal("30.00")),
        "complimentary_service": KindTotal(),
        "commercial_gesture": KindTotal(count=1, amount=Decimal("20.50")),
        "apology": KindTotal(),
    }

    s = o.satisfaction
    assert (s.surveyed, s.answered, s.response_rate) == (3, 2, 2 / 3)  # C did not answer
    assert s.csat_counts == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert (s.csat_mean, s.csat_satisfied_share, s.ces_mean) == (3.5, 0.5, 2.5)
    assert (s.promoters, s.passives, s.detractors, s.nps) == (1, 1, 0, 50.0)

    assert o.recurrence.model_dump() == {"recurring": 2, "one_off": 2, "not_assessed": 1}
    # February (the 31 days before March) had F's "emballage"
    assert o.root_causes == [
        RootCause(category="emballage", count=2, previous=1),
        RootCause(category="facturation erronée", count=1, previous=0),
    ]

    assert report.series_unit == "day" and len(report.series) == 31
    assert {p.start.day: (p.received, p.open) for p in report.series if p.received} == {
        2: (1, 0),
        3: (1, 1),
        5: (1, 0),
        10: (1, 0),
        31: (1, 1),
    }

    actions = report.actions
    assert (actions.open, actions.overdue, actions.done_in_period) == (2, 1, 1)
    assert [(o.owner, o.open, o.overdue) for o in actions.by_owner] == [("logistique", 2, 1)]
    assert [(i.id, i.overdue) for i in actions.open_items] == [
        (seeded.actions["D"], True),
        (seeded.actions["C"], False),
    ]
    [done] = actions.done_items
    # "emballage" complaints: A and B in the 30 days before completion, H after it
    assert done.recurrence == ActionRecurrence(
        before=2, after=1, after_days=(AS_OF - at(25, 10)).total_seconds() / 86400
    )


async def test_no_complaint_in_the_period(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    report = await kpi_report(
        pool, datetime(2025, 1, 1, tzinfo=PARIS), datetime(2025, 2, 1, tzinfo=PARIS), "product", as_of=AS_OF
    )
    o = report.overall
    assert o.volumes.model_dump() == {"received": 0, "open": 0, "closed": 0}
    assert set(o.backlog.by_phase.values()) == {0} and set(o.backlog.by_age.values()) == {0}
    assert o.times.receipt_to_closure == DurationStats()
    assert o.deadlines.acknowledgement == DeadlineCompliance() and o.deadlines.acknowledgement.share_met is None
    assert (o.satisfaction.response_rate, o.satisfaction.csat_mean, o.satisfaction.nps) == (None, None, None)
    assert o.compensations.count == 0 and o.compensations.amount == 0
    assert o.root_causes == [] and report.groups == []
    assert [p.received for p in report.series] == [0] * 31
    assert "—" in render(report, "text")  # nothing to compute reads as a dash, not 0


async def test_a_deadline_met_to_the_second(pool: asyncpg.Pool) -> None:
    received = at(16, 9, 30)
    on_time = await add_complaint(pool, "T-ON", received)
    late = await add_complaint(pool, "T-LATE", received)
    await acknowledge(pool, on_time, received + TEN_DAYS)
    await acknowledge(pool, late, received + TEN_DAYS + timedelta(seconds=1))
    report = await kpi_report(pool, *MARCH, as_of=AS_OF)
    assert report.overall.deadlines.acknowledgement == DeadlineCompliance(met=1, missed=1, pending=0)
    assert report.overall.times.receipt_to_acknowledgement.median_seconds == 864000  # the first of two


async def test_breakdown_groups_add_up_and_the_smaller_ones_go_together(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    report = await kpi_report(pool, *MARCH, "product", as_of=AS_OF)
    groups = {g.key: g.indicators for g in report.groups}
    assert list(groups) == ["Lampe", "Vase", ""]  # most complaints first; "" has no product
    assert [g.volumes.received for g in groups.values()] == [2, 2, 1]
    vase, lamp = groups["Vase"], groups["Lampe"]
    assert vase.compensations.amount == Decimal("100.50") and lamp.compensations.count == 0
    assert vase.times.receipt_to_closure.median_seconds == 20 * 86400  # A 20 days, B 30: the first
    assert lamp.deadlines.response == DeadlineCompliance(met=1, missed=1, pending=0)  # C met, D breached
    assert vase.root_causes == [RootCause(category="emballage", count=2, previous=1)]
    assert report.overall == (await kpi_report(pool, *MARCH, as_of=AS_OF)).overall

    top = await kpi_report(pool, *MARCH, "product", as_of=AS_OF, limit=1)
    assert [(g.key, g.indicators.volumes.received) for g in top.groups] == [("Lampe", 2), (None, 3)]
    assert top.groups[1].indicators.satisfaction.answered == 2  # A and B, among the others


class _Cells(HTMLParser):
    """The figures of an HTML report: (scope, path) → the texts shown (a key
    figure appears at the top and in its table)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], list[str]] = {}
        self.scripts = 0
        self._open: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.scripts += tag == "script"
        if "data-figure" in found:
            self._open = (found["data-scope"] or "", found["data-figure"] or "")
            self.cells.setdefault(self._open, []).append("")

    def handle_data(self, data: str) -> None:
        if self._open:
            self.cells[self._open][-1] += data

    def handle_endtag(self, tag: str) -> None:
        self._open = None


async def test_every_format_shows_the_same_figures(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    await pool.execute(
        "UPDATE complaints SET root_cause_category = '<script>alert(1)</script>' WHERE reference = 'T-C'"
    )
    report = await kpi_report(pool, *MARCH, "product", as_of=AS_OF)
    expected = list(figures(report))

    # JSON is the report: read back, it gives the same figures
    assert list(figures(KpiReport.model_validate_json(as_json(report)))) == expected
    assert json.loads(as_json(report))["overall"]["satisfaction"]["nps"] == 50.0

    # CSV: one row per figure, raw values
    rows = list(csv.DictReader(io.StringIO(as_csv(report))))
    assert [(row["scope"], row["indicator"]) for row in rows] == [(scope, f.path) for scope, f in expected]
    for row, (_, figure) in zip(rows, expected, strict=True):
        assert row["group_by"] == "product" and row["unit"] == figure.unit
        assert row["value"] == ("" if figure.value is None else str(figure.value))

    # HTML: every figure in a cell, as people read it; values from the register escaped, no script
    page = _Cells()
    html = render(report, "html")
    page.feed(html)
    assert page.scripts == 0 and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert page.cells == {(scope, f.path): page.cells[(scope, f.path)] for scope, f in expected}
    for scope, figure in expected:
        assert set(page.cells[(scope, figure.path)]) == {figure.display}, (scope, figure)
    assert html.count("<svg") == 5

    # text: the same figure under the same label, scope by scope, then the report's own sections
    text = render(report, "text")
    blocks = {block.split(" ==\n")[0]: block for block in text.split("\n== ")[1:]}
    for scope in scopes(report):
        for figure in (f for section in scope.sections for f in section.figures):
            assert f"{figure.label:<58} {figure.display}\n" in blocks[scope.label], (scope.name, figure)
    for figure in (f for section in report_sections(report) for f in section.figures):
        assert f"{figure.label:<58} {figure.display}\n" in text
    assert display(2 / 3, "share") == "66,7 %" and "taux de réponse" in text


async def test_report_and_actions_from_the_command_line(pool: asyncpg.Pool, settings: Settings) -> None:
    seeded = await seed_register(pool)
    csv_out = await complaints(
        settings, "report", "--from", "2026-03-01", "--to", "2026-03-31", "--by", "channel", "--format", "csv"
    )
    assert csv_out.returncode == 0, csv_out.stderr
    now = datetime.now(PARIS)
    expected = as_csv(await kpi_report(pool, *MARCH, "channel", as_of=now))
    assert csv_out.stdout == expected  # ages and overdue judged now: months ago, the same

    overdue = await complaints(settings, "actions", "list", "--overdue")
    assert overdue.returncode == 0, overdue.stderr
    lines = [line for line in overdue.stdout.splitlines() if line.strip()]
    assert len(lines) == 2  # D's (since 10 April) and C's (since 30 April), months before now
    assert f"{seeded.actions['D']}  2026-04-10  OVERDUE" in lines[0] and "T-D" in lines[0]

    done = await complaints(settings, "actions", "done", str(seeded.actions["D"]), "--by", "Claire")
    again = await complaints(settings, "actions", "done", str(seeded.actions["D"]), "--by", "Claire")
    assert done.returncode == again.returncode == 0 and done.stdout == again.stdout  # done once
    assert "DONE" in done.stdout
    assert await pool.fetchval("SELECT count(*) FROM journal WHERE event = 'action_done'") == 1
    missing = await complaints(settings, "actions", "done", "999999")
    assert missing.returncode == 1 and "no action 999999" in missing.stderr


async def test_actions_are_listed_overdue_and_completed_once(pool: asyncpg.Pool) -> None:
    seeded = await seed_register(pool)
    listed = await list_actions(pool, as_of=AS_OF, timezone="Europe/Paris")
    assert [item.id for item in listed] == [seeded.actions["D"], seeded.actions["C"]]
    overdue = await list_actions(pool, as_of=AS_OF, timezone="Europe/Paris", overdue_only=True)
    assert [item.id for item in overdue] == [seeded.actions["D"]]
    # the day it is due, an action is not overdue yet
    on_due_day = datetime(2026, 4, 10, 23, 59, tzinfo=PARIS)
    assert await list_actions(pool, as_of=on_due_day, timezone="Europe/Paris", overdue_only=True) == []

    first = await complete_action(pool, seeded.actions["C"], "Claire", AS_OF, "Europe/Paris")
    second = await complete_action(pool, seeded.actions["C"], "Denis", AS_OF, "Europe/Paris")
    assert first is not None and second is not None and first.done_at == second.done_at
    everything = await list_actions(pool, as_of=AS_OF, timezone="Europe/Paris", include_done=True)
    assert [(item.id, item.status) for item in everything] == [
        (seeded.actions["D"], "open"),
        (seeded.actions["A"], "done"),
        (seeded.actions["C"], "done"),
    ]
    assert await complete_action(pool, 999999, "Claire", AS_OF, "Europe/Paris") is None


@pytest.mark.parametrize("by", ["category", "channel", "priority", "handler", "customer"])
async def test_every_dimension_breaks_down(pool: asyncpg.Pool, by: str) -> None:
    await seed_register(pool)
    report = await kpi_report(pool, *MARCH, by, as_of=AS_OF)  # type: ignore[arg-type]
    assert sum(g.indicators.volumes.received for g in report.groups) == 5
    assert sum(g.indicators.compensations.count for g in report.groups) == 3

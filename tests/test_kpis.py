"""The indicators over a seeded register, every one asserted to its value;
the edge cases (no complaint in the period, complaints still open, surveys
not answered, a deadline met to the second); every output format showing the
same figures; corrective actions tracked to completion from the command line.
The seeded register is tests/helpers/seeded_register.py."""

import csv
import io
import json
from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import asyncpg
import pytest

from complaints import journal
from complaints.settings import Settings
from reporting.actions import complete_action, list_actions
from reporting.document import scopes
from reporting.figures import display, report_sections
from reporting.formats import as_csv, as_json, figures, render
from reporting.kpis import kpi_report
from reporting.model import (
    ActionRecurrence,
    DeadlineCompliance,
    Dimension,
    DurationStats,
    KindTotal,
    KpiReport,
    RootCause,
)
from reporting.register_summary import register_summary
from tests.helpers.cli import complaints
from tests.helpers.seeded_register import (
    AS_OF,
    DAY,
    MARCH,
    PARIS,
    TEN_DAYS,
    acknowledge,
    add_complaint,
    at,
    seed_register,
)


async def test_every_indicator_of_a_seeded_register(pool: asyncpg.Pool) -> None:
    seeded = await seed_register(pool)
    report = await kpi_report(pool, *MARCH, as_of=AS_OF)
    o = report.overall

    assert o.volumes.model_dump() == {"received": 5, "open": 2, "closed": 3, "merged": 0}
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


async def test_a_merged_duplicate_is_counted_apart_not_as_a_complaint(pool: asyncpg.Pool) -> None:
    """A duplicate of A merged into it is closed as merged, its deadlines
    written "met" unless breached (as the run's closing step does): it is in
    none of the indicators, only in Volumes.merged; the survivor A counts."""
    seeded = await seed_register(pool)
    before = await kpi_report(pool, *MARCH, "product", as_of=AS_OF)
    duplicate = await add_complaint(
        pool,
        "T-A2",
        at(3),
        product="Vase",
        category="livraison",
        customer_id="C1",
        recurring=True,
        phase="closed",
        closed_at=at(3) + 2 * DAY,
        merged_into=seeded.refs["A"],
        root_cause_category="livraison",
        assessment_deadline_met=True,
        response_deadline_met=True,
    )
    await acknowledge(pool, duplicate, at(3) + timedelta(hours=1))
    async with pool.acquire() as conn:
        await journal.append(conn, duplicate, "merged_into", "alice", {"merged_into": seeded.refs["A"]})

    after = await kpi_report(pool, *MARCH, "product", as_of=AS_OF)
    assert after.overall.volumes.received == 5 and after.overall.volumes.closed == 3
    assert after.overall.deadlines.response == before.overall.deadlines.response
    assert after.overall.volumes.merged == 1
    assert after.overall.model_copy(update={"volumes": before.overall.volumes}) == before.overall
    assert after.series == before.series and after.actions == before.actions
    [vase] = [g for g in after.groups if g.key == "Vase"]
    [vase_before] = [g for g in before.groups if g.key == "Vase"]
    assert vase.indicators.volumes.merged == 1
    assert vase.indicators.model_copy(update={"volumes": vase_before.indicators.volumes}) == vase_before.indicators
    assert [g.key for g in after.groups] == [g.key for g in before.groups]
    # The register's summary keeps it on a row of its own, judged on what it reached: no answer, none met.
    [merged] = [row for row in await register_summary(pool, *MARCH) if row.outcome == "merged"]
    assert (merged.complaints, merged.answered, merged.response_met, merged.response_missed) == (1, 0, 0, 0)


async def test_no_complaint_in_the_period(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    report = await kpi_report(
        pool, datetime(2025, 1, 1, tzinfo=PARIS), datetime(2025, 2, 1, tzinfo=PARIS), "product", as_of=AS_OF
    )
    o = report.overall
    assert o.volumes.model_dump() == {"received": 0, "open": 0, "closed": 0, "merged": 0}
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
    for part in scopes(report):
        for figure in (f for section in part.sections for f in section.figures):
            assert f"{figure.label:<58} {figure.display}\n" in blocks[part.label], (part.name, figure)
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
async def test_every_dimension_breaks_down(pool: asyncpg.Pool, by: Dimension) -> None:
    await seed_register(pool)
    report = await kpi_report(pool, *MARCH, by, as_of=AS_OF)
    assert sum(g.indicators.volumes.received for g in report.groups) == 5
    assert sum(g.indicators.compensations.count for g in report.groups) == 3

"""The indicators of a period, as SQL over the register.

Every indicator is about the complaints *received* in the period
[period_from, period_to), as the register stands at `as_of` (now by default):
"open", the backlog and its ages are judged at `as_of`. A breakdown (`by`)
computes the same indicators per value of one dimension, in the same queries
(GROUPING SETS), so the groups add up to the whole.

All queries read one snapshot (a repeatable-read transaction), so the figures
of one report agree with each other even while complaints are being written."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from reporting.actions import actions_summary
from reporting.model import (
    AGE_BUCKETS,
    COMPENSATION_KINDS,
    OPEN_PHASES,
    Backlog,
    Compensations,
    Deadlines,
    DeadlineCompliance,
    Decisions,
    Dimension,
    DurationStats,
    Group,
    Indicators,
    KindTotal,
    KpiReport,
    Recurrence,
    RootCause,
    Satisfaction,
    SeriesUnit,
    SlaAlerts,
    Times,
    VolumePoint,
    Volumes,
)

# The breakdown dimensions and their column: a fixed list, never user text in SQL.
DIMENSION_COLUMNS: dict[Dimension, str] = {
    "product": "product",
    "category": "category",
    "channel": "channel",
    "priority": "priority",
    "handler": "handler",
    "customer": "customer_id",
}
DEFAULT_GROUP_LIMIT = 20  # beyond it, the smaller groups are gathered in one "others" group
TOP_ROOT_CAUSES = 10
# Percentiles sort each duration in memory: enough for a year of complaints.
REPORT_WORK_MEM = "256MB"
DEADLINES = ("acknowledgement", "assessment", "response")
_FLAG = {"acknowledgement": "ack_deadline_met", "assessment": "assessment_deadline_met",
         "response": "response_deadline_met"}  # fmt: skip
_DURATIONS = {
    "receipt_to_acknowledgement": "ack_seconds",
    "acknowledgement_to_response": "response_seconds",
    "receipt_to_closure": "closure_seconds",
}
_OVERALL = object()  # the key of the whole period's row among the groups' rows


async def kpi_report(
    pool: asyncpg.Pool,
    period_from: datetime,
    period_to: datetime,
    by: Dimension | None = None,
    *,
    as_of: datetime | None = None,
    timezone: str = "Europe/Paris",
    limit: int = DEFAULT_GROUP_LIMIT,
) -> KpiReport:
    """Every indicator of the complaints received in [period_from, period_to),
    overall and, with `by`, per value of that dimension (the `limit` largest
    groups, then one group of the others). Naive datetimes are read in `timezone`."""
    zone = ZoneInfo(timezone)
    period_from, period_to = _aware(period_from, zone), _aware(period_to, zone)
    if period_to <= period_from:
        raise ValueError("the period must end after it starts")
    if by is not None and by not in DIMENSION_COLUMNS:
        raise ValueError(f"cannot break down by {by!r}: one of {', '.join(DIMENSION_COLUMNS)}")
    as_of = _aware(as_of, zone) if as_of else datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        query = _Query(conn, period_from, period_to, as_of, by)
        await query.choose_groups(limit)
        main = await query.main()
        alerts = await query.alerts()
        feedback = await query.feedback()
        compensations = await query.compensations()
        root_causes = await query.root_causes()
        unit = series_unit(period_from, period_to)
        series = await _series(conn, period_from, period_to, unit, timezone)
        actions = await actions_summary(conn, period_from, period_to, as_of, timezone)

    def indicators(key: Any) -> Indicators:
        return _indicators(
            main.get(key), alerts.get(key), feedback.get(key), compensations.get(key, []), root_causes.get(key, [])
        )

    groups = [key for key in main if key is not _OVERALL]
    groups.sort(key=lambda key: (key is None, -main[key]["received"], key or ""))
    return KpiReport(
        period_from=period_from,
        period_to=period_to,
        as_of=as_of,
        timezone=timezone,
        by=by,
        overall=indicators(_OVERALL),
        groups=[Group(key=key, indicators=indicators(key)) for key in groups] if by else [],
        series_unit=unit,
        series=series,
        actions=actions,
    )


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


class _Query:
    """The queries of one report: same period, same groups, same snapshot."""

    def __init__(self, conn: asyncpg.Connection, period_from: datetime, period_to: datetime,
                 as_of: datetime, by: Dimension | None) -> None:  # fmt: skip
        self.conn = conn
        self.period = (period_from, period_to)
        self.as_of = as_of
        self.by = by
        self.top: list[str] | None = None  # the groups kept apart; None: every group

    async def choose_groups(self, limit: int) -> None:
        if self.by is None:
            return
        column = DIMENSION_COLUMNS[self.by]
        rows = await self.conn.fetch(
            f"""SELECT coalesce({column}, '') AS key, count(*) AS n FROM complaints
                 WHERE received_at >= $1 AND received_at < $2
                 GROUP BY 1 ORDER BY n DESC, key LIMIT $3""",
            *self.period,
            limit + 1,
        )
        if len(rows) > limit:
            self.top = [row["key"] for row in rows[:limit]]

    def _group_key(self, next_parameter: int) -> tuple[str, list[Any]]:
        """The SQL of a complaint's group (text; NULL for "others") and its parameters."""
        if self.by is None:
            return "NULL::text", []
        column = f"coalesce({DIMENSION_COLUMNS[self.by]}, '')"
        if self.top is None:
            return column, []
        return f"CASE WHEN {column} = ANY(${next_parameter}::text[]) THEN {column} END", [self.top]

    def _grouping(self, *columns: str) -> tuple[str, str]:
        """(select list head, GROUP BY clause): the whole period, and each group with `by`."""
        extra = ", ".join(columns)
        if self.by is None:
            return "true AS overall, NULL::text AS g", f"GROUP BY {extra or '()'}"
        return "GROUPING(g) = 1 AS overall, g", f"GROUP BY GROUPING SETS (({extra}), (g{', ' if extra else ''}{extra}))"

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.conn.fetch(sql, *args)

    @staticmethod
    def _key(row: asyncpg.Record) -> Any:
        return _OVERALL if row["overall"] else row["g"]

    async def main(self) -> dict[Any, asyncpg.Record]:
        """What the complaint rows hold: volumes, backlog, times, deadline flags,
        decisions, recurrence. Reads only the covering index `complaints_report`."""
        group, args = self._group_key(4)
        head, group_by = self._grouping()
        phases = ",\n".join(
            f"count(*) FILTER (WHERE closed_at IS NULL AND phase = '{phase}') AS \"phase:{phase}\""
            for phase in OPEN_PHASES
        )
        ages = ",\n".join(
            f"count(*) FILTER (WHERE closed_at IS NULL AND $3 - received_at >= interval '{low} days'"
            + (f" AND $3 - received_at < interval '{high} days'" if high else "")
            + f') AS "age:{name}"'
            for name, (low, high) in AGE_BUCKETS.items()
        )
        durations = ",\n".join(
            f"count({column}) AS \"{name}:n\", avg({column}) AS \"{name}:mean\", "
            f'percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {column}) AS "{name}:pct"'
            for name, column in _DURATIONS.items()
        )
        flags = ",\n".join(
            f'count(*) FILTER (WHERE {flag}) AS "{name}:met", count(*) FILTER (WHERE NOT {flag}) AS "{name}:missed"'
            for name, flag in _FLAG.items()
        )
        rows = await self._fetch(
            f"""WITH cohort AS (
                    SELECT {group} AS g, received_at, phase, closed_at,
                           ack_seconds, response_seconds, closure_seconds,
                           ack_deadline_met, assessment_deadline_met, response_deadline_met,
                           outcome, customer_verdict, recurring
                      FROM complaints WHERE received_at >= $1 AND received_at < $2)
                SELECT {head},
                       count(*) AS received,
                       count(*) FILTER (WHERE closed_at IS NULL) AS open,
                       {phases}, {ages}, {durations}, {flags},
                       count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
                       count(*) FILTER (WHERE outcome = 'partially_accepted') AS partially_accepted,
                       count(*) FILTER (WHERE outcome = 'rejected') AS rejected,
                       count(*) FILTER (WHERE customer_verdict = 'contested') AS contests,
                       count(*) FILTER (WHERE recurring) AS recurring,
                       count(*) FILTER (WHERE NOT recurring) AS one_off,
                       count(*) FILTER (WHERE recurring IS NULL) AS not_assessed
                  FROM cohort {group_by}""",
            *self.period,
            self.as_of,
            *args,
        )
        return {self._key(row): row for row in rows}

    async def alerts(self) -> dict[Any, asyncpg.Record]:
        """SLA alerts, and deadlines missed that no flag records yet (an open
        complaint past its deadline: the workflow raised the breach)."""
        group, args = self._group_key(3)
        head, group_by = self._grouping()
        missed = ",\n".join(
            f'count(*) FILTER (WHERE {flag} IS NULL AND "{name}:breached") AS "{name}:missed"'
            for name, flag in _FLAG.items()
        )
        breached = ",\n".join(
            f"bool_or(kind = 'breach' AND deadline = '{name}') AS \"{name}:breached\"" for name in DEADLINES
        )
        rows = await self._fetch(
            f"""WITH cohort AS (
                    SELECT {group} AS g, reference, ack_deadline_met, assessment_deadline_met, response_deadline_met
                      FROM complaints WHERE received_at >= $1 AND received_at < $2),
                raised AS (
                    SELECT complaint_reference AS reference,
                           count(*) FILTER (WHERE kind = 'warning') AS warnings,
                           count(*) FILTER (WHERE kind = 'breach') AS breaches,
                           {breached}
                      FROM alerts WHERE deadline <> 'action' GROUP BY complaint_reference)
                SELECT {head},
                       coalesce(sum(warnings), 0) AS warnings, coalesce(sum(breaches), 0) AS breaches,
                       count(*) FILTER (WHERE warnings > 0) AS complaints_warned,
                       count(*) FILTER (WHERE breaches > 0) AS complaints_breached,
                       {missed}
                  FROM cohort JOIN raised USING (reference) {group_by}""",
            *self.period,
            *args,
        )
        return {self._key(row): row for row in rows}

    async def feedback(self) -> dict[Any, asyncpg.Record]:
        """Surveys sent and answered, reviews and mediation referrals."""
        group, args = self._group_key(3)
        head, group_by = self._grouping()
        csat = ", ".join(f'count(*) FILTER (WHERE csat = {score}) AS "csat:{score}"' for score in range(1, 6))
        rows = await self._fetch(
            f"""WITH cohort AS (
                    SELECT {group} AS g, reference, outcome
                      FROM complaints WHERE received_at >= $1 AND received_at < $2),
                events AS (
                    SELECT complaint_reference AS reference,
                           bool_or(event = 'survey_emailed') AS surveyed,
                           bool_or(event = 'review_responded') AS reviewed
                      FROM journal WHERE event IN ('survey_emailed', 'review_responded')
                     GROUP BY complaint_reference),
                feedback AS (
                    SELECT coalesce(s.complaint_reference, e.reference) AS reference,
                           coalesce(e.surveyed, false) AS surveyed, coalesce(e.reviewed, false) AS reviewed,
                           s.csat, s.ces, s.nps
                      FROM surveys s FULL JOIN events e ON e.reference = s.complaint_reference)
                SELECT {head},
                       count(*) FILTER (WHERE surveyed OR csat IS NOT NULL) AS surveyed,
                       count(csat) AS answered, {csat},
                       avg(csat)::float8 AS csat_mean, avg(ces)::float8 AS ces_mean,
                       count(*) FILTER (WHERE nps >= 9) AS promoters,
                       count(*) FILTER (WHERE nps BETWEEN 7 AND 8) AS passives,
                       count(*) FILTER (WHERE nps <= 6) AS detractors,
                       count(*) FILTER (WHERE reviewed) AS reviews,
                       count(*) FILTER (WHERE reviewed AND outcome IS DISTINCT FROM 'accepted') AS mediation_referrals
                  FROM cohort JOIN feedback USING (reference) {group_by}""",
            *self.period,
            *args,
        )
        return {self._key(row): row for row in rows}

    async def compensations(self) -> dict[Any, list[asyncpg.Record]]:
        group, args = self._group_key(3)
        head, group_by = self._grouping("kind")
        rows = await self._fetch(
            f"""WITH cohort AS (
                    SELECT {group} AS g, reference FROM complaints WHERE received_at >= $1 AND received_at < $2)
                SELECT {head}, kind, count(*) AS count, sum(amount) AS amount
                  FROM cohort JOIN compensations ON complaint_reference = reference {group_by}""",
            *self.period,
            *args,
        )
        found: dict[Any, list[asyncpg.Record]] = defaultdict(list)
        for row in rows:
            found[self._key(row)].append(row)
        return found

    async def root_causes(self) -> dict[Any, list[asyncpg.Record]]:
        """Root-cause categories in the period and in the period as long just before."""
        period_from, period_to = self.period
        group, args = self._group_key(4)
        head, group_by = self._grouping("category")
        rows = await self._fetch(
            f"""WITH cohort AS (
                    SELECT {group} AS g, received_at >= $1 AS current, root_cause_category AS category
                      FROM complaints
                     WHERE received_at >= $3 AND received_at < $2 AND root_cause_category IS NOT NULL)
                SELECT {head}, category,
                       count(*) FILTER (WHERE current) AS count, count(*) FILTER (WHERE NOT current) AS previous
                  FROM cohort {group_by}""",
            period_from,
            period_to,
            period_from - (period_to - period_from),
            *args,
        )
        found: dict[Any, list[asyncpg.Record]] = defaultdict(list)
        for row in rows:
            found[self._key(row)].append(row)
        return found


def _indicators(
    main: asyncpg.Record | None,
    alerts: asyncpg.Record | None,
    feedback: asyncpg.Record | None,
    compensations: Iterable[asyncpg.Record],
    root_causes: Iterable[asyncpg.Record],
) -> Indicators:
    m: dict[str, Any] = dict(main) if main else defaultdict(int)
    a: dict[str, Any] = dict(alerts) if alerts else defaultdict(int)
    f: dict[str, Any] = dict(feedback) if feedback else defaultdict(lambda: 0)
    received = m["received"] or 0

    def duration(name: str) -> DurationStats:
        percentiles = m.get(f"{name}:pct") or [None, None]
        return DurationStats(
            count=m[f"{name}:n"] or 0,
            mean_seconds=m.get(f"{name}:mean"),
            median_seconds=percentiles[0],
            p90_seconds=percentiles[1],
        )

    def compliance(name: str) -> DeadlineCompliance:
        met, missed = m[f"{name}:met"] or 0, (m[f"{name}:missed"] or 0) + (a[f"{name}:missed"] or 0)
        return DeadlineCompliance(met=met, missed=missed, pending=received - met - missed)

    by_kind = {kind: KindTotal() for kind in COMPENSATION_KINDS}
    for row in compensations:
        by_kind[row["kind"]] = KindTotal(count=row["count"], amount=row["amount"])
    causes = sorted(
        (RootCause(category=row["category"], count=row["count"], previous=row["previous"]) for row in root_causes),
        key=lambda cause: (-cause.count, -cause.previous, cause.category),
    )
    return Indicators(
        volumes=Volumes(received=received, open=m["open"] or 0, closed=received - (m["open"] or 0)),
        backlog=Backlog(
            by_phase={phase: m[f"phase:{phase}"] or 0 for phase in OPEN_PHASES},
            by_age={name: m[f"age:{name}"] or 0 for name in AGE_BUCKETS},
        ),
        times=Times(**{name: duration(name) for name in _DURATIONS}),
        deadlines=Deadlines(**{name: compliance(name) for name in DEADLINES}),
        alerts=SlaAlerts(
            warnings=a["warnings"] or 0,
            breaches=a["breaches"] or 0,
            complaints_warned=a["complaints_warned"] or 0,
            complaints_breached=a["complaints_breached"] or 0,
        ),
        decisions=Decisions(
            accepted=m["accepted"] or 0,
            partially_accepted=m["partially_accepted"] or 0,
            rejected=m["rejected"] or 0,
            contests=m["contests"] or 0,
            reviews=f["reviews"] or 0,
            mediation_referrals=f["mediation_referrals"] or 0,
        ),
        compensations=Compensations(
            count=sum(total.count for total in by_kind.values()),
            amount=sum((total.amount for total in by_kind.values()), start=Decimal("0.00")),
            by_kind=by_kind,
        ),
        satisfaction=Satisfaction(
            surveyed=f["surveyed"] or 0,
            answered=f["answered"] or 0,
            csat_counts={str(score): f[f"csat:{score}"] or 0 for score in range(1, 6)},
            csat_mean=f.get("csat_mean") or None,
            ces_mean=f.get("ces_mean") or None,
            promoters=f["promoters"] or 0,
            passives=f["passives"] or 0,
            detractors=f["detractors"] or 0,
        ),
        recurrence=Recurrence(
            recurring=m["recurring"] or 0, one_off=m["one_off"] or 0, not_assessed=m["not_assessed"] or 0
        ),
        root_causes=[cause for cause in causes if cause.count or cause.previous][:TOP_ROOT_CAUSES],
    )


def series_unit(period_from: datetime, period_to: datetime) -> SeriesUnit:
    """Days for a month, weeks up to half a year, months beyond."""
    length = period_to - period_from
    if length <= timedelta(days=31):
        return "day"
    return "week" if length <= timedelta(days=183) else "month"


def bucket_starts(period_from: datetime, period_to: datetime, unit: SeriesUnit, timezone: str) -> list[date]:
    """The first local day of every bucket the period touches."""
    zone = ZoneInfo(timezone)
    first = period_from.astimezone(zone).date()
    last = (period_to - timedelta(microseconds=1)).astimezone(zone).date()
    if unit == "week":
        first -= timedelta(days=first.weekday())
    elif unit == "month":
        first = first.replace(day=1)
    starts = []
    day = first
    while day <= last:
        starts.append(day)
        if unit == "day":
            day += timedelta(days=1)
        elif unit == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


async def _series(conn: asyncpg.Connection, period_from: datetime, period_to: datetime,
                  unit: SeriesUnit, timezone: str) -> list[VolumePoint]:  # fmt: skip
    rows = await conn.fetch(
        """SELECT date_trunc($3, received_at AT TIME ZONE $4)::date AS start,
                  count(*) AS received, count(*) FILTER (WHERE closed_at IS NULL) AS open
             FROM complaints WHERE received_at >= $1 AND received_at < $2
            GROUP BY 1""",
        period_from,
        period_to,
        unit,
        timezone,
    )
    found = {row["start"]: row for row in rows}
    return [
        VolumePoint(
            start=start,
            received=found[start]["received"] if start in found else 0,
            open=found[start]["open"] if start in found else 0,
        )
        for start in bucket_starts(period_from, period_to, unit, timezone)
    ]

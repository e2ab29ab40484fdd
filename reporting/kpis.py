"""The indicators of a period, as SQL over the register.

Every indicator is about the complaints *received* in the period
[period_from, period_to), as the register stands at `as_of` (now by default):
"open", the backlog and its ages are judged at `as_of`. A breakdown (`by`)
computes the same indicators per value of one dimension in the same queries
(GROUPING SETS), so the groups add up to the whole.

The queries read the view report_cohort (one row per complaint, from the
projection kept by reporting.projection, migration 0007) and run side by side
on one snapshot (reporting.snapshot). A report first brings the projection up
to date (`refresh`); it is exact without, only slower when the projection is
far behind."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from reporting import projection
from reporting.actions import actions_summary
from reporting.model import (
    AGE_BUCKETS,
    COMPENSATION_KINDS,
    OPEN_PHASES,
    Backlog,
    Compensations,
    DeadlineCompliance,
    Deadlines,
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
from reporting.snapshot import snapshot

# The breakdown dimensions and their column: a fixed list, never user text in SQL.
DIMENSION_COLUMNS: dict[Dimension, str] = {
    "product": "product",
    "category": "category",
    "channel": "channel",
    "priority": "priority",
    "handler": "handler",
    "customer": "customer_id",
    "regime": "regime",
}
DEFAULT_GROUP_LIMIT = 20  # beyond it, the smaller groups are gathered in one "others" group
TOP_ROOT_CAUSES = 10
REPORT_CONNECTIONS = 2  # queries side by side: one per core of the database server
# Percentiles sort each duration in memory: enough for a year of complaints.
REPORT_WORK_MEM = "256MB"
DEADLINES = ("acknowledgement", "assessment", "response", "regulatory")
_DEADLINE_COLUMNS = {
    "acknowledgement": "ack_deadline",
    "assessment": "assessment_deadline",
    "response": "response_deadline",
    "regulatory": "regulatory_deadline",
}
_DURATIONS = {
    "receipt_to_acknowledgement": "ack_us",
    "acknowledgement_to_response": "response_us",
    "receipt_to_closure": "closure_us",
}
_US = 1_000_000  # microseconds in a second
_OVERALL = object()  # the key of the whole period's row among the groups' rows
_PERIOD = "received_at >= $1 AND received_at < $2"
# The complaints an indicator counts: a duplicate merged into another (the
# survivor, counted) is not a complaint handled; Volumes.merged counts them apart.
_COUNTED = f"{_PERIOD} AND merged_into IS NULL"


async def kpi_report(
    pool: asyncpg.Pool,
    period_from: datetime,
    period_to: datetime,
    by: Dimension | None = None,
    *,
    as_of: datetime | None = None,
    timezone: str = "Europe/Paris",
    currency: str = "EUR",
    limit: int = DEFAULT_GROUP_LIMIT,
    refresh: bool = True,
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
    unit = series_unit(period_from, period_to)
    starts = bucket_starts(period_from, period_to, unit, timezone)
    query = _Queries(period_from, period_to, as_of, by, timezone)
    if refresh:  # waits for a refresh already running: cheaper than reading its complaints afresh
        await projection.refresh(pool, wait=True)
    async with snapshot(pool, REPORT_CONNECTIONS, REPORT_WORK_MEM) as reading:
        query.source = await projection.reading_source(reading.first)
        await query.choose_groups(reading.first, limit)
        found = await reading.run(
            {  # the costliest first, so that the connections finish together
                "distribution": query.distribution(starts),
                "counts": query.counts,
                "durations": query.durations,  # three sorts
                "compensations": query.compensations,
                "merged": query.merged,
                "previous_causes": query.previous_causes,
                "actions": lambda conn: actions_summary(conn, period_from, period_to, as_of, timezone),
            }
        )
    counts = found["counts"]
    shapes = _Shapes(found["distribution"] + found["previous_causes"], len(starts))

    def indicators(key: Any) -> Indicators:
        return _indicators(key, found, shapes)

    groups = [key for key in counts if key is not _OVERALL]
    groups.sort(key=lambda key: (key is None, -counts[key]["received"], key or ""))
    return KpiReport(
        period_from=period_from,
        period_to=period_to,
        as_of=as_of,
        timezone=timezone,
        currency=currency,
        by=by,
        overall=indicators(_OVERALL),
        groups=[Group(key=key, indicators=indicators(key)) for key in groups] if by else [],
        series_unit=unit,
        series=[
            VolumePoint(start=start, received=shapes.received[i], open=shapes.open[i])
            for i, start in enumerate(starts, start=1)
        ],
        actions=found["actions"],
    )


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


class _Queries:
    """The queries of one report: same period, same groups."""

    def __init__(
        self, period_from: datetime, period_to: datetime, as_of: datetime, by: Dimension | None, timezone: str
    ) -> None:
        self.period = (period_from, period_to)
        self.as_of = as_of
        self.by = by
        self.timezone = timezone
        self.top: list[str] | None = None  # the groups kept apart; None: every group
        self.source = "report_cohort"

    async def choose_groups(self, conn: asyncpg.Connection, limit: int) -> None:
        if self.by is None:
            return
        rows = await conn.fetch(
            f"""SELECT coalesce({DIMENSION_COLUMNS[self.by]}, '') AS key, count(*) AS n FROM {self.source}
                 WHERE {_COUNTED} GROUP BY 1 ORDER BY n DESC, key LIMIT $3""",
            *self.period,
            limit + 1,
        )
        if len(rows) > limit:
            self.top = [row["key"] for row in rows[:limit]]

    def _group(self, parameter: int) -> tuple[str, list[Any]]:
        """The SQL of a complaint's group (text: "" not given, NULL the others)
        and its parameters, numbered from `parameter`."""
        if self.by is None:
            return "NULL::text", []
        column = f"coalesce({DIMENSION_COLUMNS[self.by]}, '')"
        if self.top is None:
            return column, []
        return f"CASE WHEN {column} = ANY(${parameter}::text[]) THEN {column} END", [self.top]

    @property
    def _head(self) -> str:
        """The select list's head: whether a row is the whole period's, and its group."""
        return "GROUPING(g) = 1 AS overall, g" if self.by else "true AS overall, NULL::text AS g"

    def _grouping(self, *columns: str) -> tuple[str, str]:
        """(select list head, GROUP BY clause): the whole period and, with `by`, each group."""
        extra = ", ".join(columns)
        if self.by is None:
            return self._head, f"GROUP BY {extra or '()'}"
        with_g = ", ".join(["g", *columns])
        return self._head, f"GROUP BY GROUPING SETS (({extra}), ({with_g}))"

    @staticmethod
    def _by_key(rows: list[asyncpg.Record]) -> dict[Any, asyncpg.Record]:
        return {_OVERALL if row["overall"] else row["g"]: row for row in rows}

    @staticmethod
    def _lists_by_key(rows: list[asyncpg.Record]) -> dict[Any, list[asyncpg.Record]]:
        found: dict[Any, list[asyncpg.Record]] = defaultdict(list)
        for row in rows:
            found[_OVERALL if row["overall"] else row["g"]].append(row)
        return found

    async def counts(self, conn: asyncpg.Connection) -> dict[Any, asyncpg.Record]:
        """Every count and mean of the period: one pass over its complaints."""
        group, args = self._group(3)
        head, group_by = self._grouping()
        deadlines = ", ".join(
            f"count(*) FILTER (WHERE {column} = 'met') AS \"{name}:met\", "
            f"count(*) FILTER (WHERE {column} = 'missed') AS \"{name}:missed\""
            for name, column in _DEADLINE_COLUMNS.items()
        )
        csat = ", ".join(f'count(*) FILTER (WHERE csat = {score}) AS "csat:{score}"' for score in range(1, 6))
        rows = await conn.fetch(
            f"""SELECT {head},
                       count(*) AS received,
                       count(*) FILTER (WHERE phase <> 'closed') AS open,
                       {deadlines},
                       coalesce(sum(sla_warnings), 0) AS warnings, coalesce(sum(sla_breaches), 0) AS breaches,
                       count(*) FILTER (WHERE sla_warnings > 0) AS complaints_warned,
                       count(*) FILTER (WHERE sla_breaches > 0) AS complaints_breached,
                       count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
                       count(*) FILTER (WHERE outcome = 'partially_accepted') AS partially_accepted,
                       count(*) FILTER (WHERE outcome = 'rejected') AS rejected,
                       count(*) FILTER (WHERE contested) AS contests,
                       count(*) FILTER (WHERE reviewed) AS reviews,
                       count(*) FILTER (WHERE reviewed AND outcome IS DISTINCT FROM 'accepted') AS mediation_referrals,
                       count(*) FILTER (WHERE recurring) AS recurring,
                       count(*) FILTER (WHERE NOT recurring) AS one_off,
                       count(*) FILTER (WHERE recurring IS NULL) AS not_assessed,
                       count(*) FILTER (WHERE surveyed) AS surveyed,
                       count(csat) AS answered, {csat},
                       avg(csat)::float8 AS csat_mean, avg(ces)::float8 AS ces_mean,
                       avg(problem_score)::float8 AS problem_mean, avg(actions_score)::float8 AS actions_mean,
                       avg(relationship_score)::float8 AS relationship_mean,
                       count(*) FILTER (WHERE nps >= 9) AS promoters,
                       count(*) FILTER (WHERE nps BETWEEN 7 AND 8) AS passives,
                       count(*) FILTER (WHERE nps <= 6) AS detractors
                  FROM (SELECT {group} AS g, * FROM {self.source} WHERE {_COUNTED}) cohort {group_by}""",
            *self.period,
            *args,
        )
        return self._by_key(rows)

    async def merged(self, conn: asyncpg.Connection) -> dict[Any, asyncpg.Record]:
        """The duplicates received in the period and merged into another."""
        group, args = self._group(3)
        head, group_by = self._grouping()
        rows = await conn.fetch(
            f"""SELECT {head}, count(*) AS merged
                  FROM (SELECT {group} AS g FROM {self.source}
                         WHERE {_PERIOD} AND merged_into IS NOT NULL) cohort {group_by}""",
            *self.period,
            *args,
        )
        return self._by_key(rows)

    async def durations(self, conn: asyncpg.Connection) -> dict[Any, asyncpg.Record]:
        """Count, mean and percentiles of each span, the complaints without
        that span left out."""
        group, args = self._group(3)
        head, group_by = self._grouping()
        spans = ", ".join(_span_aggregates(name) for name in _DURATIONS)
        rows = await conn.fetch(
            f"""SELECT {head}, {spans}
                  FROM (SELECT {group} AS g, {", ".join(_DURATIONS.values())} FROM {self.source}
                         WHERE {_COUNTED}) cohort {group_by}""",
            *self.period,
            *args,
        )
        return self._by_key(rows)

    def distribution(self, starts: list[date]) -> Any:
        """How the period's complaints spread, in one pass: received and open
        per time bucket (local day, week or month; whole period only), the open
        ones per phase and age at `as_of`, and root-cause categories."""

        async def run(conn: asyncpg.Connection) -> list[asyncpg.Record]:
            period_from, period_to = self.period
            zone = ZoneInfo(self.timezone)
            bounds = [datetime.combine(start, datetime.min.time(), tzinfo=zone) for start in starts]
            group, args = self._group(5)
            ages = " ".join(
                f"WHEN $4 - received_at < interval '{high} days' THEN '{name}'" if high else f"ELSE '{name}'"
                for name, (_, high) in AGE_BUCKETS.items()
            )
            shape, cause = "bucket, open_phase, age", "cause"
            sets = f"({shape}), ({cause})" + (f", (g, open_phase, age), (g, {cause})" if self.by else "")
            return await conn.fetch(
                f"""SELECT {self._head},
                           GROUPING(cause) = 0 AS by_cause, true AS current, bucket, open_phase, age, cause,
                           count(*) AS n
                      FROM (SELECT {group} AS g,
                                   width_bucket(received_at, $3::timestamptz[]) AS bucket,
                                   CASE WHEN phase <> 'closed' THEN phase END AS open_phase,
                                   CASE WHEN phase <> 'closed' THEN CASE {ages} END END AS age,
                                   root_cause_category AS cause
                              FROM {self.source} WHERE {_COUNTED}) cohort
                     GROUP BY GROUPING SETS ({sets})""",
                period_from,
                period_to,
                bounds,
                self.as_of,
                *args,
            )

        return run

    async def previous_causes(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        """Root-cause categories in the period as long before this one (the
        trend), as rows of the distribution."""
        period_from, period_to = self.period
        group, args = self._group(3)
        head, group_by = self._grouping("cause")
        return await conn.fetch(
            f"""SELECT {head}, true AS by_cause, false AS current, cause, count(*) AS n
                  FROM (SELECT {group} AS g, root_cause_category AS cause FROM {self.source}
                         WHERE {_COUNTED} AND root_cause_category IS NOT NULL) cohort {group_by}""",
            period_from - (period_to - period_from),
            period_from,
            *args,
        )

    async def compensations(self, conn: asyncpg.Connection) -> dict[Any, list[asyncpg.Record]]:
        """Grants by kind."""
        group, args = self._group(3)
        head, group_by = self._grouping("kind")
        rows = await conn.fetch(
            f"""SELECT {head}, kind, sum(n)::integer AS count, sum(amount) AS amount
                  FROM (SELECT {group} AS g, x.kind, x.n, x.amount
                          FROM {self.source},
                               unnest(compensation_kinds, compensation_counts, compensation_amounts)
                                   AS x (kind, n, amount)
                         WHERE {_COUNTED} AND compensation_kinds IS NOT NULL) p {group_by}""",
            *self.period,
            *args,
        )
        return self._lists_by_key(rows)


class _Shapes:
    """The distribution's rows and the previous period's root causes, summed:
    the series (whole period), and per scope the backlog by phase and age and
    the root causes with their trend."""

    def __init__(self, rows: list[asyncpg.Record], buckets: int) -> None:
        self.received = [0] * (buckets + 1)  # by bucket number, 1-based
        self.open = [0] * (buckets + 1)
        self.by_phase: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OPEN_PHASES, 0))
        self.by_age: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(AGE_BUCKETS, 0))
        # [in the period, in the one before]
        self.causes: dict[Any, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for row in rows:
            key = _OVERALL if row["overall"] else row["g"]
            if row["by_cause"]:
                if row["cause"] is not None:
                    self.causes[key][row["cause"]][0 if row["current"] else 1] += row["n"]
                continue
            if key is _OVERALL:
                self.received[row["bucket"]] += row["n"]
                self.open[row["bucket"]] += row["n"] if row["open_phase"] else 0
            if row["open_phase"]:
                phases = self.by_phase[key]
                phases[row["open_phase"]] = phases.get(row["open_phase"], 0) + row["n"]
                self.by_age[key][row["age"]] += row["n"]

    def root_causes(self, key: Any) -> list[RootCause]:
        """The most frequent in the period first."""
        causes = [
            RootCause(category=name, count=now, previous=before) for name, (now, before) in self.causes[key].items()
        ]
        causes.sort(key=lambda cause: (-cause.count, -cause.previous, cause.category))
        return causes[:TOP_ROOT_CAUSES]


def _span_aggregates(name: str) -> str:
    """Count, mean and percentiles (nearest rank: percentile_disc) of one
    span, in microseconds; complaints without it (NULL) are left out."""
    column = _DURATIONS[name]
    return (
        f'count({column}) AS "{name}:n", avg({column})::float8 AS "{name}:mean", '
        f'percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {column}) AS "{name}:pct"'
    )


def _indicators(key: Any, found: dict[str, Any], shapes: _Shapes) -> Indicators:
    def row(name: str) -> dict[str, Any]:
        found_row = found[name].get(key)
        return dict(found_row) if found_row is not None else {}

    spans = row("durations")
    # every figure of the scope by name; what no row holds is 0
    c: dict[str, Any] = defaultdict(int, row("counts"))
    received = c["received"] or 0

    def duration(name: str) -> DurationStats:
        if not spans.get(f"{name}:n"):
            return DurationStats()
        median, p90 = spans[f"{name}:pct"]
        return DurationStats(
            count=spans[f"{name}:n"],
            mean_seconds=spans[f"{name}:mean"] / _US,
            median_seconds=median / _US,
            p90_seconds=p90 / _US,
        )

    def compliance(name: str) -> DeadlineCompliance:
        met, missed = c[f"{name}:met"] or 0, c[f"{name}:missed"] or 0
        return DeadlineCompliance(met=met, missed=missed, pending=received - met - missed)

    by_kind = {kind: KindTotal() for kind in COMPENSATION_KINDS}
    for granted in found["compensations"].get(key, []):
        by_kind[granted["kind"]] = KindTotal(count=granted["count"], amount=granted["amount"])
    return Indicators(
        volumes=Volumes(
            received=received,
            open=c["open"] or 0,
            closed=received - (c["open"] or 0),
            merged=row("merged").get("merged") or 0,
        ),
        backlog=Backlog(by_phase=dict(shapes.by_phase[key]), by_age=dict(shapes.by_age[key])),
        times=Times(**{name: duration(name) for name in _DURATIONS}),
        deadlines=Deadlines(**{name: compliance(name) for name in DEADLINES}),
        alerts=SlaAlerts(**{name: c[name] or 0 for name in SlaAlerts.model_fields}),
        decisions=Decisions(**{name: c[name] or 0 for name in Decisions.model_fields}),
        compensations=Compensations(
            count=sum(total.count for total in by_kind.values()),
            amount=sum((total.amount for total in by_kind.values()), start=Decimal("0.00")),
            by_kind=by_kind,
        ),
        satisfaction=Satisfaction(
            surveyed=c["surveyed"] or 0,
            answered=c["answered"] or 0,
            csat_counts={str(score): c[f"csat:{score}"] or 0 for score in range(1, 6)},
            csat_mean=c.get("csat_mean"),
            ces_mean=c.get("ces_mean"),
            problem_mean=c.get("problem_mean"),
            actions_mean=c.get("actions_mean"),
            relationship_mean=c.get("relationship_mean"),
            promoters=c["promoters"] or 0,
            passives=c["passives"] or 0,
            detractors=c["detractors"] or 0,
        ),
        recurrence=Recurrence(**{name: c[name] or 0 for name in Recurrence.model_fields}),
        root_causes=shapes.root_causes(key),
    )


def series_unit(period_from: datetime, period_to: datetime) -> SeriesUnit:
    """Days up to a month, weeks up to half a year, months beyond."""
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

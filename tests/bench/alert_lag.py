"""How late breach alerts come, read from the register: for each alert of a
deadline, when it was due, recorded and emailed to operations; the
percentiles of those lags; duplicates. Shared by the deadline storm and the
idle scale benchmarks."""

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class Alerted:
    reference: str
    due_at: datetime
    raised_at: datetime
    sent_at: datetime | None  # the operations email; None while not sent


async def breaches(pool: asyncpg.Pool, refs: list[str], deadline: str) -> list[Alerted]:
    """Each breach alert of these complaints' `deadline`."""
    rows = await pool.fetch(
        """SELECT a.complaint_reference, a.due_at, a.raised_at, o.sent_at
             FROM alerts a LEFT JOIN outbox o ON o.key = a.key || ':email' AND o.status = 'sent'
            WHERE a.complaint_reference = ANY($1) AND a.deadline = $2 AND a.kind = 'breach'""",
        refs,
        deadline,
    )
    return [Alerted(row[0], row[1], row[2], row[3]) for row in rows]


async def duplicates(pool: asyncpg.Pool, refs: list[str], deadline: str) -> tuple[int, int]:
    """Complaints alerted more than once for `deadline`; alert emails beyond one per alert."""
    alerted_twice = await pool.fetchval(
        """SELECT count(*) FROM (SELECT complaint_reference FROM alerts
            WHERE complaint_reference = ANY($1) AND deadline = $2 AND kind = 'breach'
            GROUP BY 1 HAVING count(*) > 1) AS twice""",
        refs,
        deadline,
    )
    extra_emails = await pool.fetchval(
        "SELECT count(*) - count(DISTINCT key) FROM outbox WHERE complaint_reference = ANY($1) AND kind = 'alert'",
        refs,
    )
    return int(alerted_twice), int(extra_emails)


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return f"p50 {cuts[49]:6.1f} s  p95 {cuts[94]:6.1f} s  p99 {cuts[98]:6.1f} s  max {max(values):6.1f} s"


def print_lags(alerted: list[Alerted], expected: int) -> None:
    """The lags from due time to the alert recorded and emailed, and the alerts per second."""
    recorded = [(a.raised_at - a.due_at).total_seconds() for a in alerted]
    emailed = [(a.sent_at - a.due_at).total_seconds() for a in alerted if a.sent_at]
    print(f"breaches recorded   {len(recorded):6d} of {expected}   lag {percentiles(recorded)}")
    print(f"alert emails sent   {len(emailed):6d} of {expected}   lag {percentiles(emailed)}")
    sent = sorted(a.sent_at for a in alerted if a.sent_at)
    if sent:
        first_due = min(a.due_at for a in alerted)
        span = max((sent[-1] - first_due).total_seconds(), 1.0)
        busiest = max(Counter(at.replace(microsecond=0) for at in sent).values())
        print(f"alerts per second   {len(sent) / span:6.1f} from the first due time to the last email ({span:.0f} s)")
        print(f"busiest second      {busiest:6d} alert emails")

"""The register's summary by category and outcome, for the supervisor's
yearly questionnaire: how many complaints, how many answered, how long from
receipt and from sending to the answer, and each of the response and
regulatory deadlines met or missed. Computed from the register, as the
export (reporting.register_export)."""

import csv
import io
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from decimal import Decimal

import asyncpg

from reporting.cells import neutralised_row


@dataclass(frozen=True)
class SummaryRow:
    category: str | None  # NULL: not categorised
    outcome: str | None  # NULL: not answered yet; merged: a duplicate merged into another
    complaints: int
    answered: int
    mean_days_to_answer: Decimal | None  # from receipt to the (first) answer, in days, 2 decimals
    max_days_to_answer: Decimal | None
    mean_days_from_sending: Decimal | None  # from sending (receipt when not known): the regulatory clock's start
    response_met: int
    response_missed: int
    regulatory_met: int
    regulatory_missed: int


SUMMARY_COLUMNS = [field.name for field in fields(SummaryRow)]

# A duplicate merged into another counts apart, as the export shows it.
_OUTCOME = "CASE WHEN c.merged_into IS NOT NULL THEN 'merged' ELSE s.outcome END"
_DAYS = "extract(epoch FROM c.responded_at - {start}) / 86400"
_SUMMARY = f"""
SELECT s.category, {_OUTCOME} AS outcome, count(*)::integer AS complaints, count(c.responded_at)::integer AS answered,
       round(avg({_DAYS.format(start="s.received_at")}), 2) AS mean_days_to_answer,
       round(max({_DAYS.format(start="s.received_at")}), 2) AS max_days_to_answer,
       round(avg({_DAYS.format(start="coalesce(c.sent_at, s.received_at)")}), 2) AS mean_days_from_sending,
       count(*) FILTER (WHERE s.response_deadline = 'met')::integer AS response_met,
       count(*) FILTER (WHERE s.response_deadline = 'missed')::integer AS response_missed,
       count(*) FILTER (WHERE s.regulatory_deadline = 'met')::integer AS regulatory_met,
       count(*) FILTER (WHERE s.regulatory_deadline = 'missed')::integer AS regulatory_missed
  FROM report_complaint_source s JOIN complaints c ON c.reference = s.reference
 WHERE s.received_at >= $1 AND s.received_at < $2
 GROUP BY s.category, {_OUTCOME}
 ORDER BY s.category NULLS LAST, {_OUTCOME} NULLS LAST
"""


async def register_summary(pool: asyncpg.Pool, period_from: datetime, period_to: datetime) -> list[SummaryRow]:
    """One row per (category, outcome) of the complaints received in [period_from, period_to)."""
    return [SummaryRow(**dict(row)) for row in await pool.fetch(_SUMMARY, period_from, period_to)]


def summary_cells(row: SummaryRow) -> list[object]:
    return list(astuple(row))


def summary_csv(rows: list[SummaryRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for row in rows:
        writer.writerow(neutralised_row(["" if value is None else value for value in summary_cells(row)]))
    return out.getvalue()

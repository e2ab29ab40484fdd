"""The register for auditors and the regulator: one row per complaint
received in a period, with its dates, channel, regime, acknowledgement,
answer, outcome (a duplicate merged into another: 'merged', and the
survivor's reference), compensation, contest and review, mediation and each
deadline met or missed; as CSV or XLSX.

The rows are computed from the register itself (the view
report_complaint_source, migration 0011), not from the reports' projection:
an export is exact whenever it runs. Times are local (COMPLAINTS_TIMEZONE)."""

import csv
import io
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg

from reporting.cells import neutralised_row

ExportFormat = Literal["csv", "xlsx"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx")
CONTENT_TYPES: dict[ExportFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class RegisterRow:
    reference: str
    sent_at: datetime | None  # NULL for a complaint taken in before sending dates were kept
    received_at: datetime
    channel: str
    complainant_type: str | None  # consumer / professional, as said at intake
    product: str | None
    category: str | None
    regime: str
    acknowledged_at: datetime | None
    acknowledgement_method: str | None
    answered_at: datetime | None
    outcome: str | None  # 'merged': closed as merged into `merged_into`
    merged_into: str | None  # the complaint it was merged into (the survivor)
    compensation_kinds: str | None  # the kinds granted, comma-separated
    compensation_amount: Decimal | None
    contested: bool
    reviewed: bool
    mediation_referral: bool  # reviewed and still not fully accepted: the mediator is what is left
    acknowledgement_deadline: str | None  # 'met', 'missed', or NULL while pending
    assessment_deadline: str | None
    response_deadline: str | None
    regulatory_deadline: str | None
    phase: str
    closed_at: datetime | None


COLUMNS = [field.name for field in fields(RegisterRow)]

_ROWS = """
SELECT s.reference, c.sent_at, s.received_at, s.channel, c.complainant_type, s.product, s.category,
       s.regime, c.acknowledged_at, c.ack_method AS acknowledgement_method, c.responded_at AS answered_at,
       CASE WHEN c.merged_into IS NOT NULL THEN 'merged' ELSE s.outcome END AS outcome, c.merged_into,
       array_to_string(s.compensation_kinds, ', ') AS compensation_kinds,
       (SELECT sum(a) FROM unnest(s.compensation_amounts) a) AS compensation_amount,
       s.contested, s.reviewed, s.reviewed AND s.outcome IS DISTINCT FROM 'accepted' AS mediation_referral,
       s.ack_deadline AS acknowledgement_deadline, s.assessment_deadline, s.response_deadline,
       s.regulatory_deadline, s.phase, c.closed_at
  FROM report_complaint_source s JOIN complaints c ON c.reference = s.reference
 WHERE s.received_at >= $1 AND s.received_at < $2
 ORDER BY s.received_at, s.reference
"""


async def register_rows(pool: asyncpg.Pool, period_from: datetime, period_to: datetime) -> list[RegisterRow]:
    """The complaints received in [period_from, period_to), oldest first."""
    rows = await pool.fetch(_ROWS, period_from, period_to)
    return [RegisterRow(**dict(row)) for row in rows]


def _local(value: object, zone: ZoneInfo) -> object:
    return value.astimezone(zone) if isinstance(value, datetime) else value


def cells(row: RegisterRow, zone: ZoneInfo) -> list[object]:
    """A row's values, times in local time."""
    return [_local(value, zone) for value in astuple(row)]


def _csv_text(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def as_csv(rows: list[RegisterRow], timezone: str) -> str:
    zone = ZoneInfo(timezone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(neutralised_row([_csv_text(value) for value in cells(row, zone)]))
    return out.getvalue()

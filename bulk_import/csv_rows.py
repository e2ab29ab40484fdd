"""Complaints from a CSV file (social networks, a legacy register, paper
forms): one submission per row, or the row's problems with its line number.
A bad row never stops the others; a file that cannot be read at all (not
UTF-8, unknown or missing columns) is refused before anything is imported."""

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from complaints.dates import parse_local_moment
from complaints.submission import Channel, ComplaintSubmission, DocumentLimits, field_reasons, validate_submission

COLUMNS = (
    "name",
    "email",
    "phone",
    "postal_address",
    "customer_id",
    "complainant_type",
    "subject",
    "description",
    "desired_resolution",
    "product",
    "persons_concerned",
    "received_at",
    "sent_at",
    "external_reference",
    "channel",
)
REQUIRED = ("name", "subject", "description")
PERSONS_SEPARATOR = ";"
DELIMITERS = (",", ";", "\t")
KEY_MAX = 200


class CsvFileError(ValueError):
    """The file as a whole cannot be imported."""


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts in the file, 1 = the header
    submission: ComplaintSubmission | None = None
    problems: list[str] = field(default_factory=list)  # "field: reason"


def read_rows(path: Path, default_channel: Channel, limits: DocumentLimits, timezone: str, now: datetime) -> list[Row]:
    text = _decode(path)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFileError("the file is empty: a header line naming the columns is needed") from None
    columns = _columns(header)
    rows = []
    start = reader.line_num + 1
    try:
        for values in reader:
            line, start = start, reader.line_num + 1
            if not any(value.strip() for value in values):
                continue  # blank line
            rows.append(_row(line, columns, values, default_channel, limits, ZoneInfo(timezone), now))
    except csv.Error as error:
        raise CsvFileError(f"line {reader.line_num}: {error}") from error
    return rows


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvFileError(f"line {line}: the file is not UTF-8 (byte {error.start}); save it as CSV UTF-8") from error


def _delimiter(text: str) -> str:
    """Comma, semicolon (spreadsheets in French) or tab: the most frequent in the header."""
    header = text.split("\n", 1)[0]
    return max(DELIMITERS, key=header.count)


def _columns(header: list[str]) -> list[str]:
    columns = [name.strip().lower().replace(" ", "_").replace("-", "_") for name in header]
    unknown = [name for name in columns if name not in COLUMNS]
    if unknown:
        raise CsvFileError(
            f"unknown column(s): {', '.join(unknown) or '(empty name)'}; the columns are: {', '.join(COLUMNS)}"
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise CsvFileError(f"column(s) given twice: {', '.join(repeated)}")
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise CsvFileError(f"missing column(s): {', '.join(missing)}")
    return columns


def _row(
    line: int,
    columns: list[str],
    values: list[str],
    default_channel: Channel,
    limits: DocumentLimits,
    zone: ZoneInfo,
    now: datetime,
) -> Row:
    if len(values) != len(columns):
        return Row(line, problems=[f"row: {len(values)} values for {len(columns)} columns"])
    cell = {name: value.strip() or None for name, value in zip(columns, values, strict=True)}
    problems = []
    moments: dict[str, datetime | None] = {"received_at": None, "sent_at": None}
    for column in moments:
        text = cell.get(column)
        if text:
            try:
                moments[column] = parse_received_at(text, zone, now)
            except ValueError as error:
                problems.append(f"{column}: {error}")
    data: dict[str, Any] = {
        "channel": cell.get("channel") or default_channel,
        "complainant": {
            **{name: cell.get(name) for name in ("name", "email", "phone", "postal_address", "customer_id")},
            "type": cell.get("complainant_type"),
        },
        "subject": cell.get("subject") or "",
        "description": cell.get("description") or "",
        "desired_resolution": cell.get("desired_resolution"),
        "product": cell.get("product"),
        "persons_concerned": [
            person.strip()
            for person in (cell.get("persons_concerned") or "").split(PERSONS_SEPARATOR)
            if person.strip()
        ],
        "received_at": moments["received_at"],
        "sent_at": moments["sent_at"],
        "external_reference": cell.get("external_reference"),
    }
    try:
        submission = validate_submission(data, limits)
    except ValidationError as error:
        problems += [f"{problem.where('row')}: {problem.reason}" for problem in field_reasons(error)]
        return Row(line, problems=problems)
    if problems:
        return Row(line, problems=problems)
    return Row(line, submission.model_copy(update={"idempotency_key": row_key(submission)}))


def parse_received_at(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """ISO 8601 (2026-03-14, 2026-03-14 09:30, 2026-03-14T09:30+01:00) or
    14/03/2026 [09:30]; without an offset, in the organisation's time zone."""
    value = parse_local_moment(text, zone)
    if value > now:
        raise ValueError(f"{text!r} is in the future")
    return value


def row_key(submission: ComplaintSubmission) -> str:
    """The row's idempotency key: its channel's own reference when given,
    else a digest of its normalised content, so a re-run imports nothing twice."""
    if submission.external_reference:
        key = f"import:{submission.channel.value}:{submission.external_reference}"
        if len(key) <= KEY_MAX:
            return key
        return f"import:{submission.channel.value}:sha256:{_digest(submission.external_reference)}"
    # Fields added since (sent_at, the complainant's type) are left out when empty: a
    # file imported before them keeps its rows' keys, so importing it again imports nothing twice.
    exclude: dict[str, Any] = dict.fromkeys(("idempotency_key", "documents"), True)
    if submission.sent_at is None:
        exclude["sent_at"] = True
    if submission.complainant.type is None:
        exclude["complainant"] = {"type"}
    content = submission.model_dump(mode="json", exclude=exclude)
    return f"import:sha256:{_digest(json.dumps(content, sort_keys=True, ensure_ascii=False))}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def iter_problems(rows: list[Row]) -> Iterator[str]:
    for row in rows:
        for problem in row.problems:
            yield f"line {row.line}: {problem}"

"""The register's export as an XLSX workbook (openpyxl): the sheet
"Registre", one row per complaint, and the sheet "Synthèse", the summary by
category and outcome of the same period.

Every text is written as a text cell, never a formula: openpyxl would take a
value beginning with "=" for one, and a spreadsheet would run it. The text
itself is kept as typed (control characters XML cannot carry aside)."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

from reporting.register_export import COLUMNS, RegisterRow, cells
from reporting.register_summary import SUMMARY_COLUMNS, SummaryRow, summary_cells

REGISTER_SHEET = "Registre"
SUMMARY_SHEET = "Synthèse"
_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _append(sheet: Worksheet, values: list[object]) -> None:
    """One row; times naive local (Excel has no time zones), texts as text."""
    plain = [value.replace(tzinfo=None) if isinstance(value, datetime) else value for value in values]
    plain = [ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value for value in plain]
    sheet.append(plain)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
        elif isinstance(cell.value, datetime):
            cell.number_format = _DATE_FORMAT


def as_xlsx(rows: list[RegisterRow], summary: list[SummaryRow], timezone: str) -> bytes:
    zone = ZoneInfo(timezone)
    book = Workbook()
    register = book.active
    assert register is not None  # a new workbook has its first sheet
    register.title = REGISTER_SHEET
    _append(register, list(COLUMNS))
    for row in rows:
        _append(register, cells(row, zone))
    register.freeze_panes = "B2"
    totals = book.create_sheet(SUMMARY_SHEET)
    _append(totals, list(SUMMARY_COLUMNS))
    for line in summary:
        _append(totals, summary_cells(line))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

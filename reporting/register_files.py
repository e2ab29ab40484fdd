"""The register's export of a period as a file, the same for the console,
the API and the command line: CSV (the complaints) or XLSX (the complaints
and the summary by category and outcome)."""

from datetime import date, datetime

import asyncpg

from reporting.register_export import ExportFormat, as_csv, register_rows
from reporting.register_summary import register_summary
from reporting.register_workbook import as_xlsx


async def register_file(
    pool: asyncpg.Pool, period_from: datetime, period_to: datetime, format: ExportFormat, timezone: str
) -> bytes:
    rows = await register_rows(pool, period_from, period_to)
    if format == "csv":
        return as_csv(rows, timezone).encode()
    return as_xlsx(rows, await register_summary(pool, period_from, period_to), timezone)


def file_name(first: date, last: date, format: ExportFormat) -> str:
    return f"registre-{first.isoformat()}-{last.isoformat()}.{format}"

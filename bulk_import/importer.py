"""Importing the valid rows of a file through the one idempotent intake."""

from dataclasses import dataclass, field

import asyncpg
from temporalio.client import Client

from bulk_import.csv_rows import Row
from complaints import journal
from complaints.intake import submit_complaint
from complaints.settings import Settings


@dataclass
class ImportReport:
    imported: list[tuple[int, str]] = field(default_factory=list)  # (line, reference)
    already_present: list[tuple[int, str]] = field(default_factory=list)
    invalid: list[Row] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"line {line}: imported as {reference}" for line, reference in self.imported] + [
            f"line {line}: already present as {reference}" for line, reference in self.already_present
        ]

    def summary(self) -> str:
        rows = len(self.imported) + len(self.already_present) + len(self.invalid)
        return (
            f"{rows} row{'s' if rows != 1 else ''}: {len(self.imported)} imported, "
            f"{len(self.already_present)} already present, {len(self.invalid)} invalid"
        )


class ImportInterrupted(RuntimeError):
    """The register or Temporal failed at `line`: the rows before it are in."""

    def __init__(self, line: int, report: ImportReport) -> None:
        super().__init__(f"stopped at line {line}")
        self.line = line
        self.report = report


async def import_rows(
    pool: asyncpg.Pool,
    client: Client,
    settings: Settings,
    rows: list[Row],
    *,
    actor: str,
    source: str,
) -> ImportReport:
    report = ImportReport(invalid=[row for row in rows if row.submission is None])
    for row in rows:
        if row.submission is None:
            continue
        try:
            submitted = await submit_complaint(pool, client, settings, row.submission, actor=actor)
            async with pool.acquire() as conn:
                # Where it came from, for whoever reads the complaint later.
                await journal.append(
                    conn,
                    submitted.reference,
                    "imported",
                    actor,
                    {"file": source, "line": row.line},
                    step_key=f"{submitted.reference}:imported",
                )
        except Exception as error:
            raise ImportInterrupted(row.line, report) from error
        (report.imported if submitted.created else report.already_present).append((row.line, submitted.reference))
    return report

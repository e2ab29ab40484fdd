"""Bulk import from CSV: valid rows go through the one idempotent intake,
invalid rows are reported with their line and reason, a re-run adds nothing."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from temporalio.client import Client

from bulk_import.csv_rows import CsvFileError, Row, read_rows
from bulk_import.importer import import_rows
from complaints.settings import Settings
from complaints.submission import Channel
from tests.helpers.cli import complaints

HEADER = (
    "name,email,phone,postal_address,customer_id,subject,description,desired_resolution,product,received_at,"
    "external_reference,channel\n"
)
ROWS = [
    # line 2: from a social network, with its own post id and an offset-less date
    'Jeanne Martin,jeanne@example.com,,,C-17,Colis abîmé,"Le colis est arrivé ouvert,\nle vase cassé.",'
    "Remplacement,Vase,2026-01-15 10:30,fb-5512,social\n",
    # line 4: an invalid email
    "Paul Durand,paul.example.com,,,,Retard,Livré en retard.,,,,,\n",
    # line 5: a paper form: no email, a postal address and a French date
    'Anne Petit,,,"3 rue Haute, 75001 Paris",,Facture,La facture est fausse.,Un avoir,,14/01/2026,,letter\n',
    # line 6: nobody to answer to, and a date that is not one
    "Luc Blanc,,,,,Accueil,Accueil désagréable.,,,31/02/2026,,\n",
    # line 7: from the legacy register, no reference of its own
    "Marc Noir,marc@example.com,0601020304,,,Remboursement,Toujours pas remboursé.,,,,,\n",
]


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "reclamations.csv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def rows_of(settings: Settings, path: Path, channel: Channel = Channel.IMPORT) -> list[Row]:
    return read_rows(path, channel, settings.document_limits, settings.timezone, datetime.now(UTC))


async def test_valid_rows_imported_invalid_reported_by_line_and_a_rerun_adds_nothing(
    client: Client, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, *ROWS)
    rows = rows_of(settings, path)
    report = await import_rows(pool, client, settings, rows, actor="t", source=path.name)

    assert [line for line, _ in report.imported] == [2, 5, 7]
    problems = {row.line: row.problems for row in report.invalid}
    assert set(problems) == {4, 6}
    assert any(p.startswith("complainant.email: ") and "@-sign" in p for p in problems[4])
    assert any(p.startswith("received_at: '31/02/2026' is not a date") for p in problems[6])
    assert any(p.startswith("complainant: no way to reach the complainant") for p in problems[6])

    stored = {
        row["external_reference"] or row["complainant_name"]: row
        for row in await pool.fetch("SELECT * FROM complaints")
    }
    social = stored["fb-5512"]
    assert social["channel"] == "social" and social["customer_id"] == "C-17"
    assert social["description"] == "Le colis est arrivé ouvert,\nle vase cassé."
    paris = ZoneInfo(settings.timezone)
    assert social["received_at"] == datetime(2026, 1, 15, 10, 30, tzinfo=paris)
    assert social["reference"].startswith(f"{settings.reference_prefix}-2026-")
    assert stored["Anne Petit"]["channel"] == "letter"
    assert stored["Anne Petit"]["received_at"] == datetime(2026, 1, 14, tzinfo=paris)
    assert stored["Marc Noir"]["channel"] == "import"  # the default channel
    journaled = await pool.fetchval(
        "SELECT details->>'line' FROM journal WHERE complaint_reference = $1 AND event = 'imported'",
        social["reference"],
    )
    assert journaled == "2"

    # The same file again, and the same rows in another order: nothing twice.
    again = await import_rows(pool, client, settings, rows_of(settings, path), actor="t", source=path.name)
    assert again.imported == [] and [line for line, _ in again.already_present] == [2, 5, 7]
    shuffled = write_csv(tmp_path, ROWS[4], ROWS[0])
    third = await import_rows(pool, client, settings, rows_of(settings, shuffled), actor="t", source="x")
    assert third.imported == [] and len(third.already_present) == 2
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 3
    assert third.summary() == "2 rows: 0 imported, 2 already present, 0 invalid"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("nom,email\nJeanne,j@example.com\n", "unknown column(s): nom"),
        ("name,email\nJeanne,j@example.com\n", "missing column(s): subject, description"),
        ("", "the file is empty"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(
    settings: Settings, tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "x.csv"
    path.write_text(content)
    with pytest.raises(CsvFileError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        rows_of(settings, path)


def test_semicolons_and_a_spreadsheet_bom_are_read(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffName;Email;Subject;Description;Persons concerned\n"
        "Jeanne Martin;jeanne@example.com;Colis;Abîmé, vraiment.;M. Durand; Mme Roy\n".encode()
    )
    [row] = rows_of(settings, path)
    assert row.problems == ["row: 6 values for 5 columns"]  # an unquoted separator in a value
    path.write_bytes(
        "\ufeffName;Email;Subject;Description;Persons concerned\n"
        'Jeanne Martin;jeanne@example.com;Colis;Abîmé, vraiment.;"M. Durand; Mme Roy"\n'.encode()
    )
    [row] = rows_of(settings, path)
    assert row.submission is not None and row.submission.persons_concerned == ["M. Durand", "Mme Roy"]


async def test_import_through_the_command_line(pool: asyncpg.Pool, settings: Settings, worker, tmp_path: Path) -> None:
    path = write_csv(tmp_path, *ROWS)
    first = await complaints(settings, "import", str(path), "--channel", "letter")
    assert first.returncode == 1, first.stderr  # some rows invalid
    assert "line 4: complainant.email:" in first.stderr and "line 6: received_at:" in first.stderr
    assert "5 rows: 3 imported, 0 already present, 2 invalid" in first.stdout
    assert "line 7: imported as" in first.stdout
    assert await pool.fetchval("SELECT channel FROM complaints WHERE complainant_name = 'Marc Noir'") == "letter"

    valid_only = write_csv(tmp_path, ROWS[0], ROWS[2], ROWS[4])
    second = await complaints(settings, "import", str(valid_only), "--channel", "letter")
    assert second.returncode == 0, second.stderr
    assert "3 rows: 0 imported, 3 already present, 0 invalid" in second.stdout
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 3

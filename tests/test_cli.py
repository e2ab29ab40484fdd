"""`complaints submit / status / mail / ack-postal / assess`, as an operator runs them."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client

from complaints.complaint_status import Phase
from complaints.database import NoDatabaseUrl, open_pool
from complaints.dates import LocalDates
from complaints.settings import Settings
from tests.helpers.cli import IDENTITY, complaints
from tests.helpers.complaint_workflow import wait_for_acknowledgement, wait_for_phase
from tests.helpers.mailbox import Mailbox
from tests.helpers.register import journal_events
from workflows.complaint import ComplaintWorkflow


async def test_submit_then_status_and_the_acknowledgement_in_the_mailbox(
    client: Client, settings: Settings, mailbox: Mailbox, worker, tmp_path: Path
) -> None:
    invoice = tmp_path / "facture.pdf"
    invoice.write_bytes(b"%PDF-1.4 facture 2026-118")
    submitted = await complaints(
        settings,
        "submit",
        *IDENTITY,
        "--email",
        "jeanne@example.com",
        "--description",
        "La facture compte deux fois la livraison.",
        "--desired-resolution",
        "Un avoir de 12 euros",
        "--attach",
        str(invoice),
    )
    assert submitted.returncode == 0, submitted.stderr
    reference = submitted.stdout.strip()
    assert reference.startswith(f"{settings.reference_prefix}-")

    await mailbox.wait_for("jeanne@example.com")
    await wait_for_acknowledgement(client, reference)
    listed = await complaints(settings, "mail", "list")
    assert reference in listed.stdout and "jeanne@example.com" in listed.stdout
    shown = await complaints(settings, "mail", "show", "1")
    assert "Un avoir de 12 euros" in shown.stdout and "facture.pdf" in shown.stdout

    status = await complaints(settings, "status", reference)
    assert status.returncode == 0, status.stderr
    assert "assessment" in status.stdout and "by email" in status.stdout
    assert "response due" in status.stdout and f"/workflows/{reference}" in status.stdout
    assert "  sent  " in status.stdout and "regime           general" in status.stdout  # from the register
    assert "regulatory due   " in status.stdout


async def test_postal_acknowledgement_from_the_command_line(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker
) -> None:
    submitted = await complaints(
        settings,
        "submit",
        *IDENTITY,
        "--address",
        "3 rue Haute, Paris",
        "--description",
        "Erreur.",
    )
    reference = submitted.stdout.strip()
    confirmed = await complaints(settings, "ack-postal", reference, "--by", "Claire")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "acknowledged by post" in confirmed.stdout
    again = await complaints(settings, "ack-postal", reference, "--by", "Claire")
    assert again.returncode == 1 and "already acknowledged" in again.stderr


async def test_a_handler_changes_the_regime_from_the_command_line_with_a_reason(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker
) -> None:
    submitted = await complaints(
        settings, "submit", *IDENTITY, "--email", "jeanne@example.com", "--description", "Un virement."
    )
    reference = submitted.stdout.strip()
    await wait_for_phase(client, reference, Phase.ASSESSMENT)
    unreasoned = await complaints(settings, "assess", reference, "--by", "Alice", "--regime", "payment_services")
    assert unreasoned.returncode == 1 and "needs a reason" in unreasoned.stderr
    assert await pool.fetchval("SELECT regime FROM complaints WHERE reference = $1", reference) == "general"

    changed = await complaints(
        settings, "assess", reference, "--by", "Alice", "--regime", "payment_services", "--reason", "Un virement SEPA."
    )
    assert changed.returncode == 0, changed.stderr
    assert "regime payment_services" in changed.stdout
    row = await pool.fetchrow("SELECT regime, regulatory_due_at FROM complaints WHERE reference = $1", reference)
    status = await client.get_workflow_handle(reference).query(ComplaintWorkflow.status)
    assert (row["regime"], row["regulatory_due_at"]) == ("payment_services", status.regulatory_due_at)
    assert (await journal_events(pool, reference)).count("regime_changed") == 1
    # 15 working days, due at 00:00 (Paris) after the last: printed as that last day
    last = LocalDates(settings.timezone, settings.locale).due_day(status.regulatory_due_at)
    assert last is not None and f"answer due by {last}, end of day (Europe/Paris)" in changed.stdout
    shown = await complaints(settings, "status", reference)
    assert f"regulatory due   {last}, end of day (Europe/Paris)" in shown.stdout
    unknown = await complaints(settings, "assess", "REC-1999-000001", "--by", "Alice")
    assert unknown.returncode == 1 and "no such complaint" in unknown.stderr


@pytest.mark.parametrize(
    ("arguments", "field", "reason"),
    [
        (["--description", "x"], "complainant", "no way to reach the complainant"),
        (["--email", "jeanne.example.com", "--description", "x"], "complainant.email", "@-sign"),
        (["--email", "j@example.com", "--description", "   "], "description", "at least 1 character"),
        (
            ["--email", "j@example.com", "--description", "x", "--attach", "{big}"],
            "documents.0.content",
            "the limit is",
        ),
        (
            ["--email", "j@example.com", "--description", "x", "--attach", "{exe}"],
            "documents.0.content_type",
            "is not accepted",
        ),
    ],
)
async def test_bad_input_is_refused_with_its_reason_and_nothing_is_written(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    mailbox: Mailbox,
    worker,
    tmp_path: Path,
    arguments: list[str],
    field: str,
    reason: str,
) -> None:
    big, exe = tmp_path / "scan.pdf", tmp_path / "tool.exe"
    big.write_bytes(b"%PDF" + b"0" * settings.max_document_bytes)
    exe.write_bytes(b"MZ")
    arguments = [a.format(big=big, exe=exe) for a in arguments]

    refused = await complaints(settings, "submit", *IDENTITY, *arguments)

    assert refused.returncode == 2
    assert f"  {field}: " in refused.stderr and reason in refused.stderr, refused.stderr
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 0
    assert await pool.fetchval("SELECT count(*) FROM documents") == 0
    runs = [w async for w in client.list_workflows(f"TaskQueue = '{settings.task_queue}'")]
    assert runs == [] and mailbox.messages() == []


# --- the register a command works on ---------------------------------------------


def _without_database_url(tmp_path: Path) -> dict[str, str]:
    """A shell with no DATABASE_URL, its data folder (and .env) in `tmp_path`."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "COMPLAINTS_DATABASE_URL")}
    return {**env, "COMPLAINTS_DATA_DIR": str(tmp_path / "data")}


def _command_line(tmp_path: Path, *args: str, block_pgserver: bool = False) -> subprocess.CompletedProcess:
    blocked = "import sys; sys.modules['pgserver'] = None; " if block_pgserver else ""
    code = f"{blocked}from starter.cli import main; main({list(args)!r})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=_without_database_url(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_without_database_url_the_command_line_uses_the_embedded_server(tmp_path: Path) -> None:
    listed = await asyncio.to_thread(_command_line, tmp_path, "users", "list")
    assert listed.returncode == 0, listed.stderr
    assert "no operators" in listed.stdout
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").is_file(), "the local stack's data folder"


def test_without_database_url_or_the_local_extra_one_line_says_to_set_it(tmp_path: Path) -> None:
    refused = _command_line(tmp_path, "users", "list", block_pgserver=True)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "set DATABASE_URL" in refused.stderr
    assert not (tmp_path / "data" / "postgres").exists()


async def test_the_core_is_handed_its_database_url() -> None:
    with pytest.raises(NoDatabaseUrl, match="set DATABASE_URL"):
        await open_pool(Settings(_env_file=None, database_url=None))

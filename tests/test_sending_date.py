"""When a complaint was sent, beside when it was received: each channel's
sending date, validated at the edge (never in the future, never after the
receipt, the field named), kept in the register with the complaint's regime,
carried to its workflow and shown. The first tests need no server."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from pydantic import ValidationError
from temporalio.client import Client

from api.app import create_app
from bulk_import.csv_rows import read_rows
from complaints.dates import parse_local_moment
from complaints.intake import record_complaint, regime_for, start_workflow
from complaints.operator_commands import Role
from complaints.operators import create_operator
from complaints.settings import Settings
from complaints.submission import Channel, ComplaintSubmission, DocumentLimits, field_reasons, validate_submission
from complaints.workflow_state import ComplaintStart
from inbound.mailbox import SENDING_WINDOW, sending_date
from inbound.message import parse_email
from starter import cli
from tests.helpers.cli import IDENTITY, complaints
from tests.helpers.examples import COMPLAINT

PARIS = ZoneInfo("Europe/Paris")
LIMITS = DocumentLimits(max_bytes=1024, max_count=2, allowed_types=["text/plain"])
NOW = datetime.now(UTC)


def submission(**changes: Any) -> ComplaintSubmission:
    data: dict[str, Any] = {
        "channel": "letter",
        "complainant": {"name": "Jeanne Martin", "postal_address": "3 rue Haute, Paris"},
        "subject": "Facture erronée",
        "description": "La facture compte deux fois la livraison.",
    }
    return validate_submission(data | changes, LIMITS)


def problems(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {problem.where(): problem.reason for problem in field_reasons(error.value)}


# --- validated at the edge ---------------------------------------------------------


def test_a_sending_date_before_the_receipt_is_kept() -> None:
    sent, received = NOW - timedelta(days=3), NOW - timedelta(days=1)
    assert submission(sent_at=sent, received_at=received).sent_at == sent
    assert submission().sent_at is None  # a form, a call: the receipt, set at intake


def test_a_sending_date_in_the_future_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationError) as refused:
        submission(sent_at=NOW + timedelta(days=2))
    assert "is in the future" in problems(refused)["sent_at"]


def test_a_sending_date_after_the_receipt_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationError) as refused:
        submission(sent_at=NOW - timedelta(days=1), received_at=NOW - timedelta(days=2))
    assert "after the receipt" in problems(refused)["sent_at"]


def test_a_clock_a_minute_fast_is_not_a_date_in_the_future() -> None:
    assert submission(sent_at=NOW + timedelta(minutes=1)).sent_at is not None


def test_a_sending_date_without_a_zone_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        submission(sent_at=datetime(2026, 3, 2, 9, 0))
    assert "sent_at" in problems(refused)


# --- email: the Date header ---------------------------------------------------------------


def email(date: str | None) -> bytes:
    message = EmailMessage()
    message["From"] = "Jeanne Martin <jeanne@example.com>"
    message["To"] = "reclamations@example.org"
    message["Subject"] = "Facture erronée"
    message["Message-ID"] = "<m1@example.com>"
    if date is not None:
        message["Date"] = date
    message.set_content("La facture compte deux fois la livraison.")
    return message.as_bytes()


def test_an_emails_sending_date_is_its_date_header() -> None:
    sent = datetime(2026, 12, 24, 23, 50, tzinfo=PARIS)
    parsed = parse_email(email(format_datetime(sent)), "jeanne@example.com")
    assert parsed.sent_at == sent
    assert sending_date(parsed, sent + timedelta(minutes=20)) == sent


def test_an_email_without_a_readable_date_was_sent_when_received() -> None:
    received = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    for header in (None, "the day before yesterday"):
        parsed = parse_email(email(header), "jeanne@example.com")
        assert parsed.sent_at is None
        assert sending_date(parsed, received) == received


def test_a_date_header_after_the_receipt_or_long_before_it_is_a_senders_clock() -> None:
    received = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    for sent in (received + timedelta(hours=2), received - SENDING_WINDOW - timedelta(hours=1)):
        assert sending_date(parse_email(email(format_datetime(sent)), None), received) == received


def test_a_date_header_without_a_zone_is_utc() -> None:
    parsed = parse_email(email("Thu, 24 Dec 2026 22:50:00 -0000"), None)
    assert parsed.sent_at == datetime(2026, 12, 24, 22, 50, tzinfo=UTC)


# --- the command line: --sent-on ------------------------------------------------------------


def submit_args(*extra: str) -> Any:
    return cli._parser().parse_args(["submit", *IDENTITY, "--address", "3 rue Haute", "--description", "x", *extra])


def test_sent_on_in_the_future_is_refused_naming_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    tomorrow = (datetime.now(PARIS) + timedelta(days=2)).date().isoformat()
    assert cli._submit(submit_args("--channel", "letter", "--sent-on", tomorrow)) == 2
    err = capsys.readouterr().err
    assert "not recorded" in err and "sent_at: the sending date" in err and "is in the future" in err


def test_sent_on_that_is_not_a_date_says_how_to_write_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli._submit(submit_args("--sent-on", "mardi")) == 2
    assert "--sent-on: 'mardi' is not a date: write 2026-03-14" in capsys.readouterr().err


def test_a_letters_date_is_its_first_instant_in_the_organisations_zone() -> None:
    assert parse_local_moment("02/03/2026", PARIS) == datetime(2026, 3, 2, tzinfo=PARIS)
    assert parse_local_moment("2026-03-02 14:30", PARIS) == datetime(2026, 3, 2, 14, 30, tzinfo=PARIS)
    assert parse_local_moment("2026-03-02T14:30+00:00", PARIS) == datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


# --- the CSV import: a sent_at column ----------------------------------------------------------

HEADER = "name,email,phone,postal_address,customer_id,subject,description,desired_resolution,product,received_at,external_reference,channel"  # noqa: E501
OLD_ROW = "Marc Noir,marc@example.com,0601020304,,,Remboursement,Toujours pas remboursé.,,,2026-01-14 09:00,,"
# The key the import gave this row before it knew sent_at: a file imported
# then and again now imports nothing twice.
OLD_ROW_KEY = "import:sha256:e28c7e4d0a74d2e5b81dcb35f68135dff74dc38eed0e5f2af9d09f59e5aac9ed"


def csv_rows(tmp_path: Path, header: str, *rows: str) -> list[Any]:
    path = tmp_path / "reclamations.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return read_rows(path, Channel.IMPORT, LIMITS, "Europe/Paris", datetime(2026, 6, 1, tzinfo=UTC))


def test_a_csv_row_may_carry_its_sending_date(tmp_path: Path) -> None:
    rows = csv_rows(
        tmp_path,
        HEADER + ",sent_at",
        "Anne Petit,,,3 rue Haute,,Facture,Fausse.,,,14/01/2026,,letter,09/01/2026",
        "Luc Blanc,,,3 rue Basse,,Accueil,Désagréable.,,,14/01/2026,,letter,2026-12-01",
        "Paul Durand,,,3 rue Neuve,,Retard,Livré en retard.,,,14/01/2026,,letter,15/01/2026",
    )
    assert rows[0].submission.sent_at == datetime(2026, 1, 9, tzinfo=PARIS)
    assert any(problem.startswith("sent_at: '2026-12-01' is in the future") for problem in rows[1].problems)
    assert any(problem.startswith("sent_at: the sending date") for problem in rows[2].problems)


def test_a_row_without_a_sending_date_keeps_the_key_it_had(tmp_path: Path) -> None:
    [row] = csv_rows(tmp_path, HEADER, OLD_ROW)
    assert row.submission.idempotency_key == OLD_ROW_KEY
    [again] = csv_rows(tmp_path, HEADER + ",sent_at", OLD_ROW + ",")
    assert again.submission.idempotency_key == OLD_ROW_KEY


# --- the regime at intake ---------------------------------------------------------------------------


def test_the_regime_at_intake_follows_the_product_then_the_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "COMPLAINTS_REGIMES", '{"product": {"Carte Visa": "payment_services"}, "channel": {"letter": "acpr"}}'
    )
    settings = Settings(_env_file=None)
    assert regime_for(submission(product="carte visa"), settings) == "payment_services"
    assert regime_for(submission(), settings) == "acpr"
    assert regime_for(submission(channel="web"), settings) == "general"


# --- on the stack: the register, the workflow's input, the API, the command line -------------------


async def started_with(client: Client, reference: str) -> ComplaintStart:
    history = await client.get_workflow_handle(reference).fetch_history()
    payloads = history.events[0].workflow_execution_started_event_attributes.input.payloads
    [start] = await client.data_converter.decode(payloads, [ComplaintStart])
    return start


async def test_the_register_keeps_the_sending_date_and_the_regime_and_the_run_gets_them(
    pool: asyncpg.Pool, client: Client, settings: Settings
) -> None:
    settings = settings.model_copy(
        update={"regimes": settings.regimes.model_copy(update={"channel": {"letter": "acpr"}})}
    )
    sent, received = datetime(2025, 12, 24, 16, 45, tzinfo=PARIS), datetime(2025, 12, 29, 9, 0, tzinfo=PARIS)
    recorded = await record_complaint(pool, settings, submission(sent_at=sent, received_at=received), "t")
    row = await pool.fetchrow(
        "SELECT sent_at, received_at, regime FROM complaints WHERE reference = $1", recorded.reference
    )
    assert (row["sent_at"], row["received_at"], row["regime"]) == (sent, received, "acpr")

    await start_workflow(pool, client, settings, recorded.reference)
    start = await started_with(client, recorded.reference)
    assert (start.sent_at, start.regime) == (sent, "acpr")
    dates = start.policy.regulatory_dates(start.regime, start.sent_at, start.received_at)
    # the calendar travelled with the policy: 25 December and 1 January skipped
    assert dates.acknowledgement_due == datetime(2026, 1, 8, tzinfo=PARIS)
    await client.get_workflow_handle(recorded.reference).terminate("test over")


async def test_without_a_sending_date_a_complaint_was_sent_when_received(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    recorded = await record_complaint(pool, settings, submission(channel="phone"), "t")
    row = await pool.fetchrow(
        "SELECT sent_at, received_at, regime FROM complaints WHERE reference = $1", recorded.reference
    )
    assert row["sent_at"] == row["received_at"] and row["regime"] == "general"


@asynccontextmanager
async def api(settings: Settings, pool: asyncpg.Pool, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the test's register, as an operator with every role needed here."""
    _, key = await create_operator(pool, "Irène", Role.ADMIN)
    transport = httpx.ASGITransport(app=create_app(settings, pool, client))
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test", headers=headers) as http:
        yield http


async def test_the_api_takes_sent_at_and_shows_it_beside_received_at(
    settings: Settings, pool: asyncpg.Pool, client: Client
) -> None:
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(days=4)
    async with api(settings, pool, client) as http:
        answer = await http.post("/complaints", json={**COMPLAINT, "sent_at": sent.isoformat()})
        assert answer.status_code == 201, answer.text
        ref = answer.json()["reference"]
        detail = (await http.get(f"/complaints/{ref}")).json()
    assert datetime.fromisoformat(detail["sent_at"]) == sent
    assert datetime.fromisoformat(detail["received_at"]) > sent and detail["regime"] == "general"
    await client.get_workflow_handle(ref).terminate("test over")


async def test_the_api_refuses_a_sent_at_in_the_future_naming_the_field(
    settings: Settings, pool: asyncpg.Pool, client: Client
) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    async with api(settings, pool, client) as http:
        answer = await http.post("/complaints", json={**COMPLAINT, "sent_at": future})
    assert answer.status_code == 422, answer.text
    assert "sent_at" in json.dumps(answer.json()) and "in the future" in answer.text
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 0


async def test_the_command_line_records_a_letters_date(pool: asyncpg.Pool, client: Client, settings: Settings) -> None:
    submitted = await complaints(
        settings,
        "submit",
        *IDENTITY,
        "--address",
        "3 rue Haute",
        "--description",
        "Erreur.",
        "--channel",
        "letter",
        "--sent-on",
        "02/03/2026",
    )
    assert submitted.returncode == 0, submitted.stderr
    reference = submitted.stdout.strip()
    row = await pool.fetchrow("SELECT sent_at FROM complaints WHERE reference = $1", reference)
    assert row["sent_at"] == datetime(2026, 3, 2, tzinfo=ZoneInfo(settings.timezone))
    await client.get_workflow_handle(reference).terminate("test over")

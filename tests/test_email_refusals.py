"""A customer email refused for good (a 5xx to its recipient, sender or
content) is recorded on its outbox row, and fails its activity at once with a
non-retryable EmailRefused (the workflow journals it and goes by post); it is
never sent again.
A temporary refusal (4xx) stays a retryable failure."""

from collections.abc import Callable
from datetime import UTC, datetime

import aiosmtplib
import asyncpg
import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.letters import Letters
from activities.mail import AcknowledgementEmail, MailActivities
from activities.outbox import EMAIL_REFUSED, Outbox
from complaints.complaint_status import Phase
from complaints.intake import record_complaint, submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.polling import eventually
from tests.helpers.smtp_servers import scripted_smtp
from worker.main import build_worker
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]
REFUSALS = [
    ("rcpt_reply", "550 5.1.1 <jeanne@example.com>: Recipient address rejected", 550),
    ("mail_reply", "553 5.7.1 Sender address rejected", 553),
    ("data_reply", "554 5.7.1 Message rejected as spam", 554),
]


async def _acknowledge(settings: Settings, pool: asyncpg.Pool, port: int, reference: str) -> datetime:
    configured = settings.model_copy(update={"smtp_port": port})
    mail = MailActivities(pool, configured, Outbox(pool, configured), Letters(configured))
    email = AcknowledgementEmail(reference=reference, response_due_at=datetime(2026, 5, 1, tzinfo=UTC))
    return await ActivityEnvironment().run(mail.send_acknowledgement, email)


@pytest.mark.parametrize(("stage", "reply", "code"), REFUSALS, ids=["recipient", "sender", "content"])
async def test_a_refusal_for_good_is_recorded_and_fails_at_once_never_to_be_sent_again(
    pool: asyncpg.Pool, settings: Settings, complaint: Make, stage: str, reply: str, code: int
) -> None:
    reference = (await record_complaint(pool, settings, complaint(), actor="t")).reference
    with scripted_smtp() as (smtp, port):
        setattr(smtp, stage, reply)
        with pytest.raises(ApplicationError) as failure:
            await _acknowledge(settings, pool, port, reference)
        assert failure.value.type == EMAIL_REFUSED and failure.value.non_retryable
        assert "jeanne" not in str(failure.value)  # failures are not encrypted: no address in them
        assert str(code) in str(failure.value)  # the reason the workflow journals

        row = await pool.fetchrow("SELECT * FROM outbox WHERE key = $1", f"{reference}:acknowledgement")
        assert (row["status"], row["refusal_code"], row["attempts"]) == ("refused", code, 1)
        assert str(code) in row["last_error"] and row["refused_at"] is not None

        connections = smtp.connections
        with pytest.raises(ApplicationError) as again:  # a retry anyway: refused from the row
            await _acknowledge(settings, pool, port, reference)
        assert again.value.type == EMAIL_REFUSED
        assert smtp.connections == connections and smtp.delivered == []


async def test_a_temporary_refusal_is_retried_and_the_message_goes_once_accepted(
    pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    reference = (await record_complaint(pool, settings, complaint(), actor="t")).reference
    with scripted_smtp() as (smtp, port):
        smtp.rcpt_reply = "450 4.2.1 Mailbox busy, try later"
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):  # retryable: not an ApplicationError
            await _acknowledge(settings, pool, port, reference)
        row = await pool.fetchrow("SELECT status, attempts FROM outbox WHERE key = $1", f"{reference}:acknowledgement")
        assert (row["status"], row["attempts"]) == ("pending", 1)

        smtp.rcpt_reply = None
        await _acknowledge(settings, pool, port, reference)
        assert len(smtp.delivered) == 1
    assert await pool.fetchval("SELECT status FROM outbox WHERE key = $1", f"{reference}:acknowledgement") == "sent"


async def test_a_refused_acknowledgement_puts_the_complaint_on_the_postal_path_after_one_attempt(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    """The real activity and the complaint's workflow: the address refused
    for good, the run journals it and waits for the acknowledgement letter."""
    with scripted_smtp() as (smtp, port):
        smtp.rcpt_reply = "550 5.1.1 <jeanne@example.com>: Recipient address rejected"
        refusing = settings.model_copy(update={"smtp_port": port})
        async with build_worker(client, pool, refusing):
            reference = (await submit_complaint(pool, client, refusing, complaint(), actor="t")).reference
            await wait_for_phase(client, reference, Phase.INTAKE)

            async def journaled() -> list[asyncpg.Record]:
                return await pool.fetch(
                    "SELECT details FROM journal WHERE complaint_reference = $1 AND event = 'email_refused'", reference
                )

            [entry] = await eventually(journaled)
            status = await client.get_workflow_handle(reference).query(ComplaintWorkflow.status)

            async def alerted() -> list[asyncpg.Record]:  # operations' alert, refused by the same server
                return await pool.fetch(
                    "SELECT details FROM journal WHERE complaint_reference = $1 AND event = 'alert_undeliverable'",
                    reference,
                )

            [undelivered] = await eventually(alerted)
        assert '"retried": false' in undelivered["details"] and "email: " in undelivered["details"]
        assert '"template": "acknowledgement"' in entry["details"] and "550" in entry["details"]
        assert status.phase is Phase.INTAKE and not status.has_email
        row = await pool.fetchrow("SELECT status, attempts FROM outbox WHERE key = $1", f"{reference}:acknowledgement")
        assert (row["status"], row["attempts"]) == ("refused", 1)  # one attempt: not retried
        assert smtp.connections == 2 and smtp.delivered == []  # the acknowledgement and operations' alert, once each

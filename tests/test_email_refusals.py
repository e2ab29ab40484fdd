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
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.letters import Letters
from activities.mail import AcknowledgementEmail, MailActivities
from activities.outbox import EMAIL_REFUSED, Outbox
from complaints.intake import record_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.smtp_servers import scripted_smtp

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

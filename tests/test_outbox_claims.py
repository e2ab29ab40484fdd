"""Two attempts at one outbox message never send it twice: the sending attempt
holds the row, the other is told to retry; an SMTP exchange ends within the
configured timeout however slowly the server answers each command."""

import asyncio
from typing import Any

import asyncpg
import pytest

from activities.outbox import EmailInFlight, Outbox
from complaints.settings import Settings
from tests.helpers.polling import eventually
from tests.helpers.smtp_servers import SlowSmtp, scripted_smtp

MESSAGE: dict[str, Any] = {
    "key": "digest:claims:2026-03-02",
    "reference": None,
    "kind": "sla_digest",
    "recipient": "operations@example.org",
    "subject": "Synthèse du jour",
    "body": "Rien à signaler.",
}


async def _row(pool: asyncpg.Pool) -> asyncpg.Record:
    return await pool.fetchrow(
        "SELECT status, attempts, last_error, sent_at FROM outbox WHERE key = $1", MESSAGE["key"]
    )


async def test_a_second_attempt_while_the_first_is_sending_sends_nothing_and_is_told_to_retry(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    with scripted_smtp() as (smtp, port):
        outbox = Outbox(pool, settings.model_copy(update={"smtp_port": port}))
        smtp.gate.clear()  # the first attempt's message is held at DATA
        first = asyncio.create_task(outbox.send_once(**MESSAGE))
        await eventually(lambda: smtp.data_started == 1)

        second = asyncio.create_task(outbox.send_once(**MESSAGE))  # a retry past the first's timeout
        await eventually(lambda: second.done() or smtp.data_started > 1)
        smtp.gate.set()
        sent_at = await first

        with pytest.raises(EmailInFlight):
            await second
        assert smtp.data_started == 1 and len(smtp.delivered) == 1
        assert await outbox.send_once(**MESSAGE) == sent_at  # the retry finds it sent
        assert len(smtp.delivered) == 1
    row = await _row(pool)
    assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 1, sent_at)


async def test_an_smtp_exchange_ends_within_the_configured_timeout_however_slow_each_reply(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    """Each reply in 0.6 s stays under a 1.5 s per-command timeout, but the
    exchange's seven replies take 4 s: the attempt ends at 1.5 s, recorded."""
    async with SlowSmtp(delay=0.6) as smtp:
        outbox = Outbox(pool, settings.model_copy(update={"smtp_port": smtp.port, "smtp_timeout_seconds": 1.5}))
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await outbox.send_once(**MESSAGE)
        took = asyncio.get_running_loop().time() - started
    assert took < 3, f"the attempt took {took:.1f}s"
    assert smtp.accepted == 0
    row = await _row(pool)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"]

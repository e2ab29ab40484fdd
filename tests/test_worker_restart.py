"""The worker process killed mid-flow and started again: the complaint
completes phase 1 with no email twice."""

import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import asyncpg
import pytest
from temporalio.client import Client

from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from starter.intake import submit_complaint
from tests.helpers.complaint_workflow import wait_for_acknowledgement
from tests.helpers.examples import CUSTOMER
from tests.helpers.mailbox import Mailbox
from tests.helpers.polling import eventually
from tests.helpers.register import journal_events, outbox_attempts
from tests.helpers.settings import settings_environment

Make = Callable[..., ComplaintSubmission]


@pytest.fixture
def worker_process(settings: Settings) -> Iterator[Callable[[], subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "worker"],
            env=settings_environment(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(10)


def kill(process: subprocess.Popen) -> None:
    process.kill()
    process.wait()


async def test_killed_while_email_fails_then_restarted(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker_process, complaint: Make
) -> None:
    mailbox.sink.refused_recipients.add(CUSTOMER)
    first = worker_process()
    ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    key = f"{ref}:acknowledgement"
    await eventually(lambda: outbox_attempts(pool, key), timeout=30)
    kill(first)

    mailbox.sink.refused_recipients.clear()
    worker_process()
    await mailbox.wait_for(CUSTOMER, timeout=40)
    await wait_for_acknowledgement(client, ref)
    assert len(mailbox.messages()) == 1
    assert (await journal_events(pool, ref)).count("acknowledged") == 1


async def test_killed_right_after_the_email_went_then_restarted(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker_process, complaint: Make
) -> None:
    first = worker_process()
    ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    await eventually(
        lambda: pool.fetchval("SELECT status = 'sent' FROM outbox WHERE key = $1", f"{ref}:acknowledgement"),
        timeout=30,
        every=0.01,
    )
    kill(first)  # the email went; whether the worker reported it is left to chance

    worker_process()
    await wait_for_acknowledgement(client, ref)
    row = await pool.fetchrow("SELECT phase, ack_method FROM complaints WHERE reference = $1", ref)
    assert (row["phase"], row["ack_method"]) == ("assessment", "email")
    assert len(mailbox.messages()) == 1
    assert (await journal_events(pool, ref)).count("acknowledgement_emailed") == 1

"""The worker process killed mid-flow and started again: the complaint
completes phase 1 with no email twice.

Every wait is for evidence; its timeout is only an upper bound, generous for
a loaded machine. After the kill the run may have to wait out the killed
worker's activity attempt (start-to-close, 15 s) and its sticky task queue
(10 s) while the new worker process starts."""

import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client

from complaints.complaint_status import Phase
from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.examples import CUSTOMER
from tests.helpers.history import wait_until_idle
from tests.helpers.mailbox import Mailbox
from tests.helpers.polling import eventually
from tests.helpers.register import journal_events, outbox, outbox_attempts
from tests.helpers.settings import settings_environment

Make = Callable[..., ComplaintSubmission]
STARTED = 90.0  # s: a worker process starting and taking its first task
RECOVERED = 120.0  # s: after the kill, through the timeouts above, to the assessment
STOPPED = 60.0  # s: a worker process stopping on SIGINT


@pytest.fixture
def worker_process(settings: Settings, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    """Starts worker processes (their logs in the test's tmp_path); stops those left running."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        with (tmp_path / f"worker-{len(started) + 1}.log").open("wb") as log:  # not a pipe nobody reads
            process = subprocess.Popen(
                [sys.executable, "-m", "worker"],
                env=settings_environment(settings),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOPPED)
            except subprocess.TimeoutExpired:
                kill(process)
                raise


def kill(process: subprocess.Popen) -> None:
    process.kill()
    process.wait()


async def assessed(pool: asyncpg.Pool, reference: str) -> bool:
    """The register has the complaint acknowledged and assessed (the run's last step of phase 1)."""
    return bool(await pool.fetchval("SELECT phase = 'assessment' FROM complaints WHERE reference = $1", reference))


async def test_killed_while_email_fails_then_restarted(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker_process, complaint: Make
) -> None:
    mailbox.sink.refused_recipients.add(CUSTOMER)
    first = worker_process()
    ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    key = f"{ref}:acknowledgement"
    await eventually(lambda: outbox_attempts(pool, key), timeout=STARTED)  # refused at least once
    kill(first)

    mailbox.sink.refused_recipients.clear()
    worker_process()
    await eventually(lambda: assessed(pool, ref), timeout=RECOVERED, every=0.5)
    await wait_for_phase(client, ref, Phase.ASSESSMENT, timeout=RECOVERED)  # the run's own view
    history = await wait_until_idle(client.get_workflow_handle(ref), timeout=RECOVERED)
    assert history.scheduled("send_acknowledgement") == history.completed("send_acknowledgement") == 1
    [(emailed, status, attempts)] = await outbox(pool)
    assert (emailed, status) == (key, "sent") and attempts >= 2  # refused, then delivered
    assert len(mailbox.messages()) == 1
    assert (await journal_events(pool, ref)).count("acknowledged") == 1


async def test_killed_right_after_the_email_went_then_restarted(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker_process, complaint: Make
) -> None:
    first = worker_process()
    ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    key = f"{ref}:acknowledgement"
    await eventually(
        lambda: pool.fetchval("SELECT status = 'sent' FROM outbox WHERE key = $1", key),
        timeout=STARTED,
        every=0.01,
    )
    kill(first)  # the email went; whether the worker reported it is left to chance

    worker_process()
    await eventually(lambda: assessed(pool, ref), timeout=RECOVERED, every=0.5)
    await wait_for_phase(client, ref, Phase.ASSESSMENT, timeout=RECOVERED)  # the run's own view
    row = await pool.fetchrow("SELECT phase, ack_method FROM complaints WHERE reference = $1", ref)
    assert (row["phase"], row["ack_method"]) == ("assessment", "email")
    history = await wait_until_idle(client.get_workflow_handle(ref), timeout=RECOVERED)
    assert history.scheduled("send_acknowledgement") == history.completed("send_acknowledgement") == 1
    assert await outbox(pool) == [(key, "sent", 1)]  # a retried attempt found it sent
    assert len(mailbox.messages()) == 1
    assert (await journal_events(pool, ref)).count("acknowledgement_emailed") == 1

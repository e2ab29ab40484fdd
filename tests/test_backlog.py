"""Admission: past the backlog threshold the API says it is behind (readiness
503 with Retry-After, Retry-After on POST /complaints, which still records the
complaint) and operations are alerted once per episode, however many checks;
back under it, readiness is 200 again and operations are told once."""

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from temporalio.client import Client

from activities.backlog import BacklogActivities
from activities.outbox import Outbox
from complaints.backlog import count_backlog
from complaints.settings import Settings
from tests.helpers.examples import COMPLAINT
from tests.helpers.mailbox import Mailbox
from tests.helpers.seeded_register import add_complaint
from tests.helpers.web import app_over
from worker.main import build_worker
from workflows.intake_sweep import IntakeSweepWorkflow

THRESHOLD = 2


@pytest.fixture
def behind(settings: Settings) -> Settings:
    return settings.model_copy(update={"backlog_threshold": THRESHOLD, "backlog_retry_after_seconds": 45})


async def _waiting(pool: asyncpg.Pool, count: int) -> list[str]:
    """Complaints started and taken in by their runs, waiting for their acknowledgement email."""
    now = datetime.now(UTC)
    refs = []
    for n in range(1, count + 1):
        ref = f"REC-2026-{n:06d}"
        await add_complaint(
            pool, ref, now, complainant_email=f"c{n}@example.com", workflow_started_at=now, phase="intake"
        )
        refs.append(ref)
    return refs


async def _sweep(client: Client, settings: Settings) -> None:
    await client.execute_workflow(
        IntakeSweepWorkflow.run, id=f"sweep-{uuid.uuid4().hex[:8]}", task_queue=settings.task_queue
    )


async def _outbox_keys(pool: asyncpg.Pool, kind: str) -> list[str]:
    rows = await pool.fetch("SELECT key FROM outbox WHERE kind = $1 AND status = 'sent' ORDER BY key", kind)
    return [row["key"] for row in rows]


async def test_live_is_200_and_ready_is_200_under_the_threshold(
    behind: Settings, pool: asyncpg.Pool, client: Client
) -> None:
    await _waiting(pool, THRESHOLD)
    async with app_over(behind, pool, client) as http:
        assert (await http.get("/health/live")).status_code == 200
        ready = await http.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "backlog": THRESHOLD, "threshold": THRESHOLD}
    assert "retry-after" not in ready.headers


async def test_complaints_by_post_not_yet_taken_in_by_their_run_are_behind(
    behind: Settings, pool: asyncpg.Pool, client: Client
) -> None:
    """A run started whose first workflow task has not run (workers behind):
    a complaint by post has no acknowledgement email to wait for, but its
    run has not recorded it, started its deadline timers, or told anybody."""
    now = datetime.now(UTC)
    for n in range(1, THRESHOLD + 1):
        await add_complaint(pool, f"REC-2026-{n:06d}", now, workflow_started_at=now)  # no email: by post
    async with app_over(behind, pool, client) as http:
        assert (await http.get("/health/ready")).json()["backlog"] == THRESHOLD
    await pool.execute("UPDATE complaints SET phase = 'intake' WHERE reference = 'REC-2026-000001'")
    assert await count_backlog(pool) == THRESHOLD - 1  # taken in: it waits for its letter


async def test_over_the_threshold_the_api_says_so_and_still_records_complaints(
    behind: Settings, pool: asyncpg.Pool, client: Client, keys: dict[str, dict[str, str]]
) -> None:
    await _waiting(pool, THRESHOLD + 1)
    async with app_over(behind, pool, client) as http:
        ready = await http.get("/health/ready")
        taken = await http.post("/complaints", json=COMPLAINT, headers=keys["intake"])
    assert ready.status_code == 503 and ready.headers["retry-after"] == "45"
    assert ready.headers["content-type"] == "application/problem+json"
    assert f"{THRESHOLD + 1} complaints wait" in ready.json()["detail"]
    assert taken.status_code == 201, taken.text  # the register write is the promise
    assert taken.headers["retry-after"] == "45" and int(taken.headers["complaints-backlog"]) >= THRESHOLD + 1
    assert await pool.fetchval("SELECT count(*) FROM complaints") == THRESHOLD + 2


async def test_operations_are_alerted_once_per_episode_and_told_once_when_it_clears(
    behind: Settings, pool: asyncpg.Pool, client: Client, mailbox: Mailbox
) -> None:
    refs = await _waiting(pool, THRESHOLD + 1)
    checks = BacklogActivities(pool, behind, Outbox(pool, behind))
    async with build_worker(client, pool, behind):
        for _ in range(3):  # the sweep's check, every minute
            await _sweep(client, behind)
        for _ in range(2):
            assert (await checks.check_backlog()).episode is not None
        alerts = await _outbox_keys(pool, "backlog_alert")
        assert len(alerts) == 1 and alerts[0].startswith("backlog:")
        assert len(mailbox.messages(behind.operations_email)) == 1

        await pool.execute("UPDATE complaints SET acknowledged_at = now() WHERE reference = $1", refs[0])
        async with app_over(behind, pool, client) as http:
            assert (await http.get("/health/ready")).status_code == 200
        for _ in range(2):
            await _sweep(client, behind)
        assert await _outbox_keys(pool, "backlog_cleared") == [f"{alerts[0]}:cleared"]
        assert await _outbox_keys(pool, "backlog_alert") == alerts
    subjects = [m["Subject"] for m in mailbox.messages(behind.operations_email)]
    assert len(subjects) == 2 and "en retard" in subjects[0] and "résorbé" in subjects[1]

"""SLA alerts reach every configured sink exactly once, signed where they
leave the system; engineers find breached complaints by search attribute."""

import asyncio
import hashlib
import hmac
import json
import logging
import subprocess
from collections.abc import Callable, Iterator

import asyncpg
import pytest
from temporalio.client import Client

from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from devstack.temporal_server import temporal_cli
from tests.helpers.complaint_workflow import start
from tests.helpers.history import wait_until_idle
from tests.helpers.mailbox import Mailbox, body_of
from tests.helpers.polling import eventually
from tests.helpers.settings import QUICK_ASSESSMENT, tuned
from tests.helpers.webhooks import WebhookReceiver, serving_webhook

Make = Callable[..., ComplaintSubmission]
SECRET = "webhook-shared-secret"


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with serving_webhook([503, 503]) as receiver:
        yield receiver


@pytest.fixture
def alerting(settings: Settings, webhook: WebhookReceiver) -> Settings:
    return settings.model_copy(
        update={
            "alert_sinks": ["email", "webhook", "log"],
            "alert_webhook_url": webhook.url,
            "alert_webhook_secret": SECRET,
        }
    )


@pytest.fixture
async def alerting_worker(client: Client, pool: asyncpg.Pool, alerting: Settings):
    from worker.main import build_worker

    async with build_worker(client, pool, alerting):
        yield


async def test_a_warning_and_a_breach_once_on_every_sink(
    client: Client,
    pool: asyncpg.Pool,
    alerting: Settings,
    mailbox: Mailbox,
    webhook: WebhookReceiver,
    alerting_worker,
    complaint: Make,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="complaints.alerts")
    handle = await start(client, pool, tuned(alerting, priority_deadlines=QUICK_ASSESSMENT), complaint())

    await eventually(lambda: len(webhook.received) >= 2, timeout=30)  # after two refused attempts
    await mailbox.wait_for(alerting.operations_email, count=2, timeout=30)
    # Once: both alerts recorded and sent (through the webhook's refusals), and the
    # delay notice; the run waits, nothing in flight, for the response's warning.
    history = await wait_until_idle(handle, timeout=30)  # the webhook's retries back off
    assert history.scheduled("record_alert") == history.scheduled("send_alert") == history.completed("send_alert") == 2
    assert history.running_timers == ["response warning"]

    events = webhook.events()
    assert [(e["type"], e["deadline"], e["reference"]) for e in events] == [
        ("sla.warning", "assessment", handle.id),
        ("sla.breach", "assessment", handle.id),
    ]
    for headers, body in webhook.received:
        expected = hmac.new(SECRET.encode(), headers["x-complaints-timestamp"].encode() + b"." + body, hashlib.sha256)
        assert headers["x-complaints-signature"] == f"sha256={expected.hexdigest()}"
        assert headers["idempotency-key"].startswith(f"{handle.id}:assessment:")
    assert "Jeanne" not in webhook.received[0][1].decode()  # no personal data leaves in alerts
    assert events[1]["text"].startswith(f"[BREACH] {handle.id}")

    assert len(mailbox.messages(alerting.operations_email)) == 2
    logged = [r.getMessage() for r in caplog.records if r.name == "complaints.alerts"]
    assert len(logged) == 2 and "SLA warning" in logged[0] and "SLA breach" in logged[1]
    deliveries = await pool.fetch("SELECT alert_key, sink FROM alert_deliveries ORDER BY delivered_at")
    assert sorted(d["sink"] for d in deliveries) == ["email", "email", "log", "log", "webhook", "webhook"]
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE complaint_reference = $1", handle.id) == 2


async def test_engineers_find_breached_complaints_with_the_temporal_cli(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings, priority_deadlines=QUICK_ASSESSMENT), complaint())
    await mailbox.wait_for(settings.operations_email, count=2, timeout=20)
    query = (
        f"ComplaintSlaStatus = 'breached' AND ComplaintEscalationLevel >= 1 "
        f"AND TaskQueue = '{settings.task_queue}' AND ComplaintPhase = 'assessment'"
    )

    async def listed() -> list[dict]:
        found = await asyncio.to_thread(
            subprocess.run,
            [
                temporal_cli(),
                "workflow",
                "list",
                "--address",
                settings.temporal_address,
                "--namespace",
                settings.temporal_namespace,
                "--query",
                query,
                "--output",
                "json",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return [w for w in json.loads(found.stdout or "[]") if w["execution"]["workflowId"] == handle.id]

    [run] = await eventually(listed, timeout=15, every=0.5)
    assert run["execution"]["workflowId"] == handle.id


async def test_the_daily_digest_schedule_exists_once_and_lists_breaches_by_priority_and_handler(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    from temporalio.client import ScheduleListDescription

    from worker.schedules import ensure_schedules, sla_digest_schedule_id

    handle = await start(client, pool, tuned(settings, priority_deadlines=QUICK_ASSESSMENT), complaint())
    await mailbox.wait_for(settings.operations_email, count=2, timeout=20)  # warning, breach

    await asyncio.gather(*(ensure_schedules(client, settings) for _ in range(3)))  # three workers start
    schedule_id = sla_digest_schedule_id(settings)
    found: list[ScheduleListDescription] = [s async for s in await client.list_schedules() if s.id == schedule_id]
    assert len(found) == 1
    schedule = client.get_schedule_handle(schedule_id)
    await schedule.trigger()
    digest = await mailbox.wait_for(settings.operations_email, count=3, timeout=20)
    body = body_of(digest[-1])
    assert "1 en dépassement" in body and f"{handle.id} : DÉPASSÉ" in body
    priority = await pool.fetchval("SELECT priority FROM complaints WHERE reference = $1", handle.id)
    assert f"Priorité {priority} — —" in body  # not assigned yet
    assert "maximum réglementaire (general) le " in body  # the regime's answer maximum, as its last day
    await schedule.delete()

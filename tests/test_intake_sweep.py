"""Complaints recorded while the Temporal service was down are started by the
intake sweep (a Schedule), without waiting for a worker to start; the web form
tells the complainant the complaint is recorded, with its reference."""

import re
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, ScheduleIntervalSpec
from temporalio.service import RetryConfig, RPCError

from activities.intake import IntakeSweepResult
from api.app import create_app
from complaints.intake import COMPLAINT_WORKFLOW, INTAKE_ID, start_unstarted, submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.examples import COMPLAINT
from tests.helpers.polling import eventually
from tests.helpers.tcp_proxy import TcpProxy
from worker.schedules import ensure_intake_sweep_schedule, intake_sweep_schedule_id

Make = Callable[..., ComplaintSubmission]
FORM = {
    "nom": "Jeanne Martin",
    "email": "jeanne@example.com",
    "objet": "Colis abîmé",
    "description": "Le colis est arrivé ouvert et le vase était cassé.",
    "form_id": "formulaire-temporal-en-panne",
}


@pytest_asyncio.fixture
async def temporal_down(client: Client, settings: Settings) -> AsyncIterator[Client]:
    """A client of the session's Temporal service, through a proxy the test
    has closed: connected once, then unreachable, as when the service goes down."""
    host, port = settings.temporal_address.rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    await proxy.open()
    cut_off = await Client.connect(
        proxy.address,
        namespace=settings.temporal_namespace,
        data_converter=client.data_converter,
        retry_config=RetryConfig(max_retries=1),  # fail in a second, not after the default retries
    )
    await proxy.close()
    yield cut_off


async def _unstarted(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT reference FROM complaints WHERE workflow_started_at IS NULL ORDER BY reference")
    return [row["reference"] for row in rows]


async def test_the_intake_sweep_schedule_starts_a_complaint_recorded_while_temporal_was_down(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    mailbox,
    worker,
    temporal_down: Client,
    complaint: Make,
) -> None:
    with pytest.raises(RPCError):
        await submit_complaint(pool, temporal_down, settings, complaint(), actor="t")
    [reference] = await _unstarted(pool)  # recorded, not started

    for _ in range(3):  # three workers start
        await ensure_intake_sweep_schedule(client, settings)
    schedule = client.get_schedule_handle(intake_sweep_schedule_id(settings))
    try:
        found = [s async for s in await client.list_schedules() if s.id == schedule.id]
        assert len(found) == 1
        described = await schedule.describe()
        every = timedelta(seconds=settings.intake_sweep_seconds)
        assert described.schedule.spec.intervals == [ScheduleIntervalSpec(every=every)]

        await schedule.trigger()  # rather than wait for the next minute

        async def swept() -> str | None:
            actions = (await schedule.describe()).info.recent_actions
            started = [a.action for a in actions if isinstance(a.action, ScheduleActionExecutionStartWorkflow)]
            return started[-1].workflow_id if started else None

        run_id = await eventually(swept, timeout=15)
        result = await client.get_workflow_handle(run_id, result_type=IntakeSweepResult).result()
        assert result == IntakeSweepResult(started=[reference], refused={}, remaining=0)
        assert await _unstarted(pool) == []
        await mailbox.wait_for("jeanne@example.com")  # the complaint's run acknowledged it
    finally:
        await schedule.delete()


async def test_a_sweep_starts_the_others_when_one_reference_is_taken_by_another_register(
    client: Client, pool: asyncpg.Pool, settings: Settings, temporal_down: Client, complaint: Make
) -> None:
    for _ in range(2):
        with pytest.raises(RPCError):
            await submit_complaint(pool, temporal_down, settings, complaint(), actor="t")
    clashing, fine = await _unstarted(pool)
    # a run with the first one's id, of another register (another intake id), on no worker's queue
    await client.start_workflow(
        COMPLAINT_WORKFLOW, id=clashing, task_queue=f"nobody-{uuid.uuid4().hex[:8]}", memo={INTAKE_ID: "another"}
    )

    sweep = await start_unstarted(pool, client, settings)

    assert sweep.started == [fine]
    assert list(sweep.refused) == [clashing] and "another register" in sweep.refused[clashing]
    assert await _unstarted(pool) == [clashing]
    await client.get_workflow_handle(clashing).terminate("test over")


async def test_the_web_form_says_recorded_with_the_reference_when_only_the_workflow_start_failed(
    client: Client, pool: asyncpg.Pool, settings: Settings, temporal_down: Client
) -> None:
    transport = httpx.ASGITransport(app=create_app(settings, pool, temporal_down))
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test") as http:
        sent = await http.post("/reclamation", data=FORM)
        assert sent.status_code == 303, sent.text
        confirmation = await http.get(sent.headers["location"])
    assert confirmation.status_code == 200
    [reference] = await _unstarted(pool)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", confirmation.text))
    assert "Votre réclamation est enregistrée" in text and f"Référence : {reference}" in text

    assert (await start_unstarted(pool, client, settings)).started == [reference]  # the sweep's part


async def test_the_api_answers_recorded_when_only_the_workflow_start_failed(
    client: Client, pool: asyncpg.Pool, settings: Settings, temporal_down: Client, keys
) -> None:
    """Not 503: a client resending without a key would record the complaint twice."""
    transport = httpx.ASGITransport(app=create_app(settings, pool, temporal_down))
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test", timeout=30) as http:
        sent = await http.post("/complaints", json=COMPLAINT, headers=keys["intake"])
        assert sent.status_code == 202, sent.text
        [reference] = await _unstarted(pool)
        assert sent.json()["reference"] == reference and sent.json()["started"] is False
        assert sent.headers["location"].endswith(f"/complaints/{reference}")
        keyed = {**keys["intake"], "Idempotency-Key": "crm-temporal-down"}
        first, again = [await http.post("/complaints", json=COMPLAINT, headers=keyed) for _ in range(2)]
    assert (first.status_code, first.json()["created"]) == (202, True)
    assert (again.status_code, again.json()["created"]) == (202, False)
    assert again.json()["reference"] == first.json()["reference"]
    assert len(await _unstarted(pool)) == 2

"""Personal data (issue 14, finding 11): failures encrypted in the history,
no link tokens in access logs, erasure and retention that leave no personal
data in the register or in Temporal, and the statistics kept."""

import asyncio
import logging
import uuid
from datetime import timedelta

import httpx
import pytest
import uvicorn
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.app import create_app
from complaints.settings import Settings
from tests.helpers.network import free_port

SECRET = "Ophélie Vasseur-Quintin, 12 rue Pasteur"


@activity.defn
async def failing_with_personal_data() -> None:
    raise ApplicationError(f"no mailbox for {SECRET}", non_retryable=True)


@workflow.defn(sandboxed=False)
class FailingActivityWorkflow:
    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.execute_activity(
                failing_with_personal_data,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except ActivityError as error:
            return str(error.cause)
        return "no failure"


async def test_an_activity_failure_message_is_not_readable_in_the_history(client: Client) -> None:
    queue = f"privacy-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[FailingActivityWorkflow],
        activities=[failing_with_personal_data],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await client.start_workflow(FailingActivityWorkflow.run, id=queue, task_queue=queue)
        assert SECRET in await handle.result()  # the project's clients decode it

    plain = await Client.connect(
        client.service_client.config.target_host, namespace=client.namespace, data_converter=pydantic_data_converter
    )
    raw = (await plain.get_workflow_handle(handle.id).fetch_history()).to_json()
    assert "ActivityTaskFailed" in raw or "activityTaskFailedEventAttributes" in raw
    for part in ("Ophélie", "Pasteur", "no mailbox"):
        assert part not in raw


async def test_access_logs_hold_no_link_token(settings: Settings, pool, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, pool, None), host="127.0.0.1", port=port, log_level="info")
    )
    serving = asyncio.create_task(server.serve())
    access = logging.getLogger("uvicorn.access")
    access.addHandler(caplog.handler)  # uvicorn's access logger does not propagate
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await http.get("/suivi/REC-2026-000001", params={"token": "SIGNED-LINK-SECRET.abc"})
            await http.get("/reclamation", params={"lang": "fr", "TOKEN": "OTHER-SECRET"})
    finally:
        access.removeHandler(caplog.handler)
        server.should_exit = True
        await serving
    lines = [record.getMessage() for record in caplog.records if record.name == "uvicorn.access"]
    assert any("/suivi/REC-2026-000001?token=[redacted]" in line for line in lines), lines
    assert not any("SECRET" in line for line in lines), lines

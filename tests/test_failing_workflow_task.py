"""A complaint whose workflow task keeps failing for now — the workers that ran
it killed in turn, as the soak does — has its operators' commands refused by
the Temporal service until a task completes. The API says so as 503 with
Retry-After (the command goes through when sent again), never 502 or 500, and
nothing is carried out meanwhile."""

import asyncpg
import httpx
from temporalio.api.enums.v1 import WorkflowTaskFailedCause
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import PollWorkflowTaskQueueRequest, RespondWorkflowTaskFailedRequest
from temporalio.client import Client

from complaints.links import LinkAction, signer
from complaints.settings import Settings
from tests.helpers.examples import COMPLAINT

FAILURES = 3  # the service refuses updates from the third attempt of a workflow task on


async def _fail_workflow_tasks(client: Client, settings: Settings, ref: str) -> None:
    """Take the run's workflow tasks off its queue and fail them, as a worker
    dying mid-task leaves them (a timeout) or a failing task would."""
    service = client.workflow_service
    for _ in range(FAILURES):
        task = await service.poll_workflow_task_queue(
            PollWorkflowTaskQueueRequest(
                namespace=client.namespace, task_queue=TaskQueue(name=settings.task_queue), identity="killed worker"
            )
        )
        assert task.workflow_execution.workflow_id == ref
        await service.respond_workflow_task_failed(
            RespondWorkflowTaskFailedRequest(
                namespace=client.namespace,
                task_token=task.task_token,
                cause=WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                identity="killed worker",
            )
        )


async def test_a_command_to_a_run_whose_workflow_task_is_failing_is_503_with_retry_after(
    http: httpx.AsyncClient, keys: dict[str, dict[str, str]], client: Client, pool: asyncpg.Pool, settings: Settings
) -> None:
    answer = await http.post("/complaints", json=COMPLAINT, headers=keys["intake"])
    assert answer.status_code == 201, answer.text
    ref = answer.json()["reference"]
    await _fail_workflow_tasks(client, settings, ref)

    refused = await http.post(f"/complaints/{ref}/assessment", json={}, headers=keys["handler"])
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "5"
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "retry in a moment" in refused.json()["detail"]
    journaled = await pool.fetchval(
        "SELECT count(*) FROM journal WHERE complaint_reference = $1 AND event = 'assessment_confirmed'", ref
    )
    assert journaled == 0


async def test_a_customer_step_while_the_run_cannot_answer_is_503_with_retry_after(
    http: httpx.AsyncClient, keys: dict[str, dict[str, str]], settings: Settings
) -> None:
    """No worker answers the run's status query (all of them killed at once):
    the complainant's step through the signed link is 503 with Retry-After, on
    the API and on the French page, and can be sent again."""
    answer = await http.post("/complaints", json=COMPLAINT, headers=keys["intake"])
    ref = answer.json()["reference"]
    token = signer(settings).sign(ref, LinkAction.VERDICT)

    refused = await http.post(f"/complaints/{ref}/customer/accept?token={token}")
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "5"
    assert refused.headers["Content-Type"] == "application/problem+json"

    page = await http.post(f"/suivi/{ref}/verdict?token={token}", data={"choix": "accepter"})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert "momentanément indisponible" in page.text

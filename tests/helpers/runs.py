"""A complaint's run seen from outside: its status, its run id and history
length, the updates it accepted, its activities' failed attempts, a worker
serving it for a while."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from complaints.complaint_status import ComplaintStatus
from complaints.operator_commands import InternalNote
from complaints.settings import Settings
from tests.helpers.complaint_workflow import execute_update
from tests.helpers.examples import ALICE
from worker.main import build_worker
from workflows.complaint import ComplaintWorkflow


async def status_of(handle: WorkflowHandle) -> ComplaintStatus:
    status: ComplaintStatus = await handle.query(ComplaintWorkflow.status)
    return status


@asynccontextmanager
async def serving(client: Client, pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[None]:
    async with build_worker(client, pool, settings):
        yield


async def history_length(client: Client, reference: str) -> int:
    return (
        await client.get_workflow_handle(reference).describe()
    ).raw_description.workflow_execution_info.history_length


async def run_id(client: Client, reference: str) -> str:
    return (await client.get_workflow_handle(reference).describe()).run_id or ""


async def fill_history(handle: WorkflowHandle, client: Client, until: int) -> None:
    """Notes until the run's history is `until` events long (or the run continued as new)."""
    first, n = await run_id(client, handle.id), 0
    while await history_length(client, handle.id) < until and await run_id(client, handle.id) == first:
        await execute_update(handle, ComplaintWorkflow.add_note, InternalNote(by=ALICE, text=f"appel {n}"))
        n += 1


async def accepted_updates(handle: WorkflowHandle) -> list[str]:
    """The updates the handle's run has accepted (their validators passed), in order."""
    events = (await handle.fetch_history()).events
    return [
        event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for event in events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]


async def failed_attempts(handle: WorkflowHandle, activity: str) -> int:
    """How often the pending `activity` of the run has failed so far (its attempt, less the one running)."""
    pending = (await handle.describe()).raw_description.pending_activities
    return max((p.attempt - 1 for p in pending if p.activity_type.name == activity), default=0)

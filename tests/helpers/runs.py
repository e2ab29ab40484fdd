"""A complaint's run seen from outside: its status, its run id and history
length, a worker serving it for a while."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
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

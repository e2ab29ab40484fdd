"""Driving a complaint's workflow run: start it, wait for a phase, send an
operator's command, read a refusal."""

from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar, cast

import asyncpg
import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import FailureError
from temporalio.workflow import UpdateMethodMultiParam

from complaints.complaint_status import ComplaintStatus, Phase
from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.polling import eventually
from workflows.complaint import ComplaintWorkflow

Arg = TypeVar("Arg")
Result = TypeVar("Result")


async def wait_for_phase(client: Client, reference: str, phase: Phase, timeout: float = 15) -> None:
    handle = client.get_workflow_handle(reference)

    async def reached() -> bool:
        return (await handle.query(ComplaintWorkflow.status)).phase is phase

    await eventually(reached, timeout)


async def wait_for_acknowledgement(client: Client, reference: str) -> None:
    """Acknowledged and recorded; the assessment follows at once."""
    await wait_for_phase(client, reference, Phase.ASSESSMENT)


async def start(
    client: Client, pool: asyncpg.Pool, settings: Settings, submission: ComplaintSubmission
) -> WorkflowHandle[ComplaintWorkflow, ComplaintStatus]:
    """Take the complaint in and wait until it is assessed."""
    ref = (await submit_complaint(pool, client, settings, submission, actor="t")).reference
    await wait_for_phase(client, ref, Phase.ASSESSMENT)
    return client.get_workflow_handle_for(ComplaintWorkflow.run, ref)


async def phase_of(handle: WorkflowHandle) -> Phase:
    return (await handle.query(ComplaintWorkflow.status)).phase


async def execute_update(
    handle: WorkflowHandle[Any, Any],
    update: UpdateMethodMultiParam[[Any, Arg], Coroutine[Any, Any, Result]],
    arg: Arg,
    *,
    id: str | None = None,
) -> Result:
    """`handle.execute_update(update, arg)`, typed as it runs.

    Declared with keyword arguments (`@workflow.update(description=...)`), an
    async handler's update method types its result as the coroutine: that
    overload of temporalio's decorator (1.35) does not unwrap the Awaitable as
    the bare `@workflow.update` does. So mypy reads `await
    handle.execute_update(...)` as a coroutine left unawaited, and its result's
    fields as missing; the call returns the handler's result (the complaint's
    status), which the tests read."""
    return cast(Result, await handle.execute_update(update, arg, id=id))


async def refused(call: Awaitable[object]) -> str:
    """The reason the workflow gives for refusing an update."""
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await call
    cause = error.value.cause
    assert isinstance(cause, FailureError), cause
    return cause.message

"""Calls from the API to a complaint's workflow (id = reference), with the
workflow's answers turned into problems: a validator's refusal is 409 with its
reason, a complaint whose run is over is 409, an unknown one 404.

A command refused for its phase while the register already shows a phase it
fits is asked again for a moment before the 409: the run writes the register
first, then moves, and a command can reach it in between (in the workflow task
that moves it, before the move)."""

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import asyncpg
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.client import (
    Client,
    RPCError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCStatusCode

from api import register_queries
from api.problems import ProblemError
from complaints.complaint_status import ComplaintStatus
from complaints.temporal_client import Update
from workflows.complaint import ComplaintWorkflow
from workflows.complaint.rules import NEEDED_PHASES, WrongPhase

log = logging.getLogger(__name__)

QUERY_TIMEOUT = timedelta(seconds=5)  # no worker: answer from the register alone
UNAVAILABLE = "the complaint's workflow does not answer (is a worker running?): retry in a moment"
NOT_READY = "the complaint's workflow is being recovered (its last steps failed for now): retry in a moment"
# A run behind its register catches up within a workflow task or two: asked
# again after these pauses (about 3 s in all), then the refusal stands.
BEHIND_PAUSES = (0.2, 0.4, 0.8, 1.6)


async def require_complaint(pool: asyncpg.Pool, reference: str) -> asyncpg.Record:
    row = await register_queries.complaint(pool, reference)
    if row is None:
        raise ProblemError(404, f"no complaint {reference} in the register")
    return row


async def live_status(client: Client, reference: str) -> ComplaintStatus | None:
    """The workflow's `status` query, or None when it cannot answer now."""
    try:
        return await client.get_workflow_handle(reference).query(ComplaintWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
    except (RPCError, WorkflowQueryFailedError) as error:
        log.warning("status of %s could not be queried: %s", reference, error)
        return None


async def run_update(
    client: Client,
    pool: asyncpg.Pool,
    reference: str,
    update: Update,
    payload: Any,
    update_id: str,
) -> ComplaintStatus:
    """Run an operator's command; the same `update_id` is carried out once
    (a refused update leaves no trace: asking again with it is one command)."""
    row = await require_complaint(pool, reference)
    handle = client.get_workflow_handle(reference)
    for pause in BEHIND_PAUSES:
        try:
            return await _execute(handle, row, update, payload, update_id)
        except ProblemError as problem:
            if not await _register_ahead(pool, reference, update, problem.__cause__):
                raise
        log.info("%s refused %s for its phase while its register is ahead: asked again", reference, update_id)
        await asyncio.sleep(pause)
    return await _execute(handle, row, update, payload, update_id)


async def _execute(
    handle: WorkflowHandle, row: asyncpg.Record, update: Update, payload: Any, update_id: str
) -> ComplaintStatus:
    try:
        return await handle.execute_update(update, payload, id=update_id)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        raise ProblemError(409, getattr(cause, "message", None) or str(cause or error)) from error
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        raise ProblemError(503, UNAVAILABLE, headers={"Retry-After": "5"}) from error
    except RPCError as error:
        raise _rpc_problem(row, error) from error


async def _register_ahead(pool: asyncpg.Pool, reference: str, update: Update, error: BaseException | None) -> bool:
    """Whether the run refused the command for its phase alone while the
    register already shows one the command fits: the run is about to move
    there. When both say another phase, the refusal stands at once."""
    if not isinstance(error, WorkflowUpdateFailedError) or getattr(error.cause, "type", None) != WrongPhase.__name__:
        return False
    needed = NEEDED_PHASES.get(cast(Callable[..., Any], update).__name__, frozenset())
    row = await register_queries.complaint(pool, reference)
    return row is not None and row["phase"] in {phase.value for phase in needed}


async def send_signal(client: Client, row: asyncpg.Record, signal: Callable[..., Any], *args: Any) -> None:
    try:
        await client.get_workflow_handle(row["reference"]).signal(signal, *args)
    except RPCError as error:
        raise _rpc_problem(row, error) from error


def _rpc_problem(row: asyncpg.Record, error: RPCError) -> ProblemError:
    reference = row["reference"]
    if error.status == RPCStatusCode.NOT_FOUND:
        if row["workflow_started_at"] is None:  # recorded while Temporal was down
            return ProblemError(503, f"{reference} is not started yet: retry in a moment", headers={"Retry-After": "5"})
        return ProblemError(409, f"{reference} is closed: no command can change it now")
    if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return ProblemError(503, UNAVAILABLE, headers={"Retry-After": "5"})
    if _not_ready(error):
        return ProblemError(503, NOT_READY, headers={"Retry-After": "5"})
    return ProblemError(502, f"the workflow service refused the command: {error.message}")


def _not_ready(error: RPCError) -> bool:
    """The service refuses updates while the run's workflow task fails again and
    again (workers killed in turn, a task failing until a fix is deployed): it
    takes them once a task completes."""
    if error.status != RPCStatusCode.FAILED_PRECONDITION:
        return False
    return any(detail.Is(WorkflowNotReadyFailure.DESCRIPTOR) for detail in error.grpc_status.details)

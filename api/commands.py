"""Operators' commands: one endpoint per workflow update. The actor is the
API key's operator; the workflow's validators decide whether the command fits
the complaint now (409 with their reason when it does not)."""

import hashlib
import json
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, cast

import asyncpg
from fastapi import APIRouter, Body, Depends, Header
from pydantic import BaseModel

from api import merging, schemas
from api.auth import Permission, require
from api.complaint_endpoints import Reference
from api.problems import responses
from api.services import Services, services
from api.workflow_calls import run_update
from complaints import journal
from complaints.complaint_status import ComplaintStatus
from complaints.operator_commands import Command, InformationRequest, MergeInto, PostalLetter, ProgressUpdate
from complaints.operators import OperatorRecord
from complaints.temporal_client import Update
from workflows.complaint import ComplaintWorkflow

router = APIRouter(prefix="/complaints", tags=["operator commands"])

CommandKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="a retried command with the same key is carried out once; without a key, the same "
        "command (operator, complaint, body) within the same UTC hour is carried out once",
    ),
]

# Commands whose workflow step journals no operator: the API journals who asked
# (an information request only where the run does not: `_journaled_by_the_run`).
_JOURNALED_HERE: dict[type[Command], str] = {
    ProgressUpdate: "progress_update_requested",
    InformationRequest: "information_requested",
}


def _update_id(key: str | None, ref: str, update: Update, operator: OperatorRecord, sent: BaseModel | None) -> str:
    """The Temporal update id: the client's key, or one derived from the request
    (operator, complaint, command, body, the UTC hour it is sent in), so that a
    retry without a key (after a 503, a double click) is carried out once too.
    The same command meant twice within the hour needs keys of its own."""
    if key:
        return f"api:{key}"
    request = {
        "operator": operator.id,
        "complaint": ref,
        "command": cast(Callable[..., Any], update).__name__,
        "body": sent.model_dump(mode="json") if sent else None,
        "hour": datetime.now(UTC).strftime("%Y-%m-%dT%H"),
    }
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    return f"api:derived:{digest[:32]}"


def command_model(update: Update) -> type[Command]:
    """The command an update takes, from its signature: one table for both."""
    hints = typing.get_type_hints(update)
    hints.pop("return", None)
    [model] = hints.values()
    return cast(type[Command], model)


def _route(path: str, update: Update, endpoint: Callable[..., Any], summary: str) -> None:
    """POST /complaints/{ref}/<path>, named after its update, answering the status."""
    endpoint.__name__ = cast(Callable[..., Any], update).__name__
    router.add_api_route(
        f"/{{ref}}/{path}",
        endpoint,
        methods=["POST"],
        response_model=ComplaintStatus,
        summary=summary,
        responses=responses(401, 403, 404, 409, 422, 503),
    )


def _command(path: str, update: Update, permission: Permission, summary: str) -> None:
    model = command_model(update)
    body_model = schemas.without_actor(model)

    async def endpoint(
        ref: Reference,
        body: Annotated[body_model, Body()],  # type: ignore[valid-type]
        idempotency_key: CommandKey = None,
        operator: OperatorRecord = Depends(require(permission)),
        svc: Services = Depends(services),
    ) -> ComplaintStatus:
        sent: BaseModel = body
        command = model.model_validate({**sent.model_dump(), "by": operator.operator})
        return await carry_out(svc, ref, update, command, _update_id(idempotency_key, ref, update, operator, sent))

    _route(path, update, endpoint, summary)


async def carry_out(svc: Services, ref: str, update: Update, command: Command, update_id: str) -> ComplaintStatus:
    """Run an operator's command on the workflow, journaling who asked where
    the workflow step does not (the API and the console both come here). A
    merge is carried out on both complaints' runs (api/merging.py): the
    survivor's status is the answer."""
    if isinstance(command, MergeInto):
        return await merging.merge(svc.client, svc.pool, ref, command.into, command.by)
    status = await run_update(svc.client, svc.pool, ref, update, command, update_id)
    event = _JOURNALED_HERE.get(type(command))
    if event is None:
        return status
    sent = command.model_dump(mode="json", exclude={"by"})
    async with svc.pool.acquire() as conn:
        if not await _journaled_by_the_run(conn, ref, command, status):
            await journal.append(conn, ref, event, command.by.name, sent, step_key=f"{ref}:{update_id}")
    return status


async def _journaled_by_the_run(conn: asyncpg.Connection, ref: str, command: Command, status: ComplaintStatus) -> bool:
    """Runs started after INFORMATION_RETURNS_TO_ITS_PHASE journal each
    information request themselves: once the journal holds as many as the
    run has taken, this one is in it (runs started before journal none)."""
    if not isinstance(command, InformationRequest):
        return False
    journaled = await conn.fetchval(
        "SELECT count(*) FROM journal WHERE complaint_reference = $1 AND event = 'information_requested'", ref
    )
    return bool(journaled >= status.information_requests)


H, A = Permission.HANDLE, Permission.APPROVE

# path, update (its argument is the command), permission, summary
COMMANDS: list[tuple[str, Update, Permission, str]] = [
    (
        "assessment",
        ComplaintWorkflow.confirm_assessment,
        H,
        "Confirm the suggested priority, or override it with a reason; change the regime with a reason",
    ),
    ("assignment", ComplaintWorkflow.assign, H, "Assign the complaint to a handler and team"),
    (
        "actions",
        ComplaintWorkflow.plan_action,
        H,
        "Plan a corrective or improvement action (owner, due date; root cause for P1 corrective actions)",
    ),
    ("notes", ComplaintWorkflow.add_note, H, "Add an internal note (never shown to the customer)"),
    (
        "progress-updates",
        ComplaintWorkflow.send_progress_update,
        H,
        "Tell the customer where the complaint stands (emailed)",
    ),
    (
        "information-requests",
        ComplaintWorkflow.request_information,
        H,
        "Ask the customer for information; the complaint waits for the reply",
    ),
    (
        "analysis-extensions",
        ComplaintWorkflow.extend_analysis,
        H,
        "Extend the analysis: the customer is told why and the new date",
    ),
    (
        "decision",
        ComplaintWorkflow.decide,
        H,
        "Decide: accepted, partially accepted or rejected, with a justification (and compensation)",
    ),
    (
        "approval",
        ComplaintWorkflow.approve_compensation,
        A,
        "Approve or refuse a proposed compensation above the threshold (a manager other than the proposer)",
    ),
    ("closure", ComplaintWorkflow.close, H, "Close the complaint after the response without waiting further"),
    (
        "merge",
        ComplaintWorkflow.merge_into,
        H,
        "Merge this complaint into another of the same customer about the same matter (`into`, the survivor): "
        "closed as merged, its documents, messages and earlier sending date taken by the survivor, whose status "
        "answers; the customer is told once",
    ),
]

for command in COMMANDS:
    _command(*command)


def _postal(path: str, update: Update, summary: str) -> None:
    """A letter that went by post, confirmed by the operator calling."""

    async def endpoint(
        ref: Reference,
        body: schemas.PostalLetterRequest | None = None,
        idempotency_key: CommandKey = None,
        operator: OperatorRecord = Depends(require(Permission.CONFIRM_POSTAL)),
        svc: Services = Depends(services),
    ) -> ComplaintStatus:
        letter = PostalLetter(confirmed_by=operator.name, sent_at=body.sent_at if body else None)
        update_id = _update_id(idempotency_key, ref, update, operator, body)
        return await run_update(svc.client, svc.pool, ref, update, letter, update_id)

    _route(path, update, endpoint, summary)


_postal(
    "postal-acknowledgement",
    ComplaintWorkflow.confirm_postal_acknowledgement,
    "Confirm the acknowledgement letter went by post",
)
_postal(
    "postal-response",
    ComplaintWorkflow.confirm_postal_response,
    "Confirm the response letter went by post (a complainant without email): the response counts from then",
)

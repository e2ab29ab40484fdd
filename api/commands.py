"""Operators' commands: one endpoint per workflow update. The actor is the
API key's operator; the workflow's validators decide whether the command fits
the complaint now (409 with their reason when it does not)."""

import typing
import uuid
from collections.abc import Callable
from typing import Annotated, Any, cast

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
        description="a retried command with the same key is carried out once",
    ),
]

# Commands whose workflow step journals no operator: the API journals who asked.
_JOURNALED_HERE: dict[type[Command], str] = {
    ProgressUpdate: "progress_update_requested",
    InformationRequest: "information_requested",
}


def _update_id(key: str | None) -> str:
    return f"api:{key}" if key else f"api:{uuid.uuid4()}"


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
        return await carry_out(svc, ref, update, command, _update_id(idempotency_key))

    _route(path, update, endpoint, summary)


async def carry_out(svc: Services, ref: str, update: Update, command: Command, update_id: str) -> ComplaintStatus:
    """Run an operator's command on the workflow, journaling who asked where
    the workflow step does not (the API and the console both come here). A
    merge is carried out on both complaints' runs (api/merging.py): the
    survivor's status is the answer."""
    if isinstance(command, MergeInto):
        return await merging.merge(svc.client, svc.pool, ref, command.into, command.by)
    status = await run_update(svc.client, svc.pool, ref, update, command, update_id)
    if type(command) in _JOURNALED_HERE:
        sent = command.model_dump(mode="json", exclude={"by"})
        async with svc.pool.acquire() as conn:
            await journal.append(
                conn, ref, _JOURNALED_HERE[type(command)], command.by.name, sent, step_key=f"{ref}:{update_id}"
            )
    return status


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
        return await run_update(svc.client, svc.pool, ref, update, letter, _update_id(idempotency_key))

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

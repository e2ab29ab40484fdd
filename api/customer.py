"""What the complainant does through the signed links in the emails: see
where the complaint stands, answer an information request (with documents),
accept or contest the response, answer the survey. No account: the link's
token is checked for this complaint and this action.

The workflow takes each as a signal. A message (with documents) is welcome
until the complaint is closed: during an information request it is the answer,
otherwise the workflow files it for the handler. Accepting, contesting and the
survey are offered and taken only in their phase: a signal sent early would be
kept for later (an early "accept" would accept the response as soon as it is
sent)."""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import asyncpg
from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from api import register_queries, wording_fr
from api.complaint_endpoints import Reference
from api.problems import ProblemError, field_problems, invalid_input, responses
from api.services import Services, services
from api.uploads import read_files, validate_documents
from api.workflow_calls import live_status, require_complaint, send_signal
from complaints.complaint_status import ComplaintStatus, Phase
from complaints.customer_signals import Contest, CustomerReply, SurveyAnswer
from complaints.documents import DocumentQuotaExceeded
from complaints.links import LinkAction, LinkRefused, status_link
from complaints.submission import Document
from workflows.complaint import ComplaintWorkflow

router = APIRouter(prefix="/complaints/{ref}/customer", tags=["customer (signed links)"])

MAX_MESSAGE = 10_000

OFFERED_IN = {
    LinkAction.REPLY: set(Phase) - {Phase.CLOSED},
    LinkAction.VERDICT: {Phase.RESPONDED},
    LinkAction.SURVEY: {Phase.SURVEY},
}
_NOT_NOW = {
    LinkAction.REPLY: ("closed", "the complaint is closed"),
    LinkAction.VERDICT: ("not_awaiting_verdict", "the response is not waiting for your acceptance or contest"),
    LinkAction.SURVEY: ("not_awaiting_survey", "the satisfaction survey is not open"),
}


class CustomerRefusal(ProblemError):
    """A customer action refused; `code` names the reason for the pages' wording."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, detail, headers=headers)
        self.code = code


class CustomerStep(BaseModel):
    at: datetime
    event: str
    label: str


class CustomerDecision(BaseModel):
    outcome: str
    label: str
    justification: str
    review: bool


class CustomerView(BaseModel):
    """What the complainant may see: never internal notes or who handles it."""

    reference: str
    subject: str
    received_at: datetime
    phase: Phase
    phase_label: str
    response_due_at: datetime | None
    open_questions: str | None = None
    decision: CustomerDecision | None = None
    timeline: list[CustomerStep]
    offers: list[LinkAction] = Field(description="what the complainant can do now")
    actions: dict[str, str] = Field(default_factory=dict, description="signed URLs of those actions")
    merged_into: str | None = Field(default=None, description="merged into this complaint, which handles it now")
    merged_into_link: str | None = Field(default=None, description="the signed link to that complaint's status page")


# --- the logic both the JSON endpoints and the pages use --------------------


def check_link(svc: Services, token: str, action: LinkAction, reference: str) -> None:
    try:
        svc.links.verify(token, action, reference)
    except LinkRefused as refused:
        raise CustomerRefusal(403, f"link_{refused.reason}", refused.message) from refused


async def customer_view(svc: Services, reference: str) -> CustomerView:
    row = await require_complaint(svc.pool, reference)
    status = await live_status(svc.client, reference)
    steps = [CustomerStep(at=row["received_at"], event="received", label="Réclamation reçue")]
    for entry in await register_queries.journal(svc.pool, reference, customer_only=True):
        label = wording_fr.step(entry["event"], json.loads(entry["details"]))
        if label:
            steps.append(CustomerStep(at=entry["occurred_at"], event=entry["event"], label=label))
    phase = status.phase if status else Phase(row["phase"])
    last = status.decisions[-1] if status and status.decisions else None
    return CustomerView(
        reference=reference,
        subject=row["subject"],
        received_at=row["received_at"],
        phase=phase,
        phase_label=wording_fr.PHASES[phase],
        response_due_at=status.response_due_at if status else row["response_due_at"],
        open_questions=status.open_questions if status and phase is Phase.AWAITING_CUSTOMER else None,
        decision=CustomerDecision(
            outcome=last.outcome.value,
            label=wording_fr.OUTCOMES[last.outcome.value],
            justification=last.justification,
            review=last.review,
        )
        if last
        else None,
        timeline=steps,
        offers=_offers(status),
        merged_into=row["merged_into"],
        merged_into_link=status_link(svc.settings, row["merged_into"]) if row["merged_into"] else None,
    )


def _offers(status: ComplaintStatus | None) -> list[LinkAction]:
    if status is None:
        return []
    offered = [action for action, phases in OFFERED_IN.items() if status.phase in phases]
    if LinkAction.VERDICT in offered and status.verdict_received:
        offered.remove(LinkAction.VERDICT)  # already given, not yet taken in
    if LinkAction.SURVEY in offered and status.survey is not None:
        offered.remove(LinkAction.SURVEY)
    return offered


async def _state(svc: Services, reference: str) -> tuple[asyncpg.Record, ComplaintStatus]:
    row = await require_complaint(svc.pool, reference)
    status = await live_status(svc.client, reference)
    if status is None:
        # no worker answers the run now (all restarting, a task failing for now): it will
        raise CustomerRefusal(
            503, "unavailable", "the service is unavailable: retry in a few minutes", headers={"Retry-After": "5"}
        )
    return row, status


def _require(status: ComplaintStatus, action: LinkAction) -> None:
    if action not in _offers(status):
        code, detail = _NOT_NOW[action]
        raise CustomerRefusal(409, "closed" if status.phase is Phase.CLOSED else code, detail)


@dataclass(frozen=True)
class ReplyInput:
    message: str
    documents: list[Document]
    message_id: str | None  # the same id sent twice is one message to the workflow


async def reply(svc: Services, reference: str, sent: ReplyInput) -> list[int]:
    """Store the documents, then hand the message to the workflow."""
    message = sent.message.strip()
    if not message and not sent.documents:
        raise CustomerRefusal(422, "empty_reply", "write a message or attach a document")
    row, status = await _state(svc, reference)
    _require(status, LinkAction.REPLY)
    limits = svc.settings.document_limits
    try:
        ids = await register_queries.store_documents(svc.pool, reference, sent.documents, "customer_reply", limits)
    except DocumentQuotaExceeded as full:
        raise CustomerRefusal(422, "document_quota", str(full)) from full
    await send_signal(
        svc.client,
        row,
        ComplaintWorkflow.customer_reply,
        CustomerReply(message=message, document_ids=ids, message_id=sent.message_id),
    )
    return ids


# A retried accept, contest or survey answer (a resent form, a client's retry)
# finds its effect already there and succeeds without a second signal.


async def accept(svc: Services, reference: str) -> None:
    row, status = await _state(svc, reference)
    if "accepted" in (status.verdict_received, status.customer_verdict):
        return
    _require(status, LinkAction.VERDICT)
    await send_signal(svc.client, row, ComplaintWorkflow.accept_response)


async def contest(svc: Services, reference: str, reason: str) -> None:
    row, status = await _state(svc, reference)
    if status.verdict_received == "contested" or status.contested:
        return
    _require(status, LinkAction.VERDICT)
    await send_signal(svc.client, row, ComplaintWorkflow.contest_response, Contest(reason=reason))


async def answer_survey(svc: Services, reference: str, answer: SurveyAnswer) -> None:
    row, status = await _state(svc, reference)
    if status.survey is not None:  # the first answer counts
        return
    _require(status, LinkAction.SURVEY)
    await send_signal(svc.client, row, ComplaintWorkflow.survey_answer, answer)


# --- JSON endpoints ----------------------------------------------------------

Token = Annotated[str, Query(max_length=500, description="the token of the signed link")]


def signed(action: LinkAction) -> Callable[..., Awaitable[str]]:
    """A dependency: the complaint's reference, once the link's token allows
    `action` on it. Dependencies run before the body is validated, so a
    request without a valid link learns nothing about its body."""

    async def check(ref: Reference, token: Token = "", svc: Services = Depends(services)) -> str:
        check_link(svc, token, action, ref)
        return ref

    return check


def _api_actions(svc: Services, reference: str, offers: list[LinkAction]) -> dict[str, str]:
    """The signed URLs of the JSON endpoints for what is offered now."""
    paths = {LinkAction.REPLY: ["reply"], LinkAction.VERDICT: ["accept", "contest"], LinkAction.SURVEY: ["survey"]}
    base = f"{svc.base_url}/complaints/{quote(reference)}/customer"
    return {
        path: f"{base}/{path}?{urlencode({'token': svc.links.sign(reference, action)})}"
        for action in offers
        for path in paths[action]
    }


class Accepted(BaseModel):
    reference: str
    received: bool = True


class ContestRequest(BaseModel):
    reason: str = Field(default="", max_length=MAX_MESSAGE)


class ReplyReceived(Accepted):
    document_ids: list[int]


_REFUSED = responses(403, 404, 409, 413, 422, 503)


@router.get("", response_model=CustomerView, summary="Where the complaint stands (status link)", responses=_REFUSED)
async def view(ref: str = Depends(signed(LinkAction.STATUS)), svc: Services = Depends(services)) -> CustomerView:
    found = await customer_view(svc, ref)
    found.actions = _api_actions(svc, ref, found.offers)
    return found


@router.post(
    "/reply",
    response_model=ReplyReceived,
    summary="Write to the handler, with documents (the answer to an information request)",
    description='JSON `{"message": ...}`, or multipart/form-data with a `message` field and `documents` files. '
    "Until the complaint is closed. The same `Idempotency-Key` is taken as one message.",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object", "properties": {"message": {"type": "string"}}}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "message": {"type": "string"},
                            "documents": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        },
                    }
                },
            }
        }
    },
    responses=_REFUSED,
)
async def reply_endpoint(
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
    ref: str = Depends(signed(LinkAction.REPLY)),
    svc: Services = Depends(services),
) -> ReplyReceived:
    sent = await read_reply(request, svc, f"api:{idempotency_key}" if idempotency_key else None)
    ids = await reply(svc, ref, sent)
    return ReplyReceived(reference=ref, document_ids=ids)


async def read_reply(request: Request, svc: Services, message_id: str | None) -> ReplyInput:
    """The message and documents of a reply, JSON or multipart (the page's form:
    its `reply_id`, drawn when the page was shown, makes a resent form one message)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limits = svc.settings.document_limits
    data: list[dict[str, Any]] = []
    if media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form()
        message = form.get("message") or ""
        data = await read_files(form, "documents", limits)
        reply_id = form.get("reply_id")
        if isinstance(reply_id, str) and reply_id.strip() and message_id is None:
            message_id = f"web:{reply_id.strip()[:64]}"
    else:
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError as error:
            raise invalid_input(
                field_problems([{"loc": ("body",), "msg": f"not valid JSON: {error}"}], drop=())
            ) from error
        message = body.get("message", "") if isinstance(body, dict) else ""
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        raise invalid_input(
            field_problems([{"loc": ("message",), "msg": f"a text of at most {MAX_MESSAGE} characters"}])
        )
    return ReplyInput(message, validate_documents(data, limits), message_id)


@router.post("/accept", response_model=Accepted, summary="Accept the response", responses=_REFUSED)
async def accept_endpoint(
    ref: str = Depends(signed(LinkAction.VERDICT)), svc: Services = Depends(services)
) -> Accepted:
    await accept(svc, ref)
    return Accepted(reference=ref)


@router.post(
    "/contest",
    response_model=Accepted,
    summary="Contest the response (a second handler reviews it)",
    responses=_REFUSED,
)
async def contest_endpoint(
    body: ContestRequest | None = None,
    ref: str = Depends(signed(LinkAction.VERDICT)),
    svc: Services = Depends(services),
) -> Accepted:
    await contest(svc, ref, body.reason if body else "")
    return Accepted(reference=ref)


@router.post("/survey", response_model=Accepted, summary="Answer the satisfaction survey", responses=_REFUSED)
async def survey_endpoint(
    answer: SurveyAnswer, ref: str = Depends(signed(LinkAction.SURVEY)), svc: Services = Depends(services)
) -> Accepted:
    await answer_survey(svc, ref, answer)
    return Accepted(reference=ref)

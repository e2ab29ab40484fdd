"""Operators' endpoints to take complaints in and to read them."""

import json
import logging
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from temporalio.service import RPCError

from api import register_queries
from api.admission import advise
from api.auth import Permission, require
from api.problems import ProblemError, field_problems, invalid_input, responses
from api.received_at import check_received_at
from api.register_queries import ComplaintFilters
from api.schemas import (
    ComplainantView,
    ComplaintDetail,
    ComplaintPage,
    ComplaintRequest,
    ComplaintSummary,
    DeadlineView,
    DocumentInfo,
    Submitted,
    TimelineEntry,
)
from api.services import Services, services
from api.uploads import check_size, read_files
from api.workflow_calls import live_status, require_complaint
from complaints.assessment import Priority
from complaints.complaint_status import ComplaintStatus, Phase, SlaStatus
from complaints.intake import record_complaint, start_workflow
from complaints.operators import OperatorRecord
from complaints.submission import Channel, ComplaintSubmission, validate_submission

log = logging.getLogger(__name__)
router = APIRouter(prefix="/complaints", tags=["complaints"])

Reference = Annotated[str, Path(min_length=1, max_length=100, examples=["REC-2026-000042"])]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="a retried request with the same key returns the same complaint",
    ),
]

_MULTIPART_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ComplaintRequest"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["complaint"],
                    "properties": {
                        "complaint": {
                            "type": "string",
                            "description": "the complaint as JSON (ComplaintRequest; documents may be left out)",
                        },
                        "documents": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "supporting documents",
                        },
                    },
                }
            },
        },
    }
}


@router.post(
    "",
    status_code=201,
    response_model=Submitted,
    summary="Take a complaint in",
    description="JSON (documents in base64) or multipart/form-data (a `complaint` JSON part "
    "and `documents` files). Recorded with its documents, then its workflow starts; the "
    "complainant is acknowledged. The same `Idempotency-Key` returns the same complaint "
    "(200) instead of a new one (201).",
    openapi_extra=_MULTIPART_DOC,
    responses={
        200: {"model": Submitted, "description": "an earlier request with the same key"},
        202: {
            "model": Submitted,
            "description": "recorded, its workflow not started yet (the workflow service is unavailable): "
            "the intake sweep starts it within a minute; do not send it again",
        },
        **responses(401, 403, 413, 415, 422, 503),
    },
)
async def take_in(
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    operator: OperatorRecord = Depends(require(Permission.TAKE_IN)),
    svc: Services = Depends(services),
) -> Submitted:
    submission = await _read_submission(request, svc, idempotency_key)
    check_received_at(submission.received_at, operator, svc.settings)
    submitted = await record_complaint(svc.pool, svc.settings, submission, operator.name)
    # Recorded: the complaint is taken in. Should its workflow not start now
    # (Temporal down), the intake sweep starts it within a minute: 202, never a
    # 503 that a client without a key would answer by sending it again.
    started = True
    try:
        await start_workflow(svc.pool, svc.client, svc.settings, submitted.reference)
    except RPCError as error:
        log.warning(
            "%s is recorded; its workflow did not start (the intake sweep starts it): %s", submitted.reference, error
        )
        started = False
    links = svc.links_of(submitted.reference)
    response.status_code = (201 if submitted.created else 200) if started else 202
    response.headers["Location"] = links.self
    await advise(request, response, svc)
    return Submitted(reference=submitted.reference, created=submitted.created, started=started, links=links)


async def _read_submission(request: Request, svc: Services, idempotency_key: str | None) -> ComplaintSubmission:
    limits = svc.settings.document_limits
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    files: list[dict[str, Any]] = []
    if media_type == "multipart/form-data":
        form = await request.form()
        part = form.get("complaint")
        if part is None:
            raise invalid_input(field_problems([{"loc": ("complaint",), "msg": "the complaint JSON part is missing"}]))
        text = (await part.read()).decode("utf-8", "replace") if isinstance(part, UploadFile) else part
        data = _json(text, "complaint")
        files = await read_files(form, "documents", limits)
    elif media_type in ("application/json", ""):
        data = _json((await request.body()).decode("utf-8", "replace"), "body")
    else:
        raise ProblemError(415, f"send application/json or multipart/form-data, not {media_type}")
    if not isinstance(data, dict):
        raise invalid_input(field_problems([{"loc": ("body",), "msg": "the complaint must be a JSON object"}], drop=()))
    request_model: BaseModel = ComplaintRequest.model_validate(data)
    documents = []
    for upload in request_model.documents:  # type: ignore[attr-defined]
        check_size(upload.filename, upload.content_base64, limits)
        documents.append(
            {"filename": upload.filename, "content_type": upload.content_type, "content": upload.content_base64}
        )
    try:
        return validate_submission(
            {
                **request_model.model_dump(exclude={"documents"}),
                "channel": Channel.API,
                "idempotency_key": idempotency_key,
                "documents": documents + files,
            },
            limits,
        )
    except ValidationError as error:
        raise invalid_input(field_problems(error.errors())) from error


def _json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise invalid_input(field_problems([{"loc": (field,), "msg": f"not valid JSON: {error}"}], drop=())) from error


@router.get(
    "",
    response_model=ComplaintPage,
    summary="List complaints from the register",
    description="Newest first; filters combine.",
    responses=responses(401, 403, 422, 503),
)
async def list_complaints(
    request: Request,
    phase: Phase | None = None,
    priority: Priority | None = None,
    sla_status: SlaStatus | None = None,
    channel: Channel | None = None,
    handler: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    operator: OperatorRecord = Depends(require(Permission.READ)),
    svc: Services = Depends(services),
) -> ComplaintPage:
    filters = ComplaintFilters(
        phase=phase.value if phase else None,
        priority=priority.value if priority else None,
        sla_status=sla_status.value if sla_status else None,
        channel=channel.value if channel else None,
        handler=handler,
    )
    rows, total = await register_queries.complaints_page(svc.pool, filters, limit, offset)
    following = None
    if offset + limit < total:
        query = {k: v for k, v in request.query_params.items() if k != "offset"}
        following = f"{svc.base_url}/complaints?{urlencode({**query, 'offset': offset + limit})}"
    return ComplaintPage(
        items=[ComplaintSummary.model_validate(dict(row)) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
        next=following,
    )


@router.get(
    "/{ref}",
    response_model=ComplaintDetail,
    summary="A complaint: where it stands, its timeline and documents",
    responses=responses(401, 403, 404, 422, 503),
)
async def get_complaint(
    ref: Reference,
    operator: OperatorRecord = Depends(require(Permission.READ)),
    svc: Services = Depends(services),
) -> ComplaintDetail:
    row = await require_complaint(svc.pool, ref)
    status = await live_status(svc.client, ref)
    journal = await register_queries.journal(svc.pool, ref, customer_only=False)
    documents = await register_queries.documents(svc.pool, ref)
    links = svc.links_of(ref)
    return ComplaintDetail(
        reference=ref,
        channel=row["channel"],
        sent_at=row["sent_at"],
        received_at=row["received_at"],
        regime=row["regime"],
        phase=status.phase if status else row["phase"],
        waiting_for=status.waiting_for if status else None,
        priority=status.priority if status else row["priority"],
        category=status.category if status else row["category"],
        sla_status=status.sla_status if status else row["sla_status"],
        escalation_level=status.escalation_level if status else row["escalation_level"],
        handler=row["handler"],
        team=row["team"],
        complainant=ComplainantView(
            name=row["complainant_name"],
            email=row["complainant_email"],
            phone=row["complainant_phone"],
            postal_address=row["complainant_address"],
            customer_id=row["customer_id"],
            type=row["complainant_type"],
        ),
        subject=row["subject"],
        description=row["description"],
        product=row["product"],
        desired_resolution=row["desired_resolution"],
        persons_concerned=list(row["persons_concerned"]),
        acknowledged_at=row["acknowledged_at"],
        ack_method=row["ack_method"],
        outcome=row["outcome"],
        compensation_total=row["compensation_total"],
        closed_at=row["closed_at"],
        deadlines=_deadlines(status, row),
        timeline=[
            TimelineEntry(
                at=entry["occurred_at"],
                event=entry["event"],
                actor=entry["actor"],
                details=json.loads(entry["details"]),
                visible_to_customer=entry["visible_to_customer"],
            )
            for entry in journal
        ],
        documents=[DocumentInfo(**dict(doc), download=f"{links.self}/documents/{doc['id']}") for doc in documents],
        workflow_state=status,
        links=links,
    )


def _deadlines(status: ComplaintStatus | None, row: Any) -> list[DeadlineView]:
    if status is None:  # what the register knows
        return [
            DeadlineView(name=name, due_at=row[column])
            for name, column in (
                ("acknowledgement", "ack_due_at"),
                ("assessment", "assessment_due_at"),
                ("response", "response_due_at"),
                ("regulatory", "regulatory_due_at"),
            )
            if row[column] is not None
        ]
    return [
        DeadlineView(
            name=name,
            due_at=deadline.effective_due,
            met_at=deadline.met_at,
            warned=deadline.warned,
            breached=deadline.breached,
        )
        for name, deadline in status.deadlines.items()
    ]


@router.get(
    "/{ref}/documents/{document_id}",
    summary="Download a supporting document",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the document"},
        **responses(401, 403, 404, 422, 503),
    },
)
async def download_document(
    ref: Reference,
    document_id: int,
    operator: OperatorRecord = Depends(require(Permission.READ)),
    svc: Services = Depends(services),
) -> Response:
    doc = await register_queries.document(svc.pool, ref, document_id)
    if doc is None:
        raise ProblemError(404, f"{ref} has no document {document_id}")
    return Response(
        doc["content"],
        media_type=doc["content_type"],
        headers={
            # never rendered by the browser: documents come from the public
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc['filename'])}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )

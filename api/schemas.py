"""The HTTP API's request and response models. Request models reuse the
fields (and so the constraints) of the intake and lifecycle models, so the
API and the workflow cannot drift apart."""

import functools
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, Base64Bytes, BaseModel, ConfigDict, Field, create_model

from complaints.assessment import Priority
from complaints.complaint_status import ComplaintStatus, Phase, SlaStatus
from complaints.operator_commands import Command
from complaints.submission import Channel, ComplainantType, ComplaintSubmission


def _fields(model: type[BaseModel], exclude: set[str]) -> dict[str, Any]:
    return {name: (info.annotation, info) for name, info in model.model_fields.items() if name not in exclude}


@functools.cache
def without_actor(model: type[Command]) -> type[BaseModel]:
    """`model` as an operator sends it: the actor (`by`) comes from the API key."""
    return create_model(
        f"{model.__name__}Request",
        __config__=ConfigDict(extra="forbid"),
        __doc__=model.__doc__,
        **_fields(model, {"by"}),
    )


class DocumentUpload(BaseModel):
    """A supporting document in a JSON request; multipart requests send files instead."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=255, examples=["application/pdf"])
    content_base64: Base64Bytes = Field(description="the file's bytes, base64-encoded")


# What a client system sends: the submission without the fields the API sets
# (channel "api", the Idempotency-Key header) and with base64 documents.
ComplaintRequest: type[BaseModel] = create_model(
    "ComplaintRequest",
    __config__=ConfigDict(extra="forbid", str_max_length=20_000),
    __doc__="A complaint as an intake system sends it.",
    documents=(list[DocumentUpload], Field(default_factory=list)),
    **_fields(ComplaintSubmission, {"channel", "idempotency_key", "documents"}),
)


class Links(BaseModel):
    """Operators' links only: a customer's signed link goes to the complainant's
    channel (emails, letters), never to an operator, who could act as the customer."""

    self: str = Field(description="the complaint in this API (operators)")
    temporal_ui: str


class Submitted(BaseModel):
    reference: str
    created: bool = Field(description="false: an earlier request with the same Idempotency-Key")
    started: bool = Field(
        default=True, description="false: recorded, its workflow starts within a minute (the intake sweep)"
    )
    links: Links


class ComplaintSummary(BaseModel):
    reference: str
    received_at: datetime
    channel: Channel
    complainant_name: str
    subject: str
    product: str | None
    phase: Phase
    priority: Priority | None
    sla_status: SlaStatus
    escalation_level: int
    handler: str | None
    response_due_at: datetime | None


class ComplaintPage(BaseModel):
    items: list[ComplaintSummary]
    total: int = Field(description="complaints matching the filters")
    limit: int
    offset: int
    next: str | None = Field(description="the next page, if any")


class ComplainantView(BaseModel):
    name: str
    email: str | None
    phone: str | None
    postal_address: str | None
    customer_id: str | None
    type: ComplainantType | None = Field(default=None, description="consumer or professional, as said at intake")


class TimelineEntry(BaseModel):
    at: datetime
    event: str
    actor: str
    details: dict[str, Any]
    visible_to_customer: bool


class DocumentInfo(BaseModel):
    id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    source: str = Field(description="intake, customer_reply, ...")
    added_at: datetime
    download: str


class DeadlineView(BaseModel):
    name: str
    due_at: datetime | None
    met_at: datetime | None = None
    warned: bool = False
    breached: bool = False


class ComplaintDetail(BaseModel):
    reference: str
    channel: Channel
    sent_at: datetime | None = Field(
        description="when the complaint was sent (an email's Date, a letter's date; the receipt for a form "
        "or a call); the regulatory deadlines count from it; null for complaints taken in before it was recorded"
    )
    received_at: datetime
    regime: str = Field(description="the regime of its regulatory deadlines: general, acpr, payment_services, ...")
    phase: Phase
    waiting_for: str | None = Field(description="from the workflow; null when it could not be asked")
    priority: Priority | None
    category: str | None
    sla_status: SlaStatus
    escalation_level: int
    handler: str | None
    team: str | None
    complainant: ComplainantView
    subject: str
    description: str
    product: str | None
    desired_resolution: str | None
    persons_concerned: list[str]
    acknowledged_at: datetime | None
    ack_method: str | None
    outcome: str | None
    compensation_total: Decimal | None
    closed_at: datetime | None
    deadlines: list[DeadlineView]
    timeline: list[TimelineEntry]
    documents: list[DocumentInfo]
    workflow_state: ComplaintStatus | None = Field(
        description="the workflow's full state (null when it could not be queried)"
    )
    links: Links


class PostalLetterRequest(BaseModel):
    """A letter went by post (the operator calling is the confirmer)."""

    model_config = ConfigDict(extra="forbid")

    sent_at: AwareDatetime | None = Field(default=None, description="default: now")

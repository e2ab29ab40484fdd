"""What the complaint workflow carries: its input, its messages and its state.
Ids, dates and small facts only: personal data and documents stay in the register."""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from complaints.policy import DeadlinePolicy
from complaints.submission import Channel


class Phase(StrEnum):
    RECEIVED = "received"
    INTAKE = "intake"
    ACKNOWLEDGED = "acknowledged"


class SlaStatus(StrEnum):
    ON_TRACK = "on_track"
    WARNING = "warning"
    BREACHED = "breached"


AckMethod = Literal["email", "post"]


class ComplaintStart(BaseModel):
    reference: str
    received_at: datetime
    channel: Channel
    policy: DeadlinePolicy


class IntakeRecord(BaseModel):
    reference: str
    ack_due_at: datetime


class IntakeFacts(BaseModel):
    """What the workflow needs to know of the recorded complaint."""

    has_email: bool


class AcknowledgementEmail(BaseModel):
    reference: str
    response_due_at: datetime


class Acknowledgement(BaseModel):
    reference: str
    method: AckMethod
    acknowledged_at: datetime
    response_due_at: datetime
    actor: str


class PostalAcknowledgement(BaseModel):
    """An operator confirms the acknowledgement letter went by post."""

    confirmed_by: str = Field(min_length=1, max_length=200)
    sent_at: datetime | None = None


class DeadlineBreach(BaseModel):
    reference: str
    deadline: Literal["acknowledgement"]
    due_at: datetime


class ComplaintStatus(BaseModel):
    reference: str
    phase: Phase
    channel: Channel
    received_at: datetime
    ack_due_at: datetime
    acknowledged_at: datetime | None = None
    ack_method: AckMethod | None = None
    response_due_at: datetime
    sla_status: SlaStatus = SlaStatus.ON_TRACK
    breaches: list[str] = Field(default_factory=list)
    waiting_for: str = ""

"""What operators send: the commands the complaint workflow takes as updates,
each signed by the operator who gives it. The API and the console build their
request bodies from these models, so they cannot drift from the workflow."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from complaints.assessment import Priority
from complaints.submission import OneLine, Text


class Role(StrEnum):
    INTAKE = "intake"
    HANDLER = "handler"
    MANAGER = "manager"
    ADMIN = "admin"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially_accepted"
    REJECTED = "rejected"


class CompensationKind(StrEnum):
    CREDIT_NOTE = "credit_note"  # avoir
    REFUND = "refund"
    COMPLIMENTARY_SERVICE = "complimentary_service"  # prestation complémentaire
    COMMERCIAL_GESTURE = "commercial_gesture"
    APOLOGY = "apology"


class Operator(BaseModel):
    name: OneLine = Field(min_length=1, max_length=200)
    role: Role = Role.HANDLER


class Command(BaseModel):
    by: Operator


class ConfirmAssessment(Command):
    """Confirm the suggested priority (no `priority`) or override it (with a
    reason); `regime`: put the complaint under another regime (with a reason),
    its regulatory deadlines move."""

    priority: Priority | None = None
    reason: Text | None = None
    category: OneLine | None = Field(default=None, max_length=200)
    regime: OneLine | None = Field(default=None, max_length=200)


class Assignment(Command):
    handler: OneLine = Field(min_length=1, max_length=200)
    team: OneLine | None = Field(default=None, max_length=200)


class RootCause(BaseModel):
    category: OneLine = Field(min_length=1, max_length=200)
    analysis: Text = Field(min_length=1)


class PlannedAction(Command):
    kind: Literal["corrective", "improvement"]
    description: Text = Field(min_length=1)
    owner: OneLine = Field(min_length=1, max_length=200)
    due_on: date
    root_cause: RootCause | None = None


class InternalNote(Command):
    text: Text = Field(min_length=1)


class ProgressUpdate(Command):
    message: Text = Field(min_length=1)


class InformationRequest(Command):
    questions: Text = Field(min_length=1)


class AnalysisExtension(Command):
    reason: Text = Field(min_length=1)
    new_due_at: datetime


class Compensation(BaseModel):
    kind: CompensationKind
    amount: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    description: Text = Field(min_length=1)


class Decision(Command):
    outcome: Outcome
    justification: Text = ""
    compensation: Compensation | None = None


class ApprovalVerdict(Command):
    approved: bool
    comment: Text | None = None


class PostalLetter(BaseModel):
    """An operator confirms a letter went by post: the acknowledgement (no
    email, or email keeps failing), or the response to a complainant without
    email, which counts from then."""

    confirmed_by: str = Field(min_length=1, max_length=200)
    sent_at: datetime | None = None


class Closure(Command):
    note: Text | None = None


# A complaint's reference as a person types it (REC-2026-000042): letters, digits and dashes.
REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]*$"


class MergeInto(Command):
    """Close this complaint as merged into `into` (the survivor: the same
    customer's complaint about the same matter), which takes its documents,
    messages and sending date."""

    into: str = Field(pattern=REFERENCE_PATTERN, max_length=40)


class Absorption(Command):
    """The survivor of a merge takes in the absorbed complaint: its earlier
    sending date (the legal clock starts there) and its documents and messages
    (copied in the register by the survivor's run)."""

    absorbed: str = Field(pattern=REFERENCE_PATTERN, max_length=40)
    absorbed_sent_at: datetime

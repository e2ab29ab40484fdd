"""What the complaint workflow carries: its input, its messages and its state.
Ids, dates, decisions and small facts: documents stay in the register."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from complaints.assessment import Assessment, Priority
from complaints.policy import ComplaintPolicy
from complaints.submission import Channel, OneLine, Text


class Phase(StrEnum):
    RECEIVED = "received"
    INTAKE = "intake"
    ACKNOWLEDGED = "acknowledged"
    ASSESSMENT = "assessment"
    HANDLING = "handling"
    AWAITING_CUSTOMER = "awaiting_customer"
    AWAITING_APPROVAL = "awaiting_approval"
    RESPONDED = "responded"
    REVIEW = "review"
    SURVEY = "survey"
    CLOSED = "closed"


class SlaStatus(StrEnum):
    ON_TRACK = "on_track"
    WARNING = "warning"
    BREACHED = "breached"


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


AckMethod = Literal["email", "post"]
# "action": a corrective or improvement action past its due date (reporting).
DeadlineName = Literal["acknowledgement", "assessment", "response", "approval", "action"]
AlertKind = Literal["warning", "breach"]


# --- starting ---------------------------------------------------------------


class ComplaintStart(BaseModel):
    reference: str
    received_at: datetime
    channel: Channel
    policy: ComplaintPolicy
    # Set when the run continues as new: where the previous run stood.
    carried_over: "ComplaintStatus | None" = None


# --- operator commands (updates) -------------------------------------------


class Operator(BaseModel):
    name: OneLine = Field(min_length=1, max_length=200)
    role: Role = Role.HANDLER


class Command(BaseModel):
    by: Operator


class ConfirmAssessment(Command):
    """Confirm the suggested priority (no `priority`) or override it (with a reason)."""

    priority: Priority | None = None
    reason: Text | None = None
    category: OneLine | None = None


class Assignment(Command):
    handler: OneLine = Field(min_length=1)
    team: OneLine | None = None


class RootCause(BaseModel):
    category: OneLine = Field(min_length=1)
    analysis: Text = Field(min_length=1)


class PlannedAction(Command):
    kind: Literal["corrective", "improvement"]
    description: Text = Field(min_length=1)
    owner: OneLine = Field(min_length=1)
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


class PostalAcknowledgement(BaseModel):
    """An operator confirms the acknowledgement letter went by post."""

    confirmed_by: str = Field(min_length=1, max_length=200)
    sent_at: datetime | None = None


class Closure(Command):
    note: Text | None = None


# --- what the complainant sends (signals) ----------------------------------


class CustomerReply(BaseModel):
    message: Text = ""
    document_ids: list[int] = Field(default_factory=list)
    # The channel's id of the message (e.g. its Message-ID): a reply is taken once.
    message_id: str | None = None


class Contest(BaseModel):
    reason: Text = ""


class SurveyAnswer(BaseModel):
    csat: int = Field(ge=1, le=5)
    ces: int = Field(ge=1, le=5)
    nps: int = Field(ge=0, le=10)
    comment: Text | None = None


# --- deadlines ---------------------------------------------------------------


class Deadline(BaseModel):
    """One SLA clock. Internal clocks may pause while the complaint waits on
    the customer; `cap` (the regulatory maximum) never moves."""

    name: DeadlineName
    started_at: datetime
    due_at: datetime  # without pauses
    cap: datetime | None = None
    pausable: bool = False
    warn: bool = True
    paused_for: timedelta = timedelta(0)
    generation: int = 0  # bumped when the deadline is moved: alerts are per generation
    warned: bool = False
    breached: bool = False
    met_at: datetime | None = None

    @property
    def effective_due(self) -> datetime:
        due = self.due_at + self.paused_for
        return min(due, self.cap) if self.cap else due

    def warning_at(self, fraction: float) -> datetime:
        return self.started_at + (self.effective_due - self.started_at) * fraction


class DeadlineEvent(BaseModel):
    deadline: DeadlineName
    kind: AlertKind
    at: datetime
    generation: int


class DeadlineAlert(BaseModel):
    reference: str
    deadline: DeadlineName
    kind: AlertKind
    due_at: datetime
    generation: int = 0

    @property
    def key(self) -> str:
        return f"{self.reference}:{self.deadline}:{self.generation}:{self.kind}"


# --- activity inputs ---------------------------------------------------------


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


class AssessmentRequest(BaseModel):
    reference: str
    window: timedelta


class ComplaintChanges(BaseModel):
    """Register columns a step sets; None leaves a column as it is."""

    phase: Phase | None = None
    sla_status: SlaStatus | None = None
    escalation_level: int | None = None
    priority: Priority | None = None
    severity: int | None = None
    complexity: int | None = None
    recurring: bool | None = None
    category: str | None = None
    assessment: Assessment | None = None
    assessed_at: datetime | None = None
    assessment_due_at: datetime | None = None
    response_due_at: datetime | None = None
    handler: str | None = None
    team: str | None = None
    outcome: Outcome | None = None
    responded_at: datetime | None = None
    customer_verdict: str | None = None
    root_cause_category: str | None = None
    closed_at: datetime | None = None
    ack_deadline_met: bool | None = None
    assessment_deadline_met: bool | None = None
    response_deadline_met: bool | None = None
    compensation_total: Decimal | None = None


class RegisterEntry(BaseModel):
    """One step of a complaint: journaled once (by `step_key`), with the
    register columns it changes."""

    reference: str
    event: str
    actor: str
    step_key: str
    details: dict[str, Any] = Field(default_factory=dict)
    changes: ComplaintChanges = Field(default_factory=ComplaintChanges)
    visible_to_customer: bool = False


class CustomerEmail(BaseModel):
    """A templated email to the complainant, sent once per `step_key`."""

    reference: str
    template: str
    step_key: str
    values: dict[str, Any] = Field(default_factory=dict)


class CompensationGrant(BaseModel):
    reference: str
    key: str
    compensation: Compensation
    proposed_by: str
    approved_by: str | None = None


class ActionRecord(BaseModel):
    reference: str
    step_key: str
    action: PlannedAction


class SurveyRecord(BaseModel):
    reference: str
    answer: SurveyAnswer


# --- where the complaint stands ---------------------------------------------


class DecisionRecord(BaseModel):
    outcome: Outcome
    justification: str
    compensation: Compensation | None = None
    decided_by: str
    decided_at: datetime
    approved_by: str | None = None
    review: bool = False


class ComplaintStatus(BaseModel):
    reference: str
    phase: Phase
    channel: Channel
    received_at: datetime
    ack_due_at: datetime
    acknowledged_at: datetime | None = None
    ack_method: AckMethod | None = None
    response_due_at: datetime  # the response deadline now in force
    regulatory_due_at: datetime
    has_email: bool = False
    sla_status: SlaStatus = SlaStatus.ON_TRACK
    breaches: list[str] = Field(default_factory=list)
    escalation_level: int = 0
    waiting_for: str = ""
    assessment: Assessment | None = None
    priority: Priority | None = None
    category: str | None = None
    assessment_confirmed_by: str | None = None
    handler: str | None = None
    team: str | None = None
    actions: list[str] = Field(default_factory=list)  # planned, as told to the customer
    root_cause_category: str | None = None
    information_requests: int = 0
    open_questions: str | None = None
    awaiting_customer_since: datetime | None = None
    replies_pending: list[CustomerReply] = Field(default_factory=list)
    reply_ids: list[str] = Field(default_factory=list)  # recent message ids, to drop repeats
    messages_received: int = 0  # customer messages outside an information request
    extensions: int = 0
    decision: DecisionRecord | None = None
    proposal: DecisionRecord | None = None  # awaiting a manager's approval
    decisions: list[DecisionRecord] = Field(default_factory=list)
    responded_at: datetime | None = None
    contested: bool = False
    customer_verdict: Literal["accepted", "contested"] | None = None
    accepted_signal: bool = False
    contest_signal: Contest | None = None
    survey: SurveyAnswer | None = None
    closed_at: datetime | None = None
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    steps: int = 0  # numbers each journaled step: its idempotency key


ComplaintStart.model_rebuild()

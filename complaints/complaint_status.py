"""Where a complaint stands: what its run shows to the channels (the `status`
query, the API, the pages, the command line). The workflow keeps more than
this — its message buffers and counters (`workflow_state.ComplaintState`) —
and none of that is part of the public contract."""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from complaints.assessment import Assessment, Priority
from complaints.customer_signals import SurveyAnswer
from complaints.operator_commands import Compensation, Outcome
from complaints.submission import Channel


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


AckMethod = Literal["email", "post"]
# "action": a corrective or improvement action past its due date (reporting).
# "regulatory": the regime's answer maximum, never paused; "review": a contested response's review.
DeadlineName = Literal["acknowledgement", "assessment", "response", "approval", "action", "regulatory", "review"]
AlertKind = Literal["warning", "breach"]
Verdict = Literal["accepted", "contested"]


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
        """`fraction` of the time the clock runs, after its pauses: a pause
        moves the warning as much as the due date."""
        running = self.effective_due - self.started_at - self.paused_for
        return self.started_at + self.paused_for + running * fraction


class DecisionRecord(BaseModel):
    outcome: Outcome
    justification: str
    compensation: Compensation | None = None
    decided_by: str
    decided_at: datetime
    approved_by: str | None = None
    review: bool = False


class ComplaintStanding(BaseModel):
    """What both the run's state and its public status hold."""

    reference: str
    phase: Phase
    channel: Channel
    received_at: datetime
    sent_at: datetime | None = None  # set with the regulatory clock (runs before it: not kept here)
    ack_due_at: datetime
    acknowledged_at: datetime | None = None
    ack_method: AckMethod | None = None
    response_due_at: datetime  # the response deadline now in force
    regulatory_due_at: datetime
    regime: str | None = None  # None: the regime it started with (runs before the regulatory clock)
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
    messages_received: int = 0  # customer messages outside an information request
    extensions: int = 0
    proposal: DecisionRecord | None = None  # awaiting a manager's approval
    decisions: list[DecisionRecord] = Field(default_factory=list)
    responded_at: datetime | None = None
    contested: bool = False
    customer_verdict: Verdict | None = None
    survey: SurveyAnswer | None = None
    closed_at: datetime | None = None
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    merged_into: str | None = None  # closed as merged into this complaint (the survivor)
    absorbed: list[str] = Field(default_factory=list)  # the complaints merged into this one


class ComplaintStatus(ComplaintStanding):
    """The `status` query's answer, and every update's."""

    # The customer's verdict as sent, before the run takes it in: a form sent
    # twice finds it there.
    verdict_received: Verdict | None = None

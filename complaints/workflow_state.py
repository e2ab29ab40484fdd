"""The complaint workflow's own state and input: what a run carries, and
carries over when it continues as new. Channels see `ComplaintStatus`, never
this."""

from datetime import datetime

from pydantic import BaseModel, Field

from complaints.alerts import DeadlineAlert
from complaints.complaint_status import (
    AlertKind,
    ComplaintStanding,
    ComplaintStatus,
    DeadlineName,
    DecisionRecord,
    Phase,
    Verdict,
)
from complaints.customer_signals import Contest, CustomerReply
from complaints.operator_commands import Closure, PostalLetter
from complaints.policy import GENERAL, ComplaintPolicy
from complaints.submission import Channel


class AlertDelivery(BaseModel):
    """A raised alert on its way: recorded, told to the customer (a delay
    notice), sent to operations. Carried over when the run continues as new,
    so what is left is done in the next run."""

    alert: DeadlineAlert
    recorded: bool = False
    notice_due: bool = False  # the customer's delay notice, still to send
    sent: bool = False  # to operations (or found undeliverable and journaled)


class ComplaintState(ComplaintStanding):
    """The public status plus the run's buffers: messages not yet taken in and
    the counter that keys every journaled step."""

    replies_pending: list[CustomerReply] = Field(default_factory=list)
    reply_ids: list[str] = Field(default_factory=list)  # recent message ids, to drop repeats
    decision: DecisionRecord | None = None  # taken, being carried out
    accepted_signal: bool = False
    contest_signal: Contest | None = None
    steps: int = 0  # numbers each journaled step: its idempotency key
    # Claims a command or phase takes synchronously, so a command validated
    # meanwhile (or in the same activation) is refused.
    deciding: bool = False  # a decision is being journaled
    responding: bool = False  # the response is going out
    # Where an information request was made: the reply (or its timeout) returns there.
    information_asked_in: Phase | None = None
    # Clocks extended during the current customer wait: they run through it (to the date told).
    running_through_pause: list[str] = Field(default_factory=list)
    closure: Closure | None = None  # an operator closes: taken when the run gets there
    deliveries: list[AlertDelivery] = Field(default_factory=list)  # alerts raised, not all delivered
    # The response letter to a complainant without email, until an operator confirms it went.
    response_letter_awaited: bool = False
    response_letter: PostalLetter | None = None
    merged_by: str | None = None  # who merged it into `merged_into`, until the run has closed it

    def public(self) -> ComplaintStatus:
        """What the channels are shown: the status without the buffers."""
        shown = {name: getattr(self, name) for name in ComplaintStanding.model_fields}
        received: Verdict | None = (
            "contested" if self.contest_signal is not None else "accepted" if self.accepted_signal else None
        )
        return ComplaintStatus.model_construct(**shown, verdict_received=received)


class ComplaintStart(BaseModel):
    reference: str
    received_at: datetime
    channel: Channel
    policy: ComplaintPolicy
    # When the complaint was sent (None: not recorded, taken in before it was)
    # and the regime of its regulatory deadlines: policy.regulatory_dates(regime, sent_at, received_at).
    sent_at: datetime | None = None
    regime: str = GENERAL
    # Set when the run continues as new: where the previous run stood.
    carried_over: ComplaintState | None = None


class DeadlineEvent(BaseModel):
    deadline: DeadlineName
    kind: AlertKind
    at: datetime
    generation: int

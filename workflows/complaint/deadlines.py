"""The complaint's SLA clocks: when each starts and is due, which alert is due
next, pauses while the complaint waits on the customer, moving a deadline, and
what a warning or breach changes. Pure and deterministic: the workflow passes
`now`."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from complaints.alerts import DeadlineAlert
from complaints.assessment import Priority
from complaints.complaint_status import Deadline, Phase, SlaStatus
from complaints.policy import ComplaintPolicy
from complaints.workflow_state import ComplaintStart, ComplaintState, DeadlineEvent

# A breach of these delays the answer: the customer is told, with the regulatory date.
DELAYING = ("assessment", "response")
# The regulatory maximum passed without an answer: the customer may refer to the mediator now.
MEDIATION_OPEN = "regulatory"


def received(start: ComplaintStart) -> ComplaintState:
    """A new complaint: only the acknowledgement clock runs (it never warns)."""
    policy, at = start.policy, start.received_at
    acknowledgement = Deadline(name="acknowledgement", started_at=at, due_at=policy.acknowledgement_due(at), warn=False)
    return ComplaintState(
        reference=start.reference,
        phase=Phase.RECEIVED,
        channel=start.channel,
        received_at=at,
        ack_due_at=policy.acknowledgement_due(at),
        response_due_at=policy.response_due(at),
        regulatory_due_at=policy.response_due(at),
        deadlines={"acknowledgement": acknowledgement},
    )


def start_regulatory(state: ComplaintState, start: ComplaintStart) -> None:
    """REGULATORY_CLOCK: the regime's dates in force from intake — the
    acknowledgement due as the regime counts it, and the regulatory maximum as
    a clock of its own, never paused and uncapped, running until the response
    is sent (whatever the internal clocks do meanwhile)."""
    state.regime, state.sent_at = start.regime, start.sent_at
    _regime_dates(state, start.policy, start.regime, start.sent_at, start.received_at)
    sent = start.sent_at or start.received_at
    state.deadlines["regulatory"] = Deadline(name="regulatory", started_at=sent, due_at=state.regulatory_due_at)


def _regime_dates(
    state: ComplaintState, policy: ComplaintPolicy, regime: str, sent_at: datetime | None, received_at: datetime
) -> None:
    state.ack_due_at = policy.acknowledgement_due_for(regime, sent_at, received_at)
    state.regulatory_due_at = policy.regulatory_due(regime, sent_at, received_at)
    state.deadlines["acknowledgement"].due_at = state.ack_due_at
    if "response" not in state.deadlines:
        state.response_due_at = state.regulatory_due_at


def change_regime(state: ComplaintState, start: ComplaintStart, regime: str, now: datetime) -> None:
    """A handler puts the complaint under another regime: the regulatory clock
    and the acknowledgement (if not met) move, as new generations; the
    internal clocks stop at the new maximum."""
    state.regime = regime
    acknowledgement = state.deadlines["acknowledgement"]
    was_due, was_ack_due = acknowledgement.due_at, state.ack_due_at
    _regime_dates(state, start.policy, regime, start.sent_at, start.received_at)
    acknowledgement.due_at = was_due
    if acknowledgement.met_at:
        state.ack_due_at = was_ack_due  # acknowledged: judged by the date it had
    else:
        move(acknowledgement, state.ack_due_at, now)
    regulatory = state.deadlines.get("regulatory")
    if regulatory and not regulatory.met_at:
        move(regulatory, state.regulatory_due_at, now)
    for name in ("assessment", "response"):
        internal = state.deadlines.get(name)
        if internal and not internal.met_at and internal.cap != state.regulatory_due_at:
            internal.cap = state.regulatory_due_at
            move(internal, internal.due_at, now)


def earlier_sending(state: ComplaintState, policy: ComplaintPolicy, sent_at: datetime) -> None:
    """A merge: the survivor counts from the absorbed complaint's earlier
    sending date. The acknowledgement (if not given yet) and the regulatory
    maximum (until the answer is sent) move to follow it, the internal clocks
    stop at the new maximum. Alerts raised stay raised: flags and generations
    are kept, so none is raised twice (an earlier date passed already breaches
    once)."""
    regime, was_sent = state.regime, state.sent_at
    state.sent_at = sent_at
    acknowledgement = state.deadlines.get("acknowledgement")
    if acknowledgement and not acknowledgement.met_at:
        state.ack_due_at = acknowledgement.due_at = policy.acknowledgement_due_for(regime, sent_at, state.received_at)
    due = policy.regulatory_due(regime, sent_at, state.received_at)
    if state.regulatory_due_at > policy.regulatory_due(regime, was_sent, state.received_at):  # a holding reply
        due = policy.holding_reply_max(regime, sent_at, state.received_at) or due
    regulatory = state.deadlines.get("regulatory")
    if regulatory is None or regulatory.met_at:
        return
    regulatory.started_at, regulatory.due_at = sent_at, due
    state.regulatory_due_at = due
    for name in ("assessment", "response"):
        internal = state.deadlines.get(name)
        if internal and not internal.met_at:
            internal.cap = due
    if "response" not in state.deadlines:
        state.response_due_at = due


def holding_reply(state: ComplaintState, maximum: datetime, now: datetime) -> None:
    """A holding reply (payment services): the final answer may come up to
    the regime's holding-reply maximum, which the regulatory clock moves to."""
    state.regulatory_due_at = maximum
    regulatory = state.deadlines.get("regulatory")
    if regulatory and not regulatory.met_at:
        move(regulatory, maximum, now)
    for name in ("assessment", "response"):
        internal = state.deadlines.get(name)
        if internal and not internal.met_at:
            internal.cap = maximum


def review(policy: ComplaintPolicy, contested_at: datetime) -> Deadline:
    """A contested response is reviewed within the policy's review span."""
    return Deadline(name="review", started_at=contested_at, due_at=policy.end_of(policy.review, contested_at))


def reopen_regulatory(deadlines: dict[str, Deadline]) -> None:
    """A contested response was not the final answer: the regulatory maximum
    runs on to the review's response (ACPR 2024-R-02 counts to the final
    answer). Its alerts already raised are not raised again."""
    regulatory = deadlines.get("regulatory")
    if regulatory:
        regulatory.met_at = None


def for_priority(
    policy: ComplaintPolicy, state: ComplaintState, priority: Priority, acknowledged: datetime
) -> dict[str, Deadline]:
    """The assessment and response clocks the priority sets, from the
    acknowledgement; both pause for the customer and stop at the regulatory maximum."""
    return {
        "assessment": Deadline(
            name="assessment",
            started_at=acknowledged,
            due_at=policy.assessment_due(priority.value, acknowledged),
            cap=state.regulatory_due_at,
            pausable=True,
        ),
        "response": Deadline(
            name="response",
            started_at=acknowledged,
            due_at=policy.priority_response_due(priority.value, acknowledged, state.received_at),
            cap=state.regulatory_due_at,
            pausable=True,
        ),
    }


def approval(policy: ComplaintPolicy, decided_at: datetime, previous: Deadline | None = None) -> Deadline:
    """A manager's approval of a compensation: breaches (escalates) without
    warning. A new round (after a refusal) is a new generation of the
    previous round's clock, so its alerts are not taken for the first round's."""
    return Deadline(
        name="approval",
        started_at=decided_at,
        due_at=policy.wait_until(policy.approval_wait, decided_at),
        warn=False,
        generation=previous.generation + 1 if previous else 0,
    )


def reprioritise(state: ComplaintState, policy: ComplaintPolicy, priority: Priority, now: datetime) -> None:
    """A new priority moves the assessment and response deadlines still running."""
    acknowledged = state.acknowledged_at or state.received_at
    assessment = state.deadlines["assessment"]
    if not assessment.met_at:
        move(assessment, policy.assessment_due(priority.value, acknowledged), now)
    response = state.deadlines["response"]
    if not response.met_at:
        move(response, policy.priority_response_due(priority.value, acknowledged, state.received_at), now)


def next_event(
    deadlines: dict[str, Deadline],
    warning_fraction: float,
    paused: bool,
    *,
    whole_pause: bool = True,
    running: Collection[str] = (),
) -> DeadlineEvent | None:
    """The earliest warning or breach still to fire. `running`: clocks that
    run through the pause (extended during it). `whole_pause=False`: the
    warning moves by the warning fraction of a pause, as runs started before
    WARNING_MOVES_WITH_PAUSES computed it."""
    events = []
    for deadline in deadlines.values():
        if deadline.met_at or deadline.breached or (paused and deadline.pausable and deadline.name not in running):
            continue
        if deadline.warn and not deadline.warned:
            warn_at = (
                deadline.warning_at(warning_fraction) if whole_pause else _warning_as_before(deadline, warning_fraction)
            )
            if warn_at < deadline.effective_due:
                events.append(
                    DeadlineEvent(deadline=deadline.name, kind="warning", at=warn_at, generation=deadline.generation)
                )
                continue
        events.append(
            DeadlineEvent(
                deadline=deadline.name, kind="breach", at=deadline.effective_due, generation=deadline.generation
            )
        )
    return min(events, key=lambda event: event.at, default=None)


def _warning_as_before(deadline: Deadline, fraction: float) -> datetime:
    return deadline.started_at + (deadline.effective_due - deadline.started_at) * fraction


def paused(state: ComplaintState, policy: ComplaintPolicy) -> bool:
    """Internal clocks stand still while the complaint waits on the customer (if the policy says so)."""
    return policy.pause_while_awaiting_customer and state.awaiting_customer_since is not None


def end_pause(state: ComplaintState, policy: ComplaintPolicy, now: datetime) -> None:
    """The customer answered (or did not in time): the clocks run again, later by the wait."""
    since = state.awaiting_customer_since
    if since and policy.pause_while_awaiting_customer:
        resume(state.deadlines, since, now, state.running_through_pause)
    state.awaiting_customer_since = None
    state.running_through_pause = []


def resume(
    deadlines: dict[str, Deadline], paused_since: datetime, now: datetime, running: Collection[str] = ()
) -> None:
    """Add the time spent waiting on the customer to every running internal
    clock but those that ran through the wait (`running`)."""
    for deadline in deadlines.values():
        if deadline.pausable and not deadline.met_at and deadline.name not in running:
            deadline.paused_for += now - paused_since


def extend(state: ComplaintState, policy: ComplaintPolicy, new_due_at: datetime, now: datetime) -> None:
    """The response is now due at the date the customer is told. During a
    customer wait the clock runs on through it: the wait is not added on top."""
    response = state.deadlines["response"]
    move(response, new_due_at - response.paused_for, now)
    if paused(state, policy) and response.name not in state.running_through_pause:
        state.running_through_pause.append(response.name)


def move(deadline: Deadline, due_at: datetime, now: datetime) -> None:
    """Set a new due date before pauses (pauses so far still count on top); a
    moved deadline warns and breaches again, under a new generation of alerts."""
    deadline.due_at = due_at
    deadline.generation += 1
    if deadline.effective_due > now:
        deadline.warned = deadline.breached = False


def meet(deadlines: dict[str, Deadline], name: str, at: datetime) -> bool:
    """Stop the clock `name` at `at`; False when it is not running (absent or met already)."""
    deadline = deadlines.get(name)
    if not deadline or deadline.met_at:
        return False
    deadline.met_at = at
    return True


def stop_all(deadlines: dict[str, Deadline], now: datetime) -> None:
    """Closure stops every clock still running."""
    for deadline in deadlines.values():
        deadline.met_at = deadline.met_at or now


def next_due(deadlines: dict[str, Deadline]) -> datetime | None:
    running = [d.effective_due for d in deadlines.values() if not d.met_at]
    return min(running, default=None)


def sync_response_due(state: ComplaintState) -> None:
    """`response_due_at` is the response clock's effective date, once that clock runs."""
    if "response" in state.deadlines:
        state.response_due_at = state.deadlines["response"].effective_due


@dataclass(frozen=True)
class Raised:
    """What a fired deadline event raises."""

    alert: DeadlineAlert  # recorded, and sent to operations
    delay_notice: bool  # the customer is told the answer is late


def raise_alert(state: ComplaintState, event: DeadlineEvent) -> Raised:
    """Mark `event` on its deadline and the complaint's SLA status: a warning
    warns once (breached stays breached); a breach escalates one level."""
    deadline = state.deadlines[event.deadline]
    alert = DeadlineAlert(
        reference=state.reference,
        deadline=event.deadline,
        kind=event.kind,
        due_at=deadline.effective_due,
        generation=event.generation,
    )
    if event.kind == "warning":
        deadline.warned = True
        if state.sla_status is SlaStatus.ON_TRACK:
            state.sla_status = SlaStatus.WARNING
    else:
        deadline.breached = True
        state.sla_status = SlaStatus.BREACHED
        state.breaches.append(event.deadline)
        state.escalation_level += 1
    breach = event.kind == "breach"
    return Raised(alert=alert, delay_notice=breach and event.deadline in (*DELAYING, MEDIATION_OPEN))

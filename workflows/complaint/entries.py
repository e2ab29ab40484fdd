"""What the complaint's steps write: journal entries (their details and the
register columns they change) and the values of the letters to the customer.
Pure: built from the state, so the workflow only decides when."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from activities.register import ComplaintChanges
from complaints.assessment import Assessment, Priority
from complaints.complaint_status import DecisionRecord, Phase
from complaints.customer_signals import CustomerReply
from complaints.operator_commands import Absorption, Closure, ConfirmAssessment, Outcome
from complaints.policy import ComplaintPolicy
from complaints.workflow_state import ComplaintState


@dataclass(frozen=True)
class Entry:
    """One journal step (the workflow numbers it: its idempotency key)."""

    event: str
    actor: str
    details: dict[str, Any] = field(default_factory=dict)
    changes: ComplaintChanges = field(default_factory=ComplaintChanges)
    visible_to_customer: bool = False


def assessed(state: ComplaintState, assessment: Assessment) -> Entry:
    """The scores, once the assessment and response clocks run."""
    return Entry(
        "assessed",
        "system",
        {
            "priority": assessment.priority.value,
            "severity": assessment.severity.level,
            "complexity": assessment.complexity.level,
            "impacts": [impact.kind.value for impact in assessment.impacts],
            "recurring": assessment.recurrence.recurring,
        },
        ComplaintChanges(
            phase=Phase.ASSESSMENT,
            priority=assessment.priority,
            severity=assessment.severity.level,
            complexity=assessment.complexity.level,
            recurring=assessment.recurrence.recurring,
            category=assessment.category,
            assessment=assessment,
            assessment_due_at=state.deadlines["assessment"].effective_due,
            response_due_at=state.response_due_at,
        ),
    )


def assessment_confirmed(
    state: ComplaintState,
    command: ConfirmAssessment,
    suggested: Priority | None,
    priority: Priority,
    first: bool,
    now: datetime,
) -> Entry:
    """`first`: the first confirmation, which meets the assessment deadline."""
    return Entry(
        "priority_overridden" if priority is not suggested else "assessment_confirmed",
        command.by.name,
        {"priority": priority.value, "was": suggested.value if suggested else None, "reason": command.reason},
        ComplaintChanges(
            phase=Phase.HANDLING if state.phase is Phase.ASSESSMENT else None,
            priority=priority,
            category=state.category,
            assessed_at=now if first else None,
            assessment_deadline_met=(not state.deadlines["assessment"].breached) if first else None,
            response_due_at=state.response_due_at,
        ),
    )


def regime_changed(state: ComplaintState, by: str, reason: str | None, was: str | None) -> Entry:
    """The complaint under another regime: its regulatory dates moved."""
    return Entry(
        "regime_changed",
        by,
        {
            "regime": state.regime,
            "was": was,
            "reason": reason,
            "ack_due_at": state.ack_due_at,
            "regulatory_due_at": state.regulatory_due_at,
        },
        ComplaintChanges(
            regime=state.regime, regulatory_due_at=state.regulatory_due_at, response_due_at=state.response_due_at
        ),
    )


def information_requested(by: str, letter: dict[str, Any]) -> Entry:
    """The complaint waits for the customer (the register's phase says so)."""
    return Entry(
        "information_requested",
        by,
        {"questions": letter["questions"], "reply_by": letter["reply_by"]},
        ComplaintChanges(phase=Phase.AWAITING_CUSTOMER),
    )


def information_ended(reply: CustomerReply | None, reply_by: datetime, back_to: Phase | None) -> Entry:
    """The customer's reply, or none by `reply_by`; `back_to`: the phase the
    complaint returns to (None: the register's phase as it was, as runs
    started before INFORMATION_RETURNS_TO_ITS_PHASE)."""
    changes = ComplaintChanges(phase=back_to)
    if reply is None:
        return Entry("information_not_received", "system", {"reply_by": reply_by}, changes)
    message = {"message": reply.message, "document_ids": reply.document_ids}
    return Entry("customer_replied", "complainant", message, changes, visible_to_customer=True)


def compensation_values(decision: DecisionRecord) -> dict[str, Any] | None:
    given = decision.compensation
    if not given or decision.outcome is Outcome.REJECTED:
        return None
    return {
        "kind": given.kind.value,
        "amount": f"{given.amount:.2f}" if given.amount else None,
        "description": given.description,
    }


def response_letter(
    state: ComplaintState, policy: ComplaintPolicy, decision: DecisionRecord, now: datetime
) -> dict[str, Any]:
    """The argued response; the recourse (mediator, how to refer, until when:
    L.612-2's year) unless fully accepted at first."""
    return {
        "mediation_until": policy.mediation_until(state.sent_at, state.received_at),
        "outcome": decision.outcome.value,
        "justification": decision.justification,
        "compensation": compensation_values(decision),
        "actions": state.actions,
        "recourse": decision.outcome is not Outcome.ACCEPTED or decision.review,
        "review": decision.review,
        "verdict_by": policy.wait_until(policy.verdict_wait, now),
    }


def responded(
    state: ComplaintState, decision: DecisionRecord, responded_at: datetime, letter_confirmed_by: str | None = None
) -> Entry:
    """`responded_at`: the first response's time. After a review, the mediator's
    details went with the letter: on to the survey. `letter_confirmed_by`: the
    operator who confirmed the letter went by post."""
    details: dict[str, Any] = {"outcome": decision.outcome.value, "justification": decision.justification}
    if letter_confirmed_by:
        details["letter_confirmed_by"] = letter_confirmed_by
    return Entry(
        "review_responded" if decision.review else "responded",
        decision.decided_by,
        details,
        ComplaintChanges(
            phase=Phase.SURVEY if decision.review else Phase.RESPONDED,
            outcome=decision.outcome,
            responded_at=responded_at,
            response_deadline_met=responded_at <= state.response_due_at,
        ),
        visible_to_customer=True,
    )


def contested(reason: str) -> Entry:
    return Entry(
        "contested",
        "complainant",
        {"reason": reason},
        ComplaintChanges(phase=Phase.REVIEW, customer_verdict="contested"),
        visible_to_customer=True,
    )


def verdict(accepted: bool, customer_verdict: Literal["accepted", "contested"] | None) -> Entry:
    """Accepted, or no verdict in time (or contested again): on to the survey either way."""
    return Entry(
        "response_accepted" if accepted else "no_verdict",
        "complainant" if accepted else "system",
        changes=ComplaintChanges(phase=Phase.SURVEY, customer_verdict=customer_verdict),
        visible_to_customer=accepted,
    )


def closed(state: ComplaintState, closure: Closure | None, now: datetime) -> Entry:
    """Closure: outcome, durations, deadlines met, root cause, compensation."""
    met = {name: not d.breached for name, d in state.deadlines.items()}
    given = compensation_total(state.decisions)
    root_cause = state.root_cause_category or state.category
    return Entry(
        "closed",
        closure.by.name if closure else "system",
        {
            "outcome": state.decisions[-1].outcome.value if state.decisions else None,
            "receipt_to_acknowledgement": _seconds(state.received_at, state.acknowledged_at),
            "receipt_to_response": _seconds(state.received_at, state.responded_at),
            "deadlines_met": met,
            "root_cause_category": root_cause,
            "compensation_total": given,
            "survey_answered": state.survey is not None,
            "note": closure.note if closure else None,
        },
        ComplaintChanges(
            phase=Phase.CLOSED,
            closed_at=now,
            ack_deadline_met=met.get("acknowledgement"),
            assessment_deadline_met=met.get("assessment"),
            response_deadline_met=met.get("response"),
            root_cause_category=root_cause,
            compensation_total=given,
        ),
        visible_to_customer=True,
    )


def compensation_total(decisions: list[DecisionRecord]) -> Decimal:
    """What the decisions granted (a rejection grants nothing)."""
    return sum(
        (d.compensation.amount for d in decisions if d.compensation and d.outcome is not Outcome.REJECTED),
        start=Decimal(0),
    )


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if end else None


def merged_into(state: ComplaintState, into: str, by: str, now: datetime) -> Entry:
    """Closed as merged into `into`: the closing facts, and the survivor's reference in the register."""
    closing = closed(state, None, now)
    details = {**closing.details, "outcome": "merged", "merged_into": into}
    return Entry("merged_into", by, details, closing.changes.model_copy(update={"merged_into": into}))


def absorbed(state: ComplaintState, absorption: Absorption, documents: int, messages: int) -> Entry:
    """The survivor took the absorbed complaint in: its sending date and copies, the dates now in force."""
    details = {
        "absorbed": absorption.absorbed,
        "sent_at": state.sent_at,
        "documents": documents,
        "messages": messages,
        "ack_due_at": state.ack_due_at,
        "regulatory_due_at": state.regulatory_due_at,
    }
    changes = ComplaintChanges(
        sent_at=state.sent_at,
        ack_due_at=state.ack_due_at,
        regulatory_due_at=state.regulatory_due_at,
        response_due_at=state.response_due_at,
    )
    return Entry("merged_in", absorption.by.name, details, changes)

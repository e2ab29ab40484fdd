"""What the workflow's steps journal, without a server: the closing facts
and the response's values."""

from datetime import timedelta
from decimal import Decimal

from activities.register import ComplaintChanges
from complaints.complaint_status import Phase
from complaints.customer_signals import CustomerReply
from complaints.operator_commands import Closure
from tests.helpers.complaint_states import ACKNOWLEDGED, DENIS, POLICY, RECEIVED, deadline, decision, status
from workflows.complaint import entries

CLOSED_AT = RECEIVED + timedelta(days=20)


def test_the_compensation_total_is_a_decimal_even_when_nothing_was_granted() -> None:
    total = entries.compensation_total([])
    assert total == Decimal(0) and isinstance(total, Decimal)
    granted = [decision("rejected"), decision("accepted", amount="45.50"), decision("partially_accepted", amount="20")]
    assert entries.compensation_total(granted) == Decimal("65.50")


def test_closure_journals_the_outcome_durations_and_deadlines_met() -> None:
    state = status(Phase.SURVEY, responded_at=RECEIVED + timedelta(days=5), category="transport")
    state.decisions = [decision("accepted", amount="45.50")]
    state.deadlines = {"acknowledgement": deadline("acknowledgement"), "response": deadline(breached=True)}
    entry = entries.closed(state, None, CLOSED_AT)
    assert (entry.event, entry.actor, entry.visible_to_customer) == ("closed", "system", True)
    assert entry.details == {
        "outcome": "accepted",
        "receipt_to_acknowledgement": (ACKNOWLEDGED - RECEIVED).total_seconds(),
        "receipt_to_response": timedelta(days=5).total_seconds(),
        "deadlines_met": {"acknowledgement": True, "response": False},
        "root_cause_category": "transport",
        "compensation_total": Decimal("45.50"),
        "survey_answered": False,
        "note": None,
    }
    changes = entry.changes
    assert (changes.phase, changes.closed_at, changes.compensation_total) == (Phase.CLOSED, CLOSED_AT, Decimal("45.50"))
    assert (changes.ack_deadline_met, changes.assessment_deadline_met, changes.response_deadline_met) == (
        True,
        None,
        False,
    )


def test_a_closure_by_an_operator_names_them_and_keeps_the_note() -> None:
    entry = entries.closed(status(Phase.RESPONDED), Closure(by=DENIS, note="Remboursé"), CLOSED_AT)
    assert (entry.actor, entry.details["note"], entry.details["outcome"]) == ("Denis", "Remboursé", None)
    assert entry.details["compensation_total"] == Decimal(0)


def test_the_response_states_the_recourse_unless_fully_accepted_at_first() -> None:
    state = status(Phase.HANDLING, actions=["Caler les vases"])
    accepted = entries.response_letter(state, POLICY, decision("accepted", amount="45.50"), CLOSED_AT)
    assert accepted["recourse"] is False and accepted["actions"] == ["Caler les vases"]
    assert accepted["compensation"] == {"kind": "refund", "amount": "45.50", "description": "remboursement"}
    assert accepted["verdict_by"] == CLOSED_AT + timedelta(days=15)
    assert entries.response_letter(state, POLICY, decision("rejected"), CLOSED_AT)["recourse"] is True
    assert entries.response_letter(state, POLICY, decision("accepted", review=True), CLOSED_AT)["recourse"] is True


def test_a_response_in_time_meets_the_response_deadline() -> None:
    state = status(Phase.HANDLING)
    on_time = entries.responded(state, decision(), state.response_due_at)
    late = entries.responded(state, decision(review=True), state.response_due_at + timedelta(seconds=1))
    assert (on_time.event, on_time.changes.phase, on_time.changes.response_deadline_met) == (
        "responded",
        Phase.RESPONDED,
        True,
    )
    assert (late.event, late.changes.phase, late.changes.response_deadline_met) == (
        "review_responded",
        Phase.SURVEY,
        False,
    )


def test_an_information_request_journals_both_phase_changes() -> None:
    """Issue 13 #9: the register's phase follows the wait and its end."""
    reply_by = RECEIVED + timedelta(days=15)
    asked = entries.information_requested("Alice", {"questions": "Photo du colis ?", "reply_by": reply_by})
    assert (asked.event, asked.actor, asked.changes.phase) == (
        "information_requested",
        "Alice",
        Phase.AWAITING_CUSTOMER,
    )
    assert asked.details == {"questions": "Photo du colis ?", "reply_by": reply_by}
    answered = entries.information_ended(CustomerReply(message="Voici", document_ids=[3]), reply_by, Phase.ASSESSMENT)
    assert (answered.event, answered.changes.phase, answered.visible_to_customer) == (
        "customer_replied",
        Phase.ASSESSMENT,
        True,
    )
    assert answered.details == {"message": "Voici", "document_ids": [3]}
    silent = entries.information_ended(None, reply_by, Phase.HANDLING)
    assert (silent.event, silent.details, silent.changes.phase) == (
        "information_not_received",
        {"reply_by": reply_by},
        Phase.HANDLING,
    )
    # Runs started before the change journal the end without a phase, as they did.
    assert entries.information_ended(None, reply_by, None).changes == ComplaintChanges()


def test_a_response_confirmed_by_post_names_who_confirmed_it() -> None:
    state = status(Phase.HANDLING)
    entry = entries.responded(state, decision(), RECEIVED + timedelta(days=5), "Claire")
    assert entry.details["letter_confirmed_by"] == "Claire"
    assert "letter_confirmed_by" not in entries.responded(state, decision(), RECEIVED + timedelta(days=5)).details

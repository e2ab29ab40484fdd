"""The update validators' rules, without a server: each check accepts what
fits and refuses the rest with the reason the operator reads."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from activities.register import Acknowledgement
from complaints.assessment import Priority
from complaints.complaint_status import Phase
from complaints.customer_signals import Contest
from complaints.operator_commands import (
    AnalysisExtension,
    ApprovalVerdict,
    ConfirmAssessment,
    Decision,
    Operator,
    PlannedAction,
    PostalLetter,
    RootCause,
)
from complaints.workflow_state import ComplaintState
from tests.helpers.complaint_states import (
    ACKNOWLEDGED,
    ALICE,
    ARGUED,
    BRUNO,
    CHLOE,
    DENIS,
    POLICY,
    RECEIVED,
    ROOT,
    decision,
    status,
)
from workflows.complaint import rules

ALL_PHASES = list(Phase)


Check = Callable[..., None]


def refusal(check: Check, *args: object) -> str:
    with pytest.raises(ValueError) as error:
        check(*args)
    return str(error.value)


def phases_allowed(check: Check, *args: object) -> set[Phase]:
    """The phases in which `check(state, *args)` lets the command in."""
    allowed = set()
    for phase in ALL_PHASES:
        try:
            check(status(phase), *args)
            allowed.add(phase)
        except ValueError as error:
            assert str(error).startswith("cannot ")
    return allowed


# --- phases -------------------------------------------------------------------


def test_a_command_out_of_its_phase_says_when_it_is_possible() -> None:
    reason = refusal(rules.check_close, status(Phase.HANDLING))
    assert reason == "cannot close while the complaint is handling (possible when responded, survey)"


@pytest.mark.parametrize(
    ("check", "args", "allowed"),
    [
        (rules.check_confirm_assessment, (ConfirmAssessment(by=ALICE),), rules.BEFORE_RESPONSE),
        (rules.check_assign, (), rules.ACTIVE),
        (rules.check_add_note, (), rules.ACTIVE | {Phase.INTAKE}),
        (rules.check_progress_update, (), rules.ACTIVE),
        (rules.check_request_information, (), {Phase.ASSESSMENT, Phase.HANDLING}),
        (rules.check_close, (), {Phase.RESPONDED, Phase.SURVEY}),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_each_command_fits_its_phases(check: Check, args: tuple[object, ...], allowed: set[Phase]) -> None:
    assert phases_allowed(check, *args) == set(allowed)


def test_the_phase_sets() -> None:
    assert {Phase.ASSESSMENT, Phase.HANDLING, Phase.AWAITING_CUSTOMER, Phase.AWAITING_APPROVAL} == rules.BEFORE_RESPONSE
    assert rules.BEFORE_RESPONSE | {Phase.ACKNOWLEDGED, Phase.RESPONDED, Phase.REVIEW, Phase.SURVEY} == rules.ACTIVE
    assert not rules.ACTIVE & {Phase.RECEIVED, Phase.INTAKE, Phase.CLOSED}


# --- assessment -----------------------------------------------------------------


def test_confirming_or_overriding_with_a_reason_is_accepted() -> None:
    rules.check_confirm_assessment(status(Phase.ASSESSMENT), ConfirmAssessment(by=ALICE))
    rules.check_confirm_assessment(status(Phase.ASSESSMENT), ConfirmAssessment(by=ALICE, priority=Priority.P3))
    override = ConfirmAssessment(by=ALICE, priority=Priority.P1, reason="Client vulnérable")
    rules.check_confirm_assessment(status(Phase.HANDLING), override)


def test_overriding_the_priority_without_a_reason_is_refused() -> None:
    command = ConfirmAssessment(by=ALICE, priority=Priority.P1)
    assert refusal(rules.check_confirm_assessment, status(Phase.ASSESSMENT), command) == (
        "overriding the priority P3 with P1 needs a reason"
    )


# --- actions ----------------------------------------------------------------------


def action(kind: str, root_cause: RootCause | None = None) -> PlannedAction:
    return PlannedAction.model_validate(
        {"by": ALICE, "kind": kind, "description": "Caler les vases", "owner": "Entrepôt", "due_on": "2027-01-15"}
        | {"root_cause": root_cause}
    )


def test_a_corrective_action_on_a_p1_complaint_needs_its_root_cause() -> None:
    p1 = status(Phase.HANDLING, priority=Priority.P1)
    assert refusal(rules.check_plan_action, p1, action("corrective")) == (
        "a corrective action on a P1 complaint needs a root-cause analysis (root_cause)"
    )
    rules.check_plan_action(p1, action("corrective", RootCause(category="emballage", analysis="Calage")))
    rules.check_plan_action(p1, action("improvement"))
    rules.check_plan_action(status(Phase.HANDLING, priority=Priority.P2), action("corrective"))


def test_actions_are_planned_while_the_complaint_is_active() -> None:
    assert phases_allowed(rules.check_plan_action, action("improvement")) == set(rules.ACTIVE)


# --- extension --------------------------------------------------------------------


def extension(state_due: timedelta) -> AnalysisExtension:
    return AnalysisExtension(by=ALICE, reason="Expertise en cours", new_due_at=RECEIVED + state_due)


def test_an_extension_must_move_the_deadline_later_within_the_regulatory_maximum() -> None:
    state = status(Phase.HANDLING)  # response due at +30 days, regulatory at +61
    rules.check_extend_analysis(state, extension(timedelta(days=45)))
    rules.check_extend_analysis(state, extension(timedelta(days=61)))
    assert refusal(rules.check_extend_analysis, state, extension(timedelta(days=30))) == (
        "the new date must be after the current response deadline (2026-12-02 09:00 UTC)"
    )
    assert refusal(rules.check_extend_analysis, state, extension(timedelta(days=62))) == (
        "the new date may not pass the regulatory maximum (2027-01-02 09:00 UTC)"
    )


def test_a_holding_reply_may_go_up_to_the_regimes_maximum_never_past_it() -> None:
    state = status(Phase.HANDLING)  # regulatory at +61 days
    holding_max = RECEIVED + timedelta(days=70)
    rules.check_extend_analysis(state, extension(timedelta(days=70)), holding_max)
    assert refusal(rules.check_extend_analysis, state, extension(timedelta(days=71)), holding_max) == (
        "the new date may not pass the holding reply's maximum (2027-01-11 09:00 UTC)"
    )


def test_a_regime_changes_at_assessment_with_a_reason_to_a_known_regime() -> None:
    state = status(Phase.ASSESSMENT, regime="acpr")
    change = ConfirmAssessment(by=ALICE, regime="payment_services", reason="Un virement : L.133-45")
    rules.check_confirm_assessment(state, change, POLICY, True)
    rules.check_confirm_assessment(state, ConfirmAssessment(by=ALICE, regime="acpr"), POLICY, True)  # the same
    no_reason = change.model_copy(update={"reason": None})
    assert refusal(rules.check_confirm_assessment, state, no_reason, POLICY, True) == (
        "changing the regime acpr to payment_services needs a reason"
    )
    unknown = change.model_copy(update={"regime": "martian"})
    assert "unknown regime 'martian'" in refusal(rules.check_confirm_assessment, state, unknown, POLICY, True)
    assert "started before regimes could change" in refusal(
        rules.check_confirm_assessment, state, change, POLICY, False
    )


def test_the_analysis_is_extended_before_the_response_only() -> None:
    assert phases_allowed(rules.check_extend_analysis, extension(timedelta(days=45))) == set(rules.BEFORE_RESPONSE)


# --- decision ---------------------------------------------------------------------


def decide(outcome: str, justification: str = ARGUED, amount: str | None = None, by: Operator = ALICE) -> Decision:
    compensation = {"kind": "refund", "amount": amount, "description": "moitié du prix"} if amount else None
    return Decision.model_validate(
        {"by": by, "outcome": outcome, "justification": justification, "compensation": compensation}
    )


def test_an_argued_decision_is_accepted_in_handling_and_review() -> None:
    rules.check_decide(status(Phase.HANDLING), POLICY, decide("accepted"))
    rules.check_decide(status(Phase.HANDLING), POLICY, decide("rejected"))
    rules.check_decide(status(Phase.HANDLING), POLICY, decide("partially_accepted", amount="20"))
    review = status(Phase.REVIEW, decisions=[decision("rejected", by=ALICE)])
    rules.check_decide(review, POLICY, decide("partially_accepted", amount="20", by=BRUNO))
    assert phases_allowed(rules.check_decide, POLICY, decide("accepted")) == {Phase.HANDLING, Phase.REVIEW}


def test_a_second_decision_while_one_is_carried_out_is_refused() -> None:
    for pending in ({"decision": decision()}, {"proposal": decision(amount="650")}):
        assert refusal(rules.check_decide, status(Phase.HANDLING, **pending), POLICY, decide("accepted")) == (
            "a decision is already being carried out"
        )


def test_every_answer_must_be_argued() -> None:
    short = decide("accepted", justification="x" * (rules.MIN_JUSTIFICATION - 1))
    assert refusal(rules.check_decide, status(Phase.HANDLING), POLICY, short) == (
        "every answer, positive or negative, must be argued: write a justification "
        "of at least 20 characters the customer can understand"
    )
    rules.check_decide(status(Phase.HANDLING), POLICY, decide("accepted", "x" * rules.MIN_JUSTIFICATION))


def test_a_rejection_grants_no_compensation() -> None:
    assert refusal(rules.check_decide, status(Phase.HANDLING), POLICY, decide("rejected", amount="20")) == (
        "a rejection grants no compensation; decide 'partially_accepted' instead"
    )


def test_a_rejection_needs_the_mediator_configured() -> None:
    without = POLICY.model_copy(update={"mediator": None})
    for outcome in ("rejected", "partially_accepted"):
        assert refusal(rules.check_decide, status(Phase.HANDLING), without, decide(outcome)) == (
            "a rejection must state the recourse: configure the mediator "
            "(COMPLAINTS_MEDIATOR_NAME and COMPLAINTS_MEDIATOR_CONTACT) first"
        )
    rules.check_decide(status(Phase.HANDLING), without, decide("accepted"))


def test_the_review_is_made_by_another_handler() -> None:
    review = status(Phase.REVIEW, decisions=[decision("rejected", by=ALICE)])
    assert refusal(rules.check_decide, review, POLICY, decide("accepted", by=ALICE)) == (
        "the review must be made by another handler than the first decision's"
    )


def test_compensation_above_the_threshold_needs_approval() -> None:
    assert POLICY.approval_threshold == Decimal(200)
    assert rules.needs_approval(decision("accepted", amount="200.01"), POLICY)
    assert rules.needs_approval(decision("partially_accepted", amount="650"), POLICY)
    assert not rules.needs_approval(decision("accepted", amount="200"), POLICY)
    assert not rules.needs_approval(decision("accepted"), POLICY)
    assert not rules.needs_approval(decision("rejected", amount="650"), POLICY)


# --- approval ---------------------------------------------------------------------


def awaiting_approval() -> ComplaintState:
    return status(Phase.AWAITING_APPROVAL, proposal=decision(amount="650", by=CHLOE))


def test_another_manager_or_an_admin_approves() -> None:
    rules.check_approve_compensation(awaiting_approval(), ApprovalVerdict(by=DENIS, approved=True))
    rules.check_approve_compensation(awaiting_approval(), ApprovalVerdict(by=ROOT, approved=False))


def test_a_handler_or_the_proposer_cannot_approve() -> None:
    assert refusal(rules.check_approve_compensation, awaiting_approval(), ApprovalVerdict(by=BRUNO, approved=True)) == (
        "only a manager approves a compensation above the threshold"
    )
    assert refusal(rules.check_approve_compensation, awaiting_approval(), ApprovalVerdict(by=CHLOE, approved=True)) == (
        "the compensation's proposer cannot approve it: another manager must"
    )


def test_approval_only_while_a_compensation_awaits_it() -> None:
    reason = refusal(rules.check_approve_compensation, status(Phase.HANDLING), ApprovalVerdict(by=DENIS, approved=True))
    assert reason == "cannot approve a compensation while the complaint is handling (possible when awaiting_approval)"


# --- postal acknowledgement ---------------------------------------------------------

NOW = RECEIVED + timedelta(days=3)
UNACKNOWLEDGED = {"acknowledged_at": None, "ack_method": None}


def letter(sent_after_receipt: timedelta | None) -> PostalLetter:
    sent_at = RECEIVED + sent_after_receipt if sent_after_receipt is not None else None
    return PostalLetter(confirmed_by="Alice", sent_at=sent_at)


def test_a_letter_sent_between_receipt_and_now_is_accepted() -> None:
    state = status(Phase.INTAKE, **UNACKNOWLEDGED)
    rules.check_postal_acknowledgement(state, None, letter(None), NOW)
    rules.check_postal_acknowledgement(state, None, letter(timedelta(0)), NOW)
    rules.check_postal_acknowledgement(state, None, letter(timedelta(days=3)), NOW)


def test_a_complaint_acknowledged_already_refuses_the_letter() -> None:
    recorded = status(Phase.ASSESSMENT)
    assert refusal(rules.check_postal_acknowledgement, recorded, None, letter(None), NOW) == (
        "REC-2026-000001 is already acknowledged (email, 2026-11-02 11:00 UTC)"
    )
    emailed = Acknowledgement(
        reference="REC-2026-000001",
        method="email",
        acknowledged_at=ACKNOWLEDGED,
        response_due_at=RECEIVED + timedelta(days=61),
        actor="system",
    )
    not_yet_recorded = status(Phase.INTAKE, **UNACKNOWLEDGED)
    assert refusal(rules.check_postal_acknowledgement, not_yet_recorded, emailed, letter(None), NOW) == (
        "REC-2026-000001 is already acknowledged (email, 2026-11-02 11:00 UTC)"
    )


def test_a_letter_dated_before_receipt_or_in_the_future_is_refused() -> None:
    state = status(Phase.INTAKE, **UNACKNOWLEDGED)
    assert refusal(rules.check_postal_acknowledgement, state, None, letter(timedelta(seconds=-1)), NOW) == (
        "the letter cannot have been sent before the complaint was received"
    )
    assert refusal(rules.check_postal_acknowledgement, state, None, letter(timedelta(days=3, seconds=1)), NOW) == (
        "the letter's sending date is in the future"
    )


def test_a_verdict_when_the_proposal_was_just_taken_is_refused_not_asserted() -> None:
    """A second verdict validated in the same activation as the first finds no proposal (issue 13 #4)."""
    taken = status(Phase.AWAITING_APPROVAL)  # the first verdict took the proposal
    assert refusal(rules.check_approve_compensation, taken, ApprovalVerdict(by=DENIS, approved=True)) == (
        "the compensation is already being approved or refused"
    )


# --- claims: what a command or the response holds while it is carried out --------------


def test_a_decision_being_journaled_refuses_another() -> None:
    """Claimed before the decision's first await (issue 13 #2)."""
    assert refusal(rules.check_decide, status(Phase.HANDLING, deciding=True), POLICY, decide("accepted")) == (
        "a decision is already being carried out"
    )


@pytest.mark.parametrize(
    ("check", "args", "action"),
    [
        (rules.check_request_information, (), "request information"),
        (rules.check_extend_analysis, (extension(timedelta(days=45)),), "extend the analysis"),
        (rules.check_confirm_assessment, (ConfirmAssessment(by=ALICE),), "confirm or change the assessment"),
        (rules.check_decide, (POLICY, decide("accepted")), "decide"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_nothing_changes_the_answer_while_the_response_goes_out(check: Check, args: tuple, action: str) -> None:
    """From the decision taken until the response is journaled (issue 13 #7)."""
    going_out = status(Phase.HANDLING, responding=True)
    assert refusal(check, going_out, *args) == f"cannot {action} while the response is being sent"
    taken = status(Phase.HANDLING, decision=decision())  # taken, the response not started yet
    assert refusal(check, taken, *args) in (
        f"cannot {action} while the response is being sent",
        "a decision is already being carried out",
    )


# --- the response letter to a complainant without email -----------------------------------


def awaiting_letter(**changes: object) -> ComplaintState:
    return status(Phase.HANDLING, responding=True, response_letter_awaited=True, decision=decision(), **changes)


def test_the_response_letter_is_confirmed_once_it_awaits_confirmation() -> None:
    now = decision().decided_at + timedelta(hours=1)
    rules.check_postal_response(awaiting_letter(), PostalLetter(confirmed_by="Claire"), now)
    rules.check_postal_response(awaiting_letter(), PostalLetter(confirmed_by="Claire", sent_at=now), now)
    assert refusal(rules.check_postal_response, status(Phase.HANDLING), PostalLetter(confirmed_by="Claire"), now) == (
        "REC-2026-000001 has no response letter awaiting confirmation"
    )


def test_a_response_letter_dated_before_the_decision_or_in_the_future_is_refused() -> None:
    decided = decision().decided_at
    early = PostalLetter(confirmed_by="Claire", sent_at=decided - timedelta(seconds=1))
    assert refusal(rules.check_postal_response, awaiting_letter(), early, decided + timedelta(hours=1)) == (
        "the letter cannot have been sent before the decision"
    )
    late = PostalLetter(confirmed_by="Claire", sent_at=decided + timedelta(hours=2))
    assert refusal(rules.check_postal_response, awaiting_letter(), late, decided + timedelta(hours=1)) == (
        "the letter's sending date is in the future"
    )


# --- closing ------------------------------------------------------------------------------


def test_a_contested_response_is_not_closed_before_its_review() -> None:
    contested = status(Phase.RESPONDED, contest_signal=Contest(reason="Le vase était bien emballé."))
    assert refusal(rules.check_close, contested) == (
        "the customer has contested the response: a second handler reviews it first"
    )
    rules.check_close(status(Phase.RESPONDED))

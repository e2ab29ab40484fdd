"""Whether an operator's command fits the complaint as it stands.

Pure checks the update validators call: each raises ValueError with the reason
the operator reads, before anything is written to history. No workflow APIs
(the validator passes `now`), so they are tested without a server."""

from collections.abc import Set
from datetime import datetime

from activities.register import Acknowledgement
from complaints.assessment import Priority
from complaints.complaint_status import DecisionRecord, Phase
from complaints.operator_commands import (
    Absorption,
    AnalysisExtension,
    ApprovalVerdict,
    ConfirmAssessment,
    Decision,
    MergeInto,
    Outcome,
    PlannedAction,
    PostalLetter,
    Role,
)
from complaints.policy import ComplaintPolicy
from complaints.workflow_state import ComplaintState

MIN_JUSTIFICATION = 20  # characters: "toute réponse doit être argumentée"
BEFORE_RESPONSE = frozenset({Phase.ASSESSMENT, Phase.HANDLING, Phase.AWAITING_CUSTOMER, Phase.AWAITING_APPROVAL})
ACTIVE = BEFORE_RESPONSE | {Phase.ACKNOWLEDGED, Phase.RESPONDED, Phase.REVIEW, Phase.SURVEY}
DECIDING = frozenset({Phase.HANDLING, Phase.REVIEW})
ASKING = frozenset({Phase.ASSESSMENT, Phase.HANDLING})  # information is requested before the decision
CLOSABLE = frozenset({Phase.RESPONDED, Phase.SURVEY})
OPEN = ACTIVE | {Phase.RECEIVED, Phase.INTAKE}  # a merge is possible in any of them

# The phases each update needs, by update name: the checks below refuse any
# other, and the API reads it to tell a run one workflow task behind its
# register (api/workflow_calls.py) from a command that does not fit.
NEEDED_PHASES: dict[str, frozenset[Phase]] = {
    "confirm_assessment": BEFORE_RESPONSE,
    "assign": ACTIVE,
    "plan_action": ACTIVE,
    "add_note": ACTIVE | {Phase.INTAKE},
    "send_progress_update": ACTIVE,
    "request_information": ASKING,
    "extend_analysis": BEFORE_RESPONSE,
    "decide": DECIDING,
    "approve_compensation": frozenset({Phase.AWAITING_APPROVAL}),
    "close": CLOSABLE,
    "merge_into": OPEN,
    "absorb": OPEN,
}


class WrongPhase(ValueError):
    """A command refused for the complaint's phase alone: the failure's type
    the API sees is this class's name."""


def require_phase(state: ComplaintState, action: str, allowed: Set[Phase]) -> None:
    if state.merged_into:  # closed as merged: the survivor is where it goes on
        raise ValueError(f"cannot {action}: {state.reference} was merged into {state.merged_into}")
    if state.phase not in allowed:
        raise WrongPhase(
            f"cannot {action} while the complaint is {state.phase.value} "
            f"(possible when {', '.join(sorted(p.value for p in allowed))})"
        )


def require_no_response_going_out(state: ComplaintState, action: str) -> None:
    """Once a decision is taken, the response is on its way: nothing may
    change what it answers (or ask the customer something beside it)."""
    if state.responding or state.decision is not None:
        raise ValueError(f"cannot {action} while the response is being sent")


def needs_approval(decision: DecisionRecord, policy: ComplaintPolicy) -> bool:
    """A compensation granted above the threshold waits for a manager."""
    return bool(
        decision.compensation
        and decision.outcome is not Outcome.REJECTED
        and decision.compensation.amount > policy.approval_threshold
    )


def check_confirm_assessment(
    state: ComplaintState, command: ConfirmAssessment, policy: ComplaintPolicy | None = None, regimes: bool = False
) -> None:
    """`regimes`: the run may change the regime (REGULATORY_CLOCK)."""
    require_phase(state, "confirm or change the assessment", NEEDED_PHASES["confirm_assessment"])
    require_no_response_going_out(state, "confirm or change the assessment")
    if command.priority and command.priority is not state.priority and not command.reason:
        raise ValueError(f"overriding the priority {state.priority} with {command.priority} needs a reason")
    if command.regime is not None:
        check_regime_change(state, command, policy, regimes)


def check_regime_change(
    state: ComplaintState, command: ConfirmAssessment, policy: ComplaintPolicy | None, regimes: bool
) -> None:
    if not regimes or policy is None:
        raise ValueError("this complaint's run was started before regimes could change: its regime stays")
    known = policy.regime_names()
    if command.regime not in known:
        raise ValueError(f"unknown regime {command.regime!r}; the regimes are {', '.join(sorted(known))}")
    if command.regime != state.regime and not command.reason:
        raise ValueError(f"changing the regime {state.regime} to {command.regime} needs a reason")


def check_assign(state: ComplaintState) -> None:
    require_phase(state, "assign the complaint", NEEDED_PHASES["assign"])


def check_plan_action(state: ComplaintState, action: PlannedAction) -> None:
    require_phase(state, "plan actions", NEEDED_PHASES["plan_action"])
    if action.kind == "corrective" and state.priority is Priority.P1 and action.root_cause is None:
        raise ValueError("a corrective action on a P1 complaint needs a root-cause analysis (root_cause)")


def check_add_note(state: ComplaintState) -> None:
    require_phase(state, "add a note", NEEDED_PHASES["add_note"])


def check_progress_update(state: ComplaintState) -> None:
    require_phase(state, "send a progress update", NEEDED_PHASES["send_progress_update"])


def check_request_information(state: ComplaintState) -> None:
    require_phase(state, "request information", NEEDED_PHASES["request_information"])
    require_no_response_going_out(state, "request information")


def check_extend_analysis(
    state: ComplaintState, extension: AnalysisExtension, holding_max: datetime | None = None
) -> None:
    """`holding_max`: where the regime allows a holding reply (payment
    services), the latest the final answer may then come."""
    require_phase(state, "extend the analysis", NEEDED_PHASES["extend_analysis"])
    require_no_response_going_out(state, "extend the analysis")
    if extension.new_due_at <= state.response_due_at:
        raise ValueError(
            f"the new date must be after the current response deadline ({state.response_due_at:%Y-%m-%d %H:%M} UTC)"
        )
    maximum = max(state.regulatory_due_at, holding_max) if holding_max else state.regulatory_due_at
    if extension.new_due_at > maximum:
        what = "the holding reply's maximum" if holding_max else "the regulatory maximum"
        raise ValueError(f"the new date may not pass {what} ({maximum:%Y-%m-%d %H:%M} UTC)")


def check_decide(state: ComplaintState, policy: ComplaintPolicy, decision: Decision) -> None:
    require_phase(state, "decide", NEEDED_PHASES["decide"])
    if state.deciding or state.decision or state.proposal:
        raise ValueError("a decision is already being carried out")
    require_no_response_going_out(state, "decide")
    if len(decision.justification) < MIN_JUSTIFICATION:
        raise ValueError(
            "every answer, positive or negative, must be argued: write a justification "
            f"of at least {MIN_JUSTIFICATION} characters the customer can understand"
        )
    if decision.outcome is Outcome.REJECTED and decision.compensation:
        raise ValueError("a rejection grants no compensation; decide 'partially_accepted' instead")
    if decision.outcome is not Outcome.ACCEPTED and policy.mediator is None:
        raise ValueError(
            "a rejection must state the recourse: configure the mediator "
            "(COMPLAINTS_MEDIATOR_NAME and COMPLAINTS_MEDIATOR_CONTACT) first"
        )
    if state.phase is Phase.REVIEW and state.decisions and decision.by.name == state.decisions[-1].decided_by:
        raise ValueError("the review must be made by another handler than the first decision's")


def check_approve_compensation(state: ComplaintState, verdict: ApprovalVerdict) -> None:
    require_phase(state, "approve a compensation", NEEDED_PHASES["approve_compensation"])
    if state.proposal is None:  # taken by an approval or refusal being carried out
        raise ValueError("the compensation is already being approved or refused")
    if verdict.by.role not in (Role.MANAGER, Role.ADMIN):
        raise ValueError("only a manager approves a compensation above the threshold")
    if verdict.by.name == state.proposal.decided_by:
        raise ValueError("the compensation's proposer cannot approve it: another manager must")


def check_postal_acknowledgement(
    state: ComplaintState, ack: Acknowledgement | None, letter: PostalLetter, now: datetime
) -> None:
    """`ack`: an acknowledgement taken but not recorded yet (the run holds it until the register has it)."""
    acknowledged = ack or state
    if acknowledged.acknowledged_at is not None:
        raise ValueError(
            f"{state.reference} is already acknowledged "
            f"({ack.method if ack else state.ack_method}, {acknowledged.acknowledged_at:%Y-%m-%d %H:%M} UTC)"
        )
    if letter.sent_at and letter.sent_at < state.received_at:
        raise ValueError("the letter cannot have been sent before the complaint was received")
    if letter.sent_at and letter.sent_at > now:
        raise ValueError("the letter's sending date is in the future")


def check_postal_response(state: ComplaintState, letter: PostalLetter, now: datetime) -> None:
    """An operator confirms the response letter went by post, once it awaits that."""
    if not state.response_letter_awaited or state.response_letter is not None:
        raise ValueError(f"{state.reference} has no response letter awaiting confirmation")
    decided_at = state.decision.decided_at if state.decision else state.received_at
    if letter.sent_at and letter.sent_at < decided_at:
        raise ValueError("the letter cannot have been sent before the decision")
    if letter.sent_at and letter.sent_at > now:
        raise ValueError("the letter's sending date is in the future")


def check_close(state: ComplaintState) -> None:
    require_phase(state, "close", NEEDED_PHASES["close"])
    if state.phase is Phase.RESPONDED and state.contest_signal is not None and state.closure is None:
        raise ValueError("the customer has contested the response: a second handler reviews it first")


MERGES_LATER = "this complaint's run was started before merges: it cannot be merged until it continues as new"


def check_merge_into(state: ComplaintState, command: MergeInto, merges: bool) -> None:
    """`merges`: the run can be merged (MERGES). The same merge asked again is
    answered as the first."""
    if state.merged_into == command.into:
        return
    if not merges:
        raise ValueError(MERGES_LATER)
    if command.into == state.reference:
        raise ValueError("a complaint cannot be merged into itself")
    require_phase(state, "merge the complaint", NEEDED_PHASES["merge_into"])
    require_no_response_going_out(state, "merge the complaint")
    if state.deciding:
        raise ValueError("cannot merge the complaint while a decision is being carried out")
    if state.closure is not None:
        raise ValueError(f"{state.reference} is being closed")
    if command.into in state.absorbed:
        raise ValueError(f"{command.into} was merged into {state.reference}: it cannot take it in turn")


def check_absorb(state: ComplaintState, absorption: Absorption, merges: bool) -> None:
    """The survivor of a merge takes the absorbed complaint in once (asked again: answered as the first)."""
    if absorption.absorbed in state.absorbed:
        return
    if not merges:
        raise ValueError(MERGES_LATER)
    if absorption.absorbed == state.reference:
        raise ValueError("a complaint cannot be merged into itself")
    require_phase(state, "take in a merged complaint", NEEDED_PHASES["absorb"])

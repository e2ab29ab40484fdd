"""The SLA clocks' arithmetic and what a warning or breach changes, without a
server: the workflow's watcher only waits for the times computed here."""

from datetime import timedelta

import pytest

from complaints.alerts import DeadlineAlert
from complaints.assessment import Priority
from complaints.complaint_status import AlertKind, Deadline, DeadlineName, Phase, SlaStatus
from complaints.policy import Span
from complaints.workflow_state import ComplaintState, DeadlineEvent
from tests.helpers.complaint_states import ACKNOWLEDGED, POLICY, RECEIVED, deadline, start, status
from workflows.complaint import deadlines

DAY = timedelta(days=1)


def clocks(*running: Deadline) -> dict[str, Deadline]:
    return {d.name: d for d in running}


# --- next_event ---------------------------------------------------------------------


def test_a_clock_warns_at_the_fraction_of_its_length_then_breaches_when_due() -> None:
    response = deadline("response", due_in=10 * DAY)
    event = deadlines.next_event(clocks(response), 0.75, paused=False)
    assert event == DeadlineEvent(deadline="response", kind="warning", at=ACKNOWLEDGED + 7.5 * DAY, generation=0)
    response.warned = True
    event = deadlines.next_event(clocks(response), 0.75, paused=False)
    assert event == DeadlineEvent(deadline="response", kind="breach", at=ACKNOWLEDGED + 10 * DAY, generation=0)


def test_a_clock_that_does_not_warn_only_breaches() -> None:
    ack = deadline("acknowledgement", due_in=10 * DAY, warn=False)
    event = deadlines.next_event(clocks(ack), 0.75, paused=False)
    assert event is not None and (event.kind, event.at) == ("breach", ACKNOWLEDGED + 10 * DAY)


def test_the_earliest_event_of_all_clocks_comes_first() -> None:
    running = clocks(deadline("response", due_in=20 * DAY), deadline("assessment", due_in=4 * DAY))
    event = deadlines.next_event(running, 0.75, paused=False)
    assert event == DeadlineEvent(deadline="assessment", kind="warning", at=ACKNOWLEDGED + 3 * DAY, generation=0)


def test_met_or_breached_clocks_raise_nothing_more() -> None:
    met = deadline("assessment", met_at=ACKNOWLEDGED + DAY)
    breached = deadline("response", warned=True, breached=True)
    assert deadlines.next_event(clocks(met, breached), 0.75, paused=False) is None
    assert deadlines.next_event({}, 0.75, paused=False) is None


def test_while_paused_only_the_clocks_that_do_not_pause_run() -> None:
    internal = deadline("response", due_in=2 * DAY, pausable=True)
    approval = deadline("approval", due_in=5 * DAY, warn=False)
    event = deadlines.next_event(clocks(internal, approval), 0.75, paused=True)
    assert event is not None and (event.deadline, event.kind) == ("approval", "breach")
    assert deadlines.next_event(clocks(internal), 0.75, paused=True) is None
    assert deadlines.next_event(clocks(internal), 0.75, paused=False) is not None


def test_the_cap_brings_the_breach_forward_and_the_warning_with_it() -> None:
    capped = deadline("response", due_in=10 * DAY, cap=ACKNOWLEDGED + 4 * DAY)
    event = deadlines.next_event(clocks(capped), 0.75, paused=False)
    assert event is not None and (event.kind, event.at) == ("warning", ACKNOWLEDGED + 3 * DAY)


def test_a_clock_with_no_time_left_breaches_without_warning() -> None:
    # Capped at its start (e.g. started after the regulatory maximum): no warning can come before the breach.
    capped = deadline("response", due_in=4 * DAY, cap=ACKNOWLEDGED)
    event = deadlines.next_event(clocks(capped), 0.75, paused=False)
    assert event is not None and (event.kind, event.at) == ("breach", ACKNOWLEDGED)


def test_events_carry_the_clocks_generation() -> None:
    moved = deadline("response", generation=2)
    event = deadlines.next_event(clocks(moved), 0.75, paused=False)
    assert event is not None and event.generation == 2


# --- pauses, moves, due dates ---------------------------------------------------------


def test_resume_adds_the_wait_to_every_running_internal_clock() -> None:
    internal = deadline("response", pausable=True, paused_for=DAY)
    met = deadline("assessment", pausable=True, met_at=ACKNOWLEDGED)
    external = deadline("approval")
    deadlines.resume(clocks(internal, met, external), ACKNOWLEDGED, ACKNOWLEDGED + 2 * DAY)
    assert (internal.paused_for, met.paused_for, external.paused_for) == (3 * DAY, timedelta(0), timedelta(0))
    assert internal.effective_due == ACKNOWLEDGED + 13 * DAY


def test_end_pause_resumes_only_when_the_policy_pauses() -> None:
    now = ACKNOWLEDGED + 2 * DAY
    for pausing, expected in ((True, 2 * DAY), (False, timedelta(0))):
        policy = POLICY.model_copy(update={"pause_while_awaiting_customer": pausing})
        state = status(Phase.AWAITING_CUSTOMER, awaiting_customer_since=ACKNOWLEDGED)
        state.deadlines = clocks(deadline("response", pausable=True))
        assert deadlines.paused(state, policy) is pausing
        deadlines.end_pause(state, policy, now)
        assert state.awaiting_customer_since is None and not deadlines.paused(state, policy)
        assert state.deadlines["response"].paused_for == expected


def test_a_moved_clock_warns_and_breaches_again_under_a_new_generation() -> None:
    response = deadline("response", due_in=10 * DAY, warned=True, breached=True, paused_for=DAY)
    now = ACKNOWLEDGED + 12 * DAY
    deadlines.move(response, ACKNOWLEDGED + 20 * DAY, now)
    assert response.due_at == ACKNOWLEDGED + 20 * DAY and response.effective_due == ACKNOWLEDGED + 21 * DAY
    assert (response.generation, response.warned, response.breached) == (1, False, False)


def test_a_clock_moved_into_the_past_keeps_its_alerts() -> None:
    response = deadline("response", due_in=10 * DAY, warned=True, breached=True)
    deadlines.move(response, ACKNOWLEDGED + 5 * DAY, ACKNOWLEDGED + 12 * DAY)
    assert (response.generation, response.warned, response.breached) == (1, True, True)


def test_next_due_is_the_earliest_running_clock() -> None:
    early = deadline("assessment", due_in=3 * DAY, met_at=ACKNOWLEDGED)
    later = deadline("response", due_in=10 * DAY, paused_for=DAY)
    approval = deadline("approval", due_in=12 * DAY)
    assert deadlines.next_due(clocks(early, later, approval)) == ACKNOWLEDGED + 11 * DAY
    assert deadlines.next_due(clocks(early)) is None


def test_meet_stops_a_running_clock_once() -> None:
    running = clocks(deadline("assessment"))
    assert deadlines.meet(running, "assessment", ACKNOWLEDGED + DAY)
    assert not deadlines.meet(running, "assessment", ACKNOWLEDGED + 2 * DAY)
    assert running["assessment"].met_at == ACKNOWLEDGED + DAY
    assert not deadlines.meet(running, "approval", ACKNOWLEDGED)


def test_closure_stops_every_clock_still_running() -> None:
    met = deadline("assessment", met_at=ACKNOWLEDGED + DAY)
    running = clocks(met, deadline("response"))
    deadlines.stop_all(running, ACKNOWLEDGED + 5 * DAY)
    assert [d.met_at for d in running.values()] == [ACKNOWLEDGED + DAY, ACKNOWLEDGED + 5 * DAY]


# --- the clocks a complaint gets ----------------------------------------------------------


def test_a_new_complaint_runs_the_acknowledgement_clock_only() -> None:
    state = deadlines.received(start())
    assert state.phase is Phase.RECEIVED and list(state.deadlines) == ["acknowledgement"]
    ack = state.deadlines["acknowledgement"]
    assert (ack.started_at, ack.due_at, ack.warn) == (RECEIVED, RECEIVED + 10 * DAY, False)
    assert state.ack_due_at == RECEIVED + 10 * DAY
    assert state.response_due_at == state.regulatory_due_at == RECEIVED.replace(month=1, year=2027)


def test_the_priority_sets_pausable_clocks_capped_at_the_regulatory_maximum() -> None:
    state = status(Phase.ACKNOWLEDGED)
    p4 = deadlines.for_priority(POLICY, state, Priority.P4, ACKNOWLEDGED)
    assert list(p4) == ["assessment", "response"]
    assert p4["assessment"].due_at == ACKNOWLEDGED + 10 * DAY
    # P4's two months from acknowledgement pass the regulatory two months from receipt.
    assert p4["response"].due_at == POLICY.response_due(RECEIVED)
    assert all(d.pausable and d.cap == state.regulatory_due_at and d.warn for d in p4.values())
    p1 = deadlines.for_priority(POLICY, state, Priority.P1, ACKNOWLEDGED)
    assert (p1["assessment"].due_at, p1["response"].due_at) == (ACKNOWLEDGED + DAY, ACKNOWLEDGED + 7 * DAY)


def test_a_new_priority_moves_the_clocks_still_running() -> None:
    state = status(Phase.HANDLING)
    state.deadlines = deadlines.for_priority(POLICY, state, Priority.P3, ACKNOWLEDGED)
    state.deadlines["assessment"].met_at = ACKNOWLEDGED + DAY
    deadlines.reprioritise(state, POLICY, Priority.P1, ACKNOWLEDGED + 2 * DAY)
    assessment, response = state.deadlines["assessment"], state.deadlines["response"]
    assert (assessment.due_at, assessment.generation) == (ACKNOWLEDGED + 5 * DAY, 0)
    assert (response.due_at, response.generation) == (ACKNOWLEDGED + 7 * DAY, 1)


def test_the_approval_clock_breaches_without_warning() -> None:
    approval = deadlines.approval(POLICY, ACKNOWLEDGED)
    assert (approval.name, approval.due_at, approval.warn, approval.pausable) == (
        "approval",
        ACKNOWLEDGED + 2 * DAY,
        False,
        False,
    )


def test_the_response_date_in_force_follows_the_response_clock() -> None:
    state = status(Phase.HANDLING)
    before = state.response_due_at
    deadlines.sync_response_due(state)  # no response clock yet
    assert state.response_due_at == before
    state.deadlines = clocks(deadline("response", due_in=10 * DAY, paused_for=DAY))
    deadlines.sync_response_due(state)
    assert state.response_due_at == ACKNOWLEDGED + 11 * DAY


# --- event -> alert -------------------------------------------------------------------------


def fire(
    kind: AlertKind, name: DeadlineName = "response", **state_changes: object
) -> tuple[ComplaintState, deadlines.Raised]:
    state = status(Phase.HANDLING, **state_changes)
    state.deadlines = clocks(deadline(name, due_in=10 * DAY, generation=1, paused_for=DAY))
    event = DeadlineEvent(deadline=name, kind=kind, at=ACKNOWLEDGED + 7 * DAY, generation=1)
    return state, deadlines.raise_alert(state, event)


def test_a_warning_is_raised_once_and_puts_the_complaint_on_warning() -> None:
    state, raised = fire("warning")
    alert = raised.alert
    assert alert == DeadlineAlert(
        reference="REC-2026-000001", deadline="response", kind="warning", due_at=ACKNOWLEDGED + 11 * DAY, generation=1
    )
    assert alert.key == "REC-2026-000001:response:1:warning"
    assert state.deadlines["response"].warned and not state.deadlines["response"].breached
    assert (state.sla_status, state.escalation_level, state.breaches) == (SlaStatus.WARNING, 0, [])
    assert not raised.delay_notice


def test_a_warning_after_a_breach_leaves_the_complaint_breached() -> None:
    state, _ = fire("warning", sla_status=SlaStatus.BREACHED, escalation_level=1)
    assert (state.sla_status, state.escalation_level) == (SlaStatus.BREACHED, 1)


def test_a_breach_escalates_one_level_and_is_listed() -> None:
    state, raised = fire("breach", sla_status=SlaStatus.WARNING, escalation_level=1, breaches=["approval"])
    assert state.deadlines["response"].breached
    assert (state.sla_status, state.escalation_level) == (SlaStatus.BREACHED, 2)
    assert state.breaches == ["approval", "response"]
    assert raised.alert.key == "REC-2026-000001:response:1:breach"


@pytest.mark.parametrize(
    ("name", "kind", "told"),
    [
        ("assessment", "breach", True),
        ("response", "breach", True),
        ("assessment", "warning", False),
        ("response", "warning", False),
        ("acknowledgement", "breach", False),
        ("approval", "breach", False),
    ],
)
def test_the_customer_is_told_of_a_delay_when_the_answer_is_late(
    name: DeadlineName, kind: AlertKind, told: bool
) -> None:
    _, raised = fire(kind, name)
    assert raised.delay_notice is told


# --- pauses move the warning; an extension during a pause; approval rounds (issue 13) -------


def test_a_pause_moves_the_warning_by_the_whole_pause() -> None:
    """#15: the warning keeps its place in the time the clock runs."""
    response = deadline("response", due_in=10 * DAY, paused_for=2 * DAY)
    event = deadlines.next_event(clocks(response), 0.75, paused=False)
    assert event is not None and (event.kind, event.at) == ("warning", ACKNOWLEDGED + 2 * DAY + 7.5 * DAY)
    assert response.warning_at(0.75) == ACKNOWLEDGED + 9.5 * DAY
    # Runs started before the fix keep the warning they computed: 0.75 of the paused length.
    before = deadlines.next_event(clocks(response), 0.75, paused=False, whole_pause=False)
    assert before is not None and before.at == ACKNOWLEDGED + 9 * DAY


def test_a_capped_paused_clock_warns_within_what_is_left() -> None:
    capped = deadline("response", due_in=10 * DAY, paused_for=2 * DAY, cap=ACKNOWLEDGED + 10 * DAY)
    event = deadlines.next_event(clocks(capped), 0.75, paused=False)
    assert event is not None and event.at == ACKNOWLEDGED + 2 * DAY + 6 * DAY  # 0.75 of the 8 days it runs


def waiting_since(since: timedelta, **response: object) -> ComplaintState:
    state = status(Phase.AWAITING_CUSTOMER, awaiting_customer_since=ACKNOWLEDGED + since)
    state.deadlines = clocks(deadline("response", due_in=10 * DAY, pausable=True, **response))
    deadlines.sync_response_due(state)
    return state


def test_an_extension_during_a_customer_wait_is_due_on_the_date_told() -> None:
    """#11: the wait going on is not added on top of the date the customer was told."""
    state = waiting_since(DAY, paused_for=DAY)
    told = ACKNOWLEDGED + 20 * DAY
    deadlines.extend(state, POLICY, told, ACKNOWLEDGED + 3 * DAY)
    deadlines.sync_response_due(state)
    assert state.response_due_at == told
    deadlines.end_pause(state, POLICY, ACKNOWLEDGED + 6 * DAY)  # the customer answers three days later
    deadlines.sync_response_due(state)
    assert state.response_due_at == told and state.running_through_pause == []


def test_an_extended_clock_runs_through_the_wait() -> None:
    state = waiting_since(DAY)
    deadlines.extend(state, POLICY, ACKNOWLEDGED + 4 * DAY, ACKNOWLEDGED + 2 * DAY)
    paused = deadlines.paused(state, POLICY)
    assert paused and state.running_through_pause == ["response"]
    event = deadlines.next_event(state.deadlines, 0.75, paused, running=state.running_through_pause)
    assert event is not None and (event.deadline, event.kind, event.generation) == ("response", "warning", 1)
    assert deadlines.next_event(state.deadlines, 0.75, paused) is None  # without: paused as before


def test_an_extension_outside_a_wait_keeps_the_pauses_so_far() -> None:
    state = status(Phase.HANDLING)
    state.deadlines = clocks(deadline("response", due_in=10 * DAY, pausable=True, paused_for=DAY))
    deadlines.extend(state, POLICY, ACKNOWLEDGED + 20 * DAY, ACKNOWLEDGED + 3 * DAY)
    deadlines.sync_response_due(state)
    assert state.response_due_at == ACKNOWLEDGED + 20 * DAY and state.running_through_pause == []


def test_a_second_approval_round_is_a_new_generation_with_its_own_alerts() -> None:
    """#6: the first round's breach key does not swallow the second round's."""
    first = deadlines.approval(POLICY, ACKNOWLEDGED)
    first.breached, first.met_at = True, ACKNOWLEDGED + 3 * DAY
    second = deadlines.approval(POLICY, ACKNOWLEDGED + 4 * DAY, first)
    assert (first.generation, second.generation) == (0, 1)
    state = status(Phase.AWAITING_APPROVAL)
    keys = []
    for clock in (first, second):
        state.deadlines = clocks(clock.model_copy(update={"breached": False, "met_at": None}))
        event = deadlines.next_event(state.deadlines, 0.75, paused=False)
        assert event is not None
        keys.append(deadlines.raise_alert(state, event).alert.key)
    assert keys == ["REC-2026-000001:approval:0:breach", "REC-2026-000001:approval:1:breach"]


# --- the regulatory clock (issue 12) ----------------------------------------------------


def test_the_regulatory_clock_starts_at_intake_with_the_regimes_dates() -> None:
    sent = RECEIVED - 2 * DAY
    begun = start().model_copy(update={"regime": "acpr", "sent_at": sent})
    state = deadlines.received(begun)
    deadlines.start_regulatory(state, begun)
    regulatory = state.deadlines["regulatory"]
    assert (state.regime, state.sent_at) == ("acpr", sent)
    assert regulatory.due_at == state.regulatory_due_at == POLICY.regulatory_due("acpr", sent, RECEIVED)
    assert regulatory.started_at == sent and not regulatory.pausable and regulatory.cap is None and regulatory.warn
    assert state.ack_due_at == state.deadlines["acknowledgement"].due_at
    assert state.ack_due_at == POLICY.acknowledgement_due_for("acpr", sent, RECEIVED)
    assert state.response_due_at == state.regulatory_due_at  # what the acknowledgement states
    # Never paused: it warns and breaches during a customer wait.
    event = deadlines.next_event(state.deadlines, 0.75, paused=True)
    assert event is not None and event.deadline in ("acknowledgement", "regulatory")


def test_a_regulatory_breach_opens_mediation_with_the_delay_notice() -> None:
    state = status(Phase.HANDLING)
    state.deadlines = clocks(deadline("regulatory", warned=True))
    event = deadlines.next_event(state.deadlines, 0.75, paused=False)
    assert event is not None and (event.deadline, event.kind) == ("regulatory", "breach")
    assert deadlines.raise_alert(state, event).delay_notice
    state.deadlines = clocks(deadline("review"))
    event = deadlines.next_event(state.deadlines, 0.75, paused=False)
    assert event is not None and not deadlines.raise_alert(state, event).delay_notice


def test_a_regime_change_moves_the_regulatory_clock_and_caps_the_internal_ones() -> None:
    begun = start().model_copy(update={"regime": "acpr"})
    state = deadlines.received(begun)
    deadlines.start_regulatory(state, begun)
    state.deadlines.update(deadlines.for_priority(POLICY, state, Priority.P4, ACKNOWLEDGED))
    state.deadlines["acknowledgement"].met_at = ACKNOWLEDGED
    deadlines.change_regime(state, begun, "payment_services", ACKNOWLEDGED + DAY)
    due = POLICY.regulatory_due("payment_services", None, RECEIVED)
    regulatory = state.deadlines["regulatory"]
    assert state.regime == "payment_services" and regulatory.due_at == due and regulatory.generation == 1
    assert state.deadlines["response"].cap == due and state.deadlines["response"].effective_due <= due
    acknowledgement = state.deadlines["acknowledgement"]
    assert acknowledgement.generation == 0 and acknowledgement.due_at == state.ack_due_at  # met: as it was
    assert state.ack_due_at == POLICY.acknowledgement_due_for("acpr", None, RECEIVED)


def test_a_regime_change_before_the_acknowledgement_moves_it() -> None:
    begun = start().model_copy(update={"regime": "general"})
    state = deadlines.received(begun)
    deadlines.start_regulatory(state, begun)
    deadlines.change_regime(state, begun, "acpr", RECEIVED + DAY)
    acknowledgement = state.deadlines["acknowledgement"]
    assert acknowledgement.due_at == state.ack_due_at == POLICY.acknowledgement_due_for("acpr", None, RECEIVED)
    assert acknowledgement.generation == 1


def test_a_holding_reply_moves_the_regulatory_clock_to_the_regimes_maximum() -> None:
    state = status(Phase.HANDLING)
    state.deadlines = clocks(deadline("regulatory"), deadline("response", pausable=True, cap=state.regulatory_due_at))
    maximum = state.regulatory_due_at + 20 * DAY
    deadlines.holding_reply(state, maximum, ACKNOWLEDGED + DAY)
    assert state.regulatory_due_at == maximum == state.deadlines["regulatory"].due_at
    assert state.deadlines["response"].cap == maximum


def test_a_contest_opens_a_review_clock_of_the_policys_span() -> None:
    review = deadlines.review(POLICY.model_copy(update={"review": Span.model_validate("10 days")}), ACKNOWLEDGED)
    assert (review.name, review.due_at, review.pausable) == ("review", ACKNOWLEDGED + 10 * DAY, False)


def test_a_contest_reopens_the_regulatory_clock_without_raising_its_alerts_again() -> None:
    state = status(Phase.REVIEW)
    state.deadlines = clocks(deadline("regulatory", warned=True, breached=True, met_at=ACKNOWLEDGED + DAY))
    deadlines.reopen_regulatory(state.deadlines)
    assert state.deadlines["regulatory"].met_at is None
    assert deadlines.next_event(state.deadlines, 0.75, paused=False) is None  # breached already: once
    state.deadlines = clocks(deadline("regulatory", met_at=ACKNOWLEDGED + DAY))
    deadlines.reopen_regulatory(state.deadlines)
    event = deadlines.next_event(state.deadlines, 0.75, paused=False)
    assert event is not None and (event.deadline, event.kind) == ("regulatory", "warning")

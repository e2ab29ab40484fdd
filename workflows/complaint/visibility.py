"""What a complaint's run shows: its search attributes (the list views and
`temporal workflow list` queries), the UI's current details and the business
metrics. Search attributes are not encrypted: never the complainant's data."""

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.register import Acknowledgement
    from complaints import metrics
    from complaints import search_attributes as attrs
    from complaints.complaint_status import Phase
    from complaints.operator_commands import Compensation
    from complaints.submission import Channel
    from complaints.workflow_state import ComplaintState, DeadlineEvent
    from workflows.complaint import deadlines

# Patches. Runs that took a path keep it on replay.
CATEGORY_PATCH = "category-search-attribute"  # the category shown (runs started before: not)
# One upsert per transition with only the keys that changed; runs started
# before: one upsert per key on each move, the three deadline keys on each
# deadline change, as their histories recorded.
CHANGED_ONLY_PATCH = "search-attributes-changed-only"

WAITING_FOR = {
    Phase.ACKNOWLEDGED: "the assessment",
    Phase.ASSESSMENT: "a handler to confirm the assessment",
    Phase.HANDLING: "the handler's decision",
    Phase.AWAITING_CUSTOMER: "the customer's reply",
    Phase.AWAITING_APPROVAL: "a manager to approve the compensation",
    Phase.RESPONDED: "the customer to accept or contest the response",
    Phase.REVIEW: "a second handler's review",
    Phase.SURVEY: "the satisfaction survey",
    Phase.CLOSED: "nothing: closed",
}


WAITING_FOR_RESPONSE_LETTER = "an operator to confirm the response letter went by post"


def waiting_for_acknowledgement(has_email: bool) -> str:
    return "the acknowledgement email" if has_email else "an operator to confirm the acknowledgement letter"


class HeldUpdates:
    """Search-attribute updates held until the run's workflow task has no
    register write in flight (FEWER_EVENTS), then upserted as one: a
    transition's phase and deadline keys in one event. Later values of a key
    replace earlier ones."""

    def __init__(self) -> None:
        self._updates: dict[str, SearchAttributeUpdate[Any]] = {}

    def hold(self, updates: list[SearchAttributeUpdate[Any]]) -> None:
        for update in updates:
            self._updates[update.key.name] = update

    @property
    def waiting(self) -> bool:
        return bool(self._updates)

    def upsert(self) -> None:
        """The keys held whose value differs from the run's, in one upsert."""
        updates, self._updates = list(self._updates.values()), {}
        _upsert_changed(updates)


def show_phase(state: ComplaintState, *, changed_only: bool, held: HeldUpdates | None = None) -> None:
    """After a move: the phase, priority and category, and the current details.
    `held`: the run takes FEWER_EVENTS (the category's patch with it)."""
    if changed_only:
        updates: list[SearchAttributeUpdate[Any]] = [attrs.PHASE.value_set(state.phase.value)]
        if state.priority:
            updates.append(attrs.PRIORITY.value_set(state.priority.value))
        if state.category and (held is not None or workflow.patched(CATEGORY_PATCH)):
            updates.append(attrs.CATEGORY.value_set(state.category))
        _show(updates, held)
    else:
        _upsert_each_as_before(state)
    due = deadlines.next_due(state.deadlines)
    workflow.set_current_details(
        f"**{state.phase.value}** — waiting for {state.waiting_for}"
        + (f"; next deadline {due:%Y-%m-%d %H:%M} UTC" if due else "")
    )


def _upsert_each_as_before(state: ComplaintState) -> None:
    """The commands of runs started before CHANGED_ONLY_PATCH, in their order
    (the category's patch marker between the priority and the category)."""
    workflow.upsert_search_attributes([attrs.PHASE.value_set(state.phase.value)])
    if state.priority:
        workflow.upsert_search_attributes([attrs.PRIORITY.value_set(state.priority.value)])
    if state.category and workflow.patched(CATEGORY_PATCH):
        workflow.upsert_search_attributes([attrs.CATEGORY.value_set(state.category)])


def show_deadlines(state: ComplaintState, *, changed_only: bool, held: HeldUpdates | None = None) -> None:
    """After a deadline changed: the SLA status, escalation level and next deadline."""
    due = deadlines.next_due(state.deadlines)
    updates: list[SearchAttributeUpdate[Any]] = [
        attrs.SLA_STATUS.value_set(state.sla_status.value),
        attrs.ESCALATION_LEVEL.value_set(state.escalation_level),
        attrs.NEXT_DEADLINE.value_set(due) if due else attrs.NEXT_DEADLINE.value_unset(),
    ]
    if changed_only:
        _show(updates, held)
    else:
        workflow.upsert_search_attributes(updates)


def show_handler(handler: str, held: HeldUpdates | None = None) -> None:
    update = attrs.HANDLER.value_set(handler)
    if held is None:
        workflow.upsert_search_attributes([update])
    else:
        held.hold([update])


def _show(updates: list[SearchAttributeUpdate[Any]], held: HeldUpdates | None) -> None:
    if held is None:
        _upsert_changed(updates)
    else:
        held.hold(updates)


def _upsert_changed(updates: list[SearchAttributeUpdate[Any]]) -> None:
    """One upsert of the keys whose value differs from the run's (which
    includes what it started with, or inherited when it continued as new)."""
    current = workflow.info().typed_search_attributes
    changed = [update for update in updates if current.get(update.key) != update.value]
    if changed:
        workflow.upsert_search_attributes(changed)


# --- metrics (replay-safe: the SDK records them once, not on replay) ----------


def count_received(channel: Channel) -> None:
    workflow.metric_meter().create_counter(metrics.RECEIVED, "Complaints received").add(1, {"channel": channel.value})


def record_acknowledgement_latency(state: ComplaintState, ack: Acknowledgement) -> None:
    workflow.metric_meter().create_histogram_float(metrics.ACK_LATENCY, "Receipt to acknowledgement", "s").record(
        (ack.acknowledged_at - state.received_at).total_seconds(), {"method": ack.method}
    )


def count_alert(event: DeadlineEvent) -> None:
    workflow.metric_meter().create_counter(metrics.SLA_ALERTS, "SLA warnings and breaches").add(
        1, {"deadline": event.deadline, "kind": event.kind}
    )


def record_compensation(compensation: Compensation) -> None:
    workflow.metric_meter().create_histogram_float(metrics.COMPENSATION, "Compensation granted", "EUR").record(
        float(compensation.amount), {"kind": compensation.kind.value}
    )

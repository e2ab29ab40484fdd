"""What a complaint's run shows: its search attributes (the list views and
`temporal workflow list` queries), the UI's current details and the business
metrics. Search attributes are not encrypted: never the complainant's data."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from complaints import metrics
    from complaints import search_attributes as attrs
    from complaints.lifecycle import Acknowledgement, Compensation, ComplaintStatus, DeadlineEvent, Phase
    from complaints.submission import Channel
    from workflows.complaint import deadlines

CATEGORY_PATCH = "category-search-attribute"  # the category shown (runs started before: not)

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


def waiting_for_acknowledgement(has_email: bool) -> str:
    return "the acknowledgement email" if has_email else "an operator to confirm the acknowledgement letter"


def show_phase(state: ComplaintStatus) -> None:
    """After a move: the phase, priority and category, and the current details."""
    workflow.upsert_search_attributes([attrs.PHASE.value_set(state.phase.value)])
    if state.priority:
        workflow.upsert_search_attributes([attrs.PRIORITY.value_set(state.priority.value)])
    if state.category and workflow.patched(CATEGORY_PATCH):
        workflow.upsert_search_attributes([attrs.CATEGORY.value_set(state.category)])
    due = deadlines.next_due(state.deadlines)
    workflow.set_current_details(
        f"**{state.phase.value}** — waiting for {state.waiting_for}"
        + (f"; next deadline {due:%Y-%m-%d %H:%M} UTC" if due else "")
    )


def show_deadlines(state: ComplaintStatus) -> None:
    """After a deadline changed: the SLA status, escalation level and next deadline."""
    due = deadlines.next_due(state.deadlines)
    workflow.upsert_search_attributes(
        [
            attrs.SLA_STATUS.value_set(state.sla_status.value),
            attrs.ESCALATION_LEVEL.value_set(state.escalation_level),
            attrs.NEXT_DEADLINE.value_set(due) if due else attrs.NEXT_DEADLINE.value_unset(),
        ]
    )


def show_handler(handler: str) -> None:
    workflow.upsert_search_attributes([attrs.HANDLER.value_set(handler)])


# --- metrics (replay-safe: the SDK records them once, not on replay) ----------


def count_received(channel: Channel) -> None:
    workflow.metric_meter().create_counter(metrics.RECEIVED, "Complaints received").add(1, {"channel": channel.value})


def record_acknowledgement_latency(state: ComplaintStatus, ack: Acknowledgement) -> None:
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

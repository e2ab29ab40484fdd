"""The complaint's SLA clocks: which alert is due next, pauses while the
complaint waits on the customer, and moving a deadline. Pure and
deterministic: the workflow passes `now`."""

from datetime import datetime

from complaints.lifecycle import Deadline, DeadlineEvent


def next_event(deadlines: dict[str, Deadline], warning_fraction: float, paused: bool) -> DeadlineEvent | None:
    """The earliest warning or breach still to fire."""
    events = []
    for deadline in deadlines.values():
        if deadline.met_at or deadline.breached or (paused and deadline.pausable):
            continue
        if deadline.warn and not deadline.warned:
            warn_at = deadline.warning_at(warning_fraction)
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


def resume(deadlines: dict[str, Deadline], paused_since: datetime, now: datetime) -> None:
    """Add the time spent waiting on the customer to every running internal clock."""
    for deadline in deadlines.values():
        if deadline.pausable and not deadline.met_at:
            deadline.paused_for += now - paused_since


def move(deadline: Deadline, due_at: datetime, now: datetime) -> None:
    """Set a new due date before pauses (pauses so far still count on top); a
    moved deadline warns and breaches again, under a new generation of alerts."""
    deadline.due_at = due_at
    deadline.generation += 1
    if deadline.effective_due > now:
        deadline.warned = deadline.breached = False


def next_due(deadlines: dict[str, Deadline]) -> datetime | None:
    running = [d.effective_due for d in deadlines.values() if not d.met_at]
    return min(running, default=None)

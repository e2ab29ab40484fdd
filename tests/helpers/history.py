"""What a workflow run's history shows: the activities it scheduled and how
each ended, its timers, the signals it received, and whether it waits with
nothing in flight. Evidence that nothing more is on its way, in place of
waiting a while and seeing nothing come."""

import json
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle

from tests.helpers.polling import eventually
from tests.helpers.session import CONVERTER

ACTIVITY_ENDS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "completed",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "failed",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "timed out",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "canceled",
}
TIMER_ENDS = {EventType.EVENT_TYPE_TIMER_FIRED: "fired", EventType.EVENT_TYPE_TIMER_CANCELED: "canceled"}
LOCAL_ACTIVITY_MARKER = "core_local_activity"
WORKFLOW_TASK_ENDS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}


@dataclass(frozen=True)
class Activity:
    name: str
    ended: str | None  # "completed", "failed"...; None while it runs or waits for its next attempt


@dataclass(frozen=True)
class Timer:
    summary: str  # what the workflow waits for, e.g. "assessment warning"
    ended: str | None  # "fired", "canceled"; None while it runs


@dataclass(frozen=True)
class RunHistory:
    activities: list[Activity]
    timers: list[Timer]
    signals: list[str]
    workflow_task_pending: bool

    def scheduled(self, activity: str) -> int:
        """How often the run scheduled the activity (its retries are attempts of one),
        or ran it as a local activity."""
        return sum(a.name == activity for a in self.activities)

    def completed(self, activity: str) -> int:
        return sum(a.name == activity and a.ended == "completed" for a in self.activities)

    @property
    def in_flight(self) -> list[str]:
        """The activities scheduled and not ended: running, or retrying."""
        return [a.name for a in self.activities if a.ended is None]

    @property
    def running_timers(self) -> list[str]:
        return [t.summary for t in self.timers if t.ended is None]

    @property
    def idle(self) -> bool:
        """The run waits for a timer or a message, with no workflow task and no
        activity outstanding: nothing it does by itself is on its way."""
        return not self.workflow_task_pending and not self.in_flight


async def history_of(handle: WorkflowHandle) -> RunHistory:
    """The history of the handle's run (the latest run when it names none)."""
    events = (await handle.fetch_history()).events
    activities: dict[int, tuple[str, str | None]] = {}
    timers: dict[str, tuple[str, str | None]] = {}
    signals = []
    tasks, last_task_failed = 0, False
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            activities[event.event_id] = (event.activity_task_scheduled_event_attributes.activity_type.name, None)
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED and (local := _local_activity(event)):
            activities[event.event_id] = local
        elif kind in ACTIVITY_ENDS:
            scheduled = _scheduled_event_id(event)
            activities[scheduled] = (activities[scheduled][0], ACTIVITY_ENDS[kind])
        elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
            timers[event.timer_started_event_attributes.timer_id] = (await _summary(event), None)
        elif kind in TIMER_ENDS:
            timer_id = (
                event.timer_fired_event_attributes.timer_id
                if kind == EventType.EVENT_TYPE_TIMER_FIRED
                else event.timer_canceled_event_attributes.timer_id
            )
            timers[timer_id] = (timers[timer_id][0], TIMER_ENDS[kind])
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signals.append(event.workflow_execution_signaled_event_attributes.signal_name)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            tasks += 1
        elif kind in WORKFLOW_TASK_ENDS:
            tasks -= 1
            last_task_failed = kind == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED  # retried, unrecorded
    return RunHistory(
        activities=[Activity(name, ended) for name, ended in activities.values()],
        timers=[Timer(summary, ended) for summary, ended in timers.values()],
        signals=signals,
        workflow_task_pending=tasks > 0 or last_task_failed,
    )


async def wait_until_idle(handle: WorkflowHandle, timeout: float = 15) -> RunHistory:
    """Until the run waits with nothing in flight (see RunHistory.idle); its history then."""

    async def idle() -> RunHistory | None:
        history = await history_of(handle)
        return history if history.idle else None

    return await eventually(idle, timeout)


def _local_activity(event: HistoryEvent) -> tuple[str, str] | None:
    """A local activity's marker: its type and how it ended (it is recorded once it has)."""
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != LOCAL_ACTIVITY_MARKER:
        return None
    [data] = marker.details["data"].payloads  # the SDK's own JSON, never encoded
    ended = "failed" if marker.HasField("failure") else "completed"
    return json.loads(data.data)["activity_type"], ended


def _scheduled_event_id(event: HistoryEvent) -> int:
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        return event.activity_task_completed_event_attributes.scheduled_event_id
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        return event.activity_task_failed_event_attributes.scheduled_event_id
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        return event.activity_task_timed_out_event_attributes.scheduled_event_id
    return event.activity_task_canceled_event_attributes.scheduled_event_id


async def _summary(event: HistoryEvent) -> str:
    """The timer's summary, through the session's converter (payloads are encrypted)."""
    if not event.user_metadata.HasField("summary"):
        return ""
    [summary] = await CONVERTER.decode([event.user_metadata.summary], [str])
    return summary

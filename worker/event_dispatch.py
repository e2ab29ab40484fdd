"""The event dispatcher the worker makes sure runs: one per task queue,
started once however many workers start (an existing run is kept)."""

import logging

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from complaints.settings import Settings
from workflows.event_dispatch import DispatchStart, EventDispatchWorkflow

log = logging.getLogger(__name__)


def event_dispatcher_id(settings: Settings) -> str:
    return f"{settings.task_queue}-event-dispatch"


def dispatch_start(settings: Settings, **changes: object) -> DispatchStart:
    return DispatchStart.model_validate(
        {
            "dispatcher": event_dispatcher_id(settings),
            "source": settings.events_source,
            "max_attempts": settings.events_max_attempts,
            "poll_seconds": settings.events_poll_seconds,
            "retry_initial_seconds": settings.events_retry_initial_seconds,
            **changes,
        }
    )


async def ensure_event_dispatcher(client: Client, settings: Settings, **changes: object) -> None:
    """`changes`: fields of the start other than the settings' (a test's rounds per run)."""
    await client.start_workflow(
        EventDispatchWorkflow.run,
        dispatch_start(settings, **changes),
        id=event_dispatcher_id(settings),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary="Events out and automation rules: the journal to subscribers and rules",
    )
    log.info("event dispatcher %s running", event_dispatcher_id(settings))

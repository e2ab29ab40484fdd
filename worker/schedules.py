"""Schedules the worker makes sure exist at start, idempotently: however many
workers start, each schedule exists once."""

import logging

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleSpec,
)

from complaints.settings import Settings
from workflows.sla_digest import SlaDigestWorkflow

log = logging.getLogger(__name__)


def sla_digest_schedule_id(settings: Settings) -> str:
    return f"{settings.task_queue}-sla-digest"


async def ensure_schedules(client: Client, settings: Settings) -> None:
    schedule_id = sla_digest_schedule_id(settings)
    try:
        await client.create_schedule(
            schedule_id,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    SlaDigestWorkflow.run,
                    id=f"{schedule_id}-run",
                    task_queue=settings.task_queue,
                    static_summary="Daily SLA digest: complaints at risk and in breach",
                ),
                spec=ScheduleSpec(
                    cron_expressions=[settings.sla_digest_cron], time_zone_name=settings.timezone
                ),
            ),
        )
        log.info("created schedule %s (%s)", schedule_id, settings.sla_digest_cron)
    except ScheduleAlreadyRunningError:
        pass  # another worker made it

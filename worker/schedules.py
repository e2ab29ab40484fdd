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

from activities.reporting import QualityReportRequest
from complaints.settings import Settings
from workflows.actions_review import ActionsReviewWorkflow
from workflows.quality_report import QualityReportWorkflow
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


def quality_report_schedule_id(settings: Settings) -> str:
    return f"{settings.task_queue}-quality-report"


def actions_review_schedule_id(settings: Settings) -> str:
    return f"{settings.task_queue}-actions-review"


async def ensure_reporting_schedules(client: Client, settings: Settings) -> None:
    """The weekly quality report and the daily check of overdue actions."""
    quality = quality_report_schedule_id(settings)
    review = actions_review_schedule_id(settings)
    wanted = [
        (
            quality,
            settings.quality_report_cron,
            ScheduleActionStartWorkflow(
                QualityReportWorkflow.run,
                QualityReportRequest(),
                id=f"{quality}-run",
                task_queue=settings.task_queue,
                static_summary="Weekly quality report: indicators and charts to the quality list",
            ),
        ),
        (
            review,
            settings.actions_review_cron,
            ScheduleActionStartWorkflow(
                ActionsReviewWorkflow.run,
                id=f"{review}-run",
                task_queue=settings.task_queue,
                static_summary="Daily check of overdue corrective and improvement actions",
            ),
        ),
    ]
    for schedule_id, cron, action in wanted:
        try:
            await client.create_schedule(
                schedule_id,
                Schedule(action=action, spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=settings.timezone)),
            )
            log.info("created schedule %s (%s)", schedule_id, cron)
        except ScheduleAlreadyRunningError:
            pass  # another worker made it

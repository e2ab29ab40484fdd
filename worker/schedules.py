"""Schedules the worker makes sure exist at start, idempotently: however many
workers start, each schedule exists once."""

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
)

from complaints.settings import Settings
from workflows.actions_review import ActionsReviewWorkflow
from workflows.intake_sweep import IntakeSweepWorkflow
from workflows.quality_report import QualityReportRequest, QualityReportWorkflow
from workflows.report_refresh import ReportRefreshWorkflow
from workflows.sla_digest import SlaDigestWorkflow

log = logging.getLogger(__name__)


def sla_digest_schedule_id(settings: Settings) -> str:
    return f"{settings.task_queue}-sla-digest"


async def ensure_schedules(client: Client, settings: Settings) -> None:
    schedule_id = sla_digest_schedule_id(settings)
    await _create_once(
        client,
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                SlaDigestWorkflow.run,
                id=f"{schedule_id}-run",
                task_queue=settings.task_queue,
                static_summary="Daily SLA digest: complaints at risk and in breach",
            ),
            spec=ScheduleSpec(cron_expressions=[settings.sla_digest_cron], time_zone_name=settings.timezone),
        ),
        f" ({settings.sla_digest_cron})",
    )


def intake_sweep_schedule_id(settings: Settings) -> str:
    return f"{settings.task_queue}-intake-sweep"


async def ensure_intake_sweep_schedule(client: Client, settings: Settings) -> None:
    """The sweep that starts complaints recorded while the Temporal service
    was down: every minute (a run still going skips the next)."""
    schedule_id = intake_sweep_schedule_id(settings)
    await _create_once(
        client,
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                IntakeSweepWorkflow.run,
                id=f"{schedule_id}-run",
                task_queue=settings.task_queue,
                static_summary="Intake sweep: start the complaints recorded while Temporal was down",
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=settings.intake_sweep_seconds))]),
        ),
        f" (every {settings.intake_sweep_seconds} s)",
    )


async def _create_once(client: Client, schedule_id: str, schedule: Schedule, logged: str = "") -> None:
    """Create the schedule unless it exists; `logged` follows its id in the log."""
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("created schedule %s%s", schedule_id, logged)
    except ScheduleAlreadyRunningError:
        pass  # another worker made it


def quality_report_schedule_id(settings: Settings) -> str:
    return f"{settings.task_queue}-quality-report"


def actions_review_schedule_id(settings: Settings) -> str:
    return f"{settings.task_queue}-actions-review"


def report_refresh_schedule_id(settings: Settings) -> str:
    return f"{settings.task_queue}-report-refresh"


async def ensure_reporting_schedules(client: Client, settings: Settings) -> None:
    """The weekly quality report, the daily check of overdue actions and the
    refresh of the reports' projection every few minutes."""
    quality = quality_report_schedule_id(settings)
    review = actions_review_schedule_id(settings)
    refresh = report_refresh_schedule_id(settings)
    wanted = [
        (
            quality,
            ScheduleSpec(cron_expressions=[settings.quality_report_cron], time_zone_name=settings.timezone),
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
            ScheduleSpec(cron_expressions=[settings.actions_review_cron], time_zone_name=settings.timezone),
            ScheduleActionStartWorkflow(
                ActionsReviewWorkflow.run,
                id=f"{review}-run",
                task_queue=settings.task_queue,
                static_summary="Daily check of overdue corrective and improvement actions",
            ),
        ),
        (
            refresh,
            ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=settings.report_refresh_minutes))]),
            ScheduleActionStartWorkflow(
                ReportRefreshWorkflow.run,
                id=f"{refresh}-run",
                task_queue=settings.task_queue,
                static_summary="Reports' projection brought up to the register's journal",
            ),
        ),
    ]
    for schedule_id, spec, action in wanted:
        await _create_once(client, schedule_id, Schedule(action=action, spec=spec))

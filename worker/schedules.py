"""Schedules the worker makes sure exist at start, idempotently: however many
workers start, each schedule exists once, and runs when the settings say: a
schedule whose cron or interval setting changed is updated to it (its state,
paused or not, and its action left as they are)."""

import dataclasses
import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from complaints.settings import Settings
from workflows.actions_review import ActionsReviewWorkflow
from workflows.intake_sweep import IntakeSweepWorkflow
from workflows.quality_report import QualityReportRequest, QualityReportWorkflow
from workflows.report_refresh import ReportRefreshWorkflow
from workflows.retention import RetentionWorkflow
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
            spec=cron_spec(settings.sla_digest_cron, settings.timezone),
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


def retention_schedule_id(settings: Settings) -> str:
    return f"{settings.task_queue}-retention"


async def ensure_retention_schedule(client: Client, settings: Settings) -> None:
    """The daily erasure of complaints past their retention period (it does
    nothing when COMPLAINTS_RETENTION_YEARS is 0)."""
    schedule_id = retention_schedule_id(settings)
    await _create_once(
        client,
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                RetentionWorkflow.run,
                id=f"{schedule_id}-run",
                task_queue=settings.task_queue,
                static_summary="Retention: erase the personal data of complaints closed long enough ago",
            ),
            spec=cron_spec(settings.retention_cron, settings.timezone),
        ),
        f" ({settings.retention_cron}, {settings.retention_years} years after closure)",
    )


def cron_spec(cron: str, zone: str) -> ScheduleSpec:
    """A cron setting as a schedule's spec. The server keeps a cron as
    calendars, and keeps its comment: the expression itself, by which a
    worker tells whether the setting changed."""
    expression = cron.split("#", 1)[0].strip()
    return ScheduleSpec(cron_expressions=[f"{expression} # {expression}"], time_zone_name=zone)


def _spec_key(spec: ScheduleSpec) -> tuple[object, ...]:
    """What a spec's settings are, as given (cron expressions) or as the server
    describes them (calendars with the expression in their comment)."""
    crons = [cron.split("#", 1)[0].strip() for cron in spec.cron_expressions]
    crons += [calendar.comment or "?" for calendar in spec.calendars]
    intervals = [(interval.every, interval.offset or timedelta(0)) for interval in spec.intervals]
    return tuple(dict.fromkeys(crons)), tuple(intervals), spec.time_zone_name or ""


async def _create_once(client: Client, schedule_id: str, schedule: Schedule, logged: str = "") -> None:
    """Create the schedule unless it exists, or bring an existing one's spec
    to the wanted one; `logged` follows its id in the log."""
    try:
        await client.create_schedule(schedule_id, schedule)
        log.info("created schedule %s%s", schedule_id, logged)
        return
    except ScheduleAlreadyRunningError:
        pass  # made earlier, or by another worker now
    handle = client.get_schedule_handle(schedule_id)
    existing = (await handle.describe()).schedule.spec
    if _spec_key(existing) == _spec_key(schedule.spec):
        return

    def respecified(found: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=dataclasses.replace(found.description.schedule, spec=schedule.spec))

    await handle.update(respecified)
    log.info("updated schedule %s to its settings%s", schedule_id, logged)


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
            cron_spec(settings.quality_report_cron, settings.timezone),
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
            cron_spec(settings.actions_review_cron, settings.timezone),
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

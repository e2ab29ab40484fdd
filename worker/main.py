"""Build and run the complaint worker."""

import asyncio
import logging
from datetime import timedelta

import asyncpg
from temporalio.client import Client
from temporalio.worker import PollerBehaviorAutoscaling, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.alerts import AlertActivities
from activities.backlog import BacklogActivities
from activities.compensation import CompensationActivities
from activities.digest import DigestActivities
from activities.events import EventActivities
from activities.intake import IntakeActivities
from activities.letters import Letters
from activities.mail import MailActivities
from activities.merging import MergeActivities
from activities.outbox import Outbox
from activities.register import RegisterActivities
from activities.reporting import ReportingActivities
from activities.retention import RetentionActivities
from complaints.database import register_pool
from complaints.intake import resume_unstarted
from complaints.metrics import keep_counting_open_complaints, prometheus_runtime
from complaints.process import configure_logging, run_until_stopped
from complaints.settings import Settings
from complaints.temporal_client import connect
from worker.event_dispatch import ensure_event_dispatcher
from worker.health import WorkerHealth, serving_health
from worker.schedules import (
    ensure_intake_sweep_schedule,
    ensure_reporting_schedules,
    ensure_retention_schedule,
    ensure_schedules,
)
from workflows.actions_review import ActionsReviewWorkflow
from workflows.complaint import ComplaintWorkflow
from workflows.event_dispatch import EventDispatchWorkflow
from workflows.intake_sweep import IntakeSweepWorkflow
from workflows.quality_report import QualityReportWorkflow
from workflows.report_refresh import ReportRefreshWorkflow
from workflows.retention import RetentionWorkflow
from workflows.sla_digest import SlaDigestWorkflow

log = logging.getLogger(__name__)

# The complaint workflow's pure helpers (no state of their own, imported inside
# imports_passed_through): loaded once per process, not again by the sandbox for
# every run it creates (a new run, or one evicted from the sticky cache).
WORKFLOW_HELPERS = tuple(
    f"workflows.complaint.{name}" for name in ("calls", "deadlines", "entries", "rules", "visibility")
)


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*WORKFLOW_HELPERS))


def build_worker(client: Client, pool: asyncpg.Pool, settings: Settings) -> Worker:
    outbox, letters = Outbox(pool, settings), Letters(settings)  # shared by every activity that emails
    register = RegisterActivities(pool)
    mail = MailActivities(pool, settings, outbox, letters)
    compensation = CompensationActivities(pool, settings.currency)
    alerts = AlertActivities(pool, settings, outbox, letters)
    digest = DigestActivities(pool, settings, outbox, letters)
    reporting = ReportingActivities(pool, settings, outbox)
    intake = IntakeActivities(pool, client, settings)
    backlog = BacklogActivities(pool, settings, outbox)
    retention = RetentionActivities(pool, client, settings)
    events = EventActivities(pool, client, outbox)
    merging = MergeActivities(pool)
    return Worker(
        client,
        task_queue=settings.task_queue,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_grace_seconds),
        # Fixed slots: a task is polled only when a slot can run it now, so none waits
        # past its timeout behind others (the SDK's defaults take 100 of each).
        max_concurrent_workflow_tasks=settings.worker_max_workflow_tasks,
        max_concurrent_activities=settings.worker_max_activities,
        max_concurrent_local_activities=settings.worker_max_local_activities,
        max_cached_workflows=settings.worker_max_cached_workflows,
        # Pollers scale with the server's answers up to the slots: five fixed pollers
        # (the SDK's default) cap a worker at five tasks per poll round trip.
        workflow_task_poller_behavior=PollerBehaviorAutoscaling(maximum=settings.worker_max_workflow_tasks),
        activity_task_poller_behavior=PollerBehaviorAutoscaling(maximum=settings.worker_max_activities),
        workflow_runner=workflow_runner(),
        workflows=[
            ComplaintWorkflow,
            SlaDigestWorkflow,
            QualityReportWorkflow,
            ActionsReviewWorkflow,
            ReportRefreshWorkflow,
            IntakeSweepWorkflow,
            RetentionWorkflow,
            EventDispatchWorkflow,
        ],
        activities=[
            register.record_intake,
            register.record_acknowledgement,
            register.assess_complaint,
            register.record,
            register.record_alert,
            register.record_action,
            register.record_survey,
            mail.send_acknowledgement,
            mail.send_customer_email,
            alerts.send_alert,
            alerts.alert_email_refused,
            compensation.grant_compensation,
            digest.send_sla_digest,
            reporting.generate_quality_report,
            reporting.email_quality_report,
            reporting.record_overdue_actions,
            reporting.refresh_report_projection,
            intake.start_unstarted_complaints,
            backlog.check_backlog,
            retention.erase_expired_complaints,
            events.plan_events,
            events.deliver_event,
            events.record_dead_letter,
            events.settle_dead_letter,
            events.carry_out_rule_action,
            merging.copy_merged,
        ],
    )


async def run_worker(settings: Settings) -> None:
    """Connect, migrate the register, start any complaint left unstarted, serve
    (with Prometheus metrics on settings.metrics_address, the probes on
    settings.worker_health_address)."""
    runtime = prometheus_runtime(settings.metrics_address) if settings.metrics_address else None
    client = await connect(settings, runtime)
    async with register_pool(settings) as pool:
        counting = (
            asyncio.create_task(keep_counting_open_complaints(pool, runtime, timedelta(seconds=30)))
            if runtime
            else None
        )
        try:
            await ensure_schedules(client, settings)
            await ensure_reporting_schedules(client, settings)
            await ensure_intake_sweep_schedule(client, settings)
            await ensure_retention_schedule(client, settings)
            await ensure_event_dispatcher(client, settings)
            resumed = await resume_unstarted(pool, client, settings)
            if resumed:
                log.warning("started %d complaint workflow(s) left unstarted", resumed)
            log.info("worker polling task queue %r", settings.task_queue)
            worker = build_worker(client, pool, settings)
            async with serving_health(settings.worker_health_address, WorkerHealth(worker, pool, client)):
                await worker.run()
        finally:
            if counting:
                counting.cancel()


def main(settings: Settings | None = None) -> None:
    """`complaints worker`: serve until Ctrl-C or SIGTERM."""
    configure_logging()
    run_until_stopped(run_worker(settings or Settings()))


if __name__ == "__main__":
    main()

"""ActionsReviewWorkflow: the daily check of corrective and improvement
actions; each overdue action is alerted once, through the alert sinks."""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.alerts import AlertActivities
    from activities.reporting import ReportingActivities
    from complaints.alerts import DeadlineAlert

BATCH = 20  # alerts sent side by side


@workflow.defn
class ActionsReviewWorkflow:
    @workflow.run
    async def run(self) -> int:
        """Returns how many overdue actions were alerted (or are still to be)."""
        alerts = await workflow.execute_activity_method(
            ReportingActivities.record_overdue_actions,
            workflow.now(),
            start_to_close_timeout=timedelta(minutes=1),
            summary="record an alert for every overdue action",
        )
        for start in range(0, len(alerts), BATCH):
            await asyncio.gather(*(self._send(alert) for alert in alerts[start : start + BATCH]))
        return len(alerts)

    async def _send(self, alert: DeadlineAlert) -> None:
        try:
            await workflow.execute_activity_method(
                AlertActivities.send_alert,
                alert,
                start_to_close_timeout=timedelta(seconds=30),
                # a sink down for hours: tomorrow's run sends what is still undelivered
                schedule_to_close_timeout=timedelta(hours=6),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
                summary=f"alert: action {alert.generation} of {alert.reference} is overdue",
            )
        except ActivityError:
            workflow.logger.warning("alert %s not delivered yet; the next daily check retries", alert.key)

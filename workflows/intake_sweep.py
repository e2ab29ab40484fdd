"""IntakeSweepWorkflow: starts the workflows of complaints recorded without one
(the Temporal service was down when they came in), every minute, run by a
Temporal Schedule; then checks the intake backlog (operations alerted once per
episode over the threshold)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.backlog import BacklogActivities
    from activities.intake import IntakeActivities, IntakeSweepResult

# Sweeps started before the backlog check only started complaints.
BACKLOG_CHECK = "backlog-check"
# the next scheduled run sweeps again: no need to insist
SWEEP_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=3)


@workflow.defn
class IntakeSweepWorkflow:
    @workflow.run
    async def run(self) -> IntakeSweepResult:
        result = await workflow.execute_activity_method(
            IntakeActivities.start_unstarted_complaints,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=SWEEP_RETRY,
            summary="start the workflows of complaints recorded without one",
        )
        if workflow.patched(BACKLOG_CHECK):
            await workflow.execute_activity_method(
                BacklogActivities.check_backlog,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=SWEEP_RETRY,
                summary="count the intake backlog; alert operations once per episode over the threshold",
            )
        return result

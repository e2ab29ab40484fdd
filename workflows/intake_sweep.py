"""IntakeSweepWorkflow: starts the workflows of complaints recorded without one
(the Temporal service was down when they came in), every minute, run by a
Temporal Schedule."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.intake import IntakeActivities, IntakeSweepResult


@workflow.defn
class IntakeSweepWorkflow:
    @workflow.run
    async def run(self) -> IntakeSweepResult:
        return await workflow.execute_activity_method(
            IntakeActivities.start_unstarted_complaints,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(seconds=30),
            # the next scheduled run sweeps again: no need to insist
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=3),
            summary="start the workflows of complaints recorded without one",
        )

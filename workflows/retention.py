"""RetentionWorkflow: erases the personal data of complaints closed longer
ago than the retention period, daily, run by a Temporal Schedule."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.retention import RetentionActivities, RetentionResult


@workflow.defn
class RetentionWorkflow:
    @workflow.run
    async def run(self) -> RetentionResult:
        return await workflow.execute_activity_method(
            RetentionActivities.erase_expired_complaints,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=1),
            # the next scheduled run erases what is left
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=3),
            summary="erase the personal data of complaints past their retention period",
        )

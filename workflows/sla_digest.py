"""SlaDigestWorkflow: the daily list of complaints at risk and in breach, run
by a Temporal Schedule."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.digest import DigestActivities, DigestSummary


@workflow.defn
class SlaDigestWorkflow:
    @workflow.run
    async def run(self) -> DigestSummary:
        return await workflow.execute_activity_method(
            DigestActivities.send_sla_digest,
            workflow.now().date().isoformat(),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            summary="email operations the complaints at risk and in breach",
        )

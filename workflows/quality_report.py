"""QualityReportWorkflow: the quality review's report — the period's
indicators with charts, stored and emailed to the quality list. Run weekly by
a Temporal Schedule, and on demand (`complaints report --quality`)."""

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.reporting import QualityReportJob, ReportingActivities, StoredReport


class QualityReportRequest(BaseModel):
    """No period: the configured number of full weeks before the run's week."""

    period_from: datetime | None = None
    period_to: datetime | None = None


@workflow.defn
class QualityReportWorkflow:
    @workflow.run
    async def run(self, request: QualityReportRequest) -> StoredReport:
        stored = await workflow.execute_activity_method(
            ReportingActivities.generate_quality_report,
            # the run's id keys the report: a retried activity stores and emails it once
            QualityReportJob(
                key=workflow.info().workflow_id,
                as_of=workflow.now(),
                period_from=request.period_from,
                period_to=request.period_to,
            ),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            summary="compute, draw and store the quality report",
        )
        emailed_at = await workflow.execute_activity_method(
            ReportingActivities.email_quality_report,
            stored.id,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            summary="email the quality report to the quality list",
        )
        return stored.model_copy(update={"emailed_at": emailed_at})

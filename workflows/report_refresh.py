"""ReportRefreshWorkflow: brings the projection reports read up to the
register's journal, every few minutes, so that a report has little left to
read from the register itself (reporting.projection)."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.reporting import ReportingActivities


@workflow.defn
class ReportRefreshWorkflow:
    @workflow.run
    async def run(self) -> int:
        """Returns how many complaints were recomputed."""
        return await workflow.execute_activity_method(
            ReportingActivities.refresh_report_projection,
            # a first build over a large register reads its whole journal
            start_to_close_timeout=timedelta(minutes=30),
            summary="refresh the reports' projection from the journal",
        )

"""The indicators for managers: the same KpiReport as `complaints report`."""

from datetime import date

from fastapi import APIRouter, Depends, Query

from api.auth import Permission, require
from api.problems import ProblemError, responses
from api.services import Services, services
from complaints.operators import OperatorRecord
from reporting.kpis import kpi_report
from reporting.model import Dimension, KpiReport
from reporting.periods import FIRST_DAY_HELP, LAST_DAY_HELP, report_period

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get(
    "/kpis",
    response_model=KpiReport,
    summary="Indicators of the complaints received in a period (managers)",
    responses=responses(401, 403, 422, 503),
)
async def kpis(
    first: date | None = Query(None, alias="from", description=FIRST_DAY_HELP),
    last: date | None = Query(None, alias="to", description=LAST_DAY_HELP),
    by: Dimension | None = Query(None, description="break the figures down by this dimension"),
    operator: OperatorRecord = Depends(require(Permission.READ_REPORTS)),
    app: Services = Depends(services),
) -> KpiReport:
    zone = app.settings.timezone
    try:
        period_from, period_to = report_period(first, last, zone)
    except ValueError as error:
        raise ProblemError(422, str(error)) from error
    return await kpi_report(app.pool, period_from, period_to, by, timezone=zone, currency=app.settings.currency)

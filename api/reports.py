"""The indicators for managers: the same KpiReport as `complaints report`;
the register exported for auditors and the regulator, and its summary by
category and outcome, as `complaints register`."""

from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from api.auth import Permission, require
from api.problems import ProblemError, responses
from api.services import Services, services
from complaints.operators import OperatorRecord
from reporting.kpis import kpi_report
from reporting.model import Dimension, KpiReport
from reporting.periods import FIRST_DAY_HELP, LAST_DAY_HELP, report_period
from reporting.register_export import CONTENT_TYPES, ExportFormat
from reporting.register_files import file_name, register_file
from reporting.register_summary import register_summary

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


class SummaryLine(BaseModel):
    """One (category, outcome) of reporting.register_summary."""

    category: str | None
    outcome: str | None
    complaints: int
    answered: int
    mean_days_to_answer: Decimal | None
    max_days_to_answer: Decimal | None
    mean_days_from_sending: Decimal | None
    response_met: int
    response_missed: int
    regulatory_met: int
    regulatory_missed: int


def _period(first: date | None, last: date | None, zone: str) -> tuple[datetime, datetime]:
    try:
        return report_period(first, last, zone)
    except ValueError as error:
        raise ProblemError(422, str(error)) from error


@router.get(
    "/register",
    summary="The register of the complaints received in a period, for auditors and the regulator (managers)",
    responses={
        **responses(401, 403, 422, 503),
        200: {"content": {CONTENT_TYPES["csv"]: {}, CONTENT_TYPES["xlsx"]: {}}, "description": "the file"},
    },
    response_class=Response,
)
async def register_export(
    first: date | None = Query(None, alias="from", description=FIRST_DAY_HELP),
    last: date | None = Query(None, alias="to", description=LAST_DAY_HELP),
    format: ExportFormat = Query("csv", description="csv: the complaints; xlsx: the complaints and the summary"),
    operator: OperatorRecord = Depends(require(Permission.READ_REPORTS)),
    app: Services = Depends(services),
) -> Response:
    zone = app.settings.timezone
    period_from, period_to = _period(first, last, zone)
    content = await register_file(app.pool, period_from, period_to, format, zone)
    name = file_name(period_from.date(), (period_to - timedelta(days=1)).date(), format)
    return Response(
        content,
        media_type=CONTENT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get(
    "/register/summary",
    response_model=list[SummaryLine],
    summary="The complaints of a period by category and outcome, with delays (managers)",
    responses=responses(401, 403, 422, 503),
)
async def register_summary_lines(
    first: date | None = Query(None, alias="from", description=FIRST_DAY_HELP),
    last: date | None = Query(None, alias="to", description=LAST_DAY_HELP),
    year: int | None = Query(None, ge=1, le=9998, description="a calendar year (instead of from and to)"),
    operator: OperatorRecord = Depends(require(Permission.READ_REPORTS)),
    app: Services = Depends(services),
) -> list[SummaryLine]:
    zone = app.settings.timezone
    if year is not None:
        first, last = date(year, 1, 1), date(year, 12, 31)
    period_from, period_to = _period(first, last, zone)
    rows = await register_summary(app.pool, period_from, period_to)
    return [SummaryLine(**asdict(row)) for row in rows]

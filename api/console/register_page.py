"""The managers' page of the register: choose a period, see its summary by
category and outcome, download the register as CSV or XLSX (the same file
as `complaints register export` and GET /reports/register)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import Permission
from api.console import pages
from api.console.access import require as require_permission
from api.console.access import router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.services import Services, services
from reporting.periods import report_period
from reporting.register_export import CONTENT_TYPES, EXPORT_FORMATS, ExportFormat
from reporting.register_files import file_name, register_file
from reporting.register_summary import register_summary

OUTCOMES_FR = {"accepted": "Acceptée", "partially_accepted": "Acceptée en partie", "rejected": "Rejetée"}


class PeriodRefused(ValueError):
    pass


def _period(values: dict[str, str], zone: str) -> tuple[date, date]:
    """The days chosen (both included); by default the current year to today."""
    try:
        last = date.fromisoformat(values["au"]) if values.get("au") else None
        first = date.fromisoformat(values["du"]) if values.get("du") else None
    except ValueError as error:
        raise PeriodRefused("Une date n'est pas au format AAAA-MM-JJ.") from error
    try:
        start, end = report_period(
            first or (last or datetime.now(ZoneInfo(zone)).date()).replace(month=1, day=1), last, zone
        )
    except ValueError as error:
        raise PeriodRefused("La période se termine avant de commencer.") from error
    return start.date(), (end - timedelta(days=1)).date()


@router.get("/registre", response_class=HTMLResponse)
async def register_page(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    require_permission(session, Permission.READ_REPORTS)
    zone = svc.settings.timezone
    values = dict(request.query_params)
    try:
        first, last = _period(values, zone)
    except PeriodRefused as refused:
        return await _refused(svc, session, values, refused)
    summary = await register_summary(svc.pool, *report_period(first, last, zone))
    return pages.page(
        svc,
        "register.html",
        **await frame(svc, session, "registre"),
        error=None,
        typed=values,
        summary=summary,
        first=first,
        last=last,
        outcomes=OUTCOMES_FR,
    )


async def _refused(
    svc: Services, session: ConsoleSession, values: dict[str, str], refused: PeriodRefused
) -> HTMLResponse:
    """The register page again, with what was typed and why it was refused."""
    return pages.page(
        svc,
        "register.html",
        422,
        **await frame(svc, session, "registre"),
        error=str(refused),
        typed=values,
        summary=[],
        first=None,
        last=None,
        outcomes=OUTCOMES_FR,
    )


@router.get("/registre/export")
async def register_download(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    require_permission(session, Permission.READ_REPORTS)
    zone = svc.settings.timezone
    values = dict(request.query_params)
    format = values.get("format", "csv")
    try:
        if format not in EXPORT_FORMATS:
            raise PeriodRefused("Le format doit être CSV ou XLSX.")
        first, last = _period(values, zone)
    except PeriodRefused as refused:
        return await _refused(svc, session, values, refused)
    chosen: ExportFormat = "csv" if format == "csv" else "xlsx"  # narrowed for the type checker
    content = await register_file(svc.pool, *report_period(first, last, zone), chosen, zone)
    disposition = f'attachment; filename="{file_name(first, last, chosen)}"'
    headers = {**pages.SECURITY_HEADERS, "Content-Disposition": disposition}
    return Response(content, media_type=CONTENT_TYPES[chosen], headers=headers)

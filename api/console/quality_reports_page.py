"""The stored quality reports for managers: listed newest first, each
viewable as it was emailed, and one made now for a chosen period (the
QualityReportWorkflow a worker runs, as `complaints report --quality`)."""

import re
import uuid
from datetime import date, timedelta

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.auth import Permission
from api.console import pages
from api.console.access import checked_form, require, router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.problems import ProblemError
from api.services import Services, services
from api.workflow_calls import UNAVAILABLE
from reporting.periods import days
from workflows.quality_report import QualityReportRequest, QualityReportWorkflow

LISTED = 100
# A stored report is a document of its own (its charts' SVG carries styles): shown
# under a CSP of its own that still runs no script and loads nothing.
REPORT_HEADERS = {
    **pages.SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
}


async def _page(
    svc: Services, session: ConsoleSession, status: int = 200, error: str | None = None, notice: str | None = None
) -> HTMLResponse:
    reports = await svc.pool.fetch(
        """SELECT id, period_from, period_to, generated_at, recipient, emailed_at FROM quality_reports
            ORDER BY generated_at DESC, id DESC LIMIT $1""",
        LISTED,
    )
    return pages.page(
        svc,
        "quality_reports.html",
        status,
        **await frame(svc, session, "rapports"),
        reports=reports,
        error=error,
        notice=notice,
        last_day=lambda moment: moment - timedelta(days=1),
    )


@router.get("/rapports", response_class=HTMLResponse)
async def reports_page(
    fait: str | None = None, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    require(session, Permission.READ_REPORTS)
    notice = "Le rapport est en préparation : il apparaîtra ici, et la liste qualité le recevra." if fait else None
    return await _page(svc, session, notice=notice)


@router.get("/rapports/{report_id}", response_class=HTMLResponse)
async def report_page(
    report_id: int, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    require(session, Permission.READ_REPORTS)
    stored = await svc.pool.fetchval("SELECT html FROM quality_reports WHERE id = $1", report_id)
    if stored is None:
        return pages.page(
            svc, "message.html", 404, heading="Rapport introuvable", message=f"Aucun rapport qualité n° {report_id}."
        )
    return HTMLResponse(stored, headers=REPORT_HEADERS)


@router.post("/rapports", response_class=HTMLResponse)
async def make_report(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    require(session, Permission.READ_REPORTS)
    try:
        period_from, period_to = days(
            date.fromisoformat(values.get("du", "")), date.fromisoformat(values.get("au", "")), svc.settings.timezone
        )
    except ValueError:
        return await _page(svc, session, 422, "Choisissez une période valide (AAAA-MM-JJ, la fin après le début).")
    # a form sent twice makes one report: its id names the run
    form_id = re.sub(r"[^0-9a-f]", "", values.get("form_id", ""))[:32] or uuid.uuid4().hex
    try:
        await svc.client.start_workflow(
            QualityReportWorkflow.run,
            QualityReportRequest(period_from=period_from, period_to=period_to),
            id=f"{svc.settings.task_queue}-quality-report-console-{form_id}",
            task_queue=svc.settings.task_queue,
            static_summary=f"Quality report asked by {session.operator.name} in the console",
        )
    except WorkflowAlreadyStartedError:
        pass
    except RPCError as error:
        raise ProblemError(503, UNAVAILABLE, headers={"Retry-After": "5"}) from error
    return RedirectResponse("/console/rapports?fait=1", 303)

"""The administrators' page of reply templates: list, add, remove."""

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console import pages, reply_templates
from api.console.access import Forbidden, checked_form, router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.services import Services, services
from complaints.operator_commands import Role


def _admin(session: ConsoleSession) -> None:
    if session.operator.role is not Role.ADMIN:
        raise Forbidden("Seul un administrateur gère les modèles de réponse.")


async def _page(
    svc: Services, session: ConsoleSession, status: int = 200, error: str | None = None, typed: dict | None = None
) -> HTMLResponse:
    return pages.page(
        svc,
        "reply_templates.html",
        status,
        **await frame(svc, session, ""),
        templates=await reply_templates.all_templates(svc.pool),
        placeholders=reply_templates.PLACEHOLDERS,
        error=error,
        typed=typed or {},
    )


@router.get("/modeles", response_class=HTMLResponse)
async def templates_page(session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)) -> Response:
    _admin(session)
    return await _page(svc, session)


@router.post("/modeles", response_class=HTMLResponse)
async def add_template(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    _admin(session)
    try:
        await reply_templates.add(svc.pool, values.get("titre", ""), values.get("texte", ""), session.operator.name)
    except reply_templates.TemplateRefused as refused:
        return await _page(svc, session, 422, str(refused), values)
    return RedirectResponse("/console/modeles", 303)


@router.post("/modeles/{template_id}/suppression", response_class=HTMLResponse)
async def remove_template(
    template_id: int, request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    await checked_form(request, session)
    _admin(session)
    await reply_templates.remove(svc.pool, template_id)
    return RedirectResponse("/console/modeles", 303)

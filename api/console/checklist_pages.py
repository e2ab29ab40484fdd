"""A complaint's checklist on its console page: the items with who added them
and who did them, an item added or ticked by handlers and managers
(complaints/checklists.py: kept in the register, each journaled)."""

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Permission
from api.console import pages
from api.console.access import checked_form, may, require, router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.services import Services, services
from complaints import checklists

REFUSALS_FR = {
    "empty": "Écrivez le texte de l'élément à ajouter.",
    "too_long": f"Un élément de la liste tient en {checklists.TEXT_MAX} caractères au plus.",
    "unknown_complaint": "Cette réclamation n'existe pas.",
    "unknown_item": "Cet élément n'est pas dans la liste de cette réclamation.",
}


async def on_complaint(svc: Services, session: ConsoleSession, reference: str) -> dict[str, Any]:
    """What a complaint's page shows of its checklist."""
    return {"checklist": await checklists.items(svc.pool, reference), "may_check": may(session, Permission.HANDLE)}


def _back(reference: str) -> str:
    return f"/console/reclamations/{quote(reference)}#liste"


async def _refused(svc: Services, session: ConsoleSession, refused: checklists.ChecklistRefused) -> Response:
    """Nothing added or ticked: the reason in French (the form's text is the browser's to keep)."""
    status = 404 if refused.code.startswith("unknown") else 422
    heading = "Liste de contrôle inchangée"
    return pages.page(
        svc, "message.html", status, **await frame(svc, session, ""), heading=heading, message=REFUSALS_FR[refused.code]
    )


@router.post("/reclamations/{reference}/liste", response_class=Response)
async def add_item(
    reference: str, request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    require(session, Permission.HANDLE)
    key = f"checklist:console:{values.get('form_id') or uuid.uuid4()}"  # the same form sent twice adds once
    try:
        await checklists.add(svc.pool, reference, values.get("texte", ""), session.operator.name, key)
    except checklists.ChecklistRefused as refused:
        return await _refused(svc, session, refused)
    return RedirectResponse(_back(reference), 303)


@router.post("/reclamations/{reference}/liste/{item_id}/fait", response_class=Response)
async def tick_item(
    reference: str,
    item_id: int,
    request: Request,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> Response:
    await checked_form(request, session)
    require(session, Permission.HANDLE)
    try:
        await checklists.tick(svc.pool, reference, item_id, session.operator.name)  # twice is once
    except checklists.ChecklistRefused as refused:
        return await _refused(svc, session, refused)
    return RedirectResponse(_back(reference), 303)

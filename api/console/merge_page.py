"""Merging a duplicate complaint from the console: the handler picks, on the
complaint's page, the complaint of the same customer it goes into (a form
that only reads), sees both side by side and confirms (a form with the
session's CSRF token); the merge goes through the API's own path
(api/merging.py), which claims it in the register first. Refusals are in
French, with nothing changed."""

from urllib.parse import quote

import asyncpg
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import merging, register_queries
from api.auth import Permission
from api.console import pages, refusals_fr
from api.console.access import Forbidden, checked_form, require, router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.problems import ProblemError
from api.services import Services, services
from complaints.merges import MergeRefused, check_merge

REFUSALS_FR = {
    "same_complaint": "Une réclamation ne peut pas être fusionnée dans elle-même.",
    "unknown_complaint": "Aucune réclamation de ce numéro dans le registre.",
    "different_customers": "Ces deux réclamations ne sont pas celles du même client : elles ne peuvent pas être "
    "fusionnées (liez-les plutôt).",
    "survivor_merged": "La réclamation choisie a elle-même été fusionnée dans une autre : fusionnez dans celle-ci.",
    "survivor_closed": "La réclamation choisie est clôturée : fusionnez dans une réclamation ouverte.",
    "survivor_merging": "La réclamation choisie est en cours de fusion dans une autre : fusionnez dans celle-ci "
    "une fois la fusion faite.",
    "already_merged": "Cette réclamation a déjà été fusionnée dans une autre.",
    "merging": "Cette réclamation est en cours de fusion dans une autre : confirmez à nouveau cette fusion-là pour "
    "l'achever.",
    "absorbing": "Cette réclamation reprend en ce moment une autre réclamation : fusionnez-la une fois cette fusion "
    "faite.",
    "closed": "Cette réclamation est clôturée : seule une réclamation ouverte peut être fusionnée.",
}


async def absorbed_into(pool: asyncpg.Pool, reference: str) -> list[asyncpg.Record]:
    """The complaints merged into this one."""
    return await pool.fetch(
        "SELECT reference, subject, received_at FROM complaints WHERE merged_into = $1 ORDER BY received_at",
        reference,
    )


async def _page(
    svc: Services, session: ConsoleSession, reference: str, into: str, refusal: str | None, status: int = 200
) -> HTMLResponse:
    row = await register_queries.complaint(svc.pool, reference)
    if row is None:
        raise Forbidden("Cette réclamation n'existe pas.")
    other = await register_queries.complaint(svc.pool, into) if into and refusal is None else None
    return pages.page(
        svc, "merge.html", status, **await frame(svc, session, ""), c=row, other=other, into=into, refusal=refusal
    )


@router.get("/reclamations/{reference}/fusion", response_class=HTMLResponse)
async def merge_page(
    reference: str, vers: str = "", session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> HTMLResponse:
    """Both complaints side by side, and the confirmation (nothing changes yet)."""
    require(session, Permission.HANDLE)
    into = vers.strip().upper()
    if not into:
        return await _page(svc, session, reference, "", None)
    try:
        await check_merge(svc.pool, reference, into)
    except MergeRefused as refused:
        return await _page(svc, session, reference, into, REFUSALS_FR[refused.code], 422)
    return await _page(svc, session, reference, into, None)


@router.post("/reclamations/{reference}/fusion", response_class=HTMLResponse)
async def merge(
    reference: str, request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    """Merge once confirmed: the survivor's page follows."""
    values = await checked_form(request, session)
    require(session, Permission.HANDLE)
    into = values.get("vers", "").upper()
    try:
        await merging.merge(svc.client, svc.pool, reference, into, session.operator.operator)
    except ProblemError as problem:
        if isinstance(problem.__cause__, MergeRefused):  # the register's refusal, checked with the merge claimed
            return await _page(svc, session, reference, into, REFUSALS_FR[problem.__cause__.code], 422)
        if problem.status >= 500:
            raise
        return await _page(svc, session, reference, into, refusals_fr.in_french(problem.detail), 409)
    return RedirectResponse(f"/console/reclamations/{quote(into)}?fait=1", 303)

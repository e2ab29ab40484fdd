"""The triage queue: inbound mail nobody could match (complaints.triage).
An operator who handles complaints attaches a message to a complaint, makes
it a new complaint, or discards it; each posted form is checked (CSRF, role)
and resolved once."""

from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.service import RPCError

from api.auth import Permission
from api.console import pages
from api.console.access import checked_form, require, router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.problems import ProblemError
from api.services import Services, services
from api.workflow_calls import UNAVAILABLE
from complaints import triage

REASONS_FR = {
    "answers an operations email": "répond à un email d'exploitation",
    "names a reference that is not in the register": "cite une référence absente du registre",
    "not from the complainant's address": "n'est pas de l'adresse du réclamant",
}
REFUSALS_FR = {
    triage.Refusal.UNKNOWN_MESSAGE: "Ce message n'est pas (ou plus) dans la file de tri.",
    triage.Refusal.ALREADY_RESOLVED: "Ce message a déjà été traité autrement.",
    triage.Refusal.UNKNOWN_COMPLAINT: "Aucune réclamation de cette référence dans le registre.",
    triage.Refusal.CLOSED_COMPLAINT: "Cette réclamation est clôturée : le message ne peut plus lui parvenir.",
    triage.Refusal.NOT_A_COMPLAINT: "Ce message n'a pas d'adresse d'expéditeur valide : "
    "enregistrez la réclamation depuis « Nouvelle réclamation ».",
}
DONE_FR = {"attached": "rattaché à {}", "new_complaint": "devenu la réclamation {}", "discarded": "écarté"}


def _reason_fr(reason: str) -> str:
    if reason.startswith("not authenticated"):
        return "n'est pas authentifié par notre serveur de messagerie"
    return REASONS_FR.get(reason, reason)


async def _page(
    svc: Services, session: ConsoleSession, status: int = 200, error: str | None = None, done: str | None = None
) -> HTMLResponse:
    rows = await triage.waiting(svc.pool)
    return pages.page(
        svc,
        "triage.html",
        status,
        **await frame(svc, session, "tri"),
        rows=rows,
        error=error,
        done=done,
        reason_fr=_reason_fr,
    )


@router.get("/tri", response_class=HTMLResponse)
async def triage_page(
    fait: str | None = None,
    ref: str | None = None,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> Response:
    """`fait` and `ref`: the resolution just recorded (a known word and a
    reference of the register, never text of the URL shown as such)."""
    require(session, Permission.HANDLE)
    done = None
    if fait in DONE_FR:
        known = ref if ref and await svc.pool.fetchval("SELECT 1 FROM complaints WHERE reference = $1", ref) else ""
        done = DONE_FR[fait].format(known)
    return await _page(svc, session, done=done)


@router.post("/tri/{action}", response_class=HTMLResponse)
async def resolve(
    action: str, request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    require(session, Permission.HANDLE)
    message_id, by = values.get("message", ""), session.operator.name
    try:
        if action == "rattacher":
            reference = values.get("reference", "").strip().upper()
            if not reference:
                return await _page(svc, session, 422, "Indiquez la référence de la réclamation à laquelle rattacher.")
            resolved = await triage.attach(svc.pool, svc.client, message_id, reference, by)
        elif action == "creer":
            resolved = await triage.make_complaint(svc.pool, svc.client, svc.settings, message_id, by)
        elif action == "ecarter":
            note = values.get("motif", "").strip()
            if not note:
                return await _page(svc, session, 422, "Dites pourquoi le message est écarté.")
            resolved = await triage.discard(svc.pool, message_id, by, note[:1000])
        else:
            return await _page(svc, session, 404, "Cette action n'existe pas.")
    except triage.TriageRefused as refused:
        return await _page(svc, session, 409, REFUSALS_FR[refused.refusal])
    except RPCError as error:
        raise ProblemError(503, UNAVAILABLE, headers={"Retry-After": "5"}) from error
    return RedirectResponse(f"/console/tri?fait={resolved.resolution.value}&ref={quote(resolved.reference or '')}", 303)

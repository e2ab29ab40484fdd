"""Taking a complaint in by phone (or face to face) from the console: the
same validation and idempotent intake as every channel, journaled with the
signed-in operator; then its page."""

import logging
import uuid
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from temporalio.service import RPCError

from api.auth import Permission
from api.console import pages
from api.console.access import checked_form, require, router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.services import Services, services
from api.wording_fr import submission_form_errors
from complaints.database import REGISTER_ERRORS, register_unavailable
from complaints.intake import record_complaint, start_workflow
from complaints.submission import Channel, validate_submission

log = logging.getLogger(__name__)

FIELDS = (
    "canal",
    "nom",
    "email",
    "telephone",
    "adresse",
    "numero_client",
    "qualite",
    "objet",
    "produit",
    "description",
    "solution",
)
CHANNELS = {Channel.PHONE: "Téléphone", Channel.IN_PERSON: "En personne", Channel.LETTER: "Courrier"}


async def _form(
    svc: Services, session: ConsoleSession, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    return pages.page(
        svc,
        "take_in.html",
        status,
        **await frame(svc, session, ""),
        values={field: values.get(field, "") for field in FIELDS},
        errors=errors,
        channels=CHANNELS,
        form_id=values.get("form_id") or uuid.uuid4().hex,
    )


@router.get("/nouvelle", response_class=HTMLResponse)
async def take_in_form(session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)) -> Response:
    require(session, Permission.TAKE_IN)
    return await _form(svc, session, {}, {})


@router.post("/nouvelle", response_class=HTMLResponse)
async def take_in(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    require(session, Permission.TAKE_IN)
    data = {
        "channel": values.get("canal") or Channel.PHONE,
        "complainant": {
            "name": values.get("nom", ""),
            "email": values.get("email", ""),
            "phone": values.get("telephone", ""),
            "postal_address": values.get("adresse", ""),
            "customer_id": values.get("numero_client", ""),
            "type": values.get("qualite", ""),
        },
        "subject": values.get("objet", ""),
        "description": values.get("description", ""),
        "product": values.get("produit") or None,
        "desired_resolution": values.get("solution") or None,
        # a form sent twice (double click, back button) is one complaint
        "idempotency_key": f"console:{values.get('form_id', '')[:64] or uuid.uuid4().hex}",
    }
    try:
        submission = validate_submission(data, svc.settings.document_limits)
    except ValidationError as error:
        return await _form(svc, session, values, submission_form_errors(error), 422)
    submitted = await record_complaint(svc.pool, svc.settings, submission, actor=session.operator.name)
    try:
        await start_workflow(svc.pool, svc.client, svc.settings, submitted.reference)
    except (RPCError, *REGISTER_ERRORS) as error:
        if not isinstance(error, RPCError) and not register_unavailable(error):
            raise
        log.warning("%s is recorded; its workflow starts with the intake sweep: %s", submitted.reference, error)
    return RedirectResponse(f"/console/reclamations/{quote(submitted.reference)}?fait=1", 303)

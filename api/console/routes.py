"""The console's pages: the queues and a complaint's page with the forms of
the commands it accepts now. Every command goes through the API's own path
(api/commands.carry_out), signed with the signed-in operator."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from api import register_queries
from api.auth import Permission
from api.commands import carry_out
from api.console import (  # noqa: F401  (their routes join the console's router)
    actions_board,
    approvals,
    checklist_pages,
    command_forms,
    dashboard,
    event_pages,
    merge_page,
    pages,
    presence,
    quality_reports_page,
    queues,
    refusals_fr,
    register_page,
    reply_templates,
    rule_pages,
    take_in,
    template_pages,
    triage_page,
)
from api.console import knowledge as knowledge_pages
from api.console.access import Forbidden, checked_form, may, require, router, signed_in
from api.console.frame import frame, is_manager
from api.console.search import LIMIT, search
from api.console.sessions import ConsoleSession
from api.problems import ProblemError
from api.services import Services, services
from api.workflow_calls import live_status, run_update
from complaints import related
from complaints.complaint_status import Phase
from complaints.dates import LocalDates
from complaints.operator_commands import PostalLetter
from workflows.complaint import ComplaintWorkflow

# where a command posted from another page than the complaint's may return
RETURN_PAGES = {"/console/files/approbations"}

DEADLINES_FR = {
    "acknowledgement": "Accusé de réception",
    "assessment": "Évaluation",
    "response": "Réponse",
    "regulatory": "Délai réglementaire",
    "review": "Réexamen",
    "approval": "Approbation",
}


@router.get("")
async def console_home() -> RedirectResponse:
    return RedirectResponse("/console/files/mes-reclamations", 303)


@router.get("/compteurs")
async def live_counts(session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)) -> JSONResponse:
    """The queues' counts, for the page's script."""
    visible = queues.visible_queues(is_manager(session))
    counts = await queues.counts(svc.pool, session.operator.name, visible)
    return JSONResponse(counts, headers={"Cache-Control": "no-store"})


@router.get("/files/{key}", response_class=HTMLResponse)
async def queue_page(
    key: str,
    request: Request,
    page: int = 1,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> HTMLResponse:
    queue = queues.BY_KEY.get(key)
    if queue is None or (queue.managers_only and not is_manager(session)):
        raise Forbidden("Cette file n'existe pas ou n'est pas ouverte à votre rôle.")
    if key == approvals.QUEUE_KEY:  # its own page: amounts, proposers, the approval form
        return await approvals.approvals_page(svc, session, request.query_params.get("fait"))
    filters = queues.Filters.of(dict(request.query_params))
    zone = ZoneInfo(svc.settings.timezone)
    page = max(page, 1)
    rows, total = await queues.queue_page(svc.pool, queue, session.operator.name, filters, page, zone)
    now = datetime.now(UTC)
    shown = [{**dict(row), "left": queues.time_left(row["next_deadline"], now)} for row in rows]
    query = urlencode(filters.items())
    return pages.page(
        svc,
        "queue.html",
        **await frame(svc, session, key),
        queue=queue,
        rows=shown,
        total=total,
        page=page,
        pages=max(1, -(-total // queues.PAGE_SIZE)),
        filters=filters,
        query=query,
        sla_names={"on_track": "Dans les délais", "warning": "À risque", "breached": "Dépassé"},
    )


@router.get("/recherche", response_class=HTMLResponse)
async def search_page(
    q: str = "", session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> HTMLResponse:
    rows = await search(svc.pool, q)
    now = datetime.now(UTC)
    found = [{**dict(row), "left": queues.time_left(row["next_deadline"], now)} for row in rows]
    return pages.page(svc, "search.html", **await frame(svc, session, ""), q=q, rows=found, limit=LIMIT)


async def _version(svc: Services, reference: str, phase: Phase) -> str:
    """The state a page showed: the phase and the last step a person took
    (an operator, the customer). The run's own steps (emails sent, clocks)
    leave a page current; its validators still judge every command."""
    found = await svc.pool.fetchval(
        "SELECT max(id) FROM journal WHERE complaint_reference = $1 AND actor <> 'system'", reference
    )
    return f"{phase.value}-{found or 0}"


async def _current_phase(svc: Services, reference: str) -> Phase:
    live = await live_status(svc.client, reference)
    if live is not None:
        return live.phase
    row = await register_queries.complaint(svc.pool, reference)
    return Phase(row["phase"]) if row else Phase.RECEIVED


async def _complaint_page(
    svc: Services,
    session: ConsoleSession,
    reference: str,
    status_code: int = 200,
    refusal: tuple[str, str] | None = None,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    prefill: tuple[str, dict[str, str]] | None = None,
) -> HTMLResponse:
    row = await register_queries.complaint(svc.pool, reference)
    if row is None:
        return pages.page(svc, "message.html", 404, heading="Réclamation introuvable",
                          message=f"Aucune réclamation {reference} dans le registre.")  # fmt: skip
    live = await live_status(svc.client, reference) if row["workflow_started_at"] else None
    phase = live.phase if live else Phase(row["phase"])
    now = datetime.now(UTC)
    badges = []
    if live is not None:
        for name, deadline in live.deadlines.items():
            due = deadline.due_at + deadline.paused_for
            badges.append(
                {
                    "label": DEADLINES_FR.get(name, name),
                    "due": due,
                    "met": deadline.met_at,
                    "left": queues.time_left(due, now),
                }
            )
    forms = [form for form in command_forms.available(live, phase) if may(session, form.permission)]
    await presence.seen(svc.pool, reference, session.operator.name)
    postal_ack = row["acknowledged_at"] is None and may(session, Permission.CONFIRM_POSTAL)
    shown_paths = {form.path for form in forms} | ({"accuse-postal"} if postal_ack else set())
    history = []
    if row["complainant_email"]:
        history = await svc.pool.fetch(
            """SELECT reference, received_at, subject, phase, outcome FROM complaints
                WHERE lower(complainant_email) = lower($1) AND reference <> $2 ORDER BY received_at DESC LIMIT 20""",
            row["complainant_email"],
            reference,
        )
    return pages.page(
        svc,
        "complaint.html",
        status_code,
        **await frame(svc, session, ""),
        c=row,
        live=live,
        phase=phase,
        badges=badges,
        journal=await _timeline(svc, reference),
        documents=await register_queries.documents(svc.pool, reference),
        history=history,
        forms=forms,
        version=await _version(svc, reference, phase),
        refusal=refusal,
        typed=(prefill[1] if prefill else typed) or {},
        typed_for=prefill[0] if prefill else (refusal[0] if refusal else ""),
        reply_templates=await reply_templates.all_templates(svc.pool),
        text_field=reply_templates.TEXT_FIELD,
        **await knowledge_pages.on_complaint(svc.pool, row),
        errors=errors or {},
        notice=notice,
        me=session.operator.name,
        postal_ack=postal_ack,
        # a refusal whose form the complaint no longer offers shows above the forms
        others=await presence.others(svc.pool, reference, session.operator.name),
        orphan_refusal=refusal[1] if refusal and refusal[0] not in shown_paths and refusal[0] != "liens" else None,
        related=await related.related_to(svc.pool, reference),
        **await checklist_pages.on_complaint(svc, session, reference),
        absorbed=await merge_page.absorbed_into(svc.pool, reference),
        may_link=may(session, Permission.HANDLE),
    )


_SAID = ("text", "message", "questions", "justification", "reason", "comment", "note", "related")


async def _timeline(svc: Services, reference: str) -> list[dict[str, Any]]:
    """The journal, newest first, each step with what was written in it (a note, a message)."""
    rows = await svc.pool.fetch(
        """SELECT id, occurred_at, event, actor, details, visible_to_customer FROM journal
            WHERE complaint_reference = $1 ORDER BY occurred_at DESC, id DESC""",
        reference,
    )
    steps = []
    for row in rows:
        details = json.loads(row["details"]) if isinstance(row["details"], str) else (row["details"] or {})
        said = next((str(details[key]) for key in _SAID if isinstance(details, dict) and details.get(key)), "")
        steps.append({**dict(row), "said": said})
    return steps


@router.get("/reclamations/{reference}", response_class=HTMLResponse)
async def complaint_page(
    reference: str,
    fait: str | None = None,
    modele: int | None = None,
    pour: str | None = None,
    article: int | None = None,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """`modele` and `pour`: a reply template filled into the form `pour`;
    `article` and `pour`: an article's answer, the form keeping the article."""
    notice = "La commande est enregistrée." if fait else None
    form = command_forms.BY_PATH.get(pour or "")
    field = reply_templates.TEXT_FIELD.get(form.name) if form else None
    row = await register_queries.complaint(svc.pool, reference)
    if article is not None and form is not None and field is not None and row is not None:
        prefill = await knowledge_pages.answer_in(svc.pool, article, form.path, field)
        return await _complaint_page(svc, session, reference, prefill=prefill)
    if modele is None or form is None or field is None or row is None:
        return await _complaint_page(svc, session, reference, notice=notice)
    dates = LocalDates(svc.settings.timezone, svc.settings.locale)
    values = {
        "{nom}": row["complainant_name"],
        "{reference}": reference,
        "{date_reception}": dates.date(row["received_at"]),
        "{date_reponse}": dates.last_day(row["response_due_at"]) if row["response_due_at"] else "",
    }
    text = await reply_templates.filled(svc.pool, modele, values)
    prefill = (form.path, {field: text}) if text is not None else None
    return await _complaint_page(svc, session, reference, prefill=prefill)


@router.post("/reclamations/{reference}/commandes/{path}", response_class=HTMLResponse)
async def command(
    reference: str,
    path: str,
    request: Request,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> Response:
    values = await checked_form(request, session)
    form = command_forms.BY_PATH.get(path)
    if form is None:
        raise Forbidden("Cette commande n'existe pas.")
    require(session, form.permission)
    if values.get("version") != await _version(svc, reference, await _current_phase(svc, reference)):
        return await _complaint_page(
            svc, session, reference, 409,
            refusal=(path, "La réclamation a changé depuis l'affichage de cette page : voici son état actuel. "
                           "Vérifiez-le, puis renvoyez la commande si elle a toujours lieu d'être."),
            typed=values,
        )  # fmt: skip
    zone = ZoneInfo(svc.settings.timezone)
    command_, errors = command_forms.command_from(form, values, session.operator.operator, zone)
    if command_ is None:
        return await _complaint_page(
            svc, session, reference, 422, refusal=(path, "Corrigez les champs signalés."), typed=values, errors=errors
        )
    key = f"console:{values.get('form_id') or uuid.uuid4()}"
    try:
        await carry_out(svc, reference, form.update, command_, key)
    except ProblemError as problem:
        if problem.status >= 500 or problem.status == 404:
            raise
        return await _complaint_page(
            svc, session, reference, 409, refusal=(path, refusals_fr.in_french(problem.detail)),
            typed=values,
        )  # fmt: skip
    await knowledge_pages.keep_used(svc.pool, reference, values, form.name, key, session.operator.name)
    back = values.get("retour", "")
    if back in RETURN_PAGES:  # a queue that carries the form (the approvals) gets the operator back
        return RedirectResponse(f"{back}?fait={quote(reference)}", 303)
    return RedirectResponse(f"/console/reclamations/{quote(reference)}?fait=1#commandes", 303)


@router.post("/reclamations/{reference}/accuse-postal", response_class=HTMLResponse)
async def postal_acknowledgement(
    reference: str, request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    require(session, Permission.CONFIRM_POSTAL)
    letter = PostalLetter(confirmed_by=session.operator.name)
    try:
        await run_update(svc.client, svc.pool, reference, ComplaintWorkflow.confirm_postal_acknowledgement, letter,
                         f"console:{values.get('form_id') or uuid.uuid4()}")  # fmt: skip
    except ProblemError as problem:
        if problem.status >= 500 or problem.status == 404:
            raise
        return await _complaint_page(
            svc, session, reference, 409, refusal=("accuse-postal", refusals_fr.in_french(problem.detail)), typed=values
        )
    return RedirectResponse(f"/console/reclamations/{quote(reference)}?fait=1", 303)


LINK_REFUSALS_FR = {
    "same_complaint": "Une réclamation ne peut pas être liée à elle-même.",
    "unknown_complaint": "Aucune réclamation de ce numéro dans le registre.",
}


@router.post("/reclamations/{reference}/liens", response_class=HTMLResponse)
async def link_related(
    reference: str, request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    """Relate another complaint to this one, without merging them."""
    values = await checked_form(request, session)
    require(session, Permission.HANDLE)
    if await register_queries.complaint(svc.pool, reference) is None:
        raise Forbidden("Cette réclamation n'existe pas.")
    try:
        await related.link(svc.pool, reference, values.get("autre", ""), session.operator.name, values.get("note"))
    except related.LinkRefused as refused:
        return await _complaint_page(
            svc, session, reference, 422, refusal=("liens", LINK_REFUSALS_FR[refused.code]), typed=values
        )
    return RedirectResponse(f"/console/reclamations/{quote(reference)}#liees", 303)


@router.get("/reclamations/{reference}/documents/{document_id}")
async def document(
    reference: str, document_id: int, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    found = await register_queries.document(svc.pool, reference, document_id)
    if found is None:
        raise Forbidden("Ce document n'existe pas.")
    name = quote(found["filename"])
    return Response(
        found["content"],
        media_type=found["content_type"],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}", **pages.SECURITY_HEADERS},
    )

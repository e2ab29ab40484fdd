"""The complainant's pages (French, server-rendered, no JavaScript): the
complaint form and its confirmation, and the status page behind the signed
link with the forms to reply, accept or contest, and answer the survey.
Everything shown is escaped (Jinja2 autoescape)."""

import logging
import secrets
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import ValidationError
from starlette.datastructures import FormData
from temporalio.service import RPCError

from api import customer, register_queries, wording_fr
from api.body_limit import BodyTooLarge
from api.problems import REGISTER_RETRY_AFTER, ProblemError
from api.services import Services, services
from api.uploads import DocumentTooLarge, read_files
from complaints import knowledge
from complaints.customer_signals import SurveyAnswer
from complaints.database import REGISTER_ERRORS, register_unavailable
from complaints.dates import LocalDates
from complaints.intake import record_complaint, start_workflow
from complaints.links import CONFIRMATION_MAX_AGE, LinkAction, LinkRefused
from complaints.policy import UnknownRegime
from complaints.submission import Channel, validate_submission

log = logging.getLogger(__name__)


class _PageRoute(APIRoute):
    """A page's route: the register unreachable is a page in French (503,
    Retry-After), as every other answer of the pages, not the API's problem."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except REGISTER_ERRORS as error:
                if not register_unavailable(error):
                    raise
                log.warning("the register is unavailable on %s %s: %s", request.method, request.url.path, error)
                return _unavailable(services(request), request.method)

        return page


router = APIRouter(include_in_schema=False, route_class=_PageRoute)

_pages = Environment(
    loader=PackageLoader("api", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# No script, no third party, no referrer (status links carry their token).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
FORM_FIELDS = (
    "nom",
    "qualite",
    "email",
    "telephone",
    "adresse",
    "numero_client",
    "objet",
    "produit",
    "description",
    "solution",
)
# where a submission's field shows its error on the form
THANKS = {
    "reponse": "Merci : votre message nous est parvenu.",
    "accepte": "Merci : vous avez accepté notre réponse.",
    "conteste": "Votre contestation est enregistrée : un second responsable réexamine votre réclamation.",
    "avis": "Merci pour votre avis.",
}


def _page(svc: Services, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    dates = LocalDates(svc.settings.timezone, svc.settings.locale)
    html = _pages.get_template(name).render(
        organisation=svc.settings.organisation_name,
        date=dates.date,
        last_day=dates.last_day,
        moment=dates.moment,
        **values,
    )
    return HTMLResponse(html, status, headers=SECURITY_HEADERS)


def _error_page(svc: Services, status: int, heading: str, message: str) -> HTMLResponse:
    return _page(svc, "error.html", status, heading=heading, message=message)


def _unavailable(svc: Services, method: str) -> HTMLResponse:
    message = (
        "Cette page ne peut pas être affichée pour le moment : réessayez dans quelques minutes."
        if method in ("GET", "HEAD")
        else "Votre envoi n'est pas encore enregistré : notre service est momentanément indisponible. "
        "Revenez à la page précédente et renvoyez-le dans quelques minutes."
    )
    page = _error_page(svc, 503, "Service momentanément indisponible", message)
    page.headers["Retry-After"] = REGISTER_RETRY_AFTER
    return page


def _link_refused(svc: Services, refused: LinkRefused) -> HTMLResponse:
    message = (
        "Ce lien a expiré. Utilisez le lien du dernier message que nous vous avons envoyé."
        if refused.reason == "expired"
        else "Ce lien n'est pas valide. Copiez le lien complet depuis le message que nous vous avons envoyé."
    )
    return _error_page(svc, 403, "Lien non valide", message)


def _document_limits(svc: Services) -> dict[str, Any]:
    limits = svc.settings.document_limits
    return {
        "max_documents": limits.max_count,
        "max_megabytes": round(limits.max_bytes / 1024 / 1024, 1),
        "accept": ",".join(limits.allowed_types),
    }


# --- the complaint form -------------------------------------------------------


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/reclamation", 303)


@router.get("/reclamation", response_class=HTMLResponse)
async def complaint_form(svc: Services = Depends(services)) -> HTMLResponse:
    return _form(svc, {}, {}, None, secrets.token_urlsafe(16))


def _form(
    svc: Services,
    values: dict[str, str],
    errors: dict[str, str],
    problem: str | None,
    form_id: str,
    status: int = 200,
    answers: list | None = None,
    seen: str = "",
) -> HTMLResponse:
    return _page(
        svc,
        "form.html",
        status,
        values={field: values.get(field, "") for field in FORM_FIELDS},
        errors=errors,
        problem=problem,
        form_id=form_id,
        answers=answers,
        seen=seen,
        **_document_limits(svc),
    )


# --- self-care: the FAQ and the answers the form offers --------------------------

_MAX_SEEN = 20
# The survey's process-card questions: the form's field, the answer's.
PROCESS_QUESTIONS = {"probleme": "problem", "actions": "actions", "relation": "relationship"}


@router.get("/faq", response_class=HTMLResponse)
async def faq(svc: Services = Depends(services)) -> HTMLResponse:
    return _page(svc, "faq.html", articles=await knowledge.public_articles(svc.pool))


@router.post("/reclamation/reponses-proches", response_class=HTMLResponse)
async def nearby_answers(request: Request, svc: Services = Depends(services)) -> Response:
    """The form again, as typed, with the public articles that fit it: nothing
    is sent; the articles shown travel in the form to be kept with the complaint."""
    try:
        form = await request.form()
    except BodyTooLarge:
        return _form(svc, {}, {"documents": _too_large(svc)}, _too_large(svc), secrets.token_urlsafe(16), 413)
    values = {field: _text(form, field) for field in FORM_FIELDS}
    text = knowledge.complaint_text(values["objet"], values["description"], values["produit"])
    answers = await knowledge.fitting(svc.pool, text, public_only=True)
    await knowledge.count_shown(svc.pool, [row["id"] for row in answers])
    seen = _seen(form) | {int(row["id"]) for row in answers}
    form_id = _text(form, "form_id")[:64] or secrets.token_urlsafe(16)
    return _form(svc, values, {}, None, form_id, answers=answers, seen=",".join(map(str, sorted(seen))))


def _seen(form: FormData) -> set[int]:
    """The articles the form showed before (its hidden field; anything else ignored)."""
    ids = {int(part) for part in _text(form, "articles_vus").split(",") if part.strip().isdigit() and len(part) < 12}
    return set(sorted(ids)[:_MAX_SEEN])


@router.post("/reclamation", response_class=HTMLResponse)
async def submit_form(request: Request, svc: Services = Depends(services)) -> Response:
    try:
        form = await request.form()
    except BodyTooLarge:
        return _form(svc, {}, {"documents": _too_large(svc)}, _too_large(svc), secrets.token_urlsafe(16), 413)
    values = {field: _text(form, field) for field in FORM_FIELDS}
    # the form's id makes a resent form (back button, double click) the same complaint
    form_id = _text(form, "form_id")[:64] or secrets.token_urlsafe(16)
    # the form's rate per address was checked before the body was read (api/request_limits.py)
    try:
        documents = await read_files(form, "documents", svc.settings.document_limits)
    except DocumentTooLarge as error:
        message = f"{error.filename} : {_too_large(svc)}"
        return _form(svc, values, {"documents": message}, message, form_id, 413)
    data = {
        "channel": Channel.WEB,
        "complainant": {
            "name": values["nom"],
            "email": values["email"],
            "phone": values["telephone"],
            "postal_address": values["adresse"],
            "customer_id": values["numero_client"],
            "type": values["qualite"],
        },
        "subject": values["objet"],
        "description": values["description"],
        "product": values["produit"] or None,
        "desired_resolution": values["solution"] or None,
        "idempotency_key": f"web:{form_id}",
        "documents": documents,
    }
    try:
        submission = validate_submission(data, svc.settings.document_limits)
    except ValidationError as error:
        return _form(
            svc,
            values,
            wording_fr.submission_form_errors(error),
            "Votre réclamation n'est pas encore envoyée : corrigez les champs signalés.",
            form_id,
            422,
            seen=",".join(map(str, sorted(_seen(form)))),
        )
    try:
        submitted = await record_complaint(svc.pool, svc.settings, submission, actor="complainant (web form)")
    except REGISTER_ERRORS as error:
        if not register_unavailable(error):
            raise
        log.warning("the register is unavailable: a web complaint is not recorded: %s", error)
        message = (
            "Votre réclamation n'est pas encore enregistrée : notre service est momentanément indisponible. "
            "Renvoyez ce formulaire dans quelques minutes."
        )
        if documents:
            message += " Joignez à nouveau vos documents."
        page = _form(svc, values, {}, message, form_id, 503)
        page.headers["Retry-After"] = REGISTER_RETRY_AFTER
        return page
    await _keep_seen(svc, submitted.reference, _seen(form))
    # Recorded: the complaint is taken in. Should its workflow not start now
    # (Temporal down), the intake sweep starts it within minutes.
    try:
        await start_workflow(svc.pool, svc.client, svc.settings, submitted.reference)
    except (RPCError, *REGISTER_ERRORS) as error:
        if not isinstance(error, RPCError) and not register_unavailable(error):
            raise
        log.warning(
            "%s is recorded; its workflow did not start (the intake sweep starts it): %s", submitted.reference, error
        )
    token = svc.links.sign(submitted.reference, LinkAction.CONFIRMATION)
    return RedirectResponse(f"/reclamation/enregistree?{urlencode({'token': token})}", 303)


async def _keep_seen(svc: Services, reference: str, seen: set[int]) -> None:
    """The complainant saw these articles and still complained (a self-care
    measure: never a reason to refuse the complaint, recorded already)."""
    if not seen:
        return
    try:
        await knowledge.record_seen(svc.pool, reference, seen)
    except REGISTER_ERRORS as error:
        if not register_unavailable(error):
            raise
        log.warning("%s is recorded; the articles its complainant saw are not: %s", reference, error)


def _text(form: FormData, field: str) -> str:
    value = form.get(field)
    return value.strip() if isinstance(value, str) else ""


def _too_large(svc: Services) -> str:
    limits = svc.settings.document_limits
    return f"document trop volumineux ({round(limits.max_bytes / 1024 / 1024, 1)} Mo au plus par document)."


@router.get("/reclamation/enregistree", response_class=HTMLResponse)
async def confirmation(token: str = "", svc: Services = Depends(services)) -> HTMLResponse:
    try:
        reference = svc.links.reference(token, LinkAction.CONFIRMATION, CONFIRMATION_MAX_AGE)
    except LinkRefused as refused:
        return _link_refused(svc, refused)
    row = await register_queries.complaint(svc.pool, reference)
    if row is None:
        return _error_page(svc, 404, "Réclamation introuvable", "Cette réclamation n'existe pas.")
    return _page(
        svc,
        "confirmation.html",
        reference=reference,
        subject=row["subject"],
        received_at=row["received_at"],
        email=row["complainant_email"],
        response_due_at=_answer_due(svc, row),
    )


def _answer_due(svc: Services, row: asyncpg.Record) -> datetime:
    """The answer's date under the complaint's regime, as its run counts it."""
    sent_at, received_at = row["sent_at"], row["received_at"]
    if row["regulatory_due_at"]:
        return row["regulatory_due_at"]
    policy = svc.settings.complaint_policy_at(sent_at or received_at)
    try:
        return policy.regulatory_due(row["regime"], sent_at, received_at)
    except UnknownRegime:  # a regime the settings no longer define: the run has its own copy
        return policy.response_due(received_at)


# --- the status page and its forms ------------------------------------------


@router.get("/suivi/{ref}", response_class=HTMLResponse)
async def status_page(ref: str, token: str = "", merci: str = "", svc: Services = Depends(services)) -> HTMLResponse:
    try:
        svc.links.verify(token, LinkAction.STATUS, ref)
    except LinkRefused as refused:
        return _link_refused(svc, refused)
    return await _status(svc, ref, thanks=THANKS.get(merci))


async def _status(
    svc: Services, ref: str, *, thanks: str | None = None, problem: str | None = None, status: int = 200
) -> HTMLResponse:
    try:
        view = await customer.customer_view(svc, ref)
    except ProblemError:
        return _error_page(svc, 404, "Réclamation introuvable", "Cette réclamation n'existe pas.")
    paths = {LinkAction.REPLY: "reponse", LinkAction.VERDICT: "verdict", LinkAction.SURVEY: "enquete"}
    forms = {
        action.value: f"/suivi/{quote(ref)}/{paths[action]}?{urlencode({'token': svc.links.sign(ref, action)})}"
        for action in view.offers
    }
    return _page(
        svc,
        "status.html",
        status,
        view=view,
        forms=forms,
        reply_id=secrets.token_urlsafe(12),
        thanks=thanks,
        problem=problem,
        **_document_limits(svc),
    )


def _back_to_status(svc: Services, ref: str, thanks: str) -> RedirectResponse:
    token = svc.links.sign(ref, LinkAction.STATUS)
    return RedirectResponse(f"/suivi/{quote(ref)}?{urlencode({'token': token, 'merci': thanks})}", 303)


async def _act(svc: Services, ref: str, token: str, action: LinkAction, act: Any, thanks: str) -> Response:
    """Check the link, carry out `act`, and go back to the status page."""
    try:
        svc.links.verify(token, action, ref)
    except LinkRefused as refused:
        return _link_refused(svc, refused)
    try:
        await act()
    except customer.CustomerRefusal as refusal:
        page = await _status(
            svc, ref, problem=wording_fr.REFUSALS.get(refusal.code, refusal.detail), status=refusal.status
        )
        return _with_headers(page, refusal)
    except DocumentTooLarge as error:
        return await _status(svc, ref, problem=f"{error.filename} : {_too_large(svc)}", status=413)
    except BodyTooLarge:
        return await _status(svc, ref, problem=_too_large(svc), status=413)
    except ProblemError as error:
        message = "Un des documents n'est pas accepté : joignez un PDF, une image, un texte ou un document bureautique."
        if error.status != 422:
            message = wording_fr.REFUSALS["unavailable"]
        return _with_headers(await _status(svc, ref, problem=message, status=error.status), error)
    return _back_to_status(svc, ref, thanks)


def _with_headers(page: Response, problem: ProblemError) -> Response:
    """The page says what the problem's headers say: when to retry (Retry-After)."""
    page.headers.update(problem.headers or {})
    return page


@router.post("/suivi/{ref}/reponse", response_class=HTMLResponse)
async def reply_form(ref: str, request: Request, token: str = "", svc: Services = Depends(services)) -> Response:
    async def act() -> None:
        await customer.reply(svc, ref, await customer.read_reply(request, svc, None))

    return await _act(svc, ref, token, LinkAction.REPLY, act, "reponse")


@router.post("/suivi/{ref}/verdict", response_class=HTMLResponse)
async def verdict_form(ref: str, request: Request, token: str = "", svc: Services = Depends(services)) -> Response:
    form = await request.form()
    accepted = form.get("choix") == "accepter"

    async def act() -> None:
        if accepted:
            await customer.accept(svc, ref)
        else:
            await customer.contest(svc, ref, _text(form, "motif")[: customer.MAX_MESSAGE])

    return await _act(svc, ref, token, LinkAction.VERDICT, act, "accepte" if accepted else "conteste")


@router.post("/suivi/{ref}/enquete", response_class=HTMLResponse)
async def survey_form(ref: str, request: Request, token: str = "", svc: Services = Depends(services)) -> Response:
    form = await request.form()

    async def act() -> None:
        try:
            answer = SurveyAnswer(
                csat=_text(form, "csat"),
                ces=_text(form, "ces"),
                nps=_text(form, "nps"),
                comment=_text(form, "commentaire")[:5000] or None,
                # the process card's questions may be left unanswered
                **{field: _text(form, name) or None for name, field in PROCESS_QUESTIONS.items()},
            )
        except ValidationError as error:
            raise customer.CustomerRefusal(
                422, "survey_incomplete", "answer the first three questions, each other one 1 to 5 or not at all"
            ) from error
        await customer.answer_survey(svc, ref, answer)

    return await _act(svc, ref, token, LinkAction.SURVEY, act, "avis")

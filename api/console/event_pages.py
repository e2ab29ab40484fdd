"""The page of events out and automation rules: subscribers (added, edited,
paused, their secret shown once at creation and when rotated, every change
recorded with who made it) and dead letters with "deliver again", for managers
and administrators; the rules, added and removed by administrators (edited on their page,
api.console.rule_pages)."""

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console import pages
from api.console.access import Forbidden, checked_form, router, signed_in
from api.console.frame import frame, is_manager
from api.console.rule_pages import admin, refusal, rule_from
from api.console.sessions import ConsoleSession
from api.services import Services, services
from complaints import automation_rules, subscribers
from complaints.automation_rules import CONDITION_FIELDS
from complaints.operator_commands import Role

PAGE = "/console/evenements"


def _manager(session: ConsoleSession) -> None:
    if not is_manager(session):
        raise Forbidden("Seuls un responsable ou un administrateur gèrent les abonnés aux événements.")


async def _page(svc: Services, session: ConsoleSession, status: int = 200, **shown: Any) -> HTMLResponse:
    return pages.page(
        svc,
        "events.html",
        status,
        **await frame(svc, session, ""),
        subscribers=await subscribers.listed(svc.pool),
        dead_letters=await subscribers.dead_letters(svc.pool),
        rules=await automation_rules.active(svc.pool),
        changes=await subscribers.changes(svc.pool),
        condition_fields=CONDITION_FIELDS,
        may_rule=session.operator.role is Role.ADMIN,
        **{"error": None, "typed": {}, "secret": None, **shown},
    )


@router.get("/evenements", response_class=HTMLResponse)
async def events_page(session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)) -> Response:
    _manager(session)
    return await _page(svc, session)


@router.post("/evenements/abonnes", response_class=HTMLResponse)
async def add_subscriber(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    _manager(session)
    try:
        new = subscribers.NewSubscriber.model_validate({"name": values.get("nom", ""), **_settings(values)})
        _, secret = await subscribers.add(svc.pool, new, session.operator.name)
    except ValidationError as error:
        return await _page(svc, session, 422, error="Abonné refusé : " + refusal(error), typed=values)
    except subscribers.SubscriberExists:
        return await _page(svc, session, 409, error="Un abonné porte déjà ce nom.", typed=values)
    return await _page(svc, session, secret=(new.name, secret))


@router.post("/evenements/lettres/{dead_letter_id}/relivraison", response_class=HTMLResponse)
async def deliver_again(
    dead_letter_id: int,
    request: Request,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> Response:
    await checked_form(request, session)
    _manager(session)
    await subscribers.deliver_again(svc.pool, dead_letter_id)  # twice is once; a delivered one stays delivered
    return RedirectResponse(PAGE, 303)


@router.post("/evenements/regles", response_class=HTMLResponse)
async def add_rule(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    admin(session)
    try:
        rule = rule_from(values)
        await automation_rules.add(svc.pool, rule)
    except ValidationError as error:
        return await _page(svc, session, 422, error="Règle refusée : " + refusal(error), typed=values)
    except automation_rules.RuleExists:
        return await _page(svc, session, 409, error="Une règle porte déjà ce nom.", typed=values)
    except automation_rules.UnknownSubscriber:
        unknown = f"Règle refusée : aucun abonné actif ne s'appelle « {values['abonne']} »."
        return await _page(svc, session, 422, error=unknown, typed=values)
    return RedirectResponse(PAGE, 303)


@router.post("/evenements/regles/{rule_id}/suppression", response_class=HTMLResponse)
async def remove_rule(
    rule_id: int, request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    await checked_form(request, session)
    admin(session)
    await automation_rules.remove_by_id(svc.pool, rule_id)
    return RedirectResponse(PAGE, 303)


def _settings(values: dict[str, str]) -> dict[str, Any]:
    """A subscriber form's address, types (comma-separated; none: every type) and personal-data switch."""
    types = [t.strip() for t in values.get("types", "").split(",") if t.strip()]
    return {"url": values.get("url", ""), "personal_data": "donnees" in values} | (
        {"event_types": types} if types else {}
    )


async def _subscriber_page(
    svc: Services, session: ConsoleSession, subscriber_id: int, status: int = 200, **shown: Any
) -> HTMLResponse:
    found = await subscribers.one(svc.pool, subscriber_id)
    if found is None:
        return pages.page(svc, "message.html", 404, heading="Abonné introuvable", message="Cet abonné n'existe pas.")
    return pages.page(
        svc,
        "subscriber.html",
        status,
        **await frame(svc, session, ""),
        s=found,
        changes=[c for c in await subscribers.changes(svc.pool, 200) if c["subscriber"] == found["name"]],
        **{"error": None, "typed": None, "secret": None, "notice": None, **shown},
    )


@router.get("/evenements/abonnes/{subscriber_id}", response_class=HTMLResponse)
async def subscriber_page(
    subscriber_id: int,
    fait: str | None = None,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> Response:
    _manager(session)
    return await _subscriber_page(svc, session, subscriber_id, notice="Modifications enregistrées." if fait else None)


@router.post("/evenements/abonnes/{subscriber_id}", response_class=HTMLResponse)
async def edit_subscriber(
    subscriber_id: int,
    request: Request,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> Response:
    values = await checked_form(request, session)
    _manager(session)
    try:
        wanted = subscribers.SubscriberEdit.model_validate({**_settings(values), "active": "actif" in values})
    except ValidationError as error:
        return await _subscriber_page(
            svc, session, subscriber_id, 422, error="Modification refusée : " + refusal(error), typed=values
        )
    if not await subscribers.edit(svc.pool, subscriber_id, wanted, session.operator.name):
        raise Forbidden("Cet abonné n'existe pas.")
    return RedirectResponse(f"{PAGE}/abonnes/{subscriber_id}?fait=1", 303)


@router.post("/evenements/abonnes/{subscriber_id}/cle", response_class=HTMLResponse)
async def rotate_secret(
    subscriber_id: int,
    request: Request,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> Response:
    """A new secret, shown on this answer only (never in a URL, never again)."""
    await checked_form(request, session)
    _manager(session)
    secret = await subscribers.rotate_secret(svc.pool, subscriber_id, session.operator.name)
    if secret is None:
        raise Forbidden("Cet abonné n'existe pas.")
    return await _subscriber_page(svc, session, subscriber_id, secret=secret)

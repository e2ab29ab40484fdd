"""The administrators' page of events out and automation rules: subscribers
(added here, their secret shown once), dead letters with "deliver again", and
the rules, added and removed here."""

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console import pages
from api.console.access import Forbidden, checked_form, router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.services import Services, services
from complaints import automation_rules, subscribers
from complaints.automation_rules import CONDITION_FIELDS
from complaints.operator_commands import Role
from complaints.submission import field_reasons

PAGE = "/console/evenements"


def _admin(session: ConsoleSession) -> None:
    if session.operator.role is not Role.ADMIN:
        raise Forbidden("Seul un administrateur gère les abonnés aux événements et les règles d'automatisation.")


async def _page(svc: Services, session: ConsoleSession, status: int = 200, **shown: Any) -> HTMLResponse:
    return pages.page(
        svc,
        "events.html",
        status,
        **await frame(svc, session, ""),
        subscribers=await subscribers.listed(svc.pool),
        dead_letters=await subscribers.dead_letters(svc.pool),
        rules=await automation_rules.active(svc.pool),
        condition_fields=CONDITION_FIELDS,
        **{"error": None, "typed": {}, "secret": None, **shown},
    )


def _refusal(error: ValidationError) -> str:
    return "; ".join(f"{problem.where('valeur')} : {problem.reason}" for problem in field_reasons(error))


@router.get("/evenements", response_class=HTMLResponse)
async def events_page(session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)) -> Response:
    _admin(session)
    return await _page(svc, session)


@router.post("/evenements/abonnes", response_class=HTMLResponse)
async def add_subscriber(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    _admin(session)
    types = [t.strip() for t in values.get("types", "").split(",") if t.strip()]
    try:
        new = subscribers.NewSubscriber.model_validate(
            {"name": values.get("nom", ""), "url": values.get("url", ""), "personal_data": "donnees" in values}
            | ({"event_types": types} if types else {})
        )
        _, secret = await subscribers.add(svc.pool, new)
    except ValidationError as error:
        return await _page(svc, session, 422, error="Abonné refusé : " + _refusal(error), typed=values)
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
    _admin(session)
    await subscribers.deliver_again(svc.pool, dead_letter_id)  # twice is once; a delivered one stays delivered
    return RedirectResponse(PAGE, 303)


@router.post("/evenements/regles", response_class=HTMLResponse)
async def add_rule(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    _admin(session)
    actions: list[dict[str, Any]] = []
    if values.get("assigner"):
        actions.append({"kind": "assign", "handler": values["assigner"], "team": values.get("equipe") or None})
    if values.get("courriel"):
        actions.append({"kind": "email", "to": values["courriel"]})
    if values.get("note"):
        actions.append({"kind": "note", "text": values["note"]})
    if values.get("priorite"):
        actions.append({"kind": "priority", "priority": values["priorite"]})
    conditions = {field: values[field] for field in CONDITION_FIELDS if values.get(field)}
    try:
        rule = automation_rules.NewRule.model_validate(
            {
                "name": values.get("nom", ""),
                "event": values.get("evenement", ""),
                "conditions": conditions,
                "actions": actions,
            }
        )
        await automation_rules.add(svc.pool, rule)
    except ValidationError as error:
        return await _page(svc, session, 422, error="Règle refusée : " + _refusal(error), typed=values)
    except automation_rules.RuleExists:
        return await _page(svc, session, 409, error="Une règle porte déjà ce nom.", typed=values)
    return RedirectResponse(PAGE, 303)


@router.post("/evenements/regles/{rule_id}/suppression", response_class=HTMLResponse)
async def remove_rule(
    rule_id: int, request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    await checked_form(request, session)
    _admin(session)
    await automation_rules.remove_by_id(svc.pool, rule_id)
    return RedirectResponse(PAGE, 303)

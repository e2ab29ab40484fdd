"""A rule's page: its edit form (the add form's fields and checks, filled with
the rule as it is) and the versions its edits replaced, for administrators.
The form carries the version it shows: a save from a version another edit
replaced since is refused, the same save sent twice is saved once."""

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console import pages
from api.console.access import Forbidden, checked_form, router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.services import Services, services
from complaints import automation_rules
from complaints.automation_rules import CONDITION_FIELDS, Rule
from complaints.operator_commands import Role
from complaints.submission import field_reasons

PAGE = "/console/evenements"


def admin(session: ConsoleSession) -> None:
    if session.operator.role is not Role.ADMIN:
        raise Forbidden("Seul un administrateur gère les règles d'automatisation.")


def refusal(error: ValidationError) -> str:
    return "; ".join(f"{problem.where('valeur')} : {problem.reason}" for problem in field_reasons(error))


def _several(text: str, separator: str | None) -> list[str]:
    return [part.strip() for part in text.split(separator) if part.strip()]


def rule_from(values: dict[str, str]) -> automation_rules.NewRule:
    """The rule a form describes (ValidationError with the reasons otherwise):
    several addresses or subscribers separated by commas, checklist items one a line."""
    actions: list[dict[str, Any]] = []
    if values.get("assigner"):
        actions.append({"kind": "assign", "handler": values["assigner"], "team": values.get("equipe") or None})
    actions += [{"kind": "email", "to": to} for to in _several(values.get("courriel", ""), ",")]
    if values.get("note"):
        actions.append({"kind": "note", "text": values["note"]})
    if values.get("priorite"):
        actions.append({"kind": "priority", "priority": values["priorite"]})
    actions += [{"kind": "call", "subscriber": name} for name in _several(values.get("abonne", ""), ",")]
    actions += [{"kind": "checklist", "text": text} for text in _several(values.get("liste", ""), "\n")]
    conditions = {field: values[field] for field in CONDITION_FIELDS if values.get(field)}
    return automation_rules.NewRule.model_validate(
        {
            "name": values.get("nom", ""),
            "event": values.get("evenement", ""),
            "conditions": conditions,
            "actions": actions,
        }
    )


def form_of(rule: Rule) -> dict[str, str]:
    """The form's fields filled with the rule (the inverse of rule_from)."""
    values: dict[str, str] = {"nom": rule.name, "evenement": rule.event, "version": str(rule.version)}
    values |= {str(field): wanted for field, wanted in rule.conditions.items()}
    several: dict[str, list[str]] = {"courriel": [], "abonne": [], "liste": []}
    for action in rule.actions:
        if isinstance(action, automation_rules.Assign):
            values |= {"assigner": action.handler, "equipe": action.team or ""}
        elif isinstance(action, automation_rules.EmailTeam):
            several["courriel"].append(str(action.to))
        elif isinstance(action, automation_rules.AddNote):
            values["note"] = action.text
        elif isinstance(action, automation_rules.RaisePriority):
            values["priorite"] = action.priority.value
        elif isinstance(action, automation_rules.CallSubscriber):
            several["abonne"].append(action.subscriber)
        else:
            several["liste"].append(action.text)
    return (
        values
        | {"courriel": ", ".join(several["courriel"]), "abonne": ", ".join(several["abonne"])}
        | {"liste": "\n".join(several["liste"])}
    )


async def _rule_page(
    svc: Services, session: ConsoleSession, rule_id: int, status: int = 200, **shown: Any
) -> HTMLResponse:
    rule = await automation_rules.one(svc.pool, rule_id)
    if rule is None:
        return pages.page(svc, "message.html", 404, heading="Règle introuvable", message="Cette règle n'existe pas.")
    return pages.page(
        svc,
        "rule.html",
        status,
        **await frame(svc, session, ""),
        r=rule,
        versions=await automation_rules.versions(svc.pool, rule_id),
        condition_fields=CONDITION_FIELDS,
        **{"error": None, "notice": None, "typed": form_of(rule), **shown},
    )


@router.get("/evenements/regles/{rule_id}", response_class=HTMLResponse)
async def rule_page(
    rule_id: int,
    fait: str | None = None,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> Response:
    admin(session)
    return await _rule_page(svc, session, rule_id, notice="Règle enregistrée." if fait else None)


@router.post("/evenements/regles/{rule_id}", response_class=HTMLResponse)
async def edit_rule(
    rule_id: int, request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    admin(session)
    if not values.get("version", "").isdigit():
        raise Forbidden("Ce formulaire ne dit pas quelle version de la règle il modifie : rechargez la page.")
    try:
        wanted = rule_from(values)
        await automation_rules.edit(svc.pool, rule_id, wanted, int(values["version"]), session.operator.name)
    except ValidationError as error:
        invalid = "Modification refusée : " + refusal(error)
        return await _rule_page(svc, session, rule_id, 422, error=invalid, typed=values)
    except automation_rules.StaleRule as stale:
        return await _rule_page(svc, session, rule_id, 409, error=_stale(stale.current, values["version"]))
    except automation_rules.RuleExists:
        taken = "Modification refusée : une autre règle porte déjà ce nom."
        return await _rule_page(svc, session, rule_id, 409, error=taken, typed=values)
    except automation_rules.UnknownSubscriber:
        unknown = f"Modification refusée : aucun abonné actif ne s'appelle ainsi parmi « {values.get('abonne')} »."
        return await _rule_page(svc, session, rule_id, 422, error=unknown, typed=values)
    except automation_rules.UnknownRule:
        return await _rule_page(svc, session, rule_id)  # removed meanwhile: "introuvable"
    return RedirectResponse(f"{PAGE}/regles/{rule_id}?fait=1", 303)


def _stale(current: int, read: str) -> str:
    return (
        f"Modification refusée : la règle a été modifiée entre-temps (vous partiez de la version {read}, elle est"
        f" maintenant à la version {current}). Le formulaire montre la règle telle qu'elle est : refaites-y vos"
        " modifications."
    )

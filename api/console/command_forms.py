"""The complaint page's forms, one per row of the API's command table
(api/commands.py): their fields come from each command's model, so the
console asks for exactly what the workflow's update takes; which forms show
comes from the phases the workflow's rules accept them in."""

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, Union, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from api.auth import Permission
from api.commands import COMMANDS, command_model
from api.wording_fr import field_message
from complaints.complaint_status import ComplaintStatus, Phase
from complaints.operator_commands import Command
from complaints.temporal_client import Update
from workflows.complaint import rules

TITLES = {
    "confirm_assessment": "Confirmer ou corriger l'évaluation",
    "assign": "Attribuer",
    "plan_action": "Planifier une action",
    "add_note": "Note interne (jamais montrée au client)",
    "send_progress_update": "Point d'avancement au client (envoyé par email)",
    "request_information": "Demande d'informations au client (envoyée par email)",
    "extend_analysis": "Prolonger l'analyse (le client est informé)",
    "decide": "Décision",
    "approve_compensation": "Approuver ou refuser la compensation",
    "close": "Clôturer",
    "merge_into": "Fusionner dans une autre réclamation",
}
# commands with a page of their own (a merge is confirmed first: api/console/merge_page.py)
OWN_PAGES = {"merge_into"}
# messages the customer receives look apart from what stays internal
CUSTOMER_FACING = {"send_progress_update", "request_information", "extend_analysis", "decide"}
INTERNAL = {"add_note", "plan_action"}

# the phases each update's rule accepts
PHASES = rules.NEEDED_PHASES

LABELS = {
    "priority": "Priorité (vide : confirmer la priorité suggérée)",
    "reason": "Motif",
    "category": "Catégorie",
    "regime": "Régime",
    "handler": "Responsable",
    "team": "Équipe",
    "kind": "Type",
    "description": "Description",
    "owner": "Responsable de l'action",
    "due_on": "Échéance",
    "root_cause": "Cause racine",
    "analysis": "Analyse",
    "text": "Note",
    "message": "Message au client",
    "questions": "Questions au client",
    "new_due_at": "Nouvelle date de réponse",
    "outcome": "Issue",
    "justification": "Justification (lue par le client)",
    "compensation": "Compensation",
    "amount": "Montant",
    "approved": "Verdict",
    "comment": "Commentaire",
    "note": "Note de clôture",
}
CHOICES_FR = {
    "P1": "P1", "P2": "P2", "P3": "P3", "P4": "P4",
    "accepted": "Acceptée", "partially_accepted": "Partiellement acceptée", "rejected": "Rejetée",
    "corrective": "Corrective", "improvement": "Amélioration",
    "credit_note": "Avoir", "refund": "Remboursement", "complimentary_service": "Prestation offerte",
    "commercial_gesture": "Geste commercial", "apology": "Excuses",
    "true": "Approuver", "false": "Refuser",
}  # fmt: skip


@dataclass(frozen=True)
class Field:
    name: str  # dotted for a nested model: compensation.kind
    label: str
    widget: str  # text, textarea, select, date, datetime, number
    required: bool
    choices: list[tuple[str, str]]


@dataclass(frozen=True)
class CommandForm:
    path: str
    name: str
    title: str
    permission: Permission
    model: type[Command]
    update: Update
    fields: list[Field]

    @property
    def look(self) -> str:
        return "customer" if self.name in CUSTOMER_FACING else "internal" if self.name in INTERNAL else ""


_LONG_TEXTS = {"text", "message", "questions", "justification", "reason", "description", "analysis", "comment", "note"}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside an Optional, and whether it was optional."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return inner[0], len(inner) < len(typing.get_args(annotation))
    return annotation, False


def _fields(model: type[BaseModel], prefix: str = "", optional: bool = False) -> list[Field]:
    found = []
    for name, info in model.model_fields.items():
        if name == "by":
            continue
        kind, is_optional = _unwrap(info.annotation)
        required = info.is_required() and not optional
        label = LABELS.get(name, name)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found += _fields(kind, f"{prefix}{name}.", optional or is_optional or not info.is_required())
            continue
        choices: list[tuple[str, str]] = []
        widget = "text"
        if isinstance(kind, type) and issubclass(kind, Enum):
            choices, widget = (
                [(str(item.value), CHOICES_FR.get(str(item.value), str(item.value))) for item in kind],
                "select",
            )
        elif typing.get_origin(kind) is Literal:
            choices, widget = [(str(v), CHOICES_FR.get(str(v), str(v))) for v in typing.get_args(kind)], "select"
        elif kind is bool:
            choices, widget = [("true", CHOICES_FR["true"]), ("false", CHOICES_FR["false"])], "select"
        elif kind is datetime:
            widget = "datetime"
        elif kind is date:
            widget = "date"
        elif kind is Decimal:
            widget = "number"
        elif name in (
            "text",
            "message",
            "questions",
            "justification",
            "reason",
            "description",
            "analysis",
            "comment",
            "note",
        ):
            widget = "textarea"
        found.append(Field(f"{prefix}{name}", label, widget, required, choices))
    return found


def _name(update: Update) -> str:
    return cast(Callable[..., Any], update).__name__


FORMS = [
    CommandForm(path, _name(update), TITLES[_name(update)], permission, command_model(update), update,
                _fields(command_model(update)))
    for path, update, permission, _ in COMMANDS
    if _name(update) not in OWN_PAGES
]  # fmt: skip
BY_PATH = {form.path: form for form in FORMS}


def available(status: ComplaintStatus | None, phase: Phase) -> list[CommandForm]:
    """The forms the workflow accepts now, by its rules' phases."""
    forms = [form for form in FORMS if phase in PHASES[form.name]]
    if status is not None and (status.proposal is not None or status.decisions):
        forms = [form for form in forms if form.name != "decide" or phase is Phase.REVIEW]
    return forms


def command_from(
    form: CommandForm, values: dict[str, str], by: Any, zone: ZoneInfo
) -> tuple[Command | None, dict[str, str]]:
    """The command the form's fields make, or the French error of each field.
    An optional nested model left empty is left out; a date and time typed
    is in the organisation's zone."""
    data: dict[str, Any] = {"by": by}
    for field in form.fields:
        value = values.get(field.name, "")
        if not value:
            continue
        target = data
        *parents, leaf = field.name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = _zoned(value, zone) if field.widget == "datetime" else value
    try:
        return form.model.model_validate(data), {}
    except ValidationError as error:
        errors: dict[str, str] = {}
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"])
            errors.setdefault(name if any(f.name == name for f in form.fields) else "", field_message(dict(problem)))
        return None, errors


def _zoned(value: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # refused by the model, with its field
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()

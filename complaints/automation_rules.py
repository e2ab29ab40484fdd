"""Automation rules: "when EVENT (and the complaint matches) then ACTIONS",
kept in the register and managed by administrators. Matching is pure; the
dispatcher reads the rules through an activity when it handles a step, so the
decision is in its history and a replay does not read them again."""

import json
from typing import Annotated, Any, Literal

import asyncpg
from pydantic import BaseModel, EmailStr, Field, TypeAdapter

from complaints.assessment import Priority
from complaints.submission import OneLine, Text

RULE_ACTOR_PREFIX = "règle "  # the actor of a step a rule caused: rules never fire on those
CONDITION_FIELDS = ("priority", "category", "product", "regime", "channel")


class EmailTeam(BaseModel):
    kind: Literal["email"] = "email"
    to: EmailStr


class Assign(BaseModel):
    kind: Literal["assign"] = "assign"
    handler: OneLine = Field(min_length=1, max_length=200)
    team: OneLine | None = Field(default=None, max_length=200)


class AddNote(BaseModel):
    kind: Literal["note"] = "note"
    text: Text = Field(min_length=1)


class RaisePriority(BaseModel):
    kind: Literal["priority"] = "priority"
    priority: Priority


class CallSubscriber(BaseModel):
    """Deliver the step's CloudEvent to this subscriber (by name), whatever types it chose."""

    kind: Literal["call"] = "call"
    subscriber: OneLine = Field(min_length=1, max_length=200)


class AddChecklistItem(BaseModel):
    kind: Literal["checklist"] = "checklist"
    text: OneLine = Field(min_length=1, max_length=500)


Action = Annotated[
    EmailTeam | Assign | AddNote | RaisePriority | CallSubscriber | AddChecklistItem, Field(discriminator="kind")
]
ACTIONS: TypeAdapter[list[Action]] = TypeAdapter(list[Action])


class NewRule(BaseModel):
    name: OneLine = Field(min_length=1, max_length=190)  # "règle <name>" is an operator's name
    event: OneLine = Field(min_length=1, max_length=100)  # a journal event name
    conditions: dict[Literal["priority", "category", "product", "regime", "channel"], str] = Field(default_factory=dict)
    actions: list[Action] = Field(min_length=1)


class Rule(NewRule):
    id: int


def actor(rule_name: str) -> str:
    return f"{RULE_ACTOR_PREFIX}{rule_name}"


def matches(rule: Rule, event: str, actor_name: str, complaint: dict[str, Any]) -> bool:
    """Whether the rule fires on this step of this complaint (as it is now)."""
    if actor_name.startswith(RULE_ACTOR_PREFIX) or rule.event != event:
        return False
    return all(str(complaint.get(field) or "") == wanted for field, wanted in rule.conditions.items())


class RuleExists(ValueError):
    pass


class UnknownSubscriber(ValueError):
    """A rule calling a subscriber that is not active."""


async def add(pool: asyncpg.Pool, rule: NewRule) -> int:
    for action in rule.actions:
        if isinstance(action, CallSubscriber) and not await pool.fetchval(
            "SELECT 1 FROM subscribers WHERE name = $1 AND active", action.subscriber
        ):
            raise UnknownSubscriber(f"no active subscriber named {action.subscriber!r}")
    try:
        found = await pool.fetchval(
            "INSERT INTO automation_rules (name, event, conditions, actions) VALUES ($1, $2, $3::jsonb, $4::jsonb) "
            "RETURNING id",
            rule.name,
            rule.event,
            json.dumps(rule.conditions),
            json.dumps([action.model_dump(mode="json") for action in rule.actions]),
        )
    except asyncpg.UniqueViolationError as error:
        raise RuleExists(f"a rule named {rule.name!r} exists already") from error
    return int(found)


async def active(conn: asyncpg.Connection | asyncpg.Pool) -> list[Rule]:
    rows = await conn.fetch(
        "SELECT id, name, event, conditions, actions FROM automation_rules WHERE active ORDER BY id"
    )
    return [
        Rule(
            id=row["id"],
            name=row["name"],
            event=row["event"],
            conditions=json.loads(row["conditions"]),
            actions=ACTIONS.validate_python(json.loads(row["actions"])),
        )
        for row in rows
    ]


async def remove(pool: asyncpg.Pool, name: str) -> bool:
    done = await pool.execute("UPDATE automation_rules SET active = false WHERE name = $1 AND active", name)
    return done != "UPDATE 0"


async def remove_by_id(pool: asyncpg.Pool, rule_id: int) -> bool:
    done = await pool.execute("UPDATE automation_rules SET active = false WHERE id = $1 AND active", rule_id)
    return done != "UPDATE 0"


async def change_actions(pool: asyncpg.Pool, name: str, actions: list[Action]) -> bool:
    done = await pool.execute(
        "UPDATE automation_rules SET actions = $2::jsonb WHERE name = $1",
        name,
        json.dumps([action.model_dump(mode="json") for action in actions]),
    )
    return done != "UPDATE 0"

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
    version: int = 1  # counts its edits (migration 0027); the form and the CLI save from the one they read


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


class UnknownRule(LookupError):
    """No active rule with that id or name."""


class StaleRule(ValueError):
    """An edit made on a version of the rule that another edit has replaced since."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the rule was changed since (it is at version {current})")
        self.current = current


async def _check_subscribers(conn: asyncpg.Connection | asyncpg.Pool, rule: NewRule) -> None:
    for action in rule.actions:
        if isinstance(action, CallSubscriber) and not await conn.fetchval(
            "SELECT 1 FROM subscribers WHERE name = $1 AND active", action.subscriber
        ):
            raise UnknownSubscriber(f"no active subscriber named {action.subscriber!r}")


def _actions_json(actions: list[Action]) -> str:
    return json.dumps([action.model_dump(mode="json") for action in actions])


async def add(pool: asyncpg.Pool, rule: NewRule) -> int:
    await _check_subscribers(pool, rule)
    try:
        found = await pool.fetchval(
            "INSERT INTO automation_rules (name, event, conditions, actions) VALUES ($1, $2, $3::jsonb, $4::jsonb) "
            "RETURNING id",
            rule.name,
            rule.event,
            json.dumps(rule.conditions),
            _actions_json(rule.actions),
        )
    except asyncpg.UniqueViolationError as error:
        raise RuleExists(f"a rule named {rule.name!r} exists already") from error
    return int(found)


_RULE_COLUMNS = "id, version, name, event, conditions, actions"


def _rule(row: asyncpg.Record) -> Rule:
    return Rule(
        id=row["id"],
        version=row["version"],
        name=row["name"],
        event=row["event"],
        conditions=json.loads(row["conditions"]),
        actions=ACTIONS.validate_python(json.loads(row["actions"])),
    )


async def active(conn: asyncpg.Connection | asyncpg.Pool) -> list[Rule]:
    rows = await conn.fetch(f"SELECT {_RULE_COLUMNS} FROM automation_rules WHERE active ORDER BY id")
    return [_rule(row) for row in rows]


async def one(pool: asyncpg.Pool, rule_id: int) -> Rule | None:
    row = await pool.fetchrow(f"SELECT {_RULE_COLUMNS} FROM automation_rules WHERE id = $1 AND active", rule_id)
    return None if row is None else _rule(row)


async def id_of(pool: asyncpg.Pool, name: str) -> int | None:
    found = await pool.fetchval("SELECT id FROM automation_rules WHERE name = $1 AND active", name)
    return None if found is None else int(found)


async def edit(pool: asyncpg.Pool, rule_id: int, wanted: NewRule, read_version: int, by: str) -> int:
    """Save the rule as wanted, made on `read_version`, and keep the version it
    replaces; the version it is at now. The same edit saved twice (a double
    post) is saved once: sent again from the version it replaced, it finds the
    rule already so and changes nothing. Another edit in between is refused
    (StaleRule), as is a name another rule has (RuleExists)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"SELECT {_RULE_COLUMNS} FROM automation_rules WHERE id = $1 AND active FOR UPDATE", rule_id
        )
        if row is None:
            raise UnknownRule(f"no active rule {rule_id}")
        current = _rule(row)
        if NewRule.model_validate(current.model_dump()) == wanted:
            return current.version  # nothing to change (or changed so already)
        if current.version != read_version:
            raise StaleRule(current.version)
        await _check_subscribers(conn, wanted)
        await conn.execute(
            """INSERT INTO automation_rule_versions (rule_id, version, name, event, conditions, actions, replaced_by)
               SELECT id, version, name, event, conditions, actions, $2 FROM automation_rules WHERE id = $1""",
            rule_id,
            by,
        )
        try:
            await conn.execute(
                """UPDATE automation_rules SET name = $2, event = $3, conditions = $4::jsonb, actions = $5::jsonb,
                          version = version + 1, updated_at = now() WHERE id = $1""",
                rule_id,
                wanted.name,
                wanted.event,
                json.dumps(wanted.conditions),
                _actions_json(wanted.actions),
            )
        except asyncpg.UniqueViolationError as error:
            raise RuleExists(f"a rule named {wanted.name!r} exists already") from error
        return current.version + 1


async def versions(pool: asyncpg.Pool, rule_id: int) -> list[dict[str, Any]]:
    """The versions a rule's edits replaced, the latest first, each with who replaced it and when."""
    rows = await pool.fetch(
        """SELECT version, name, event, conditions, actions, replaced_by, replaced_at FROM automation_rule_versions
            WHERE rule_id = $1 ORDER BY version DESC""",
        rule_id,
    )
    return [
        {
            **dict(row),
            "conditions": json.loads(row["conditions"]),
            "actions": ACTIONS.validate_python(json.loads(row["actions"])),
        }
        for row in rows
    ]


async def remove(pool: asyncpg.Pool, name: str) -> bool:
    done = await pool.execute("UPDATE automation_rules SET active = false WHERE name = $1 AND active", name)
    return done != "UPDATE 0"


async def remove_by_id(pool: asyncpg.Pool, rule_id: int) -> bool:
    done = await pool.execute("UPDATE automation_rules SET active = false WHERE id = $1 AND active", rule_id)
    return done != "UPDATE 0"

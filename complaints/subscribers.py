"""Subscribers to the events out, and their dead letters, in the register.
A subscriber's secret is made here and shown once, at creation or when it is
rotated; every change is kept in `subscriber_changes` (who, what, never the
secret)."""

import json
import secrets
from typing import Any

import asyncpg
from pydantic import BaseModel, Field, HttpUrl, field_validator

from complaints.cloud_events import EVERY_TYPE, TYPE_PREFIX
from complaints.submission import OneLine


class SubscriberSettings(BaseModel):
    """What an administrator may change on a subscriber (its name stays: rules call it by name)."""

    url: HttpUrl
    event_types: list[str] = Field(default_factory=lambda: [EVERY_TYPE], min_length=1)
    personal_data: bool = False

    @field_validator("event_types")
    @classmethod
    def _known_shape(cls, types: list[str]) -> list[str]:
        for type_ in types:
            if type_ != EVERY_TYPE and not type_.startswith(TYPE_PREFIX):
                raise ValueError(f"an event type is '{EVERY_TYPE}' or starts with {TYPE_PREFIX}: {type_!r}")
        return types


class NewSubscriber(SubscriberSettings):
    name: OneLine = Field(min_length=1, max_length=200)


class SubscriberEdit(SubscriberSettings):
    active: bool = True  # False: paused, it receives nothing until it is active again


class SubscriberExists(ValueError):
    pass


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


async def _changed(conn: asyncpg.Connection, subscriber_id: int, by: str, change: str, details: dict) -> None:
    await conn.execute(
        "INSERT INTO subscriber_changes (subscriber_id, changed_by, change, details) VALUES ($1, $2, $3, $4::jsonb)",
        subscriber_id,
        by,
        change,
        json.dumps(details),
    )


async def add(pool: asyncpg.Pool, subscriber: NewSubscriber, by: str = "cli") -> tuple[int, str]:
    """Record a subscriber; its id and its secret (never shown again). It
    receives the steps journaled from now on."""
    secret = _new_secret()
    try:
        async with pool.acquire() as conn, conn.transaction():
            found = await conn.fetchval(
                """INSERT INTO subscribers (name, url, secret, event_types, personal_data, after_journal_id)
               VALUES ($1, $2, $3, $4, $5, coalesce((SELECT max(id) FROM journal), 0)) RETURNING id""",
                subscriber.name,
                str(subscriber.url),
                secret,
                subscriber.event_types,
                subscriber.personal_data,
            )
            await _changed(conn, found, by, "added", subscriber.model_dump(mode="json"))
    except asyncpg.UniqueViolationError as error:
        raise SubscriberExists(f"a subscriber named {subscriber.name!r} exists already") from error
    return int(found), secret


async def listed(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every subscriber, without its secret."""
    rows = await pool.fetch(
        """SELECT id, name, url, event_types, personal_data, active, created_at, secret_rotated_at,
                  (SELECT count(*) FROM dead_letters d WHERE d.subscriber_id = s.id AND d.status <> 'delivered')
                      AS dead_letters
             FROM subscribers s ORDER BY name"""
    )
    return [dict(row) for row in rows]


async def remove(pool: asyncpg.Pool, name: str, by: str = "cli") -> bool:
    """Stop delivering to the subscriber (kept, inactive: its dead letters stay readable)."""
    async with pool.acquire() as conn, conn.transaction():
        found = await conn.fetchval(
            "UPDATE subscribers SET active = false WHERE name = $1 AND active RETURNING id", name
        )
        if found is not None:
            await _changed(conn, found, by, "removed", {})
    return found is not None


async def edit(pool: asyncpg.Pool, subscriber_id: int, wanted: SubscriberEdit, by: str) -> bool:
    """Change a subscriber's address, types, personal-data switch and state; the
    next deliveries follow. False: no such subscriber. The change is recorded
    only when something changed."""
    async with pool.acquire() as conn, conn.transaction():
        before = await conn.fetchrow(
            "SELECT url, event_types, personal_data, active FROM subscribers WHERE id = $1 FOR UPDATE", subscriber_id
        )
        if before is None:
            return False
        after = wanted.model_dump(mode="json")
        changed = {key: value for key, value in after.items() if _comparable(before[key]) != value}
        if not changed:
            return True
        await conn.execute(
            "UPDATE subscribers SET url = $2, event_types = $3, personal_data = $4, active = $5 WHERE id = $1",
            subscriber_id,
            after["url"],
            after["event_types"],
            after["personal_data"],
            after["active"],
        )
        await _changed(conn, subscriber_id, by, "edited", changed)
    return True


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


async def rotate_secret(pool: asyncpg.Pool, subscriber_id: int, by: str) -> str | None:
    """A new secret for the subscriber, shown this once; every delivery from now
    on is signed with it (the delivery reads the secret when it signs). None: no
    such subscriber."""
    secret = _new_secret()
    async with pool.acquire() as conn, conn.transaction():
        found = await conn.fetchval(
            "UPDATE subscribers SET secret = $2, secret_rotated_at = now() WHERE id = $1 RETURNING id",
            subscriber_id,
            secret,
        )
        if found is None:
            return None
        await _changed(conn, subscriber_id, by, "secret_rotated", {})
    return secret


async def one(pool: asyncpg.Pool, subscriber_id: int) -> dict[str, Any] | None:
    """A subscriber, without its secret."""
    row = await pool.fetchrow(
        """SELECT id, name, url, event_types, personal_data, active, created_at, secret_rotated_at
             FROM subscribers WHERE id = $1""",
        subscriber_id,
    )
    return dict(row) if row else None


async def changes(pool: asyncpg.Pool, limit: int = 50) -> list[dict[str, Any]]:
    """The latest changes to subscribers, newest first."""
    rows = await pool.fetch(
        """SELECT c.changed_at, c.changed_by, c.change, c.details, s.name AS subscriber
             FROM subscriber_changes c JOIN subscribers s ON s.id = c.subscriber_id
            ORDER BY c.changed_at DESC, c.id DESC LIMIT $1""",
        limit,
    )
    return [{**dict(row), "details": json.loads(row["details"])} for row in rows]


async def dead_letters(pool: asyncpg.Pool, limit: int = 200) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT d.id, s.name AS subscriber, d.event_id, d.reference, d.event_type, d.error, d.status,
                  d.failed_at, d.delivered_at
             FROM dead_letters d JOIN subscribers s ON s.id = d.subscriber_id
            ORDER BY d.failed_at DESC LIMIT $1""",
        limit,
    )
    return [dict(row) for row in rows]


async def deliver_again(pool: asyncpg.Pool, dead_letter_id: int) -> bool:
    """Ask the dispatcher to try a dead letter once more; asking twice is asking once.
    False when there is no such dead letter still undelivered."""
    done = await pool.execute(
        "UPDATE dead_letters SET status = 'redeliver' WHERE id = $1 AND status IN ('dead', 'redeliver')",
        dead_letter_id,
    )
    return done != "UPDATE 0"

"""Subscribers to the events out, and their dead letters, in the register.
A subscriber's secret is made here and shown once, at creation."""

import secrets
from typing import Any

import asyncpg
from pydantic import BaseModel, Field, HttpUrl, field_validator

from complaints.cloud_events import EVERY_TYPE, TYPE_PREFIX
from complaints.submission import OneLine


class NewSubscriber(BaseModel):
    name: OneLine = Field(min_length=1, max_length=200)
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


class SubscriberExists(ValueError):
    pass


async def add(pool: asyncpg.Pool, subscriber: NewSubscriber) -> tuple[int, str]:
    """Record a subscriber; its id and its secret (never shown again). It
    receives the steps journaled from now on."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    try:
        found = await pool.fetchval(
            """INSERT INTO subscribers (name, url, secret, event_types, personal_data, after_journal_id)
               VALUES ($1, $2, $3, $4, $5, coalesce((SELECT max(id) FROM journal), 0)) RETURNING id""",
            subscriber.name,
            str(subscriber.url),
            secret,
            subscriber.event_types,
            subscriber.personal_data,
        )
    except asyncpg.UniqueViolationError as error:
        raise SubscriberExists(f"a subscriber named {subscriber.name!r} exists already") from error
    return int(found), secret


async def listed(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every subscriber, without its secret."""
    rows = await pool.fetch(
        """SELECT id, name, url, event_types, personal_data, active, created_at,
                  (SELECT count(*) FROM dead_letters d WHERE d.subscriber_id = s.id AND d.status <> 'delivered')
                      AS dead_letters
             FROM subscribers s ORDER BY name"""
    )
    return [dict(row) for row in rows]


async def remove(pool: asyncpg.Pool, name: str) -> bool:
    """Stop delivering to the subscriber (kept, inactive: its dead letters stay readable)."""
    done = await pool.execute("UPDATE subscribers SET active = false WHERE name = $1 AND active", name)
    return done != "UPDATE 0"


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

"""Appending to the register's journal: every step of every complaint."""

import json
from typing import Any

import asyncpg


async def append(
    conn: asyncpg.Connection,
    reference: str,
    event: str,
    actor: str,
    details: dict[str, Any] | None = None,
    *,
    step_key: str | None = None,
    visible_to_customer: bool = False,
) -> None:
    """Journal one step; with a `step_key`, a retried step is journaled once."""
    await conn.execute(
        """INSERT INTO journal (complaint_reference, event, actor, details, step_key, visible_to_customer)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6)
           ON CONFLICT (step_key) DO NOTHING""",
        reference,
        event,
        actor,
        json.dumps(details or {}, default=str),
        step_key,
        visible_to_customer,
    )

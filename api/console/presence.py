"""Someone else is on it: who else opened a complaint's page, or acted on
it, in the last minutes (their page views are kept, one row per operator)."""

from datetime import timedelta

import asyncpg

RECENT = timedelta(minutes=10)


async def seen(pool: asyncpg.Pool, reference: str, operator: str) -> None:
    await pool.execute(
        """INSERT INTO console_views (complaint_reference, operator_name) VALUES ($1, $2)
           ON CONFLICT (complaint_reference, operator_name) DO UPDATE SET seen_at = now()""",
        reference,
        operator,
    )


async def others(pool: asyncpg.Pool, reference: str, operator: str) -> list[asyncpg.Record]:
    """The other operators on it lately: name, what they did, when (latest first)."""
    return await pool.fetch(
        """SELECT name, max(at) AS at, bool_or(acted) AS acted FROM (
               SELECT operator_name AS name, seen_at AS at, false AS acted FROM console_views
                WHERE complaint_reference = $1 AND seen_at > now() - $3::interval
               UNION ALL
               SELECT j.actor, j.occurred_at, true FROM journal j JOIN operators o ON o.name = j.actor
                WHERE j.complaint_reference = $1 AND j.occurred_at > now() - $3::interval
           ) recent WHERE name <> $2 GROUP BY name ORDER BY max(at) DESC""",
        reference,
        operator,
        RECENT,
    )

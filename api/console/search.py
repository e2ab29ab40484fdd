"""The console's search over the register: a reference or an email exactly
(each by its own index), else words in the name, email, subject and
description (PostgreSQL full text, French configuration, the indexed
search_document), newest first. The three are separate queries: one OR of
them hides each index's selectivity from the planner."""

import re

import asyncpg

from api.console.queues import NEXT_DEADLINE

LIMIT = 50
RARE = 2000  # matches sorted at once; more: read in date order
_REFERENCE = re.compile(r"[A-Z0-9]+-\d{4}-\d{6,}", re.IGNORECASE)
_COLUMNS = f"""reference, subject, complainant_name, priority, regime, phase, received_at,
    {NEXT_DEADLINE} AS next_deadline"""


async def search(pool: asyncpg.Pool, text: str) -> list[asyncpg.Record]:
    text = " ".join(text.split())[:200]
    if not text:
        return []
    if _REFERENCE.fullmatch(text):
        return await pool.fetch(f"SELECT {_COLUMNS} FROM complaints WHERE reference = upper($1)", text)
    if "@" in text and " " not in text:
        return await pool.fetch(
            f"""SELECT {_COLUMNS} FROM complaints WHERE lower(complainant_email) = lower($1)
                 ORDER BY received_at DESC, reference DESC LIMIT {LIMIT}""",
            text,
        )
    return await _words(pool, text)


async def _words(pool: asyncpg.Pool, text: str) -> list[asyncpg.Record]:
    """Words: through the full-text index first, up to RARE matches, sorted
    here (a rare word, found at once); past that, the newest complaints are
    read in order until enough match (a common word matches many of them).
    The planner cannot tell the two apart from its statistics, so the first
    query is made to take the index."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        rows = await conn.fetch(
            f"""SELECT *, count(*) OVER () AS matched FROM (
                    SELECT {_COLUMNS} FROM complaints WHERE search_document @@ websearch_to_tsquery('french', $1)
                     LIMIT {RARE + 1}) AS hits
                 ORDER BY received_at DESC, reference DESC LIMIT {LIMIT}""",
            text,
        )
    if not rows or rows[0]["matched"] <= RARE:
        return rows
    return await pool.fetch(
        f"""SELECT {_COLUMNS} FROM complaints WHERE search_document @@ websearch_to_tsquery('french', $1)
             ORDER BY received_at DESC, reference DESC LIMIT {LIMIT}""",
        text,
    )

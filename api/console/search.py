"""The console's search over the register: a reference or an email exactly
(each by its own index), else words in the name, email, subject and
description (PostgreSQL full text, French configuration, the indexed
search_document), newest first. The three are separate queries: one OR of
them hides each index's selectivity from the planner."""

import re

import asyncpg

from api.console.queues import NEXT_DEADLINE

LIMIT = 50
RECENT = 5000  # newest complaints read first
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
    """Words, in three steps, each exact, the first that suffices answering:
    the newest RECENT complaints read in date order (a common word has its
    LIMIT matches there); else the full-text index, up to RARE matches sorted
    at once (a rarer word); else every complaint in date order. The planner
    cannot tell these apart from its statistics, so each is made explicit."""
    recent = await pool.fetch(
        f"""SELECT {_COLUMNS} FROM (
                SELECT * FROM complaints ORDER BY received_at DESC, reference DESC LIMIT {RECENT}) AS newest
             WHERE search_document @@ websearch_to_tsquery('french', $1)
             ORDER BY received_at DESC, reference DESC LIMIT {LIMIT}""",
        text,
    )
    if len(recent) == LIMIT:
        return recent
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

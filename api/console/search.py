"""The console's search over the register: a reference or an email exactly
(their indexes), else words in the name, email, subject and description
(PostgreSQL full text, French configuration, the indexed search_document),
newest first."""

import asyncpg

from api.console.queues import NEXT_DEADLINE

LIMIT = 50


async def search(pool: asyncpg.Pool, text: str) -> list[asyncpg.Record]:
    text = " ".join(text.split())[:200]
    if not text:
        return []
    return await pool.fetch(
        f"""SELECT reference, subject, complainant_name, priority, regime, phase, received_at,
                   {NEXT_DEADLINE} AS next_deadline
              FROM complaints
             WHERE reference = upper($1) OR lower(complainant_email) = lower($1)
                OR search_document @@ websearch_to_tsquery('french', $1)
             ORDER BY received_at DESC, reference DESC
             LIMIT {LIMIT}""",
        text,
    )

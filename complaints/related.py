"""Related complaints: two complaints of the register linked without merging
(migration 0022), each listed on the other's page; a link is kept once
whichever side it is made from, and journaled on both complaints."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from complaints import journal

NOTE_MAX = 1_000


class LinkRefused(ValueError):
    """A link that cannot be made; `code` names why (the pages word it)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class Related:
    reference: str
    subject: str
    phase: str
    linked_by: str
    linked_at: datetime
    note: str | None


async def link(pool: asyncpg.Pool, reference: str, other: str, by: str, note: str | None = None) -> bool:
    """Link two complaints; False when they were linked already (nothing changes)."""
    other = other.strip().upper()
    if other == reference:
        raise LinkRefused("same_complaint", "a complaint cannot be related to itself")
    first, second = sorted((reference, other))
    async with pool.acquire() as conn, conn.transaction():
        found = await conn.fetch("SELECT reference FROM complaints WHERE reference = ANY($1::text[])", [first, second])
        if missing := {first, second} - {row["reference"] for row in found}:
            raise LinkRefused("unknown_complaint", f"no complaint {min(missing)} in the register")
        made = await conn.fetchval(
            """INSERT INTO related_complaints (first_reference, second_reference, linked_by, note)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
            first,
            second,
            by,
            (note or "").strip()[:NOTE_MAX] or None,
        )
        if not made:
            return False
        for one, theirs in ((first, second), (second, first)):
            await journal.append(conn, one, "related_complaint_linked", by, {"related": theirs})
    return True


async def related_to(pool: asyncpg.Pool, reference: str) -> list[Related]:
    """The complaints linked to this one, the latest link first."""
    rows = await pool.fetch(
        """SELECT c.reference, c.subject, c.phase, r.linked_by, r.linked_at, r.note
             FROM related_complaints r
             JOIN complaints c ON c.reference = CASE WHEN r.first_reference = $1 THEN r.second_reference
                                                     ELSE r.first_reference END
            WHERE $1 IN (r.first_reference, r.second_reference)
            ORDER BY r.linked_at DESC, c.reference""",
        reference,
    )
    return [Related(**dict(row)) for row in rows]

"""A complaint's checklist (migration 0024): items of work added by handlers in
the console or by automation rules, ticked done with who and when. Each item
is keyed (a rule's by rule and journal entry, a console item by its form) so
that it is added once; adding and ticking are journaled in the same
transaction. The register holds it, not the complaint's run: no workflow
state changes, nothing to replay."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from complaints import journal

TEXT_MAX = 500


class ChecklistRefused(ValueError):
    """An item that cannot be added or ticked; `code` names why (the pages word it)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class ChecklistItem:
    id: int
    text: str
    added_by: str
    added_at: datetime
    done_by: str | None
    done_at: datetime | None


def _clean(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ChecklistRefused("empty", "a checklist item needs a text")
    if len(cleaned) > TEXT_MAX:
        raise ChecklistRefused("too_long", f"a checklist item is at most {TEXT_MAX} characters")
    return cleaned


async def add(pool: asyncpg.Pool, reference: str, text: str, by: str, key: str) -> int | None:
    """Add an item; its id, or None when the key was used already (nothing changes)."""
    cleaned = _clean(text)
    async with pool.acquire() as conn, conn.transaction():
        if await conn.fetchval("SELECT 1 FROM complaints WHERE reference = $1", reference) is None:
            raise ChecklistRefused("unknown_complaint", f"no complaint {reference} in the register")
        item_id = await conn.fetchval(
            """INSERT INTO checklist_items (complaint_reference, text, added_by, item_key) VALUES ($1, $2, $3, $4)
               ON CONFLICT (item_key) DO NOTHING RETURNING id""",
            reference,
            cleaned,
            by,
            key,
        )
        if item_id is None:
            return None
        await journal.append(
            conn, reference, "checklist_item_added", by, {"item_id": item_id, "text": cleaned}, step_key=f"{key}:added"
        )
    return int(item_id)


async def tick(pool: asyncpg.Pool, reference: str, item_id: int, by: str) -> bool:
    """Mark an item done; False when it was done already (nothing changes)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT text, done_at FROM checklist_items WHERE id = $1 AND complaint_reference = $2 FOR UPDATE",
            item_id,
            reference,
        )
        if row is None:
            raise ChecklistRefused("unknown_item", f"no checklist item {item_id} on complaint {reference}")
        if row["done_at"] is not None:
            return False
        await conn.execute("UPDATE checklist_items SET done_by = $2, done_at = now() WHERE id = $1", item_id, by)
        await journal.append(
            conn,
            reference,
            "checklist_item_done",
            by,
            {"item_id": item_id, "text": row["text"]},
            step_key=f"checklist:{item_id}:done",
        )
    return True


async def items(pool: asyncpg.Pool, reference: str) -> list[ChecklistItem]:
    """The complaint's checklist, in the order the items were added."""
    rows = await pool.fetch(
        """SELECT id, text, added_by, added_at, done_by, done_at FROM checklist_items
            WHERE complaint_reference = $1 ORDER BY id""",
        reference,
    )
    return [ChecklistItem(**dict(row)) for row in rows]

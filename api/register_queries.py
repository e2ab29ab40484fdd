"""What the API reads from the register (the system of record): complaints,
the journal, documents. The customer's documents are its only write."""

from dataclasses import dataclass

import asyncpg

from complaints.documents import check_room, store_document
from complaints.submission import Document, DocumentLimits

_SUMMARY_COLUMNS = """reference, received_at, channel, complainant_name, subject, product, phase,
    priority, sla_status, escalation_level, handler, response_due_at"""


@dataclass(frozen=True)
class ComplaintFilters:
    phase: str | None = None
    priority: str | None = None
    sla_status: str | None = None
    channel: str | None = None
    handler: str | None = None

    def where(self) -> tuple[str, list[object]]:
        clauses, values = [], []
        for column in ("phase", "priority", "sla_status", "channel", "handler"):
            value = getattr(self, column)
            if value is not None:
                values.append(value)
                clauses.append(f"{column} = ${len(values)}")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", values


async def complaint(pool: asyncpg.Pool, reference: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM complaints WHERE reference = $1", reference)


async def complaints_page(
    pool: asyncpg.Pool, filters: ComplaintFilters, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """The newest complaints first; with the count of all that match."""
    where, values = filters.where()
    total = await pool.fetchval(f"SELECT count(*) FROM complaints{where}", *values)
    rows = await pool.fetch(
        f"""SELECT {_SUMMARY_COLUMNS} FROM complaints{where}
            ORDER BY received_at DESC, reference DESC
            LIMIT ${len(values) + 1} OFFSET ${len(values) + 2}""",
        *values,
        limit,
        offset,
    )
    return rows, total


async def journal(pool: asyncpg.Pool, reference: str, *, customer_only: bool) -> list[asyncpg.Record]:
    """The complaint's steps in order; `customer_only`: what the customer may see."""
    return await pool.fetch(
        """SELECT occurred_at, event, actor, details, visible_to_customer FROM journal
            WHERE complaint_reference = $1 AND (visible_to_customer OR NOT $2)
            ORDER BY occurred_at, id""",
        reference,
        customer_only,
    )


async def documents(pool: asyncpg.Pool, reference: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT id, filename, content_type, size_bytes, sha256, source, added_at
             FROM documents WHERE complaint_reference = $1 ORDER BY id""",
        reference,
    )


async def document(pool: asyncpg.Pool, reference: str, document_id: int) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT filename, content_type, content FROM documents WHERE complaint_reference = $1 AND id = $2",
        reference,
        document_id,
    )


async def store_documents(
    pool: asyncpg.Pool, reference: str, documents: list[Document], source: str, limits: DocumentLimits
) -> list[int]:
    """Store documents the customer sent, within the complaint's limits
    (DocumentQuotaExceeded); the same file sent again keeps its first row
    (and id), so a retried request stores nothing twice."""
    async with pool.acquire() as conn, conn.transaction():
        await check_room(conn, reference, documents, limits)
        ids = [await store_document(conn, reference, doc, source) for doc in documents]
    return ids

"""Supporting documents in the register (never in workflow history)."""

import asyncpg

from complaints.submission import Document, DocumentLimits


async def store_document(conn: asyncpg.Connection, reference: str, document: Document, source: str) -> int:
    """Store `document` for the complaint; returns its id. The same file (name
    and content) sent again keeps its first row and id: a retry stores nothing twice."""
    return await conn.fetchval(
        """INSERT INTO documents
               (complaint_reference, filename, content_type, size_bytes, sha256, content, source)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (complaint_reference, sha256, filename)
           DO UPDATE SET filename = EXCLUDED.filename
           RETURNING id""",
        reference,
        document.filename,
        document.content_type,
        len(document.content),
        document.sha256,
        document.content,
        source,
    )


class DocumentQuotaExceeded(ValueError):
    """The documents would take the complaint past its count or total size."""


async def check_room(
    conn: asyncpg.Connection, reference: str, documents: list[Document], limits: DocumentLimits
) -> None:
    """Refuse (DocumentQuotaExceeded) documents that would take the complaint
    past `limits` over all its documents so far. A file already stored (the
    same name and content: a retry) takes no more room. Call it in the
    transaction that stores them: it locks the complaint, so two replies at
    once cannot both fit in the last room."""
    await conn.execute("SELECT 1 FROM complaints WHERE reference = $1 FOR UPDATE", reference)
    held = await conn.fetch(
        "SELECT sha256, filename, size_bytes FROM documents WHERE complaint_reference = $1", reference
    )
    stored = {(row["sha256"], row["filename"]) for row in held}
    new = {
        (doc.sha256, doc.filename): len(doc.content) for doc in documents if (doc.sha256, doc.filename) not in stored
    }
    count = len(held) + len(new)
    if count > limits.max_count:
        raise DocumentQuotaExceeded(
            f"the complaint already has {len(held)} documents; at most {limits.max_count} are accepted per complaint"
        )
    total = sum(row["size_bytes"] for row in held) + sum(new.values())
    if limits.max_total_bytes is not None and total > limits.max_total_bytes:
        raise DocumentQuotaExceeded(
            f"the complaint's documents would total {total:,} bytes; at most {limits.max_total_bytes:,} bytes "
            "are accepted per complaint"
        )

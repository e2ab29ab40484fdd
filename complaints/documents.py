"""Supporting documents in the register (never in workflow history)."""

import asyncpg

from complaints.submission import Document


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

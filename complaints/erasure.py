"""Erasing a complainant's personal data from the register (GDPR), on request
or after the retention period.

What goes: names, contacts, free texts (subject, description, desired
resolution, messages, notes, letters, actions, compensations, survey
comments), documents, outbox recipients and bodies, delivery errors, inbound
Message-IDs, mail kept for triage about it, and every text of the complaint's
journal entries. What stays: that the complaint existed, its reference,
dates, channel, product, category, priority, regime, outcome, deadlines met,
scores and compensations — the anonymised statistics. The erasure is journaled
("erased", who, why), without the data it removed."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from complaints import journal

MARKER = "[effacé]"


class ComplaintNotFound(LookupError):
    """No complaint has this reference."""


class ComplaintStillOpen(ValueError):
    """The complaint's handling is not over: erasing it would end it."""


@dataclass(frozen=True)
class Erased:
    reference: str
    erased_at: datetime
    already: bool  # erased before: nothing was changed now


async def erase_complaint(pool: asyncpg.Pool, reference: str, by: str, reason: str) -> Erased:
    """Erase one closed complaint's personal data, in one transaction; erasing
    it again changes nothing."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT phase, erased_at FROM complaints WHERE reference = $1 FOR UPDATE", reference)
        if row is None:
            raise ComplaintNotFound(f"{reference}: no such complaint")
        if row["erased_at"] is not None:
            return Erased(reference, row["erased_at"], already=True)
        if row["phase"] != "closed":
            raise ComplaintStillOpen(
                f"{reference} is still open ({row['phase']}): close it first, or erase with --force"
            )
        await _scrub(conn, reference)
        await journal.append(conn, reference, "erased", by, {"reason": reason}, step_key=f"{reference}:erased")
        erased_at = await conn.fetchval(
            "UPDATE complaints SET erased_at = now(), updated_at = now() WHERE reference = $1 RETURNING erased_at",
            reference,
        )
    return Erased(reference, erased_at, already=False)


async def close_for_erasure(pool: asyncpg.Pool, reference: str, by: str, reason: str) -> bool:
    """Close an open complaint in the register so that it can be erased (its
    run is ended by the caller); journaled. False: it was closed already."""
    async with pool.acquire() as conn, conn.transaction():
        closed = await conn.fetchval(
            """UPDATE complaints SET phase = 'closed', closed_at = coalesce(closed_at, now()), updated_at = now()
                WHERE reference = $1 AND phase <> 'closed' RETURNING reference""",
            reference,
        )
        if closed is not None:
            await journal.append(
                conn,
                reference,
                "closed_for_erasure",
                by,
                {"reason": reason},
                step_key=f"{reference}:closed_for_erasure",
            )
    return closed is not None


async def references_of_complainant(pool: asyncpg.Pool, email: str) -> list[str]:
    """The complaints of one complainant, by their email (case-insensitive)."""
    rows = await pool.fetch(
        "SELECT reference FROM complaints WHERE lower(complainant_email) = lower($1) ORDER BY received_at", email
    )
    return [row["reference"] for row in rows]


async def due_for_retention(pool: asyncpg.Pool, years: int, limit: int) -> list[str]:
    """Closed complaints closed more than `years` ago and not yet erased."""
    rows = await pool.fetch(
        """SELECT reference FROM complaints
            WHERE phase = 'closed' AND erased_at IS NULL AND closed_at < now() - make_interval(years => $1)
            ORDER BY closed_at LIMIT $2""",
        years,
        limit,
    )
    return [row["reference"] for row in rows]


_SCRUB = [
    """UPDATE complaints
          SET complainant_name = $2, complainant_email = NULL, complainant_phone = NULL,
              complainant_address = NULL, customer_id = NULL, subject = $2, description = $2,
              desired_resolution = NULL, persons_concerned = '{}', idempotency_key = NULL,
              external_reference = NULL, assessment = NULL
        WHERE reference = $1""",
    "DELETE FROM documents WHERE complaint_reference = $1",
    """UPDATE outbox SET recipient = $2, subject = $2, body = $2, last_error = NULL
        WHERE complaint_reference = $1""",
    """UPDATE alert_deliveries SET error = $2
        WHERE error IS NOT NULL AND alert_key IN (SELECT key FROM alerts WHERE complaint_reference = $1)""",
    "UPDATE actions SET description = $2, root_cause_analysis = NULL WHERE complaint_reference = $1",
    "UPDATE compensations SET description = $2 WHERE complaint_reference = $1",
    "UPDATE surveys SET comment = NULL WHERE complaint_reference = $1",
    # why a handler related it to another complaint may quote the complainant
    "UPDATE related_complaints SET note = NULL WHERE $1 IN (first_reference, second_reference)",
    # a checklist item a handler wrote may quote or name the complainant
    "UPDATE checklist_items SET text = $2 WHERE complaint_reference = $1",
    # a redelivered message is still recognised by its digest, not its Message-ID
    "UPDATE inbound_messages SET message_id = 'erased:' || md5(message_id) WHERE reference = $1",
    "UPDATE report_complaints SET customer_id = NULL WHERE reference = $1",
    # mail kept for triage about the complaint: raw messages, senders, texts
    "DELETE FROM inbound_triage WHERE reference = $1",
    # events kept for "deliver again" lose the steps' details they carried
    """UPDATE dead_letters SET event = jsonb_set(event, '{data}', (event->'data') - 'details' - 'actor')
        WHERE reference = $1""",
    "SELECT erase_journal_details($1, $2)",
]


async def _scrub(conn: asyncpg.Connection, reference: str) -> None:
    for statement in _SCRUB:
        await conn.execute(statement, *((reference, MARKER) if "$2" in statement else (reference,)))

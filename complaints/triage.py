"""The triage of inbound mail nobody could match (inbound_triage, migrations
0014 and 0017): an operator attaches a message to a complaint (its run gets
it as the customer's message, through the `customer_reply` signal inbound
mail uses), makes it a new complaint (through the intake every channel uses),
or discards it. Each is journaled on the complaint concerned and recorded on
the triage row (who, when, which complaint).

Every resolution is idempotent on the triage row (its Message-ID): the row is
locked while it is resolved, the signal carries a message id the run takes
once, the new complaint an idempotency key; resolved again the same way, a
message is left as it is; another way, refused."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import asyncpg
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from complaints import journal
from complaints.customer_signals import CustomerReply
from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import Channel, validate_submission

REPLY_SIGNAL = "customer_reply"  # ComplaintWorkflow.customer_reply, by name: the core imports no workflow
SIGNAL_TEXT_MAX = 4_000
WAITING_LIMIT = 200


class Resolution(StrEnum):
    ATTACHED = "attached"
    NEW_COMPLAINT = "new_complaint"
    DISCARDED = "discarded"


class Refusal(StrEnum):
    UNKNOWN_MESSAGE = "unknown_message"
    ALREADY_RESOLVED = "already_resolved"
    UNKNOWN_COMPLAINT = "unknown_complaint"
    CLOSED_COMPLAINT = "closed_complaint"
    NOT_A_COMPLAINT = "not_a_complaint"  # no sender address to answer, or nothing a complaint needs


class TriageRefused(ValueError):
    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        super().__init__(f"{refusal.value}{': ' + detail if detail else ''}")
        self.refusal = refusal
        self.detail = detail


@dataclass(frozen=True)
class Resolved:
    resolution: Resolution
    reference: str | None  # the complaint attached to or made


async def waiting(pool: asyncpg.Pool, limit: int = WAITING_LIMIT) -> list[asyncpg.Record]:
    """The messages still waiting, oldest first."""
    return await pool.fetch(
        """SELECT message_id, sender, subject, reason, reference, named_references, text_excerpt, documents,
                  received_at FROM inbound_triage WHERE resolution IS NULL ORDER BY received_at, message_id LIMIT $1""",
        limit,
    )


def _key(message_id: str) -> str:
    """A bounded key of a Message-ID (which has no length limit)."""
    return "triage:" + hashlib.sha256(message_id.encode()).hexdigest()[:32]


async def _locked(conn: asyncpg.Connection, message_id: str, resolution: Resolution) -> asyncpg.Record | None:
    """The row, locked; None when it was already resolved this way (nothing to do)."""
    row = await conn.fetchrow("SELECT * FROM inbound_triage WHERE message_id = $1 FOR UPDATE", message_id)
    if row is None:
        raise TriageRefused(Refusal.UNKNOWN_MESSAGE)
    if row["resolution"] is None:
        return row
    if row["resolution"] == resolution.value:
        return None
    raise TriageRefused(Refusal.ALREADY_RESOLVED, row["resolution"])


async def _record(
    conn: asyncpg.Connection, row: asyncpg.Record, resolution: Resolution, reference: str | None, by: str, note: str
) -> None:
    await conn.execute(
        """UPDATE inbound_triage SET resolution = $2, resolved_reference = $3, resolved_by = $4, resolved_at = $5,
                  resolution_note = $6 WHERE message_id = $1""",
        row["message_id"],
        resolution.value,
        reference,
        by,
        datetime.now(UTC),
        note or None,
    )


def _message(row: asyncpg.Record) -> dict[str, Any]:
    return {"message_id": row["message_id"], "from": row["sender"], "subject": row["subject"], "reason": row["reason"]}


async def _previous(pool: asyncpg.Pool, message_id: str) -> Resolved:
    row = await pool.fetchrow(
        "SELECT resolution, resolved_reference FROM inbound_triage WHERE message_id = $1", message_id
    )
    return Resolved(Resolution(row["resolution"]), row["resolved_reference"])


async def attach(pool: asyncpg.Pool, client: Client, message_id: str, reference: str, by: str) -> Resolved:
    """The message reaches `reference`'s run as the customer's message, once."""
    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, message_id, Resolution.ATTACHED)
        if row is None:
            previous = await _previous(pool, message_id)
            if previous.reference != reference:
                raise TriageRefused(Refusal.ALREADY_RESOLVED, f"attached to {previous.reference}")
            return previous
        phase = await conn.fetchval("SELECT phase FROM complaints WHERE reference = $1", reference)
        if phase is None:
            raise TriageRefused(Refusal.UNKNOWN_COMPLAINT, reference)
        if phase == "closed":
            raise TriageRefused(Refusal.CLOSED_COMPLAINT, reference)
        text = row["text_excerpt"] or row["subject"]
        reply = CustomerReply(message=text[:SIGNAL_TEXT_MAX], message_id=_key(message_id))
        try:  # while the row is locked: a second operator waits, then finds it resolved
            await client.get_workflow_handle(reference).signal(REPLY_SIGNAL, reply)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise TriageRefused(Refusal.CLOSED_COMPLAINT, reference) from error
            raise
        details = {**_message(row), "text": text}
        await journal.append(conn, reference, "triage_attached", by, details, step_key=f"{_key(message_id)}:attached")
        await _record(conn, row, Resolution.ATTACHED, reference, by, "")
    return Resolved(Resolution.ATTACHED, reference)


async def make_complaint(pool: asyncpg.Pool, client: Client, settings: Settings, message_id: str, by: str) -> Resolved:
    """A new complaint from the message, its sender the complainant, through the common intake."""
    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, message_id, Resolution.NEW_COMPLAINT)
        if row is None:
            return await _previous(pool, message_id)
        try:
            submission = validate_submission(
                {
                    "channel": Channel.EMAIL,
                    "complainant": {"name": (row["sender"] or "").split("@", 1)[0][:200], "email": row["sender"]},
                    "subject": row["subject"][:200],
                    "description": row["text_excerpt"] or row["subject"],
                    "received_at": row["received_at"],
                    "idempotency_key": _key(message_id),
                },
                settings.document_limits,
            )
        except ValidationError as error:
            raise TriageRefused(Refusal.NOT_A_COMPLAINT, str(error.errors()[0]["loc"])) from error
        submitted = await submit_complaint(pool, client, settings, submission, actor=by)
        details = _message(row)
        step_key = f"{_key(message_id)}:new_complaint"
        await journal.append(conn, submitted.reference, "triage_made_complaint", by, details, step_key=step_key)
        await _record(conn, row, Resolution.NEW_COMPLAINT, submitted.reference, by, "")
    return Resolved(Resolution.NEW_COMPLAINT, submitted.reference)


async def discard(pool: asyncpg.Pool, message_id: str, by: str, note: str) -> Resolved:
    """Set aside for good, with why; journaled on the complaint it named, if any."""
    async with pool.acquire() as conn, conn.transaction():
        row = await _locked(conn, message_id, Resolution.DISCARDED)
        if row is None:
            return Resolved(Resolution.DISCARDED, None)
        if row["reference"]:
            details = {**_message(row), "note": note}
            step_key = f"{_key(message_id)}:discarded"
            await journal.append(conn, row["reference"], "triage_discarded", by, details, step_key=step_key)
        await _record(conn, row, Resolution.DISCARDED, None, by, note)
    return Resolved(Resolution.DISCARDED, None)

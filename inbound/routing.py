"""Which complaint an email answers, if any: a Message-ID we sent that it
replies to, or a reference in its subject or in the ids it answers; and
whether it answers one of our operations emails instead (an alert, a digest),
which is never customer mail. A complaint merged into another is answered
by the survivor: a reply quoting either reference reaches it."""

import re
from dataclasses import dataclass, field
from typing import Literal

import asyncpg

from activities.outbox import OPERATIONS_KINDS
from complaints.merges import survivor_of
from inbound.message import InboundEmail

# 'our_message': it answers a message we sent (only its recipient knows the id);
# 'reference': it names the reference, which anyone could write.
MatchedBy = Literal["our_message", "reference"]


@dataclass(frozen=True)
class Answered:
    reference: str
    matched_by: MatchedBy


@dataclass(frozen=True)
class Route:
    answered: Answered | None
    # The references it names, as written (known or not).
    named: list[str] = field(default_factory=list)
    # It answers (or is) one of our operations emails; the complaint it was about, if any.
    operations: bool = False
    operations_reference: str | None = None


def reference_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-])({re.escape(prefix)})-(\d{{4}})-(\d{{6}})(?!\d)", re.IGNORECASE)


async def route(conn: asyncpg.Connection, message: InboundEmail, prefix: str) -> Route:
    pattern = reference_pattern(prefix)
    named = list(
        dict.fromkeys(
            f"{prefix}-{year}-{number}"
            for text in [message.subject, *message.answers]
            for _, year, number in pattern.findall(text)
        )
    )
    ours = await _our_messages(conn, message.answers)
    operations = [row for row in ours if row["kind"] in OPERATIONS_KINDS]
    if message.from_operations or operations:
        about = next((row["complaint_reference"] for row in operations if row["complaint_reference"]), None)
        return Route(None, named, operations=True, operations_reference=about or await _known(conn, named))
    found = next((row["complaint_reference"] for row in ours if row["complaint_reference"]), None)
    if found:
        return Route(Answered(await survivor_of(conn, found), "our_message"), named)
    known = await _known(conn, named)
    return Route(Answered(await survivor_of(conn, known), "reference") if known else None, named)


async def _our_messages(conn: asyncpg.Connection, answers: list[str]) -> list[asyncpg.Record]:
    """The outbox rows of the messages it answers, nearest first."""
    if not answers:
        return []
    return await conn.fetch(
        """SELECT complaint_reference, kind FROM outbox WHERE message_id = ANY($1::text[])
            ORDER BY array_position($1::text[], message_id)""",
        answers,
    )


async def _known(conn: asyncpg.Connection, named: list[str]) -> str | None:
    for candidate in named:
        if await conn.fetchval("SELECT 1 FROM complaints WHERE reference = $1", candidate):
            return candidate
    return None

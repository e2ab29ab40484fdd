"""Which complaint an email answers, if any: a Message-ID we sent that it
replies to, or a reference in its subject or in the ids it answers."""

import re
from dataclasses import dataclass
from typing import Literal

import asyncpg

from inbound.message import InboundEmail

# 'our_message': it answers a message we sent (only its recipient knows the id);
# 'reference': it names the reference, which anyone could write.
MatchedBy = Literal["our_message", "reference"]


@dataclass(frozen=True)
class Answered:
    reference: str
    matched_by: MatchedBy


def reference_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-])({re.escape(prefix)})-(\d{{4}})-(\d{{6}})(?!\d)", re.IGNORECASE)


async def answered_complaint(conn: asyncpg.Connection, message: InboundEmail, prefix: str) -> Answered | None:
    if message.answers:
        found = await conn.fetchval(
            """SELECT complaint_reference FROM outbox
                WHERE message_id = ANY($1::text[]) AND complaint_reference IS NOT NULL
                ORDER BY array_position($1::text[], message_id) LIMIT 1""",
            message.answers,
        )
        if found:
            return Answered(found, "our_message")
    pattern = reference_pattern(prefix)
    candidates = [
        f"{prefix}-{year}-{number}"
        for text in [message.subject, *message.answers]
        for _, year, number in pattern.findall(text)
    ]
    for candidate in dict.fromkeys(candidates):
        if await conn.fetchval("SELECT 1 FROM complaints WHERE reference = $1", candidate):
            return Answered(candidate, "reference")
    return None  # a reference that names no complaint makes a new complaint, never a lost one

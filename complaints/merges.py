"""Duplicate complaints merged (migration 0023): a complaint of the same
customer about the same matter is absorbed into another, the survivor. What
the register decides: whether two complaints may be merged, the survivor a
reference now stands for, and the absorbed complaint's documents and messages
copied to the survivor (each once, however often the copy is retried).

The runs carry the merge out (the absorbed one's `merge_into` update closes
it, the survivor's `absorb` update takes its sending date and its copies);
`api/merging.py` asks both."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

# How far a reference is followed through merges (a survivor may be merged later in turn).
MAX_CHAIN = 20
# The journal's events that carry what the complainant wrote.
MESSAGE_EVENTS = ("customer_message", "customer_replied")


class MergeRefused(ValueError):
    """A merge that cannot be made; `code` names why (the pages word it)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class MergePair:
    absorbed: str
    survivor: str
    absorbed_sent_at: datetime  # its sending date (its receipt when none was recorded)
    already: bool  # the absorbed complaint is merged into the survivor already: only the survivor's part is left


@dataclass(frozen=True)
class Copied:
    documents: int  # the absorbed complaint's documents, all on the survivor now
    messages: int  # its messages (its own text first), all journaled on the survivor now


# Each complaint of the pair, with the merge it is being absorbed in and one it is taking in
# (claimed, not done: complaints/merge_claims.py).
_PAIR = """SELECT c.reference, c.phase, c.merged_into, c.customer_id, c.complainant_email, c.complainant_name,
                  c.complainant_address, c.sent_at, c.received_at,
                  (SELECT m.survivor FROM merges m
                    WHERE m.absorbed = c.reference AND m.done_at IS NULL) AS merging_into,
                  (SELECT min(m.absorbed) FROM merges m
                    WHERE m.survivor = c.reference AND m.done_at IS NULL) AS taking_in
             FROM complaints c WHERE c.reference = ANY($1::text[])"""


def same_customer(one: asyncpg.Record, other: asyncpg.Record) -> bool:
    """The same customer: the same customer id where both have one, else the
    same email where both have one, else (two postal complainants) the same
    name and address."""
    if one["customer_id"] and other["customer_id"]:
        return bool(one["customer_id"].strip().casefold() == other["customer_id"].strip().casefold())
    if one["complainant_email"] and other["complainant_email"]:
        return bool(one["complainant_email"].strip().casefold() == other["complainant_email"].strip().casefold())
    if one["complainant_email"] or other["complainant_email"]:
        return False
    return all(_plain(one[column]) == _plain(other[column]) for column in ("complainant_name", "complainant_address"))


def _plain(value: str | None) -> str:
    return " ".join((value or "").casefold().split())


def references(absorbed: str, survivor: str) -> tuple[str, str]:
    """The pair as the register spells it; a complaint is never merged into itself."""
    absorbed, survivor = absorbed.strip().upper(), survivor.strip().upper()
    if absorbed == survivor:
        raise MergeRefused("same_complaint", "a complaint cannot be merged into itself")
    return absorbed, survivor


async def check_merge(pool: asyncpg.Pool | asyncpg.Connection, absorbed: str, survivor: str) -> MergePair:
    """Whether `absorbed` may be merged into `survivor`; refused with the reason otherwise.
    Read as it stands; `merge_claims.claim_merge` asks again with both rows locked."""
    absorbed, survivor = references(absorbed, survivor)
    rows = {row["reference"]: row for row in await pool.fetch(_PAIR, [absorbed, survivor])}
    for reference in (absorbed, survivor):
        if reference not in rows:
            raise MergeRefused("unknown_complaint", f"no complaint {reference} in the register")
    return _checked(rows[absorbed], rows[survivor])


def _checked(one: asyncpg.Record, other: asyncpg.Record) -> MergePair:
    absorbed, survivor = one["reference"], other["reference"]
    if other["merged_into"]:
        raise MergeRefused(
            "survivor_merged", f"{survivor} was itself merged into {other['merged_into']}: merge into that one"
        )
    if other["merging_into"]:
        raise MergeRefused(
            "survivor_merging",
            f"{survivor} is being merged into {other['merging_into']}: merge into that one once it is done",
        )
    if other["phase"] == "closed":
        raise MergeRefused("survivor_closed", f"{survivor} is closed: merge into an open complaint")
    if not same_customer(one, other):
        raise MergeRefused("different_customers", f"{absorbed} and {survivor} are not the same customer's complaints")
    already = one["merged_into"] == survivor
    if one["merged_into"] and not already:
        raise MergeRefused("already_merged", f"{absorbed} was merged into {one['merged_into']} already")
    if one["merging_into"] and one["merging_into"] != survivor:
        raise MergeRefused(
            "merging", f"{absorbed} is being merged into {one['merging_into']}: post that merge again to complete it"
        )
    if one["taking_in"]:
        raise MergeRefused(
            "absorbing",
            f"{absorbed} is taking in {one['taking_in']} (a merge under way): merge it once that merge is done",
        )
    if one["phase"] == "closed" and not already:
        raise MergeRefused("closed", f"{absorbed} is closed: only an open complaint is merged")
    return MergePair(absorbed, survivor, one["sent_at"] or one["received_at"], already)


async def survivor_of(conn: asyncpg.Connection, reference: str) -> str:
    """The complaint `reference` stands for now: itself, or the survivor it was merged into."""
    for _ in range(MAX_CHAIN):
        merged_into = await conn.fetchval("SELECT merged_into FROM complaints WHERE reference = $1", reference)
        if not merged_into:
            break
        reference = merged_into
    return reference


async def copy_into_survivor(pool: asyncpg.Pool, absorbed: str, survivor: str) -> Copied:
    """Copy the absorbed complaint's documents and messages (its own text
    first, as a message) to the survivor; a copy made already is kept once."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """INSERT INTO documents (complaint_reference, filename, content_type, size_bytes, sha256, content, source)
               SELECT $2, filename, content_type, size_bytes, sha256, content, 'merged:' || $1
                 FROM documents WHERE complaint_reference = $1 ORDER BY id
               ON CONFLICT (complaint_reference, sha256, filename) DO NOTHING""",
            absorbed,
            survivor,
        )
        documents = await conn.fetchval("SELECT count(*) FROM documents WHERE complaint_reference = $1", absorbed)
        await conn.execute(
            """INSERT INTO journal (complaint_reference, event, actor, details, step_key, visible_to_customer)
               SELECT $2, 'customer_message', 'complainant',
                      jsonb_build_object('message', subject || E'\n\n' || description, 'merged_from', $1::text),
                      $2 || ':merged:' || $1 || ':complaint', true
                 FROM complaints WHERE reference = $1
               ON CONFLICT (step_key) DO NOTHING""",
            absorbed,
            survivor,
        )
        await conn.execute(
            """INSERT INTO journal (complaint_reference, event, actor, details, step_key, visible_to_customer)
               SELECT $2, event, actor, details || jsonb_build_object('merged_from', $1::text),
                      $2 || ':merged:' || $1 || ':' || id, visible_to_customer
                 FROM journal WHERE complaint_reference = $1 AND event = ANY($3::text[]) ORDER BY id
               ON CONFLICT (step_key) DO NOTHING""",
            absorbed,
            survivor,
            list(MESSAGE_EVENTS),
        )
        messages = await conn.fetchval(
            "SELECT count(*) FROM journal WHERE complaint_reference = $1 AND event = ANY($2::text[])",
            absorbed,
            list(MESSAGE_EVENTS),
        )
    return Copied(documents=documents, messages=messages + 1)

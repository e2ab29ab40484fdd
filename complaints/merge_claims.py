"""A merge claimed in the register before either run is asked (migration
0025): two merges posted at once that share a complaint (opposite, A into B
and B into A; chained, A into B while B into C) could both pass the check and
then close a complaint into one closed too. The claim is taken with both
complaints' rows locked in the order of their references, so that such merges
are checked one after the other, each seeing the other's claim: the second is
refused (complaints/merges.py says why).

A claim stands until the survivor's run has taken the absorbed complaint in
(`merge_done`); the same merge posted again meanwhile goes on with it, as
after a failure between the halves. A first half the absorbed run refused
changed nothing: its claim is withdrawn (`withdraw`), as is a claim left
before its first half when the same merge, posted again, no longer fits."""

import asyncpg

from complaints.merges import MergePair, MergeRefused, check_merge, references

# FOR NO KEY UPDATE: two claims on a complaint wait for each other, while the
# journal's and documents' inserts (their foreign keys) do not wait for a claim.
_LOCK = "SELECT reference FROM complaints WHERE reference = ANY($1::text[]) ORDER BY reference FOR NO KEY UPDATE"
_CLAIM = "INSERT INTO merges (absorbed, survivor) VALUES ($1, $2) ON CONFLICT (absorbed) DO NOTHING"
# A claim whose first half is not done (the absorbed complaint names no survivor).
_WITHDRAW = """DELETE FROM merges m USING complaints c
                WHERE m.absorbed = $1 AND m.survivor = $2 AND m.done_at IS NULL
                  AND c.reference = m.absorbed AND c.merged_into IS NULL"""


async def claim_merge(pool: asyncpg.Pool, absorbed: str, survivor: str) -> MergePair:
    """Check the merge with both rows locked and claim it (or go on with the
    same merge claimed already); refused with the reason otherwise."""
    absorbed, survivor = references(absorbed, survivor)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(_LOCK, [absorbed, survivor])
        try:
            # A statement of its own, after the locks: it sees the claims committed while it waited.
            pair = await check_merge(conn, absorbed, survivor)
        except MergeRefused as refused:
            # The same merge, claimed and left before its first half, no longer fits: the claim
            # goes, or it would hold the absorbed complaint for good.
            await conn.execute(_WITHDRAW, absorbed, survivor)
            refusal = refused
        else:
            await conn.execute(_CLAIM, pair.absorbed, pair.survivor)
            return pair
    raise refusal


async def withdraw(pool: asyncpg.Pool, pair: MergePair) -> None:
    """The absorbed run refused to close as merged: the claim goes, unless
    the register shows that half done all the same (the same merge posted
    twice, one refused and one carried out)."""
    await pool.execute(_WITHDRAW, pair.absorbed, pair.survivor)


async def merge_done(pool: asyncpg.Pool, pair: MergePair) -> None:
    """The survivor's run took the absorbed complaint in: the claim is done
    (recorded so if it was withdrawn meanwhile, or made before migration 0025)."""
    await pool.execute(
        """INSERT INTO merges (absorbed, survivor, done_at) VALUES ($1, $2, now())
           ON CONFLICT (absorbed) DO UPDATE SET done_at = coalesce(merges.done_at, now())
            WHERE merges.survivor = excluded.survivor""",
        pair.absorbed,
        pair.survivor,
    )

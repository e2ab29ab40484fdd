"""report_complaints, the register as reports read it, brought up to date
from the journal (migration 0007).

A refresh reads the journal entries past its watermark, a batch at a time,
and recomputes the row of every complaint they touch. Journal ids come from
a sequence, handed out before their transaction commits: an id missing below
the newest one read may still appear, so it is kept in report_gaps and read
when it does, until every transaction that could hold it has ended.

The register's write path does nothing for the projection. Reports stay
exact between refreshes (the view report_cohort computes the complaints not
read yet from the register), only slower the more there are."""

from datetime import timedelta

import asyncpg

BATCH = 20_000  # journal entries per transaction
# A gap is given up once the transactions that were running when it was seen
# have ended, and not before this: an id is handed out a moment before its
# transaction takes its id, so a margin covers that moment.
GAP_GRACE = timedelta(minutes=10)
_LOCK = 0x7265706F7274  # advisory lock: one refresh at a time

_STEP = """
WITH batch AS MATERIALIZED (
    SELECT id, complaint_reference FROM journal
     WHERE id > (SELECT watermark FROM report_state) ORDER BY id LIMIT $1
), found AS MATERIALIZED (
    SELECT g.id, j.complaint_reference FROM report_gaps g JOIN journal j ON j.id = g.id
), bounds AS (
    SELECT (SELECT watermark FROM report_state) AS low, coalesce((SELECT max(id) FROM batch),
           (SELECT watermark FROM report_state)) AS high
), new_gaps AS (
    INSERT INTO report_gaps (id, open_until)
    SELECT n, pg_snapshot_xmax(pg_current_snapshot()) FROM bounds, generate_series(low + 1, high) n
     WHERE NOT EXISTS (SELECT 1 FROM batch WHERE batch.id = n)
    ON CONFLICT (id) DO NOTHING
), filled AS (
    DELETE FROM report_gaps WHERE id IN (SELECT id FROM found)
        OR (open_until <= pg_snapshot_xmin(pg_current_snapshot()) AND seen_at < now() - $2::interval)
), moved AS (
    UPDATE report_state SET watermark = (SELECT high FROM bounds), refreshed_at = now()
)
SELECT (SELECT count(*) FROM batch) AS read,
       array(SELECT complaint_reference FROM batch UNION SELECT complaint_reference FROM found) AS refs
"""

_UPSERT = """
INSERT INTO report_complaints SELECT * FROM report_complaint_source WHERE reference = ANY($1)
ON CONFLICT (reference) DO UPDATE SET ({columns}) = ({excluded})
"""


async def refresh(
    pool: asyncpg.Pool,
    *,
    batch: int = BATCH,
    wait: bool = False,
    gap_grace: timedelta = GAP_GRACE,
) -> int:
    """Bring report_complaints up to the journal; the complaints recomputed.
    Without `wait`, returns 0 at once when another refresh is running."""
    upsert = await _upsert_sql(pool)
    recomputed = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            if wait:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
            elif not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _LOCK):
                return recomputed
            step = await conn.fetchrow(_STEP, batch, gap_grace)
            if step["refs"]:
                await conn.execute(upsert, step["refs"])
            recomputed += len(step["refs"])
        if step["read"] < batch:
            return recomputed


async def reading_source(conn: asyncpg.Connection) -> str:
    """What a report reads: the projection alone when it has read the whole
    journal (the usual case, a report refreshing it first), else the view
    report_cohort, which completes it from the register."""
    current = await conn.fetchval(
        """SELECT coalesce((SELECT max(id) FROM journal), 0) <= (SELECT watermark FROM report_state)
              AND NOT EXISTS (SELECT 1 FROM report_gaps g JOIN journal j ON j.id = g.id)"""
    )
    return "report_complaints" if current else "report_cohort"


async def rebuild(pool: asyncpg.Pool) -> int:
    """Recompute every row from the whole journal (after the register was
    changed by hand, outside its write paths)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        await conn.execute("TRUNCATE report_complaints, report_gaps")
        await conn.execute("UPDATE report_state SET watermark = 0, refreshed_at = NULL")
    return await refresh(pool, wait=True)


async def _upsert_sql(pool: asyncpg.Pool) -> str:
    columns = await pool.fetch(
        """SELECT attname FROM pg_attribute WHERE attrelid = 'report_complaints'::regclass
              AND attnum > 0 AND NOT attisdropped AND attname <> 'reference' ORDER BY attnum"""
    )
    names = [row["attname"] for row in columns]
    return _UPSERT.format(
        columns=", ".join(names),
        excluded=", ".join(f"excluded.{name}" for name in names),
    )

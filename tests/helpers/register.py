"""What a test's register holds: the journal, the outbox, row counts."""

import asyncpg


async def journal_events(pool: asyncpg.Pool, reference: str) -> list[str]:
    rows = await pool.fetch("SELECT event FROM journal WHERE complaint_reference = $1 ORDER BY id", reference)
    return [row["event"] for row in rows]


async def outbox_attempts(pool: asyncpg.Pool, key: str) -> int:
    return await pool.fetchval("SELECT coalesce(max(attempts), 0) FROM outbox WHERE key = $1", key) or 0


async def failed_sends(pool: asyncpg.Pool, key_like: str) -> int:
    """The failed attempts of the messages not sent yet whose key is LIKE `key_like`."""
    return await pool.fetchval(
        "SELECT coalesce(sum(attempts), 0) FROM outbox WHERE key LIKE $1 AND status = 'pending'", key_like
    )


async def waiting_on_locks(pool: asyncpg.Pool) -> int:
    """Sessions of the register waiting for a lock another holds (a write held up)."""
    return await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )


async def outbox(pool: asyncpg.Pool) -> list[tuple[str, str, int]]:
    """Every message of the register's outbox: (key, status, attempts), where
    attempts counts deliveries tried, failed or not; a retry that finds the
    message sent delivers nothing and counts nothing."""
    rows = await pool.fetch("SELECT key, status, attempts FROM outbox ORDER BY key")
    return [(row["key"], row["status"], row["attempts"]) for row in rows]


async def table_counts(pool: asyncpg.Pool) -> dict[str, int]:
    """Rows in the register's tables: to show a refused request wrote nothing."""
    return {
        table: await pool.fetchval(f"SELECT count(*) FROM {table}")
        for table in ("complaints", "documents", "journal", "outbox")
    }

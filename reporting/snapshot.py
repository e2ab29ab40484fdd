"""Read-only queries run side by side on several connections that all see one
snapshot of the register, so a report uses every core and its figures still
agree with each other while complaints are being written."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg

Job = Callable[[asyncpg.Connection], Awaitable[Any]]
HELPER_WAIT = 0.2  # seconds to get another connection before going on without it


class Snapshot:
    def __init__(
        self, pool: asyncpg.Pool, first: asyncpg.Connection, snapshot_id: str, connections: int, work_mem: str
    ) -> None:
        self._pool = pool
        self.first = first
        self._id = snapshot_id
        self._connections = connections
        self._work_mem = work_mem

    async def run(self, jobs: dict[str, Job]) -> dict[str, Any]:
        """Run every job (the costliest first: give them in that order); their results by name."""
        queue = list(reversed(jobs.items()))
        results: dict[str, Any] = {}

        async def work(conn: asyncpg.Connection) -> None:
            while queue:
                name, job = queue.pop()
                results[name] = await job(conn)

        async def helper() -> None:
            try:
                conn = await self._pool.acquire(timeout=HELPER_WAIT)
            except TimeoutError:
                return  # the pool is busy: the connections already working do it all
            try:
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    await conn.execute(f"SET TRANSACTION SNAPSHOT '{self._id}'")
                    await conn.execute(f"SET LOCAL work_mem = '{self._work_mem}'")
                    await work(conn)
            finally:
                await self._pool.release(conn)

        helpers = min(self._connections, len(jobs)) - 1
        await asyncio.gather(work(self.first), *(helper() for _ in range(helpers)))
        return results


@contextlib.asynccontextmanager
async def snapshot(pool: asyncpg.Pool, connections: int, work_mem: str) -> AsyncIterator[Snapshot]:
    """A repeatable-read transaction whose snapshot other connections join
    when the pool has them to spare."""
    usable = max(1, min(connections, pool.get_max_size()))
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute(f"SET LOCAL work_mem = '{work_mem}'")
        snapshot_id = await conn.fetchval("SELECT pg_export_snapshot()")
        yield Snapshot(pool, conn, snapshot_id, usable, work_mem)

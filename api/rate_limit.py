"""Limits per client address, shared by every API process through the
register (`rate_limit_hits`): the public complaint form, customers' signed
links, failed API keys. A moving window per rate ("10/minute;60/hour"):
a client over any rate is refused with 429 and a Retry-After.

Each key's counting is serialised by a transaction-scoped advisory lock, so
two processes cannot both let the last allowed request through. The client
address is the peer's, or the one a trusted proxy forwarded
(COMPLAINTS_TRUSTED_PROXIES, applied by uvicorn's ProxyHeadersMiddleware)."""

import math

import asyncpg
from limits import RateLimitItem, parse_many


class SharedLimit:
    def __init__(self, scope: str, rates: str) -> None:
        """`rates` as "10/minute;60/hour"; empty: no limit."""
        self.scope = scope
        self._items: list[RateLimitItem] = parse_many(rates) if rates.strip() else []
        self._longest = max((item.get_expiry() for item in self._items), default=0)

    async def acquire(self, pool: asyncpg.Pool, client: str) -> int | None:
        """None when `client` may go on now, the request then counted; else
        how many seconds it must wait (nothing counted)."""
        return await self._count(pool, client, always=False)

    async def blocked(self, pool: asyncpg.Pool, client: str) -> int | None:
        """The seconds `client` must wait, or None; nothing counted."""
        if not self._items:
            return None
        async with pool.acquire() as conn:
            return await self._wait(conn, client)

    async def record(self, pool: asyncpg.Pool, client: str) -> None:
        """Count a request (a failed API key) whatever the limits say now."""
        await self._count(pool, client, always=True)

    async def _count(self, pool: asyncpg.Pool, client: str, *, always: bool) -> int | None:
        if not self._items:
            return None
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{self.scope}\n{client}")
            wait = None if always else await self._wait(conn, client)
            if wait is None:
                await conn.execute("INSERT INTO rate_limit_hits (scope, client) VALUES ($1, $2)", self.scope, client)
            # every address's rows past the longest window go (few at a time, by the index on `at`):
            # an address is kept no longer than the limits need it
            await conn.execute(
                "DELETE FROM rate_limit_hits WHERE at < clock_timestamp() - make_interval(secs => $1) AND scope = $2",
                float(self._longest),
                self.scope,
            )
            return wait

    async def _wait(self, conn: asyncpg.Connection, client: str) -> int | None:
        """Seconds until the oldest hit that fills a window leaves it, or None."""
        waits = []
        for item in self._items:
            seconds = await conn.fetchval(
                """SELECT extract(epoch FROM at + make_interval(secs => $3) - clock_timestamp())
                     FROM rate_limit_hits
                    WHERE scope = $1 AND client = $2 AND at > clock_timestamp() - make_interval(secs => $3)
                    ORDER BY at DESC OFFSET $4 - 1 LIMIT 1""",
                self.scope,
                client,
                float(item.get_expiry()),
                item.amount,
            )
            if seconds is not None:
                waits.append(max(1, math.ceil(seconds)))
        return max(waits) if waits else None

"""A limit per client address on the public complaint form: a flood from one
address is refused with 429 and a Retry-After, the text typed kept in the
form. Counted in this process's memory (each API replica counts its own)."""

import math
import time

from limits import parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


class ClientLimit:
    def __init__(self, rates: str) -> None:
        """`rates` as "10/minute;60/hour"; empty: no limit."""
        self._items = parse_many(rates) if rates.strip() else []
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def retry_after(self, client: str) -> int | None:
        """None when `client` may submit now, the submission then counted;
        else how many seconds it must wait."""
        for item in self._items:
            if not await self._limiter.test(item, "form", client):
                stats = await self._limiter.get_window_stats(item, "form", client)
                return max(1, math.ceil(stats.reset_time - time.time()))
        for item in self._items:
            await self._limiter.hit(item, "form", client)
        return None

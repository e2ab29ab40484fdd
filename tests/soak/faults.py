"""The soak's faults on a timetable, in seconds from the start of the load:
a worker SIGKILLed every 20 s (in turn, started again at once), the Temporal
server SIGKILLed and started again, the SMTP sink down 60 s, PostgreSQL
stopped 30 s, the alert webhook answering 500 for 2 minutes."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.soak.parts import SoakSystem


@dataclass
class Timetable:
    minutes: float
    worker_every: float = 20.0
    smtp_down: float = 60.0
    postgres_down: float = 30.0
    webhook_failing: float = 120.0
    log: list[str] = field(default_factory=list)

    def at(self, fraction: float) -> float:
        return self.minutes * 60 * fraction


async def _at(began: float, offset: float, action: Callable[[], Awaitable[None]]) -> None:
    await asyncio.sleep(max(0.0, began + offset - time.monotonic()))
    await action()


async def run_faults(system: SoakSystem, table: Timetable, began: float) -> None:
    def noted(what: str) -> None:
        table.log.append(f"{time.monotonic() - began:6.0f} s  {what}")
        print(table.log[-1], flush=True)

    async def kill_workers() -> None:
        index, end = 0, began + table.minutes * 60
        while time.monotonic() + table.worker_every < end:
            await asyncio.sleep(table.worker_every)
            system.kill_worker(index)
            noted(f"worker {index + 1} SIGKILLed and started again")
            index = (index + 1) % system.workers

    async def temporal() -> None:
        noted("Temporal server SIGKILLed")
        await system.kill_temporal()
        noted("Temporal server started again (same SQLite file, same port)")

    async def smtp() -> None:
        system.stop_smtp()
        noted(f"SMTP sink stopped for {table.smtp_down:.0f} s")
        await asyncio.sleep(table.smtp_down)
        system.start_smtp()
        noted("SMTP sink started again")

    async def postgres() -> None:
        await system.stop_postgres()
        noted(f"PostgreSQL stopped for {table.postgres_down:.0f} s")
        await asyncio.sleep(table.postgres_down)
        await system.start_postgres()
        noted("PostgreSQL started again (same socket)")

    async def webhook() -> None:
        system.webhook.failing_with = 500
        noted(f"alert webhook answering 500 for {table.webhook_failing:.0f} s")
        await asyncio.sleep(table.webhook_failing)
        system.webhook.failing_with = None
        noted("alert webhook answering 200 again")

    await asyncio.gather(
        kill_workers(),
        _at(began, table.at(0.2), temporal),
        _at(began, table.at(0.3), webhook),
        _at(began, table.at(0.45), smtp),
        _at(began, table.at(0.7), postgres),
    )

"""The intake sweep: complaints recorded while the Temporal service was down
(the register written, the workflow start refused) are started from here, on a
schedule, rather than only when a worker starts."""

import asyncpg
from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client

from complaints.intake import start_unstarted
from complaints.settings import Settings

SWEEP_LIMIT = 200  # complaints started per run; the next run takes the rest


class IntakeSweepResult(BaseModel):
    started: list[str]
    refused: dict[str, str]  # reference → why it cannot be started
    remaining: int


class IntakeActivities:
    def __init__(self, pool: asyncpg.Pool, client: Client, settings: Settings) -> None:
        self._pool = pool
        self._client = client
        self._settings = settings

    @activity.defn
    async def start_unstarted_complaints(self) -> IntakeSweepResult:
        """Start the workflow of every recorded complaint that has none (each
        start is idempotent: a run already started is found, not doubled)."""
        sweep = await start_unstarted(
            self._pool, self._client, self._settings, limit=SWEEP_LIMIT, each=lambda ref: activity.heartbeat(ref)
        )
        return IntakeSweepResult(started=sweep.started, refused=sweep.refused, remaining=sweep.remaining)

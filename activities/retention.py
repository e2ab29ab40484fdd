"""The retention period: closed complaints whose personal data is kept past
`retention_years` after closure are erased, as `complaints erase` does."""

import asyncpg
from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client

from complaints.erasure import due_for_retention
from complaints.erasure_request import erase
from complaints.settings import Settings

RETENTION_LIMIT = 200  # complaints erased per run; the next run takes the rest
RETENTION_ACTOR = "retention"


class RetentionResult(BaseModel):
    erased: list[str]
    more: bool  # the limit was reached: the next run goes on


class RetentionActivities:
    def __init__(self, pool: asyncpg.Pool, client: Client, settings: Settings) -> None:
        self._pool = pool
        self._client = client
        self._settings = settings

    @activity.defn
    async def erase_expired_complaints(self) -> RetentionResult:
        """Erase each complaint closed more than the retention period ago (an
        erasure interrupted is completed by the next run: each step is idempotent)."""
        years = self._settings.retention_years
        if years == 0:
            return RetentionResult(erased=[], more=False)
        due = await due_for_retention(self._pool, years, RETENTION_LIMIT)
        reason = f"durée de conservation écoulée : {years} ans après la clôture"
        for reference in due:
            await erase(self._pool, self._client, reference, by=RETENTION_ACTOR, reason=reason, force=False)
            activity.heartbeat(reference)
        return RetentionResult(erased=due, more=len(due) == RETENTION_LIMIT)

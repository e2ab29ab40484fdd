"""The intake backlog: complaints recorded whose workflow has not started,
whose run has not taken them in yet (phase still `received`: its first
workflow task waits for a worker, which matters for a complaint by post, with
no email to wait for), or that are waiting for their acknowledgement email. Intake keeps accepting (the
register write is the promise); past a threshold the API says it is behind and
operations are alerted, once per episode."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

# Only recent complaints can be behind their acknowledgement: the window keeps the
# count on the received_at index (older ones are the 10-day watcher's concern).
BACKLOG_SQL = """SELECT count(*) FROM complaints
                  WHERE received_at > now() - interval '30 days'
                    AND (workflow_started_at IS NULL
                         OR phase = 'received'
                         OR (complainant_email IS NOT NULL AND acknowledged_at IS NULL AND phase <> 'closed'))"""


@dataclass(frozen=True)
class Backlog:
    count: int
    threshold: int

    @property
    def over(self) -> bool:
        return self.count > self.threshold


async def count_backlog(pool: asyncpg.Pool) -> int:
    found: int = await pool.fetchval(BACKLOG_SQL)
    return found


def episode_key(started: datetime) -> str:
    """One alert per episode over the threshold, keyed by the minute it began."""
    return f"backlog:{started:%Y-%m-%dT%H:%M}Z"

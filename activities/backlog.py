"""The backlog check the intake sweep runs every minute: past the threshold,
operations are alerted once per episode (an outbox email keyed by the minute
the episode began, and the log sink); back under it, told once that it cleared."""

import logging
from datetime import UTC, datetime

import asyncpg
from pydantic import BaseModel
from temporalio import activity

from activities.outbox import Outbox
from complaints.backlog import Backlog, count_backlog, episode_key
from complaints.settings import Settings

log = logging.getLogger("complaints.alerts")  # the log sink, as for SLA alerts
ALERT_KIND, CLEARED_KIND = "backlog_alert", "backlog_cleared"


class BacklogCheck(BaseModel):
    count: int
    threshold: int
    episode: str | None  # the open episode's key, if the backlog is or was just over


class BacklogActivities:
    def __init__(self, pool: asyncpg.Pool, settings: Settings, outbox: Outbox) -> None:
        self._pool = pool
        self._settings = settings
        self._outbox = outbox

    @activity.defn
    async def check_backlog(self) -> BacklogCheck:
        """Alert at the start of an episode over the threshold and at its end, each
        once: the episode is open while its alert has no cleared row beside it."""
        backlog = Backlog(await count_backlog(self._pool), self._settings.backlog_threshold)
        episode = await self._open_episode()
        if backlog.over:
            episode = episode or episode_key(datetime.now(UTC))
            await self._send(episode, ALERT_KIND, backlog, "en retard")
        elif episode:
            await self._send(f"{episode}:cleared", CLEARED_KIND, backlog, "résorbé")
            episode = None
        return BacklogCheck(count=backlog.count, threshold=backlog.threshold, episode=episode)

    async def _open_episode(self) -> str | None:
        key: str | None = await self._pool.fetchval(
            """SELECT a.key FROM outbox a
                WHERE a.kind = $1
                  AND NOT EXISTS (SELECT 1 FROM outbox c WHERE c.key = a.key || ':cleared')
                ORDER BY a.created_at DESC LIMIT 1""",
            ALERT_KIND,
        )
        return key

    async def _send(self, key: str, kind: str, backlog: Backlog, state: str) -> None:
        if kind == ALERT_KIND and await self._answered(key):
            return  # alerted for this episode already (or refused for good: not again)
        subject = f"[Réclamations] Accusés de réception {state} : {backlog.count} en attente"
        body = (
            f"{backlog.count} réclamations attendent le démarrage de leur traitement ou leur accusé de "
            f"réception (seuil : {backlog.threshold}). Les nouvelles réclamations restent enregistrées.\n"
            f"Épisode : {key.removesuffix(':cleared')}\n"
        )
        log.warning("%s: %d complaints wait (threshold %d) [%s]", kind, backlog.count, backlog.threshold, key)
        await self._outbox.send_once(
            key=key,
            reference=None,
            kind=kind,
            recipient=self._settings.operations_email,
            subject=subject,
            body=body,
        )

    async def _answered(self, key: str) -> bool:
        status = await self._pool.fetchval("SELECT status FROM outbox WHERE key = $1", key)
        return status in ("sent", "refused")

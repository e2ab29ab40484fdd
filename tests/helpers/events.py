"""The events-out tests' common steps: a worker whose dispatcher runs quickly,
subscribers in the register, the CloudEvents a receiver took, de-duplicated."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from temporalio.client import Client

from complaints import subscribers
from complaints.settings import Settings
from tests.helpers.polling import eventually
from tests.helpers.webhooks import WebhookReceiver
from worker.event_dispatch import ensure_event_dispatcher, event_dispatcher_id
from worker.main import build_worker


def quick(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(
        update={"events_poll_seconds": 0.2, "events_retry_initial_seconds": 0.2, "events_max_attempts": 3, **changes}
    )


@asynccontextmanager
async def dispatching(client: Client, pool: asyncpg.Pool, settings: Settings, **changes: object) -> AsyncIterator[None]:
    """A worker of the test's task queue with its event dispatcher running,
    once it has taken its starting watermark (a step journaled before that is
    not the dispatcher's: it starts from the journal's end)."""
    async with build_worker(client, pool, settings):
        await ensure_event_dispatcher(client, settings, **changes)
        await eventually(lambda: pool.fetchval("SELECT count(*) FROM event_dispatch_state"), timeout=30)
        yield


async def subscribe(pool: asyncpg.Pool, receiver: WebhookReceiver, name: str, **fields: Any) -> str:
    """Add a subscriber posting to `receiver`; its secret."""
    _, secret = await subscribers.add(
        pool, subscribers.NewSubscriber.model_validate({"name": name, "url": receiver.url, **fields})
    )
    return secret


def unique_events(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    """The events taken, each id once, in the order first taken."""
    seen: dict[str, dict[str, Any]] = {}
    for _, body in receiver.received:
        event = json.loads(body)
        seen.setdefault(event["id"], event)
    return list(seen.values())


async def journal_ids(pool: asyncpg.Pool, reference: str) -> list[int]:
    rows = await pool.fetch("SELECT id FROM journal WHERE complaint_reference = $1 ORDER BY id", reference)
    return [row["id"] for row in rows]


async def dispatched_past(pool: asyncpg.Pool, settings: Settings, watermark: int) -> bool:
    """Whether the dispatcher has handled the journal up to `watermark` (recorded by its next round)."""
    found = await pool.fetchval(
        "SELECT watermark FROM event_dispatch_state WHERE dispatcher = $1", event_dispatcher_id(settings)
    )
    return found is not None and found >= watermark

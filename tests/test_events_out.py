"""Events out: every journal step delivered to its subscribers as a signed
CloudEvent, retried with backoff by the dispatcher's activity, each once by
its stable id and in journal order; personal data only where allowed; an event
refused after every attempt kept as a dead letter and delivered again on request."""

from collections.abc import Callable

import asyncpg
from temporalio.client import Client

from activities.alerts import sign
from complaints import subscribers
from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.events import dispatching, journal_ids, quick, subscribe, unique_events
from tests.helpers.polling import eventually
from tests.helpers.webhooks import serving_webhook

Make = Callable[..., ComplaintSubmission]


async def test_a_subscriber_failing_twice_gets_each_event_once_in_order_signed(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    settings = quick(settings)
    with serving_webhook([500, 500]) as receiver:
        secret = await subscribe(pool, receiver, "CRM")
        async with dispatching(client, pool, settings):
            ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference

            async def all_delivered() -> bool:
                ids = await journal_ids(pool, ref)
                got = [e["data"]["journal_id"] for e in unique_events(receiver) if e["subject"] == ref]
                return len(ids) >= 3 and got == ids

            await eventually(all_delivered, timeout=30)
    assert receiver.requests >= len(receiver.received) + 2  # the two 500s were retried
    ids = [event["id"] for event in unique_events(receiver)]
    assert len(ids) == len(set(ids))
    for headers, body in receiver.received:
        assert headers["x-complaints-signature"] == sign(secret, headers["x-complaints-timestamp"], body)
    first = unique_events(receiver)[0]
    assert first["specversion"] == "1.0" and first["source"] == settings.events_source
    assert first["type"] == "org.complaints.complaint.received" and first["subject"] == ref
    assert first["datacontenttype"] == "application/json" and first["time"]


async def test_personal_data_only_to_a_subscriber_allowed_it(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    settings = quick(settings)
    with serving_webhook() as plain, serving_webhook() as trusted:
        await subscribe(pool, plain, "Tableau de bord")
        await subscribe(pool, trusted, "CRM", personal_data=True)
        async with dispatching(client, pool, settings):
            ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
            await eventually(lambda: len(unique_events(plain)) >= 2 and len(unique_events(trusted)) >= 2, timeout=30)
    received_plain = b"".join(body for _, body in plain.received)
    assert b"Jeanne" not in received_plain and b"jeanne@example.com" not in received_plain
    assert all(set(e["data"]) == {"journal_id", "event", "reference"} for e in unique_events(plain))
    [intake] = [e for e in unique_events(trusted) if e["type"] == "org.complaints.complaint.received"]
    assert intake["subject"] == ref and "details" in intake["data"]


async def test_only_the_chosen_event_types(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    settings = quick(settings)
    with serving_webhook() as receiver:
        await subscribe(pool, receiver, "Qualité", event_types=["org.complaints.assessment.made"])
        async with dispatching(client, pool, settings):
            await submit_complaint(pool, client, settings, complaint(), actor="t")
            await eventually(lambda: unique_events(receiver), timeout=30)
    assert {e["type"] for e in unique_events(receiver)} == {"org.complaints.assessment.made"}


async def test_an_event_refused_for_good_is_a_dead_letter_delivered_again_on_request(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    settings = quick(settings)
    with serving_webhook([410]) as receiver:
        await subscribe(pool, receiver, "ERP")
        async with dispatching(client, pool, settings):
            ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
            [dead] = await eventually(lambda: subscribers.dead_letters(pool), timeout=30)
            assert dead["status"] == "dead" and dead["reference"] == ref and "410" in dead["error"]
            # the next events went on meanwhile
            await eventually(lambda: len(unique_events(receiver)) >= 2, timeout=30)
            assert dead["event_id"] not in {e["id"] for e in unique_events(receiver)}
            assert await subscribers.deliver_again(pool, dead["id"])
            assert await subscribers.deliver_again(pool, dead["id"])  # twice is once
            await eventually(lambda: dead["event_id"] in {e["id"] for e in unique_events(receiver)}, timeout=30)
            [settled] = await eventually(lambda: _delivered(pool), timeout=30)
    assert settled["id"] == dead["id"]
    assert [e["id"] for e in unique_events(receiver)].count(dead["event_id"]) == 1


async def _delivered(pool: asyncpg.Pool) -> list[dict[str, object]]:
    return [row for row in await subscribers.dead_letters(pool) if row["status"] == "delivered"]

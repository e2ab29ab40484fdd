"""Editing a subscriber and rotating its secret: managers and administrators
in the console (handlers may not), a bad change refused in French with nothing
changed, every change recorded with who made it; the new secret shown once and
signing every delivery from then on; a paused subscriber receives nothing."""

from collections.abc import Callable

import asyncpg
import httpx
from temporalio.client import Client

from activities.alerts import sign
from complaints import subscribers
from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.cli import complaints
from tests.helpers.console import hidden, sign_in, with_password
from tests.helpers.events import dispatched_past, dispatching, journal_ids, quick, subscribe, unique_events
from tests.helpers.polling import eventually
from tests.helpers.webhooks import WebhookReceiver, serving_webhook

Make = Callable[..., ComplaintSubmission]


async def _delivered(pool: asyncpg.Pool, receiver: WebhookReceiver, reference: str) -> bool:
    ids = await journal_ids(pool, reference)
    return (
        len(ids) >= 3 and [e["data"]["journal_id"] for e in unique_events(receiver) if e["subject"] == reference] == ids
    )


async def test_a_manager_edits_a_subscriber_a_bad_change_refused_and_each_change_recorded(
    pool: asyncpg.Pool, http: httpx.AsyncClient, keys: dict
) -> None:
    with serving_webhook() as receiver:
        await subscribe(pool, receiver, "CRM")
    subscriber_id = await pool.fetchval("SELECT id FROM subscribers WHERE name = 'CRM'")
    page_url = f"/console/evenements/abonnes/{subscriber_id}"
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    assert (await http.get(page_url)).status_code == 403
    http.cookies.clear()
    await with_password(pool, "Chloé")
    await sign_in(http, "Chloé")
    page = await http.get(page_url)
    assert page.status_code == 200 and receiver.url in page.text
    form = {"csrf": hidden(page, "csrf"), "url": "ftp://crm", "types": "décision", "actif": "on"}
    refused = await http.post(page_url, data=form)
    assert refused.status_code == 422 and "Modification refusée" in refused.text and 'value="ftp://crm"' in refused.text
    assert await pool.fetchval("SELECT url FROM subscribers WHERE id = $1", subscriber_id) == receiver.url
    assert await pool.fetchval("SELECT count(*) FROM subscriber_changes WHERE change = 'edited'") == 0
    form |= {"url": "https://crm.example.org/hooks", "types": "org.complaints.decision.made", "donnees": "on"}
    for _ in range(2):  # the same change twice is recorded once
        assert (await http.post(page_url, data=form)).status_code == 303
    row = await subscribers.one(pool, subscriber_id)
    assert row is not None
    assert (row["url"], row["event_types"], row["personal_data"], row["active"]) == (
        "https://crm.example.org/hooks",
        ["org.complaints.decision.made"],
        True,
        True,
    )
    [change] = [c for c in await subscribers.changes(pool) if c["change"] == "edited"]
    assert change["changed_by"] == "Chloé" and set(change["details"]) == {"url", "event_types", "personal_data"}
    shown = (await http.get("/console/evenements")).text
    assert "Chloé" in shown and "modifié : adresse, types, données personnelles" in shown


async def test_a_rotated_secret_is_shown_once_and_signs_every_delivery_from_then_on(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make, http: httpx.AsyncClient, keys: dict
) -> None:
    settings = quick(settings)
    await with_password(pool, "Admin")
    await sign_in(http, "Admin")
    with serving_webhook() as receiver:
        old = await subscribe(pool, receiver, "CRM")
        subscriber_id = await pool.fetchval("SELECT id FROM subscribers WHERE name = 'CRM'")
        page_url = f"/console/evenements/abonnes/{subscriber_id}"
        async with dispatching(client, pool, settings):
            before = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
            await eventually(lambda: _delivered(pool, receiver, before), timeout=30)
            taken_before = len(receiver.received)
            page = await http.get(page_url)
            rotated = await http.post(f"{page_url}/cle", data={"csrf": hidden(page, "csrf")})
            new = await pool.fetchval("SELECT secret FROM subscribers WHERE id = $1", subscriber_id)
            assert rotated.status_code == 200 and new != old and new in rotated.text and old not in rotated.text
            after = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
            await eventually(lambda: _delivered(pool, receiver, after), timeout=30)
    for headers, body in receiver.received[taken_before:]:
        assert headers["x-complaints-signature"] == sign(new, headers["x-complaints-timestamp"], body)
        assert headers["x-complaints-signature"] != sign(old, headers["x-complaints-timestamp"], body)
    later = (await http.get(page_url)).text + (await http.get("/console/evenements")).text
    assert new not in later and old not in later and "clé renouvelée" in later
    [rotation] = [c for c in await subscribers.changes(pool) if c["change"] == "secret_rotated"]
    assert rotation["changed_by"] == "Admin" and rotation["details"] == {}


async def test_a_paused_subscriber_receives_nothing_until_it_is_resumed(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    settings = quick(settings)
    with serving_webhook() as receiver:
        await subscribe(pool, receiver, "CRM")
        assert (await complaints(settings, "subscribers", "edit", "CRM", "--paused")).returncode == 0
        assert "paused" in (await complaints(settings, "subscribers", "list")).stdout
        async with dispatching(client, pool, settings):
            paused = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
            watermark = max(await journal_ids(pool, paused))
            await eventually(lambda: dispatched_past(pool, settings, watermark), timeout=30)
            assert receiver.requests == 0
            assert (await complaints(settings, "subscribers", "edit", "CRM", "--no-paused")).returncode == 0
            resumed = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
            await eventually(lambda: _delivered(pool, receiver, resumed), timeout=30)
    assert paused not in {e["subject"] for e in unique_events(receiver)}
    rotated = await complaints(settings, "subscribers", "rotate-secret", "CRM")
    assert rotated.returncode == 0
    assert rotated.stdout.strip().splitlines()[-1] == await pool.fetchval("SELECT secret FROM subscribers")
    assert (await complaints(settings, "subscribers", "edit", "CRM", "--url", "ftp://x")).returncode == 2
    assert await pool.fetchval("SELECT url FROM subscribers") == receiver.url

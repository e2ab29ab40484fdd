"""Events out: every journal step delivered to its subscribers as a signed
CloudEvent, retried with backoff by the dispatcher's activity, each once by
its stable id and in journal order; personal data only where allowed; an event
refused after every attempt kept as a dead letter and delivered again on request."""

import json
from collections.abc import Callable

import asyncpg
import httpx
from temporalio.client import Client

from activities.alerts import sign
from complaints import subscribers
from complaints.cloud_events import JournalEntry, cloud_event
from complaints.erasure import close_for_erasure, erase_complaint
from complaints.intake import record_complaint, submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.console import hidden, sign_in, with_password
from tests.helpers.events import dispatched_past, dispatching, journal_ids, quick, subscribe, unique_events
from tests.helpers.polling import eventually
from tests.helpers.webhooks import serving_webhook
from worker.event_dispatch import event_dispatcher_id

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


async def test_an_event_refused_for_good_is_a_dead_letter_delivered_again_from_the_console(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make, http: httpx.AsyncClient, keys: dict
) -> None:
    settings = quick(settings)
    with serving_webhook([410]) as receiver:
        await subscribe(pool, receiver, "ERP")
        async with dispatching(client, pool, settings):
            ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
            [dead] = await eventually(lambda: subscribers.dead_letters(pool), timeout=30)
            assert dead["status"] == "dead" and dead["reference"] == ref and "410" in dead["error"]
            await eventually(lambda: len(unique_events(receiver)) >= 2, timeout=30)  # the next events went on
            assert dead["event_id"] not in {e["id"] for e in unique_events(receiver)}

            await with_password(pool, "Alice")
            await sign_in(http, "Alice")
            assert (await http.get("/console/evenements")).status_code == 403
            http.cookies.clear()
            await with_password(pool, "Admin")
            await sign_in(http, "Admin")
            page = await http.get("/console/evenements")
            assert page.status_code == 200 and "ERP" in page.text and "Envoyer de nouveau" in page.text
            again = f"/console/evenements/lettres/{dead['id']}/relivraison"
            forged = await http.post(again, data={"csrf": "forged"})
            assert forged.status_code == 403
            assert (await subscribers.dead_letters(pool))[0]["status"] == "dead"
            for _ in range(2):  # asked twice: delivered once
                assert (await http.post(again, data={"csrf": hidden(page, "csrf")})).status_code == 303
            await eventually(lambda: _delivered(pool), timeout=30)
            later = await pool.fetchval("SELECT max(id) FROM journal")
            await eventually(lambda: dispatched_past(pool, settings, later), timeout=30)
    assert [e["id"] for e in unique_events(receiver)].count(dead["event_id"]) == 1
    assert [json.loads(body)["id"] for _, body in receiver.received].count(dead["event_id"]) == 1
    assert "remis" in (await http.get("/console/evenements")).text


async def test_a_rule_added_in_the_console_is_refused_with_its_reason_and_nothing_stored(
    pool: asyncpg.Pool, http: httpx.AsyncClient, keys: dict
) -> None:
    await with_password(pool, "Admin")
    await sign_in(http, "Admin")
    page = await http.get("/console/evenements")
    form = {"csrf": hidden(page, "csrf"), "nom": "Sécurité", "evenement": "assessed", "category": "safety"}
    refused = await http.post("/console/evenements/regles", data=form)
    assert refused.status_code == 422 and "Règle refusée" in refused.text and 'value="Sécurité"' in refused.text
    assert "Value error" not in refused.text
    assert await pool.fetchval("SELECT count(*) FROM automation_rules") == 0
    added = await http.post("/console/evenements/regles", data={**form, "assigner": "Équipe qualité"})
    assert added.status_code == 303
    shown = (await http.get("/console/evenements")).text
    assert "assigner à Équipe qualité" in shown and "category = safety" in shown
    rule_id = await pool.fetchval("SELECT id FROM automation_rules")
    removed = await http.post(f"/console/evenements/regles/{rule_id}/suppression", data={"csrf": hidden(page, "csrf")})
    assert removed.status_code == 303
    assert await pool.fetchval("SELECT active FROM automation_rules") is False


async def _delivered(pool: asyncpg.Pool) -> list[dict[str, object]]:
    return [row for row in await subscribers.dead_letters(pool) if row["status"] == "delivered"]


async def test_an_erased_complaint_s_dead_letters_lose_the_details_they_carried(
    pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    ref = (await record_complaint(pool, settings, complaint(), "t")).reference
    with serving_webhook() as receiver:
        await subscribe(pool, receiver, "CRM", personal_data=True)
    [entry] = await pool.fetch("SELECT * FROM journal WHERE complaint_reference = $1", ref)
    step = JournalEntry(
        id=entry["id"],
        reference=ref,
        event=entry["event"],
        actor=entry["actor"],
        occurred_at=entry["occurred_at"],
        details=json.loads(entry["details"]),
    )
    event = cloud_event(step, settings.events_source, personal_data=True)
    await pool.execute(
        """INSERT INTO dead_letters (subscriber_id, event_id, journal_id, reference, event_type, event, error)
           SELECT id, $1, $2, $3, $4, $5::jsonb, '410' FROM subscribers""",
        event["id"],
        step.id,
        ref,
        event["type"],
        json.dumps(event),
    )
    assert "details" in json.loads(await pool.fetchval("SELECT event FROM dead_letters"))["data"]
    await close_for_erasure(pool, ref, "DPO", "demande du client")
    await erase_complaint(pool, ref, "DPO", "demande du client")
    kept = json.loads(await pool.fetchval("SELECT event FROM dead_letters"))
    assert kept["data"] == {
        "journal_id": step.id,
        "event": "received",
        "reference": ref,
    }


async def test_the_dispatcher_continues_as_new_without_losing_or_repeating_an_event(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    settings = quick(settings)
    with serving_webhook() as receiver:
        await subscribe(pool, receiver, "CRM")
        async with dispatching(client, pool, settings, rounds_per_run=2):
            refs: list[str] = []

            async def all_delivered() -> bool:
                ids = [i for ref in refs for i in await journal_ids(pool, ref)]
                return sorted(e["data"]["journal_id"] for e in unique_events(receiver)) == sorted(ids)

            # each complaint's steps delivered before the next is taken in: three rounds at least, in two runs
            for _ in "abc":
                refs.append((await submit_complaint(pool, client, settings, complaint(), actor="t")).reference)
                await eventually(all_delivered, timeout=30)
            description = await client.get_workflow_handle(event_dispatcher_id(settings)).describe()
    assert description.run_id != description.raw_description.workflow_execution_info.first_run_id
    taken = [json.loads(body)["id"] for _, body in receiver.received]
    assert len(taken) == len(set(taken))
    journal_order = [e["data"]["journal_id"] for e in unique_events(receiver)]
    assert journal_order == sorted(journal_order)


async def test_a_subscriber_added_in_the_console_shows_its_secret_once(
    pool: asyncpg.Pool, http: httpx.AsyncClient, keys: dict
) -> None:
    await with_password(pool, "Admin")
    await sign_in(http, "Admin")
    page = await http.get("/console/evenements")
    form = {"csrf": hidden(page, "csrf"), "nom": "CRM", "url": "pas une adresse", "types": "decision"}
    refused = await http.post("/console/evenements/abonnes", data=form)
    assert refused.status_code == 422 and "Abonné refusé" in refused.text and "Value error" not in refused.text
    assert await pool.fetchval("SELECT count(*) FROM subscribers") == 0
    form |= {"url": "https://crm.example.org/hooks", "types": "org.complaints.decision.made"}
    added = await http.post("/console/evenements/abonnes", data=form)
    secret = await pool.fetchval("SELECT secret FROM subscribers WHERE name = 'CRM'")
    assert added.status_code == 200 and secret in added.text
    again = await http.get("/console/evenements")
    assert "CRM" in again.text and "org.complaints.decision.made" in again.text and secret not in again.text

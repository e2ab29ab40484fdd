"""Rule actions "call a subscriber" and "add a checklist item": the step is
delivered to the chosen subscriber through the dispatcher, once even when the
subscriber chose its type too, signed, journaled with the rule; the checklist
item is added once, journaled with the rule, and shown on the complaint's page."""

import json
from collections.abc import Callable

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from activities.alerts import sign
from complaints import automation_rules, checklists
from complaints.automation_rules import NewRule
from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.console import complaint_page, hidden, sign_in, with_password
from tests.helpers.events import dispatched_past, dispatching, quick, subscribe, unique_events
from tests.helpers.polling import eventually
from tests.helpers.webhooks import serving_webhook

Make = Callable[..., ComplaintSubmission]
ASSESSED = "org.complaints.assessment.made"


def burn(complaint: Make) -> ComplaintSubmission:
    return complaint(
        subject="Brûlure avec la bouilloire",
        description="Mon fils a eu une brûlure à la main en servant le thé.",
        product="Bouilloire Alto",
    )


def safety_rule(*actions: dict[str, str]) -> NewRule:
    return NewRule.model_validate(
        {"name": "Sécurité", "event": "assessed", "conditions": {"category": "safety"}, "actions": list(actions)}
    )


async def _rule_steps(pool: asyncpg.Pool, reference: str, count: int) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT event, details FROM journal WHERE complaint_reference = $1 AND actor = 'règle Sécurité' ORDER BY id",
        reference,
    )
    return [(row["event"], row["details"]) for row in rows] if len(rows) >= count else []


async def test_a_rule_calls_subscribers_once_each_and_adds_a_checklist_item_once(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make, http: httpx.AsyncClient, keys: dict
) -> None:
    settings = quick(settings)
    with serving_webhook([500]) as erp, serving_webhook() as quality:
        erp_secret = await subscribe(pool, erp, "ERP", event_types=["org.complaints.decision.made"])
        await subscribe(pool, quality, "Qualité", event_types=[ASSESSED])  # it chose the type too
        await automation_rules.add(
            pool,
            safety_rule(
                {"kind": "call", "subscriber": "ERP"},
                {"kind": "call", "subscriber": "Qualité"},
                {"kind": "checklist", "text": "Vérifier le lot de bouilloires"},
            ),
        )
        async with dispatching(client, pool, settings):
            safety = (await submit_complaint(pool, client, settings, burn(complaint), actor="t")).reference
            other = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
            steps = await eventually(lambda: _rule_steps(pool, safety, 3), timeout=30)
            await eventually(lambda: unique_events(erp), timeout=30)
            await eventually(
                lambda: pool.fetchval(
                    "SELECT 1 FROM journal WHERE complaint_reference = $1 AND event = 'assessed'", other
                ),
                timeout=30,
            )
            watermark = await pool.fetchval("SELECT max(id) FROM journal")
            await eventually(lambda: dispatched_past(pool, settings, watermark), timeout=30)  # a round later
    [called] = unique_events(erp)
    assert called["type"] == ASSESSED and called["subject"] == safety
    assert erp.requests == 2  # the 500 was retried, and nothing else was sent to it
    headers, body = erp.received[0]
    assert headers["x-complaints-signature"] == sign(erp_secret, headers["x-complaints-timestamp"], body)
    taken = [json.loads(body) for _, body in quality.received]
    assert [e["subject"] for e in taken if e["id"] == called["id"]] == [safety]  # once, though called and chosen
    assert {e["subject"] for e in taken} == {safety, other}
    assert [event for event, _ in steps] == ["rule_called_subscriber", "rule_called_subscriber", "checklist_item_added"]
    [item] = await checklists.items(pool, safety)
    assert item.text == "Vérifier le lot de bouilloires" and item.added_by == "règle Sécurité" and item.done_at is None
    assert await checklists.items(pool, other) == []
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    page = await complaint_page(http, safety)
    assert "Vérifier le lot de bouilloires" in page.text and "ajouté par règle Sécurité" in page.text


async def test_a_rule_calling_an_unknown_subscriber_is_refused_and_nothing_stored(pool: asyncpg.Pool) -> None:
    with pytest.raises(automation_rules.UnknownSubscriber):
        await automation_rules.add(pool, safety_rule({"kind": "call", "subscriber": "Personne"}))
    assert await pool.fetchval("SELECT count(*) FROM automation_rules") == 0


async def test_a_call_to_a_subscriber_paused_since_the_rule_was_added_is_journaled_refused(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    settings = quick(settings)
    with serving_webhook() as erp:
        await subscribe(pool, erp, "ERP", event_types=["org.complaints.decision.made"])
        await automation_rules.add(pool, safety_rule({"kind": "call", "subscriber": "ERP"}))
        await pool.execute("UPDATE subscribers SET active = false WHERE name = 'ERP'")
        async with dispatching(client, pool, settings):
            safety = (await submit_complaint(pool, client, settings, burn(complaint), actor="t")).reference
            steps = await eventually(lambda: _rule_steps(pool, safety, 1), timeout=30)
    assert [event for event, _ in steps] == ["rule_action_refused"]
    assert "ERP" in json.loads(steps[0][1])["reason"] and erp.requests == 0


async def test_a_rule_calling_an_unknown_subscriber_is_refused_in_the_console(
    pool: asyncpg.Pool, http: httpx.AsyncClient, keys: dict
) -> None:
    await with_password(pool, "Chloé")
    await sign_in(http, "Chloé")
    page = await http.get("/console/evenements")
    assert page.status_code == 200 and "Ajouter la règle" not in page.text  # a manager: subscribers only
    form = {"csrf": hidden(page, "csrf"), "nom": "Sécurité", "evenement": "assessed", "abonne": "Personne"}
    assert (await http.post("/console/evenements/regles", data=form)).status_code == 403
    http.cookies.clear()
    await with_password(pool, "Admin")
    await sign_in(http, "Admin")
    page = await http.get("/console/evenements")
    refused = await http.post("/console/evenements/regles", data={**form, "csrf": hidden(page, "csrf")})
    assert refused.status_code == 422 and "aucun abonné actif ne s" in refused.text and "Personne" in refused.text
    assert await pool.fetchval("SELECT count(*) FROM automation_rules") == 0

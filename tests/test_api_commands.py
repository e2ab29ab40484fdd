"""Operators handle a complaint over the HTTP API and the complainant answers
through the signed links, from intake to closure on the real stack. Each
endpoint checks the role; the workflow's refusals come back as 409 with their
reason; every operator action is journaled with its actor."""

import json

import asyncpg
import httpx
from temporalio.client import Client

from complaints.complaint_status import Phase
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.examples import ARGUED, COMPLAINT, CUSTOMER
from tests.helpers.mailbox import Mailbox, body_of, status_link_in
from tests.helpers.polling import eventually
from tests.helpers.web import customer_api, path_of, taken_in
from workflows.complaint import ComplaintWorkflow
from workflows.complaint.visibility import WAITING_FOR_RESPONSE_LETTER


async def _actors(pool: asyncpg.Pool, ref: str) -> dict[str, str]:
    rows = await pool.fetch("SELECT event, actor FROM journal WHERE complaint_reference = $1 ORDER BY id", ref)
    return {row["event"]: row["actor"] for row in rows}


async def test_from_intake_to_closure_through_the_api_and_the_customer_links(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, mailbox: Mailbox, worker
) -> None:
    ref = await taken_in(http, keys, client)
    base = f"/complaints/{ref}"

    refused = await http.post(f"{base}/assignment", json={"handler": "Alice"}, headers=keys["intake"])
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "only the roles admin, handler, manager may handle complaints; Irène's key has the role intake"
    )
    status = await http.post(f"{base}/assessment", json={}, headers=keys["handler"])
    assert status.status_code == 200 and status.json()["phase"] == "handling"
    override = await http.post(f"{base}/assessment", json={"priority": "P1"}, headers=keys["handler"])
    assert override.status_code == 409 and "needs a reason" in override.json()["detail"]
    assert (
        await http.post(f"{base}/assignment", json={"handler": "Alice", "team": "Logistique"}, headers=keys["handler"])
    ).status_code == 200
    await http.post(
        f"{base}/notes", json={"text": "Client fidèle, très en colère au téléphone"}, headers=keys["handler"]
    )
    bad_action = await http.post(
        f"{base}/actions", json={"kind": "corrective", "description": "x"}, headers=keys["handler"]
    )
    assert bad_action.status_code == 422
    assert {e["field"] for e in bad_action.json()["errors"]} == {"owner", "due_on"}
    action = {
        "kind": "improvement",
        "description": "Renforcer l'emballage des vases",
        "owner": "Entrepôt",
        "due_on": "2027-01-15",
    }
    assert (await http.post(f"{base}/actions", json=action, headers=keys["handler"])).status_code == 200

    # the same Idempotency-Key: one progress update, one email
    progress = {**keys["handler"], "Idempotency-Key": "progress-1"}
    for _ in range(2):
        answer = await http.post(
            f"{base}/progress-updates", json={"message": "Le transporteur enquête."}, headers=progress
        )
        assert answer.status_code == 200
    too_early = await http.post(f"{base}/closure", json={}, headers=keys["handler"])
    assert too_early.status_code == 409
    assert (
        too_early.json()["detail"] == "cannot close while the complaint is handling (possible when responded, survey)"
    )

    asked = await http.post(
        f"{base}/information-requests", json={"questions": "Une photo du colis ?"}, headers=keys["handler"]
    )
    assert asked.json()["phase"] == "awaiting_customer"
    messages = await mailbox.wait_for(CUSTOMER, count=3)  # acknowledgement, progress update, request
    assert [str(m["Subject"]) for m in messages].count(f"Votre réclamation {ref} : point d'avancement") == 1
    request_mail = messages[-1]
    assert "précisions" in str(request_mail["Subject"])

    # the complainant follows the link in the email and replies with a document
    view = (await http.get(customer_api(status_link_in(request_mail)))).json()
    assert view["phase"] == "awaiting_customer" and view["open_questions"] == "Une photo du colis ?"
    assert view["offers"] == ["reply"]
    assert all("Client fidèle" not in step["label"] for step in view["timeline"])
    replied = await http.post(
        path_of(view["actions"]["reply"]),
        data={"message": "Voici la photo."},
        files=[("documents", ("colis.jpg", b"\xff\xd8\xff fake jpeg", "image/jpeg"))],
    )
    assert replied.status_code == 200, replied.text
    [document_id] = replied.json()["document_ids"]
    await wait_for_phase(client, ref, Phase.HANDLING)
    stored = await pool.fetchrow("SELECT filename, source FROM documents WHERE id = $1", document_id)
    assert (stored["filename"], stored["source"]) == ("colis.jpg", "customer_reply")
    # outside a request, a message is filed for the handler; the same key is one message
    for _ in range(2):
        later = await http.post(
            path_of(view["actions"]["reply"]),
            json={"message": "J'ai aussi la facture."},
            headers={"Idempotency-Key": "m1"},
        )
        assert later.status_code == 200

    unargued = await http.post(
        f"{base}/decision", json={"outcome": "accepted", "justification": "ok"}, headers=keys["manager"]
    )
    assert unargued.status_code == 409 and "must be argued" in unargued.json()["detail"]
    decided = await http.post(
        f"{base}/decision",
        json={
            "outcome": "accepted",
            "justification": ARGUED,
            "compensation": {"kind": "refund", "amount": "250.00", "description": "prix du vase"},
        },
        headers=keys["manager"],
    )
    assert decided.json()["phase"] == "awaiting_approval"
    by_handler = await http.post(f"{base}/approval", json={"approved": True}, headers=keys["handler2"])
    assert by_handler.status_code == 403
    own = await http.post(f"{base}/approval", json={"approved": True}, headers=keys["manager"])
    assert own.status_code == 409
    assert own.json()["detail"] == "the compensation's proposer cannot approve it: another manager must"
    approved = await http.post(f"{base}/approval", json={"approved": True, "comment": "ok"}, headers=keys["manager2"])
    assert approved.status_code == 200
    await wait_for_phase(client, ref, Phase.RESPONDED)

    response_mail = (await mailbox.wait_for(CUSTOMER, count=4))[-1]
    assert ARGUED in body_of(response_mail)
    view = (await http.get(customer_api(status_link_in(response_mail)))).json()
    assert view["decision"]["justification"] == ARGUED and view["offers"] == ["reply", "verdict"]
    for _ in range(2):  # a retry finds it accepted
        assert (await http.post(path_of(view["actions"]["accept"]))).status_code == 200
    await wait_for_phase(client, ref, Phase.SURVEY)

    view = (await http.get(customer_api(status_link_in(response_mail)))).json()
    invalid = await http.post(path_of(view["actions"]["survey"]), json={"csat": 9, "ces": 2, "nps": 9})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "csat"
    answered = await http.post(
        path_of(view["actions"]["survey"]), json={"csat": 5, "ces": 1, "nps": 10, "comment": "Merci"}
    )
    assert answered.status_code == 200
    await wait_for_phase(client, ref, Phase.CLOSED)
    retried = await http.post(path_of(view["actions"]["survey"]), json={"csat": 1, "ces": 5, "nps": 0})
    assert retried.status_code == 200  # the first answer counts
    assert await pool.fetchval("SELECT csat FROM surveys WHERE complaint_reference = $1", ref) == 5

    closed = await http.post(f"{base}/notes", json={"text": "après coup"}, headers=keys["handler"])
    assert closed.status_code == 409 and closed.json()["detail"] == f"{ref} is closed: no command can change it now"

    actors = await _actors(pool, ref)
    assert actors["received"] == "Irène"
    assert actors["assessment_confirmed"] == actors["assigned"] == actors["internal_note"] == "Alice"
    assert actors["improvement_action_planned"] == actors["progress_update_requested"] == "Alice"
    assert actors["information_requested"] == "Alice"
    assert actors["decided"] == "Chloé" and actors["compensation_approved"] == "Denis"
    assert actors["customer_replied"] == actors["response_accepted"] == actors["survey_answered"] == "complainant"
    filed = await pool.fetch(
        "SELECT details FROM journal WHERE complaint_reference = $1 AND event = 'customer_message'", ref
    )
    assert [json.loads(row["details"])["message"] for row in filed] == ["J'ai aussi la facture."]
    row = await pool.fetchrow(
        "SELECT phase, compensation_total, customer_verdict FROM complaints WHERE reference = $1", ref
    )
    assert (row["phase"], str(row["compensation_total"]), row["customer_verdict"]) == ("closed", "250.00", "accepted")
    detail = (await http.get(base, headers=keys["intake"])).json()
    assert detail["phase"] == "closed" and detail["outcome"] == "accepted"
    assert [d["source"] for d in detail["documents"]] == ["customer_reply"]


async def test_postal_acknowledgement_by_an_intake_operator(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, worker
) -> None:
    body = {**COMPLAINT, "complainant": {"name": "Paul Durand", "postal_address": "3 rue des Lilas, 69001 Lyon"}}
    answer = await http.post("/complaints", json=body, headers=keys["intake"])
    ref = answer.json()["reference"]
    await wait_for_phase(client, ref, Phase.INTAKE)
    confirmed = await http.post(f"/complaints/{ref}/postal-acknowledgement", headers=keys["intake"])
    assert confirmed.status_code == 200 and confirmed.json()["ack_method"] == "post"
    twice = await http.post(f"/complaints/{ref}/postal-acknowledgement", json={}, headers=keys["intake"])
    assert twice.status_code == 409 and f"{ref} is already acknowledged (post" in twice.json()["detail"]
    assert (await _actors(pool, ref))["acknowledged"] == "Irène"
    future = await http.post(
        f"/complaints/{ref}/postal-acknowledgement", json={"sent_at": "2999-01-01T00:00:00Z"}, headers=keys["intake"]
    )
    assert future.status_code == 409


async def test_a_response_by_post_counts_once_its_letter_is_confirmed(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, mailbox: Mailbox, worker
) -> None:
    body = {**COMPLAINT, "complainant": {"name": "Paul Durand", "postal_address": "3 rue des Lilas, 69001 Lyon"}}
    ref = (await http.post("/complaints", json=body, headers=keys["intake"])).json()["reference"]
    await wait_for_phase(client, ref, Phase.INTAKE)
    await http.post(f"/complaints/{ref}/postal-acknowledgement", headers=keys["intake"])
    await wait_for_phase(client, ref, Phase.ASSESSMENT)
    base = f"/complaints/{ref}"
    assert (await http.post(f"{base}/assessment", json={}, headers=keys["handler"])).status_code == 200
    early = await http.post(f"{base}/postal-response", headers=keys["intake"])
    assert early.status_code == 409  # no response is waiting for its letter
    decided = await http.post(
        f"{base}/decision", json={"outcome": "accepted", "justification": ARGUED}, headers=keys["handler"]
    )
    assert decided.status_code == 200 and decided.json()["responded_at"] is None  # the letter is to be posted
    handle = client.get_workflow_handle(ref)

    async def awaiting_the_letter() -> bool:
        return (await handle.query(ComplaintWorkflow.status)).waiting_for == WAITING_FOR_RESPONSE_LETTER

    await eventually(awaiting_the_letter)
    sent = await http.post(f"{base}/postal-response", json={}, headers=keys["intake"])
    assert sent.status_code == 200, sent.text
    assert sent.json()["phase"] == "responded" and sent.json()["responded_at"] is not None
    responded = await pool.fetchrow(
        "SELECT actor, details FROM journal WHERE complaint_reference = $1 AND event = 'responded'", ref
    )
    assert responded["actor"] == "Alice" and json.loads(responded["details"])["letter_confirmed_by"] == "Irène"
    assert mailbox.messages() == []  # nothing went by email


async def test_a_contested_response_is_reviewed_by_another_handler(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, mailbox: Mailbox, worker
) -> None:
    ref = await taken_in(http, keys, client)
    base = f"/complaints/{ref}"
    await http.post(f"{base}/assessment", json={}, headers=keys["handler"])
    rejected = await http.post(
        f"{base}/decision", json={"outcome": "rejected", "justification": ARGUED}, headers=keys["handler"]
    )
    assert rejected.status_code == 200
    await wait_for_phase(client, ref, Phase.RESPONDED)
    link = status_link_in((await mailbox.wait_for(CUSTOMER, count=2))[-1])
    view = (await http.get(customer_api(link))).json()
    contested = await http.post(path_of(view["actions"]["contest"]), json={"reason": "Le vase était bien emballé."})
    assert contested.status_code == 200
    await wait_for_phase(client, ref, Phase.REVIEW)
    again = {"outcome": "rejected", "justification": f"{ARGUED} (réexamen)"}  # the same body would be a retry
    same = await http.post(f"{base}/decision", json=again, headers=keys["handler"])
    assert same.status_code == 409 and "another handler" in same.json()["detail"]
    review = await http.post(
        f"{base}/decision",
        json={
            "outcome": "partially_accepted",
            "justification": ARGUED,
            "compensation": {"kind": "apology", "description": "excuses"},
        },
        headers=keys["handler2"],
    )
    assert review.status_code == 200
    await wait_for_phase(client, ref, Phase.SURVEY)
    closed = await http.post(f"{base}/closure", json={"note": "pas d'enquête"}, headers=keys["admin"])
    assert closed.status_code == 200 and closed.json()["phase"] == "closed"
    actors = await _actors(pool, ref)
    assert actors["contested"] == "complainant" and actors["review_decided"] == "Bruno" and actors["closed"] == "Admin"


async def test_a_command_sent_again_without_a_key_is_carried_out_once(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, worker
) -> None:
    """Issue 13 #2: a retry after a 503, or a double click, sends no key; the key
    derived from the request makes it one command. Another body is another command."""
    ref = await taken_in(http, keys, client)
    base = f"/complaints/{ref}"
    assert (await http.post(f"{base}/assessment", json={}, headers=keys["handler"])).status_code == 200
    for _ in range(2):
        note = await http.post(f"{base}/notes", json={"text": "Rappeler le client"}, headers=keys["handler"])
        assert note.status_code == 200
        progress = await http.post(
            f"{base}/progress-updates", json={"message": "Le transporteur enquête."}, headers=keys["handler"]
        )
        assert progress.status_code == 200
    other = await http.post(f"{base}/notes", json={"text": "Client rappelé"}, headers=keys["handler"])
    assert other.status_code == 200
    notes = await pool.fetch(
        "SELECT details FROM journal WHERE complaint_reference = $1 AND event = 'internal_note' ORDER BY id", ref
    )
    assert [json.loads(row["details"])["text"] for row in notes] == ["Rappeler le client", "Client rappelé"]
    emailed = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE complaint_reference = $1 AND key LIKE '%progress_update%'", ref
    )
    assert emailed == 1


async def test_an_information_request_over_the_api_is_journaled_once(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, worker
) -> None:
    """Issue 13 #9: the run journals the request (and its phase change) itself;
    the API adds no second entry, even when the request is sent again."""
    ref = await taken_in(http, keys, client)
    base = f"/complaints/{ref}"
    asked = {**keys["handler"], "Idempotency-Key": "ask-1"}
    for _ in range(2):
        answer = await http.post(f"{base}/information-requests", json={"questions": "Une photo ?"}, headers=asked)
        assert answer.status_code == 200 and answer.json()["phase"] == "awaiting_customer"
    rows = await pool.fetch(
        "SELECT actor, details FROM journal WHERE complaint_reference = $1 AND event = 'information_requested'", ref
    )
    assert [(row["actor"], json.loads(row["details"])["questions"]) for row in rows] == [("Alice", "Une photo ?")]

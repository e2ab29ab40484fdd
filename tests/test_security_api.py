"""Issue 14's attacks on the HTTP API and the customer endpoints, each made
through the real app and shown refused with nothing stored or changed."""

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from temporalio.client import Client

from api.app import create_app
from complaints.links import LinkAction, signer
from complaints.settings import Settings
from tests.helpers.examples import COMPLAINT
from tests.helpers.register import table_counts
from tests.helpers.web import shown, taken_in


async def test_operator_answers_never_carry_a_customer_token(
    http: httpx.AsyncClient, keys, client: Client, worker
) -> None:
    """Finding 2: a token in an operator's answer would let any intake key
    accept a response or fill the survey as the complainant."""
    created = await http.post("/complaints", json=_complaint("Nadia"), headers=keys["intake"])
    assert created.status_code == 201, created.text
    ref = await taken_in(http, keys, client)
    answers = [
        created,
        await http.get(f"/complaints/{ref}", headers=keys["intake"]),
        await http.get("/complaints", headers=keys["handler"]),
        await http.post(f"/complaints/{ref}/assignment", json={"handler": "Alice"}, headers=keys["handler"]),
    ]
    for answer in answers:
        assert answer.status_code < 300, answer.text
        assert "token=" not in answer.text and "/suivi/" not in answer.text, answer.request.url


def _complaint(name: str) -> dict:
    return {**COMPLAINT, "complainant": {"name": name, "email": f"{name.lower()}@example.com"}}


@asynccontextmanager
async def _app(settings: Settings, pool: asyncpg.Pool, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    """The app with these settings, over the test's register and Temporal client."""
    transport = httpx.ASGITransport(app=create_app(settings, pool, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test", timeout=30) as http:
        yield http


async def _signals(client: Client, reference: str) -> int:
    history = await client.get_workflow_handle(reference).fetch_history()
    return sum(1 for event in history.events if event.HasField("workflow_execution_signaled_event_attributes"))


async def test_replies_cannot_take_a_complaint_past_its_document_limits(
    settings: Settings, pool: asyncpg.Pool, client: Client, keys, worker
) -> None:
    """Finding 6: the per-complaint count and total size hold over several replies."""
    small = settings.model_copy(update={"max_documents": 3, "max_complaint_document_bytes": 5_000})
    async with _app(small, pool, client) as http:
        ref = await taken_in(http, keys, client)
        reply = f"/complaints/{ref}/customer/reply?token={signer(small).sign(ref, LinkAction.REPLY)}"

        def pages(*names: str, size: int = 100) -> list[tuple[str, tuple[str, bytes, str]]]:
            return [("documents", (f"{n}.pdf", b"%PDF-1.4 " + n.encode() * size, "application/pdf")) for n in names]

        first = await http.post(reply, data={"message": "voici"}, files=pages("a", "b"))
        assert first.status_code == 200, first.text
        retried = await http.post(reply, data={"message": "voici"}, files=pages("a", "b"))
        assert retried.status_code == 200, retried.text  # the same files again take no more room
        signals = await _signals(client, ref)
        too_many = await http.post(reply, data={"message": "et encore"}, files=pages("c", "d"))
        assert too_many.status_code == 422 and "at most 3" in too_many.json()["detail"]
        too_big = await http.post(reply, data={"message": "et encore"}, files=pages("e", size=5_000))
        assert too_big.status_code == 422 and "5,000 bytes" in too_big.json()["detail"]
        page = await http.post(
            f"/suivi/{ref}/reponse?token={signer(small).sign(ref, LinkAction.REPLY)}",
            data={"message": "et encore"},
            files=pages("f", "g"),
        )
        assert page.status_code == 422 and "rien n'a été enregistré" in shown(page)
    names = await pool.fetch("SELECT filename FROM documents WHERE complaint_reference = $1 ORDER BY id", ref)
    assert [row["filename"] for row in names] == ["a.pdf", "b.pdf"]
    assert await _signals(client, ref) == signals  # no message reached the workflow


SCRIPT_PAGE = b"<html><body><script>fetch('/complaints').then(r => r.text())</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"></svg>'


async def test_documents_whose_content_is_not_their_declared_type_are_refused(
    http: httpx.AsyncClient, keys, pool: asyncpg.Pool, client: Client, settings: Settings, worker
) -> None:
    """Finding 8: a page with a script named and declared a PDF, an SVG declared a PNG."""
    disguised = [("facture.pdf.html", SCRIPT_PAGE, "application/pdf"), ("photo.png", SVG, "image/png")]
    for filename, content, declared in disguised:
        multipart = await http.post(
            "/complaints",
            data={"complaint": json.dumps(COMPLAINT)},
            files=[("documents", (filename, content, declared))],
            headers=keys["intake"],
        )
        assert multipart.status_code == 422, multipart.text
        document = {
            "filename": filename,
            "content_type": declared,
            "content_base64": base64.b64encode(content).decode(),
        }
        as_json = await http.post("/complaints", json={**COMPLAINT, "documents": [document]}, headers=keys["intake"])
        assert as_json.status_code == 422, as_json.text
        form = await http.post("/reclamation", data=WEB_FORM, files=[("documents", (filename, content, declared))])
        assert form.status_code == 422 and "n'est pas ce que son nom ou son type annonce" in shown(form)
    assert (await table_counts(pool))["complaints"] == 0

    ref = await taken_in(http, keys, client)
    reply = f"/complaints/{ref}/customer/reply?token={signer(settings).sign(ref, LinkAction.REPLY)}"
    for filename, content, declared in disguised:
        refused = await http.post(
            reply, data={"message": "ma facture"}, files=[("documents", (filename, content, declared))]
        )
        assert refused.status_code == 422, refused.text
    real = await http.post(
        reply, data={"message": "ma facture"}, files=[("documents", ("f.pdf", PDF, "application/pdf"))]
    )
    assert real.status_code == 200, real.text
    assert await pool.fetchval("SELECT count(*) FROM documents") == 1


PDF = b"%PDF-1.4 facture"
WEB_FORM = {
    "nom": "Jeanne Martin",
    "email": "jeanne@example.com",
    "objet": "Colis abîmé",
    "description": "Le colis est arrivé ouvert et le vase était cassé.",
}


async def test_received_at_is_bounded_for_api_clients(
    http: httpx.AsyncClient, keys, pool: asyncpg.Pool, worker
) -> None:
    """Finding 12: an intake key cannot date a complaint in the future or years back."""
    now = datetime.now(UTC)
    for received_at in (now + timedelta(days=30), now - timedelta(days=3 * 365)):
        body = {**COMPLAINT, "received_at": received_at.isoformat()}
        refused = await http.post("/complaints", json=body, headers=keys["intake"])
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "received_at"
    assert (await table_counts(pool))["complaints"] == 0
    recent = {**COMPLAINT, "received_at": (now - timedelta(days=2)).isoformat()}
    assert (await http.post("/complaints", json=recent, headers=keys["intake"])).status_code == 201
    archived = {**_complaint("Odile"), "received_at": (now - timedelta(days=400)).isoformat()}
    assert (await http.post("/complaints", json=archived, headers=keys["admin"])).status_code == 201

"""Issue 14's attacks on the HTTP API and the customer endpoints, each made
through the real app and shown refused with nothing stored or changed."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

import asyncpg
import httpx
from fastapi import FastAPI
from starlette.types import Message
from temporalio.client import Client

from api.app import create_app
from complaints.links import LinkAction, signer
from complaints.settings import Settings
from tests.helpers.cli import complaints
from tests.helpers.examples import COMPLAINT
from tests.helpers.history import wait_until_idle
from tests.helpers.register import table_counts
from tests.helpers.web import app_over, shown, taken_in


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


async def _signals(client: Client, reference: str) -> int:
    history = await client.get_workflow_handle(reference).fetch_history()
    return sum(1 for event in history.events if event.HasField("workflow_execution_signaled_event_attributes"))


async def test_replies_cannot_take_a_complaint_past_its_document_limits(
    settings: Settings, pool: asyncpg.Pool, client: Client, keys, worker
) -> None:
    """Finding 6: the per-complaint count and total size hold over several replies."""
    small = settings.model_copy(update={"max_documents": 3, "max_complaint_document_bytes": 5_000})
    async with app_over(small, pool, client) as http:
        ref = await taken_in(http, keys, client)
        reply = f"/complaints/{ref}/customer/reply?token={signer(small).sign(ref, LinkAction.REPLY)}"

        def pages(*names: str, size: int = 100) -> list[tuple[str, tuple[str, bytes, str]]]:
            return [("documents", (f"{n}.pdf", b"%PDF-1.4 " + n.encode() * size, "application/pdf")) for n in names]

        first = await http.post(reply, data={"message": "voici"}, files=pages("a", "b"))
        assert first.status_code == 200, first.text
        retried = await http.post(reply, data={"message": "voici"}, files=pages("a", "b"))
        assert retried.status_code == 200, retried.text  # the same files again take no more room
        await wait_until_idle(client.get_workflow_handle(ref))  # the accepted replies' signals all in
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


def _client_of(app: FastAPI, address: str, **headers: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://complaints.test", headers=headers)


UNNAMED = {**WEB_FORM, "nom": "", "form_id": "flood"}  # refused by validation: nothing stored either way


async def test_the_form_limit_is_shared_by_every_api_process_and_ignores_spoofed_forwarding(
    settings: Settings, pool: asyncpg.Pool, client: Client
) -> None:
    """Finding 9: two processes count one limit; an untrusted peer's
    X-Forwarded-For does not make it a new client."""
    limited = settings.model_copy(update={"public_form_rate": "3/minute"})
    first, second = create_app(limited, pool, client), create_app(limited, pool, client)
    async with _client_of(first, "203.0.113.7") as one, _client_of(second, "203.0.113.7") as other:
        assert (await one.post("/reclamation", data=UNNAMED)).status_code == 422
        spoofed = {"X-Forwarded-For": "198.51.100.1"}
        assert (await other.post("/reclamation", data=UNNAMED, headers=spoofed)).status_code == 422
        assert (
            await one.post("/reclamation", data=UNNAMED, headers={"X-Forwarded-For": "192.0.2.9"})
        ).status_code == 422
        refused = await other.post("/reclamation", data=UNNAMED, headers={"X-Forwarded-For": "192.0.2.10"})
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
    assert "Trop de formulaires envoyés depuis votre connexion" in shown(refused)

    # behind the configured proxy, the forwarded address is the client's
    proxied = limited.model_copy(update={"trusted_proxies": [ip_network("10.0.0.0/24")]})
    async with _client_of(create_app(proxied, pool, client), "10.0.0.2") as proxy:
        for address in ("198.51.100.20", "198.51.100.21", "198.51.100.22", "198.51.100.23"):
            answer = await proxy.post("/reclamation", data=UNNAMED, headers={"X-Forwarded-For": address})
            assert answer.status_code == 422, address
        held_back = await proxy.post("/reclamation", data=UNNAMED, headers={"X-Forwarded-For": "203.0.113.7"})
        assert held_back.status_code == 429
    assert (await table_counts(pool))["complaints"] == 0


async def test_the_form_over_its_limit_is_refused_before_its_body_is_read(
    settings: Settings, pool: asyncpg.Pool, client: Client
) -> None:
    app = create_app(settings.model_copy(update={"public_form_rate": "1/minute"}), pool, client)
    async with _client_of(app, "203.0.113.8") as browser:
        assert (await browser.post("/reclamation", data=UNNAMED)).status_code == 422
    read: list[int] = []
    sent: list[Message] = []

    async def receive() -> Message:
        read.append(1)
        return {"type": "http.request", "body": b"nom=x&" * 100_000, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/reclamation",
        "raw_path": b"/reclamation",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"complaints.test"), (b"content-type", b"application/x-www-form-urlencoded")],
        "client": ("203.0.113.8", 40001),
        "server": ("complaints.test", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 429 and read == []


async def test_wrong_api_keys_are_limited_per_address(
    settings: Settings, pool: asyncpg.Pool, client: Client, keys
) -> None:
    """Finding 9: guessing keys is refused with 429 after a few tries, even
    the right key from that address; another address is not held back."""
    app = create_app(settings.model_copy(update={"failed_key_rate": "3/minute"}), pool, client)
    async with _client_of(app, "203.0.113.9") as guesser, _client_of(app, "198.51.100.30") as colleague:
        for attempt in range(3):
            wrong = await guesser.get("/complaints", headers={"Authorization": f"Bearer cmp_guess{attempt}"})
            assert wrong.status_code == 401
        refused = await guesser.get("/complaints", headers=keys["handler"])
        assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
        assert refused.headers["content-type"] == "application/problem+json"
        assert (await colleague.get("/complaints", headers=keys["handler"])).status_code == 200


async def test_signed_link_endpoints_are_limited_per_address(
    settings: Settings, pool: asyncpg.Pool, client: Client
) -> None:
    app = create_app(settings.model_copy(update={"customer_link_rate": "2/minute"}), pool, client)
    async with _client_of(app, "203.0.113.10") as prober:
        statuses = [(await prober.get(f"/complaints/REC-2026-00000{n}/customer?token=x")).status_code for n in range(3)]
        page = await prober.get("/suivi/REC-2026-000001?token=x")
    assert statuses == [403, 403, 429] and page.status_code == 429 and "Trop de demandes" in shown(page)
    assert "retry-after" in page.headers


async def test_a_limiter_whose_register_is_down_answers_503_not_500(settings: Settings, client: Client) -> None:
    closed = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    await closed.close()
    async with _client_of(create_app(settings, closed, client), "203.0.113.11") as browser:
        form = await browser.post("/reclamation", data=WEB_FORM)
        token = signer(settings).sign("REC-2026-000001", LinkAction.STATUS)
        link = await browser.get(f"/complaints/REC-2026-000001/customer?token={token}")
        key = await browser.get("/complaints", headers={"Authorization": "Bearer cmp_guess"})
    for answer in (form, link, key):
        assert answer.status_code == 503 and answer.headers["retry-after"], answer.text


async def test_api_keys_expire_and_their_last_use_is_recorded_once_a_minute(
    http: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings
) -> None:
    """Finding 13: an expired key is refused like a revoked one."""
    added = await complaints(
        settings, "users", "add", "Paul Temp", "--role", "intake", "--expires", "2d", "--no-password"
    )
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {key}"}
    assert await pool.fetchval("SELECT last_used_at FROM operators WHERE name = 'Paul Temp'") is None
    assert (await http.get("/complaints", headers=headers)).status_code == 200
    first_use = await pool.fetchval("SELECT last_used_at FROM operators WHERE name = 'Paul Temp'")
    assert first_use is not None
    assert (await http.get("/complaints", headers=headers)).status_code == 200
    assert await pool.fetchval("SELECT last_used_at FROM operators WHERE name = 'Paul Temp'") == first_use  # no write
    listed = await complaints(settings, "users", "list")
    assert f"last used {first_use.astimezone(UTC):%Y-%m-%d}" in listed.stdout and "active until" in listed.stdout

    # two days on: the key's expiry has passed
    await pool.execute("UPDATE operators SET expires_at = now() - interval '1 second' WHERE name = 'Paul Temp'")
    expired = await http.get("/complaints", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert "expired" in (await complaints(settings, "users", "list")).stdout
    refused = await complaints(settings, "users", "add", "Zoé", "--role", "intake", "--expires", "2020-01-01")
    assert refused.returncode == 1 and "already past" in refused.stderr
    assert await pool.fetchval("SELECT count(*) FROM operators WHERE name = 'Zoé'") == 0


async def test_hsts_is_sent_over_https_only(settings: Settings, pool: asyncpg.Pool, client: Client) -> None:
    """Finding 13: HTTPS directly or through the trusted proxy; never for a peer's say-so."""
    app = create_app(settings.model_copy(update={"trusted_proxies": [ip_network("10.0.0.2/32")]}), pool, client)
    direct = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://complaints.test")
    async with direct, _client_of(app, "10.0.0.2") as proxy, _client_of(app, "203.0.113.12") as stranger:
        over_https = await direct.get("/reclamation")
        proxied = await proxy.get("/reclamation", headers={"X-Forwarded-Proto": "https"})
        claimed = await stranger.get("/reclamation", headers={"X-Forwarded-Proto": "https"})
        plain = await proxy.get("/reclamation")
    assert over_https.headers["strict-transport-security"].startswith("max-age=")
    assert proxied.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in claimed.headers and "strict-transport-security" not in plain.headers


async def test_docs_load_swagger_ui_from_this_origin_under_a_strict_csp(http: httpx.AsyncClient) -> None:
    """Finding 13: no page loads a script from a CDN."""
    docs = await http.get("/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" not in docs.text  # the initialiser is a file, not inline
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(source.startswith("/") and not source.startswith("//") for source in sources), sources
    for source in sources:
        assert (await http.get(source)).status_code == 200, source
    assert "SwaggerUIBundle" in (await http.get("/docs/init.js")).text
    assert (await http.get("/redoc")).status_code == 404
    for page in ("/docs", "/reclamation"):
        assert not re.search(r'(?:src|href)="(?:https?:)?//', (await http.get(page)).text), page


async def test_a_complaint_taken_in_with_documents_past_the_total_is_refused(
    settings: Settings, pool: asyncpg.Pool, client: Client, keys
) -> None:
    small = settings.model_copy(update={"max_complaint_document_bytes": 5_000})
    pages = [("documents", (f"p{n}.pdf", b"%PDF-1.4 " + b"x" * 2_000, "application/pdf")) for n in range(3)]
    async with app_over(small, pool, client) as http:
        api = await http.post(
            "/complaints", data={"complaint": json.dumps(COMPLAINT)}, files=pages, headers=keys["intake"]
        )
        form = await http.post("/reclamation", data=WEB_FORM, files=pages)
    assert api.status_code == 422 and "5,000 bytes are accepted per complaint" in api.json()["detail"]
    assert form.status_code == 422 and "Vos documents sont trop volumineux ensemble" in shown(form)
    assert (await table_counts(pool))["complaints"] == 0

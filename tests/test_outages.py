"""The register (PostgreSQL) down for real: every endpoint and page answers 503
with Retry-After (a problem, or a page in French), the inbound mailbox 451;
nothing is half-written, and what was sent during the outage goes through
when it is sent again."""

import asyncio
import base64
import html
import smtplib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from api.app import create_app
from complaints.database import open_pool
from complaints.intake import record_complaint
from complaints.links import LinkAction, signer, status_link
from complaints.operator_commands import Role
from complaints.operators import create_operator
from complaints.settings import Settings
from complaints.submission import Channel, validate_submission
from inbound.server import InboundServer
from tests.helpers.network import free_port
from tests.helpers.polling import eventually
from tests.helpers.stoppable_postgres import StoppablePostgres
from tests.helpers.web import path_of, shown

COMPLAINT = {
    "complainant": {"name": "Jeanne Martin", "email": "jeanne@example.com"},
    "subject": "Colis abîmé",
    "description": "Le colis est arrivé ouvert et le vase était cassé.",
}
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
FORM = {
    "nom": "Jeanne Martin",
    "email": "jeanne@example.com",
    "objet": "Colis abîmé",
    "description": "Le colis est arrivé ouvert et le vase était cassé.",
    "form_id": "formulaire-pendant-la-panne",
}
TABLES = ("complaints", "documents", "journal", "outbox", "reference_counters")


@pytest.fixture(scope="module")
def register_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoppablePostgres]:
    server = StoppablePostgres(tmp_path_factory.mktemp("outage-pg"))
    yield server
    server.start()  # however the test ended
    server.cleanup()


@pytest_asyncio.fixture
async def stoppable(register_server: StoppablePostgres, settings: Settings) -> AsyncIterator[Settings]:
    """The test's settings over a register on the stoppable server; started
    again after the test, whatever happened."""
    register_server.start()
    url = await register_server.new_database(f"o_{uuid.uuid4().hex[:12]}")
    yield settings.model_copy(update={"database_url": url})
    register_server.start()


@pytest_asyncio.fixture
async def register(stoppable: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(stoppable)
    yield pool
    try:
        await asyncio.wait_for(pool.close(), 10)
    except TimeoutError:
        pool.terminate()
        raise


@pytest_asyncio.fixture
async def app_http(stoppable: Settings, register: asyncpg.Pool, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    # An unexpected error (a 500) raises here, with its traceback.
    transport = httpx.ASGITransport(app=create_app(stoppable, register, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test", timeout=30) as http:
        yield http


async def _key(pool: asyncpg.Pool, name: str, role: Role) -> dict[str, str]:
    _, key = await create_operator(pool, name, role)
    return {"Authorization": f"Bearer {key}"}


async def _counts(pool: asyncpg.Pool) -> dict[str, int]:
    return {table: await pool.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}


def _assert_problem(answer: httpx.Response, what: str) -> None:
    assert answer.status_code == 503, f"{what}: {answer.status_code} {answer.text[:300]}"
    assert answer.headers["retry-after"].isdigit(), what
    assert answer.headers["content-type"] == "application/problem+json", what
    problem = answer.json()
    assert problem["status"] == 503 and "register cannot be reached" in problem["detail"], what


def _assert_page(answer: httpx.Response, what: str) -> str:
    assert answer.status_code == 503, f"{what}: {answer.status_code} {answer.text[:300]}"
    assert answer.headers["retry-after"].isdigit(), what
    assert answer.headers["content-type"].startswith("text/html"), what
    assert 'lang="fr"' in answer.text, what
    return shown(answer)


async def _send_mail(settings: Settings, subject: str) -> tuple[int, str]:
    def deliver() -> tuple[int, str]:
        with smtplib.SMTP(settings.inbound_host, settings.inbound_port, timeout=30) as smtp:
            smtp.ehlo()
            smtp.mail("jeanne@example.com")
            smtp.rcpt("reclamations@example.org")
            raw = (
                "From: Jeanne Martin <jeanne@example.com>\r\nTo: reclamations@example.org\r\n"
                f"Subject: {subject}\r\nMessage-ID: <panne-{uuid.uuid4().hex}@example.com>\r\n\r\n"
                "Le colis est arrivé ouvert et le vase était cassé.\r\n"
            )
            code, answer = smtp.data(raw.encode())
            return code, answer.decode()

    return await asyncio.to_thread(deliver)


async def test_while_the_register_is_down_every_endpoint_and_page_answers_503_and_loses_nothing(
    register_server: StoppablePostgres,
    stoppable: Settings,
    register: asyncpg.Pool,
    app_http: httpx.AsyncClient,
    client: Client,
) -> None:
    settings = stoppable
    intake, handler, manager = (
        await _key(register, "Irène", Role.INTAKE),
        await _key(register, "Alice", Role.HANDLER),
        await _key(register, "Chloé", Role.MANAGER),
    )
    earlier = await record_complaint(
        register,
        settings,
        validate_submission({**COMPLAINT, "channel": Channel.PHONE}, settings.document_limits),
        actor="t",
    )
    ref = earlier.reference
    links = signer(settings)
    before = await _counts(register)
    complaint = {
        **COMPLAINT,
        "documents": [
            {"filename": "bon.pdf", "content_type": "application/pdf", "content_base64": base64.b64encode(PDF).decode()}
        ],
    }
    sent_key = {"Idempotency-Key": "sent-during-the-outage"}
    customer = path_of(status_link(settings, ref)).replace("/suivi/", "/complaints/", 1).replace("?", "/customer?", 1)
    mailbox = settings.model_copy(update={"inbound_host": "127.0.0.1", "inbound_port": free_port()})

    register_server.stop()

    api_calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/complaints", {"json": complaint, "headers": {**intake, **sent_key}}),
        ("GET", "/complaints", {"headers": handler}),
        ("GET", f"/complaints/{ref}", {"headers": handler}),
        ("GET", f"/complaints/{ref}/documents/1", {"headers": handler}),
        ("POST", f"/complaints/{ref}/notes", {"json": {"text": "Appel de la cliente"}, "headers": handler}),
        ("GET", "/reports/kpis", {"headers": manager}),
        ("GET", customer, {}),
        (
            "POST",
            f"/complaints/{ref}/customer/reply?token={links.sign(ref, LinkAction.REPLY)}",
            {"json": {"message": "Bonjour"}},
        ),
    ]
    for method, path, arguments in api_calls:
        _assert_problem(await app_http.request(method, path, **arguments), f"{method} {path}")

    confirmation = f"/reclamation/enregistree?token={links.sign(ref, LinkAction.CONFIRMATION)}"
    assert "réessayez dans quelques minutes" in _assert_page(await app_http.get(confirmation), "confirmation")
    assert "réessayez dans quelques minutes" in _assert_page(
        await app_http.get(path_of(status_link(settings, ref))), "suivi"
    )
    reply_form = f"/suivi/{ref}/reponse?token={links.sign(ref, LinkAction.REPLY)}"
    page = _assert_page(await app_http.post(reply_form, data={"message": "Bonjour"}), "reply form")
    assert "Votre envoi n'est pas encore enregistré" in page

    form = await app_http.post("/reclamation", data=FORM, files=[("documents", ("bon.pdf", PDF, "application/pdf"))])
    page = _assert_page(form, "complaint form")
    assert "Votre réclamation n'est pas encore enregistrée" in page and "Joignez à nouveau vos documents" in page
    for field in ("nom", "objet", "description", "form_id"):  # the form comes back filled in
        assert f'value="{html.escape(FORM[field])}"' in form.text or html.escape(FORM[field]) in form.text, field

    async with InboundServer(register, client, mailbox):
        code, answer = await _send_mail(mailbox, "Colis abîmé (par email)")
    assert code == 451, answer

    register_server.start()

    async def back() -> bool:
        try:
            await register.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True

    await eventually(back, timeout=15)
    assert await _counts(register) == before  # nothing half-written: no row, no number taken

    resent = await app_http.post("/complaints", json=complaint, headers={**intake, **sent_key})
    assert resent.status_code == 201, resent.text  # created now: the first was not recorded
    assert resent.json()["created"] is True
    assert resent.json()["reference"].endswith("-000002")
    stored = await register.fetch(
        "SELECT content FROM documents WHERE complaint_reference = $1", resent.json()["reference"]
    )
    assert [row["content"] for row in stored] == [PDF]
    form_again = await app_http.post(
        "/reclamation", data=FORM, files=[("documents", ("bon.pdf", PDF, "application/pdf"))]
    )
    assert form_again.status_code == 303, form_again.text
    assert await register.fetchval("SELECT count(*) FROM complaints WHERE channel = 'web'") == 1


async def test_a_complaint_cut_off_by_the_outage_mid_write_leaves_nothing_and_is_taken_in_when_resent(
    register_server: StoppablePostgres,
    stoppable: Settings,
    register: asyncpg.Pool,
    app_http: httpx.AsyncClient,
) -> None:
    """The server stops while the complaint's transaction is open (held at the
    reference counter): the request is answered 503 and the transaction is gone."""
    settings = stoppable
    intake = await _key(register, "Irène", Role.INTAKE)
    await record_complaint(
        register,
        settings,
        validate_submission({**COMPLAINT, "channel": Channel.PHONE}, settings.document_limits),
        actor="t",
    )
    before = await _counts(register)
    holder = await asyncpg.connect(settings.database_url)
    hold = holder.transaction()
    await hold.start()
    await holder.execute("SELECT * FROM reference_counters FOR UPDATE")
    headers = {**intake, "Idempotency-Key": "cut-off"}
    sending = asyncio.create_task(app_http.post("/complaints", json=COMPLAINT, headers=headers))

    async def waiting_at_the_counter() -> bool:
        return bool(
            await register.fetchval(  # not the holder: a transaction sees one snapshot of the statistics
                """SELECT count(*) FROM pg_stat_activity
                    WHERE wait_event_type = 'Lock' AND query LIKE '%reference_counters%'"""
            )
        )

    await eventually(waiting_at_the_counter, timeout=15)
    register_server.stop()
    _assert_problem(await sending, "POST cut off")
    holder.terminate()

    register_server.start()
    await eventually(lambda: _reachable(settings), timeout=15)
    assert await _counts(register) == before
    resent = await app_http.post("/complaints", json=COMPLAINT, headers=headers)
    assert resent.status_code == 201, resent.text
    assert resent.json()["reference"].endswith("-000002")


async def _reachable(settings: Settings) -> bool:
    try:
        conn = await asyncpg.connect(settings.database_url)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def test_a_register_that_refuses_connections_is_503_until_it_accepts_them_again(
    postgres: str, settings: Settings, pool: asyncpg.Pool, client: Client
) -> None:
    """The database closed to connections (ALLOW_CONNECTIONS false) and its
    sessions ended: what a failover or maintenance looks like to the API."""
    handler = await _key(pool, "Alice", Role.HANDLER)
    name = urlsplit(settings.database_url or "").path.strip("/")
    transport = httpx.ASGITransport(app=create_app(settings, pool, client))
    admin = await asyncpg.connect(postgres)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test") as http:
            assert (await http.get("/complaints", headers=handler)).status_code == 200
            await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            for attempt in ("the session ended", "no new session"):
                _assert_problem(await http.get("/complaints", headers=handler), attempt)
            await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            assert (await http.get("/complaints", headers=handler)).status_code == 200
    finally:
        await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        await admin.close()

"""The register down: every console page and form answers a French page,
503 with Retry-After, never a 500; nothing is lost or half-done."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from api.app import create_app
from complaints.database import open_pool
from complaints.intake import record_complaint
from complaints.operator_commands import Role
from complaints.operators import create_operator
from complaints.settings import Settings
from tests.helpers.console import PASSWORD, hidden, sign_in, with_password
from tests.helpers.stoppable_postgres import StoppablePostgres
from tests.helpers.web import shown


@pytest.fixture(scope="module")
def register_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoppablePostgres]:
    server = StoppablePostgres(tmp_path_factory.mktemp("console-outage-pg"))
    yield server
    server.start()
    server.cleanup()


@pytest_asyncio.fixture
async def register(register_server: StoppablePostgres, settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    register_server.start()
    url = await register_server.new_database(f"c_{uuid.uuid4().hex[:12]}")
    pool = await open_pool(settings.model_copy(update={"database_url": url}))
    yield pool
    register_server.start()
    try:
        await asyncio.wait_for(pool.close(), 10)
    except TimeoutError:
        pool.terminate()


async def test_while_the_register_is_down_the_console_answers_503_in_french(
    register_server: StoppablePostgres, register: asyncpg.Pool, settings: Settings, client: Client, complaint
) -> None:
    app = create_app(settings, register, client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://complaints.test") as http:
        await create_operator(register, "Alice", Role.HANDLER)
        await with_password(register, "Alice")
        ref = (await record_complaint(register, settings, complaint(), actor="test")).reference
        await sign_in(http, "Alice")
        page = await http.get("/console/files/toutes")
        csrf = hidden(page, "csrf")
        sign_in_form = await http.get("/console/connexion")

        register_server.stop()
        answers = {
            "queue": await http.get("/console/files/toutes"),
            "complaint": await http.get(f"/console/reclamations/{ref}"),
            "search": await http.get("/console/recherche", params={"q": "colis"}),
            "command": await http.post(
                f"/console/reclamations/{ref}/commandes/notes", data={"csrf": csrf, "version": "x", "text": "Appel"}
            ),
            "sign-in": await http.post(
                "/console/connexion",
                data={"nom": "Alice", "mot_de_passe": PASSWORD, "csrf": hidden(sign_in_form, "csrf")},
            ),
        }
        for what, answer in answers.items():
            assert answer.status_code == 503, what
            assert answer.headers["retry-after"], what
            assert "Service momentanément indisponible" in shown(answer), what

        register_server.start()
        assert await register.fetchval("SELECT count(*) FROM journal WHERE event = 'internal_note'") == 0
        assert (await http.get("/console/files/toutes")).status_code == 200  # the same session, again

"""One Temporal dev server (with per-workflow time skipping available) and one
PostgreSQL per session; a fresh database, task queue and SMTP server per test;
the HTTP app over them, with one operator key per role.

Fixtures only: the helpers the tests share are in tests/helpers/."""

import copy
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from complaints import search_attributes
from complaints.database import apply_migrations, open_pool
from complaints.operator_commands import Role
from complaints.operators import create_operator
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission, validate_submission
from devstack.mail_sink import start_sink
from devstack.postgres import start_embedded_postgres
from devstack.temporal_server import temporal_cli
from tests.helpers.browser import headless_chromium
from tests.helpers.databases import TEMPLATE_DB, fresh_database
from tests.helpers.examples import COMPLAINT
from tests.helpers.live_site import served
from tests.helpers.mailbox import Mailbox
from tests.helpers.network import free_port
from tests.helpers.session import CONVERTER, PAYLOAD_KEYS, SUGGEST_CONTINUE_AS_NEW_AFTER
from worker.main import build_worker

UI_PORT = free_port()
OPERATORS = {
    "intake": ("Irène", Role.INTAKE),
    "handler": ("Alice", Role.HANDLER),
    "handler2": ("Bruno", Role.HANDLER),
    "manager": ("Chloé", Role.MANAGER),
    "manager2": ("Denis", Role.MANAGER),
    "admin": ("Admin", Role.ADMIN),
}


@pytest_asyncio.fixture(scope="session")
async def postgres(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """The session's PostgreSQL; yields the admin URL. Migrations go into a
    template database that every test copies."""
    server = start_embedded_postgres(tmp_path_factory.mktemp("pg"))
    admin_url = server.get_uri()
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    await conn.close()
    await apply_migrations(server.get_uri(TEMPLATE_DB))
    yield admin_url
    server.cleanup()


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """The session's Temporal dev server. `env.client` starts workflows with
    time skipping; the `client` fixture starts them in real time."""
    async with await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=temporal_cli(),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
            # Suggest continue-as-new early, so a test can reach it in seconds.
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_AFTER}",
        ],
        data_converter=CONVERTER,
        search_attributes=search_attributes.ALL,
        ui=True,
        ui_port=UI_PORT,
    ) as env:
        yield env


@pytest.fixture(scope="session")
def ui_url(env: WorkflowEnvironment) -> str:
    """The session dev server's Temporal UI."""
    return f"http://127.0.0.1:{UI_PORT}"


@pytest_asyncio.fixture(scope="session")
async def client(env: WorkflowEnvironment) -> Client:
    return await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        data_converter=CONVERTER,
    )


@pytest_asyncio.fixture
async def database_url(postgres: str) -> str:
    return await fresh_database(postgres)


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    port = free_port()
    controller, sink = start_sink(tmp_path / "mail", "127.0.0.1", port)
    yield Mailbox(sink, port)
    controller.stop()


@pytest.fixture
def settings(
    database_url: str, env: WorkflowEnvironment, mailbox: Mailbox, tmp_path: Path, request: pytest.FixtureRequest
) -> Settings:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=database_url,
        temporal_address=env.client.service_client.config.target_host,
        temporal_namespace=env.client.namespace,
        task_queue=f"complaints-{uuid.uuid4().hex[:8]}",
        # references are workflow ids: unique per test on the shared server
        reference_prefix=f"T{uuid.uuid4().hex[:6].upper()}",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        worker_shutdown_grace_seconds=0,
        payload_keys=PAYLOAD_KEYS,
    )
    if "site" in request.fixturenames:
        # A test that serves the site on a real port gets emails whose links lead there.
        port = request.getfixturevalue("web_port")
        settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    return settings


@pytest_asyncio.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(settings)
    yield pool
    await pool.close()


@pytest_asyncio.fixture
async def worker(client: Client, pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[Worker]:
    worker = build_worker(client, pool, settings)
    async with worker:
        yield worker


@pytest.fixture
def complaint(settings: Settings) -> Callable[..., ComplaintSubmission]:
    """A valid submission by phone; keyword arguments replace its fields."""

    def make(**changes: Any) -> ComplaintSubmission:
        data: dict[str, Any] = {"channel": "phone", **copy.deepcopy(COMPLAINT)}
        data.update(changes)
        return validate_submission(data, settings.document_limits)

    return make


@pytest_asyncio.fixture
async def http(settings: Settings, pool: asyncpg.Pool, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the test's register and Temporal client, driven in-process."""
    app = create_app(settings, pool, client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test", timeout=30) as http:
        yield http


@pytest_asyncio.fixture
async def keys(pool: asyncpg.Pool) -> dict[str, dict[str, str]]:
    """Authorization headers by operator: keys["handler"] → {"Authorization": ...}."""
    found = {}
    for label, (name, role) in OPERATORS.items():
        _, key = await create_operator(pool, name, role)
        found[label] = {"Authorization": f"Bearer {key}"}
    return found


# --- the browser tests: the app on a real port, and Chromium --------------------------


@pytest.fixture
def web_port() -> int:
    return free_port()


@pytest_asyncio.fixture
async def site(settings: Settings, pool: asyncpg.Pool, client: Client, web_port: int) -> AsyncIterator[str]:
    """The app on a real port, served by this event loop while Selenium runs in a thread."""
    async with served(create_app(settings, pool, client), web_port) as url:
        yield url


@pytest.fixture
def browser(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium on a fresh profile, in the module's BROWSER_WINDOW (width,height)."""
    driver = headless_chromium(tmp_path / "profile", window=getattr(request.module, "BROWSER_WINDOW", "1280,1600"))
    yield driver
    driver.quit()

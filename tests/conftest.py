"""One Temporal dev server (with per-workflow time skipping available) and one
PostgreSQL per session; a fresh database, task queue and SMTP server per test."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from complaints import search_attributes
from complaints.database import apply_migrations, open_pool
from complaints.payload_codec import new_key_line
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission, validate_submission
from complaints.temporal_client import data_converter
from devstack.mail_sink import MailSink, read_messages, start_sink
from devstack.postgres import start_embedded_postgres
from devstack.temporal_server import temporal_cli
from worker.main import build_worker

TEMPLATE_DB = "register_template"
PAYLOAD_KEYS = new_key_line("test-1")  # one key for the session's payloads
CONVERTER = data_converter(Settings(_env_file=None, payload_keys=PAYLOAD_KEYS))
SUGGEST_CONTINUE_AS_NEW_AFTER = 400  # history events
ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots; git-ignored


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


UI_PORT = free_port()


async def eventually(check: Callable[[], Any], timeout: float = 15.0, every: float = 0.1) -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true after {timeout}s: {check}")
        await asyncio.sleep(every)


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


async def fresh_database(admin_url: str) -> str:
    """A new, migrated register database; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    await conn.close()
    return admin_url.replace("/postgres?", f"/{name}?")


@pytest_asyncio.fixture
async def database_url(postgres: str) -> str:
    return await fresh_database(postgres)


class Mailbox:
    """The test's SMTP server and what it received."""

    def __init__(self, sink: MailSink, port: int) -> None:
        self.sink = sink
        self.port = port

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        found = read_messages(self.sink.folder)
        return [m for m in found if to is None or m["To"] == to]

    async def wait_for(self, to: str, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        await eventually(lambda: len(self.messages(to)) >= count, timeout)
        return self.messages(to)


@pytest.fixture
def mailbox(tmp_path: Path) -> Mailbox:
    port = free_port()
    controller, sink = start_sink(tmp_path / "mail", "127.0.0.1", port)
    yield Mailbox(sink, port)
    controller.stop()


@pytest.fixture
def settings(database_url: str, env: WorkflowEnvironment, mailbox: Mailbox, tmp_path: Path) -> Settings:
    return Settings(
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
    """A valid submission; keyword arguments replace its fields."""

    def make(**changes: Any) -> ComplaintSubmission:
        data: dict[str, Any] = {
            "channel": "phone",
            "complainant": {"name": "Jeanne Martin", "email": "jeanne@example.com"},
            "subject": "Colis abîmé",
            "description": "Le colis est arrivé ouvert et le vase était cassé.",
            "desired_resolution": "Le remplacement du vase",
            "product": "Vase Médicis",
        }
        data.update(changes)
        return validate_submission(data, settings.document_limits)

    return make

"""Fixtures and helpers of the HTTP tests: the app over the test's register
and Temporal client, driven by httpx; one operator key per role."""

import html
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest_asyncio
from temporalio.client import Client

from api.app import create_app
from complaints.operator_commands import Role
from complaints.operators import create_operator
from complaints.settings import Settings

OPERATORS = {
    "intake": ("Irène", Role.INTAKE),
    "handler": ("Alice", Role.HANDLER),
    "handler2": ("Bruno", Role.HANDLER),
    "manager": ("Chloé", Role.MANAGER),
    "manager2": ("Denis", Role.MANAGER),
    "admin": ("Admin", Role.ADMIN),
}
CUSTOMER = "jeanne@example.com"
COMPLAINT = {
    "complainant": {"name": "Jeanne Martin", "email": CUSTOMER},
    "subject": "Colis abîmé",
    "description": "Le colis est arrivé ouvert et le vase était cassé.",
    "desired_resolution": "Le remplacement du vase",
    "product": "Vase Médicis",
}


@pytest_asyncio.fixture
async def http(settings: Settings, pool: asyncpg.Pool, client: Client) -> AsyncIterator[httpx.AsyncClient]:
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


def shown(page: httpx.Response) -> str:
    """A page's text as a person reads it (tags dropped, entities decoded)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


def path_of(url: str) -> str:
    """The path and query of an absolute link (the app is reached in-process)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def customer_api(status_link: str) -> str:
    """The JSON view behind a status page link: /complaints/{ref}/customer?token=..."""
    parts = urlsplit(status_link)
    return f"{parts.path.replace('/suivi/', '/complaints/', 1)}/customer?{parts.query}"


def status_link_in(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"(https?://\S+/suivi/\S+)", body)
    assert found, f"no status link in:\n{body}"
    return found[1]


async def table_counts(pool: asyncpg.Pool) -> dict[str, int]:
    """Rows in the register's tables: to show a refused request wrote nothing."""
    return {
        table: await pool.fetchval(f"SELECT count(*) FROM {table}")
        for table in ("complaints", "documents", "journal", "outbox")
    }

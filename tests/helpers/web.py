"""The app over HTTP as the tests read it: a page's text as a person reads
it, links as in-process paths, a complaint taken in over the API."""

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import asyncpg
import httpx
from temporalio.client import Client

from api.app import create_app
from complaints.complaint_status import Phase
from complaints.settings import Settings
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.examples import COMPLAINT


@asynccontextmanager
async def app_over(settings: Settings, pool: asyncpg.Pool, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh app with these settings, over the test's register and Temporal client."""
    transport = httpx.ASGITransport(app=create_app(settings, pool, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test", timeout=30) as http:
        yield http


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


async def taken_in(
    http: httpx.AsyncClient, keys: dict[str, dict[str, str]], client: Client, body: dict | None = None
) -> str:
    """A complaint posted by the intake operator and assessed; its reference."""
    answer = await http.post("/complaints", json=body or COMPLAINT, headers=keys["intake"])
    assert answer.status_code == 201, answer.text
    ref = answer.json()["reference"]
    await wait_for_phase(client, ref, Phase.ASSESSMENT)
    return ref

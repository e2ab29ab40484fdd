"""The operators' console as the tests drive it over HTTP: an operator with
a password, signed in; the CSRF token and state version a page carries."""

import re

import asyncpg
import httpx

from complaints.credentials import set_password

PASSWORD = "correct horse battery"


async def with_password(pool: asyncpg.Pool, name: str) -> None:
    await set_password(pool, name, PASSWORD)


def hidden(page: httpx.Response, field: str) -> str:
    """The first hidden field `field` of a page."""
    found = re.search(rf'name="{field}" value="([^"]*)"', page.text)
    assert found, f"no {field} on the page"
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    form = await http.get("/console/connexion")
    return await http.post(
        "/console/connexion",
        data={"nom": name, "mot_de_passe": password, "csrf": hidden(form, "csrf"), "suite": "/console"},
    )

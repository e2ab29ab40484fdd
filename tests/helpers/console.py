"""The operators' console as the tests drive it over HTTP: an operator with
a password, signed in; the CSRF token and state version a page carries."""

import re

import asyncpg
import httpx

from complaints.credentials import set_password

PASSWORD = "correct horse battery"


async def with_password(pool: asyncpg.Pool, name: str) -> None:
    await set_password(pool, name, PASSWORD)


async def signed_in_as(http: httpx.AsyncClient, pool: asyncpg.Pool, name: str) -> None:
    """`name` given a password and signed in, whoever was signed in before."""
    http.cookies.clear()
    await with_password(pool, name)
    assert (await sign_in(http, name)).status_code == 303


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


async def complaint_page(http: httpx.AsyncClient, reference: str) -> httpx.Response:
    page = await http.get(f"/console/reclamations/{reference}")
    assert page.status_code == 200, page.text
    return page


async def send_command(
    http: httpx.AsyncClient, reference: str, path: str, fields: dict[str, str], page: httpx.Response | None = None
) -> httpx.Response:
    """Post a command's form as the complaint page (read now, or `page`) carries it."""
    page = page or await complaint_page(http, reference)
    data = {"csrf": hidden(page, "csrf"), "version": hidden(page, "version"), **fields}
    return await http.post(f"/console/reclamations/{reference}/commandes/{path}", data=data)

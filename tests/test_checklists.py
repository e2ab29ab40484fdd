"""A complaint's checklist in the console: a handler adds an item (the same
form twice adds it once) and ticks it done (twice is once), each journaled and
shown with who and when; an empty item refused in French with nothing stored;
an erasure clears what the items said."""

import re
from collections.abc import Callable

import asyncpg
import httpx

from complaints import checklists
from complaints.erasure import close_for_erasure, erase_complaint
from complaints.intake import record_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.console import complaint_page, hidden, sign_in, with_password

Make = Callable[..., ComplaintSubmission]


async def _steps(pool: asyncpg.Pool, reference: str) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT event, actor FROM journal WHERE complaint_reference = $1 AND event LIKE 'checklist%' ORDER BY id",
        reference,
    )
    return [(row["event"], row["actor"]) for row in rows]


async def test_a_handler_adds_and_ticks_an_item_each_once_and_journaled(
    pool: asyncpg.Pool, settings: Settings, complaint: Make, http: httpx.AsyncClient, keys: dict
) -> None:
    ref = (await record_complaint(pool, settings, complaint(), "t")).reference
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    page = await complaint_page(http, ref)
    form_id = re.search(
        r'action="/console/reclamations/[^"]+/liste">\s*<input[^>]+>\s*<input[^>]*value="(\w+)"', page.text
    )
    assert form_id, "no checklist form"
    form = {"csrf": hidden(page, "csrf"), "form_id": form_id.group(1), "texte": "  Rappeler le transporteur "}
    for _ in range(2):
        assert (await http.post(f"/console/reclamations/{ref}/liste", data=form)).status_code == 303
    [item] = await checklists.items(pool, ref)
    assert item.text == "Rappeler le transporteur" and item.added_by == "Alice"
    for _ in range(2):
        done = await http.post(f"/console/reclamations/{ref}/liste/{item.id}/fait", data={"csrf": form["csrf"]})
        assert done.status_code == 303
    [item] = await checklists.items(pool, ref)
    assert item.done_by == "Alice" and item.done_at is not None
    assert await _steps(pool, ref) == [("checklist_item_added", "Alice"), ("checklist_item_done", "Alice")]
    shown = (await complaint_page(http, ref)).text
    assert "fait par Alice" in shown and "Fait dans la liste de contrôle" in shown
    assert f"/liste/{item.id}/fait" not in shown  # done: no button left


async def test_an_empty_item_is_refused_in_french_and_nothing_stored(
    pool: asyncpg.Pool, settings: Settings, complaint: Make, http: httpx.AsyncClient, keys: dict
) -> None:
    ref = (await record_complaint(pool, settings, complaint(), "t")).reference
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    page = await complaint_page(http, ref)
    refused = await http.post(f"/console/reclamations/{ref}/liste", data={"csrf": hidden(page, "csrf"), "texte": " "})
    assert refused.status_code == 422 and "Écrivez le texte" in refused.text
    unknown = await http.post(f"/console/reclamations/{ref}/liste/999999/fait", data={"csrf": hidden(page, "csrf")})
    assert unknown.status_code == 404 and "pas dans la liste de cette réclamation" in unknown.text
    forged = await http.post(f"/console/reclamations/{ref}/liste", data={"csrf": "forged", "texte": "x"})
    assert forged.status_code == 403
    assert await checklists.items(pool, ref) == [] and await _steps(pool, ref) == []
    http.cookies.clear()
    await with_password(pool, "Irène")
    await sign_in(http, "Irène")
    page = await complaint_page(http, ref)
    assert "/liste" not in page.text
    assert (
        await http.post(f"/console/reclamations/{ref}/liste", data={"csrf": hidden(page, "csrf"), "texte": "x"})
    ).status_code == 403


async def test_an_erasure_clears_what_the_items_said(pool: asyncpg.Pool, settings: Settings, complaint: Make) -> None:
    ref = (await record_complaint(pool, settings, complaint(), "t")).reference
    await checklists.add(pool, ref, "Rappeler Jeanne Martin au 06 12 34 56 78", "Alice", "checklist:test")
    await close_for_erasure(pool, ref, "DPO", "demande du client")
    await erase_complaint(pool, ref, "DPO", "demande du client")
    [item] = await checklists.items(pool, ref)
    assert "Jeanne" not in item.text
    details = await pool.fetch("SELECT details::text FROM journal WHERE complaint_reference = $1", ref)
    assert not any("Jeanne Martin au" in row["details"] for row in details)

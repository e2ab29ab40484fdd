"""The managers' board of corrective and improvement actions over the seeded
register (tests/helpers/seeded_register.py): overdue first, then by owner and
due date; marked done with what was done, once; the recurrence of the root
cause beside a done action."""

import re
from datetime import date, timedelta

import asyncpg
import httpx

from tests.helpers.console import hidden, sign_in, with_password
from tests.helpers.seeded_register import add_action, seed_register
from tests.helpers.web import shown


def _order(page: httpx.Response) -> list[int]:
    return [int(found) for found in re.findall(r'<tr id="action-(\d+)"', page.text)]


async def test_the_actions_board_overdue_first_marked_done_with_what_was_done(
    http: httpx.AsyncClient, pool: asyncpg.Pool, keys: dict
) -> None:
    seeded = await seed_register(pool)
    later = await add_action(pool, "T-B", "improvement", "achats", date.today() + timedelta(days=30))
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    assert (await http.get("/console/actions")).status_code == 403  # a handler
    http.cookies.clear()
    await with_password(pool, "Chloé")
    await sign_in(http, "Chloé")

    board = await http.get("/console/actions")
    assert board.status_code == 200
    # D's and C's (logistique, due 10 and 30 April: overdue now) before achats' (not due yet), then A's, done
    assert _order(board) == [seeded.actions["D"], seeded.actions["C"], later, seeded.actions["A"]]
    a_row = board.text.split(f'<tr id="action-{seeded.actions["A"]}"')[1].split("</tr>")[0]
    # emballage: A and B in the 30 days before 25 March, H (5 April) in the 30 days since
    assert "Cause racine : 2 réclamation(s) dans les 30 jours avant, 1 dans les 30 jours depuis" in a_row

    csrf = hidden(board, "csrf")
    empty = await http.post(f"/console/actions/{seeded.actions['C']}/fait", data={"csrf": csrf, "realise": " "})
    assert empty.status_code == 422 and "Dites ce qui a été fait." in shown(empty)
    assert await pool.fetchval("SELECT status FROM actions WHERE id = $1", seeded.actions["C"]) == "open"

    note = "Contrôle des factures avant envoi"
    for text in (note, "autre chose"):  # done once: the second keeps the first completion
        done = await http.post(f"/console/actions/{seeded.actions['C']}/fait", data={"csrf": csrf, "realise": text})
        assert done.status_code == 303
    row = await pool.fetchrow("SELECT status, done_note, done_by FROM actions WHERE id = $1", seeded.actions["C"])
    assert tuple(row) == ("done", note, "Chloé")
    entries = await pool.fetch(
        "SELECT actor, details->>'what_was_done' AS what FROM journal WHERE event = 'action_done'"
    )
    assert [tuple(entry) for entry in entries] == [("Chloé", note)]
    after = await http.get("/console/actions")
    assert _order(after) == [seeded.actions["D"], later, seeded.actions["C"], seeded.actions["A"]]
    assert f"(Chloé) : {note}" in shown(after)
    missing = await http.post("/console/actions/999999/fait", data={"csrf": csrf, "realise": "x"})
    assert missing.status_code == 404

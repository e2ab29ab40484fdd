"""Related complaints, linked without merging: from either complaint's page
in the console or `complaints link`, one link a pair, shown on both pages and
journaled on both; a bad reference refused in French with nothing stored."""

import asyncpg
import httpx

from complaints.erasure import erase_complaint
from complaints.settings import Settings
from tests.helpers.cli import complaints
from tests.helpers.console import complaint_page, hidden, sign_in, with_password
from tests.helpers.seeded_register import seed_register
from tests.helpers.web import shown


async def _link(http: httpx.AsyncClient, reference: str, other: str, note: str = "") -> httpx.Response:
    page = await complaint_page(http, reference)
    data = {"csrf": hidden(page, "csrf"), "autre": other, "note": note}
    return await http.post(f"/console/reclamations/{reference}/liens", data=data)


async def _links(pool: asyncpg.Pool) -> list[tuple[str, ...]]:
    rows = await pool.fetch("SELECT first_reference, second_reference, linked_by, note FROM related_complaints")
    return [tuple(row) for row in rows]


async def test_two_complaints_are_linked_once_from_either_page_and_shown_on_both(
    http: httpx.AsyncClient, pool: asyncpg.Pool, keys: dict
) -> None:
    await seed_register(pool)
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    assert "Aucune réclamation liée." in shown(await complaint_page(http, "T-B"))

    linked = await _link(http, "T-B", " t-a ", "Même livraison")
    assert linked.status_code == 303 and linked.headers["location"] == "/console/reclamations/T-B#liees"
    assert (await _link(http, "T-A", "T-B")).status_code == 303  # the same link, from the other side
    assert await _links(pool) == [("T-A", "T-B", "Alice", "Même livraison")]
    for page, other in (("T-A", "T-B"), ("T-B", "T-A")):
        text = shown(await complaint_page(http, page))
        assert f"{other} —" in text and "liée par Alice" in text and "Même livraison" in text
    journaled = await pool.fetch(
        """SELECT complaint_reference, actor, details->>'related' AS related FROM journal
            WHERE event = 'related_complaint_linked' ORDER BY complaint_reference"""
    )
    assert [tuple(row) for row in journaled] == [("T-A", "Alice", "T-B"), ("T-B", "Alice", "T-A")]

    itself = await _link(http, "T-C", "T-C")
    assert itself.status_code == 422 and "Une réclamation ne peut pas être liée à elle-même." in shown(itself)
    unknown = await _link(http, "T-C", "REC-2099-000001")
    assert unknown.status_code == 422 and "Aucune réclamation de ce numéro dans le registre." in shown(unknown)
    assert 'value="REC-2099-000001"' in unknown.text  # what was typed is kept
    assert len(await _links(pool)) == 1

    http.cookies.clear()
    await with_password(pool, "Irène")
    await sign_in(http, "Irène")  # intake: sees the links, cannot make one
    intake_page = await complaint_page(http, "T-A")
    assert "liée par Alice" in shown(intake_page) and 'action="/console/reclamations/T-A/liens"' not in intake_page.text
    form = {"csrf": hidden(intake_page, "csrf"), "autre": "T-C"}
    refused = await http.post("/console/reclamations/T-A/liens", data=form)
    assert refused.status_code == 403 and len(await _links(pool)) == 1

    await erase_complaint(pool, "T-A", "Chloé", "demande du client")  # the note may quote the complainant
    assert await _links(pool) == [("T-A", "T-B", "Alice", None)]


async def test_complaints_link_from_the_command_line(pool: asyncpg.Pool, settings: Settings) -> None:
    await seed_register(pool)
    done = await complaints(settings, "link", "T-D", "T-C", "--by", "Bruno", "--note", "Même commande")
    assert done.returncode == 0 and done.stdout.strip() == "T-D and T-C linked", done.stderr
    again = await complaints(settings, "link", "T-C", "T-D", "--by", "Bruno")
    assert again.stdout.strip() == "T-C and T-D were linked already"
    missing = await complaints(settings, "link", "T-C", "T-Z")
    assert missing.returncode == 1 and "no complaint T-Z in the register" in missing.stderr
    assert await _links(pool) == [("T-C", "T-D", "Bruno", "Même commande")]

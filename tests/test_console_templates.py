"""Reply templates: administrators keep them; a handler fills one into a
customer-facing form, its placeholders replaced with the complaint's values."""

import asyncpg
import httpx
from temporalio.client import Client

from tests.helpers.console import complaint_page, hidden, sign_in, with_password
from tests.helpers.web import shown, taken_in


async def test_an_administrator_keeps_templates_and_a_handler_fills_one_in(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, worker
) -> None:
    ref = await taken_in(http, keys, client)
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    assert (await http.get("/console/modeles")).status_code == 403

    http.cookies.clear()
    await with_password(pool, "Admin")
    await sign_in(http, "Admin")
    page = await http.get("/console/modeles")
    body = "Bonjour {nom}, votre réclamation {reference} du {date_reception} avance. <b>Merci</b>"
    empty = await http.post("/console/modeles", data={"csrf": hidden(page, "csrf"), "titre": "Suivi", "texte": ""})
    assert empty.status_code == 422 and "Donnez un titre et un texte" in shown(empty)
    added = await http.post("/console/modeles", data={"csrf": hidden(page, "csrf"), "titre": "Suivi", "texte": body})
    assert added.status_code == 303
    template_id = await pool.fetchval("SELECT id FROM reply_templates WHERE title = 'Suivi'")

    http.cookies.clear()
    await sign_in(http, "Alice")
    offered = await complaint_page(http, ref)
    assert 'id="modele-progress-updates"' in offered.text and "Suivi" in shown(offered)
    filled = await http.get(f"/console/reclamations/{ref}", params={"modele": template_id, "pour": "progress-updates"})
    assert filled.status_code == 200
    textarea = filled.text.split('id="progress-updates-message" name="message">')[1].split("</textarea>")[0]
    assert textarea.startswith(f"Bonjour Jeanne Martin, votre réclamation {ref} du ")
    assert "&lt;b&gt;Merci&lt;/b&gt;" in textarea  # escaped like everything shown

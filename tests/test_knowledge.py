"""The knowledge base in the console, over HTTP on the real stack: articles
written and versioned, suggested on the complaints they fit (and only
those), inserted into a progress update that keeps the link, and counted in
the indicators."""

import asyncpg
import httpx
from temporalio.client import Client

from complaints.complaint_status import Phase
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.console import complaint_page, hidden, send_command, signed_in_as
from tests.helpers.knowledge import BROKEN_PARCEL, DOUBLE_CHARGE, write_article
from tests.helpers.web import shown, taken_in

BILLING = {
    "complainant": {"name": "Paul Durand", "email": "paul@example.com"},
    "subject": "Facture prélevée deux fois",
    "description": "Mon compte bancaire a été prélevé deux fois pour la même facture.",
    "product": "Abonnement",
}
UNRELATED = {
    "complainant": {"name": "Lise Roy", "email": "lise@example.com"},
    "subject": "Accueil désagréable",
    "description": "Le conseiller au téléphone a raccroché sans répondre.",
}


async def test_articles_are_versioned_with_who_changed_them(
    http: httpx.AsyncClient, keys: dict, pool: asyncpg.Pool
) -> None:
    await signed_in_as(http, pool, "Alice")
    refused = await http.post(
        "/console/articles", data={"csrf": hidden(await http.get("/console/articles/nouveau"), "csrf"), "title": "x"}
    )
    assert refused.status_code == 422 and "Donnez le problème, la réponse de l'article." in shown(refused)
    assert await pool.fetchval("SELECT count(*) FROM articles") == 0
    article_id = await write_article(http, {**BROKEN_PARCEL, "status": "draft"})

    await signed_in_as(http, pool, "Chloé")
    page = await http.get(f"/console/articles/{article_id}")
    edited = await http.post(
        f"/console/articles/{article_id}",
        data={
            "csrf": hidden(page, "csrf"),
            "version": hidden(page, "version"),
            **BROKEN_PARCEL,
            "answer": "Un article neuf vous est envoyé.",
        },
    )
    assert edited.status_code == 303
    stale = await http.post(
        f"/console/articles/{article_id}",
        data={"csrf": hidden(page, "csrf"), "version": "1", **BROKEN_PARCEL, "title": "Autre titre"},
    )
    assert stale.status_code == 409 and "Chloé a modifié l'article" in shown(stale)
    versions = await pool.fetch(
        "SELECT version, changed_by, status, answer FROM article_versions WHERE article_id = $1 ORDER BY version",
        article_id,
    )
    assert [(v["version"], v["changed_by"], v["status"]) for v in versions] == [
        (1, "Alice", "draft"),
        (2, "Chloé", "published"),
    ]
    assert versions[1]["answer"] == "Un article neuf vous est envoyé."
    shown_versions = shown(await http.get(f"/console/articles/{article_id}"))
    assert (
        "Versions" in shown_versions
        and "Alice" in shown_versions
        and "Un article neuf vous est envoyé." in shown_versions
    )

    await signed_in_as(http, pool, "Irène")  # intake reads, does not write
    read = await http.get(f"/console/articles/{article_id}")
    assert (
        read.status_code == 200
        and "Un article neuf vous est envoyé." in shown(read)
        and 'id="article"' not in read.text
    )
    denied = await http.post(
        f"/console/articles/{article_id}", data={"csrf": hidden(read, "csrf"), "version": "2", **BROKEN_PARCEL}
    )
    assert denied.status_code == 403
    assert await pool.fetchval("SELECT version FROM articles WHERE id = $1", article_id) == 2


async def test_a_complaint_is_offered_the_articles_that_fit_it(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, worker
) -> None:
    parcel_ref = await taken_in(http, keys, client)
    billing_ref = await taken_in(http, keys, client, BILLING)
    other_ref = await taken_in(http, keys, client, UNRELATED)
    await signed_in_as(http, pool, "Alice")
    parcel = await write_article(http, BROKEN_PARCEL)
    billing = await write_article(http, DOUBLE_CHARGE)
    draft = await write_article(http, {**BROKEN_PARCEL, "title": "Colis cassé (brouillon)", "status": "draft"})

    def suggested(page: httpx.Response) -> set[int]:
        section = page.text.split('id="articles-suggeres"')[1].split("</section>")[0]
        return {i for i in (parcel, billing, draft) if f'id="article-{i}"' in section}

    assert suggested(await complaint_page(http, parcel_ref)) == {parcel}
    assert suggested(await complaint_page(http, billing_ref)) == {billing}
    none = await complaint_page(http, other_ref)
    assert suggested(none) == set() and "Aucun article publié ne correspond" in shown(none)


async def test_an_article_inserted_in_a_progress_update_stays_linked(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, worker
) -> None:
    ref = await taken_in(http, keys, client)
    await taken_in(http, keys, client, UNRELATED)
    await signed_in_as(http, pool, "Alice")
    article_id = await write_article(http, BROKEN_PARCEL)
    assert (await send_command(http, ref, "assessment", {})).status_code == 303
    await wait_for_phase(client, ref, Phase.HANDLING)

    page = await complaint_page(http, ref)
    link = f"/console/reclamations/{ref}?article={article_id}&amp;pour=progress-updates#form-progress-updates"
    assert link in page.text
    assert f"?article={article_id}&amp;pour=decision#form-decision" in page.text  # the decision's justification too
    filled = await http.get(f"/console/reclamations/{ref}", params={"article": article_id, "pour": "progress-updates"})
    textarea = filled.text.split('id="progress-updates-message" name="message">')[1].split("</textarea>")[0]
    assert textarea == BROKEN_PARCEL["answer"].replace("'", "&#39;")
    form = filled.text.split('id="form-progress-updates"')[1].split("</form>")[0]
    assert f'name="article" value="{article_id}"' in form
    assert await pool.fetchval("SELECT count(*) FROM complaint_articles") == 0  # nothing kept before it is sent

    fields = {"message": BROKEN_PARCEL["answer"], "article": str(article_id), "form_id": "envoi-1"}
    assert (await send_command(http, ref, "progress-updates", fields, filled)).status_code == 303
    again = await send_command(http, ref, "progress-updates", fields)  # the same form sent again (its id kept)
    assert again.status_code == 303
    updates = "SELECT count(*) FROM journal WHERE complaint_reference = $1 AND event = 'progress_update_requested'"
    assert await pool.fetchval(updates, ref) == 1
    rows = await pool.fetch("SELECT complaint_reference, article_id, command, used_by FROM complaint_articles")
    assert [tuple(r) for r in rows] == [(ref, article_id, "send_progress_update", "Alice")]
    assert "Articles utilisés : Colis arrivé endommagé (Alice" in shown(await complaint_page(http, ref))

    indicators = shown(await http.get("/console/articles/indicateurs"))
    assert "Réclamations traitées avec un article : 1 sur 2." in indicators
    assert "Colis arrivé endommagé 1" in indicators
    assert "staff 1" in indicators  # the unrelated complaint (category staff) has no article: one to write

"""Self-care over HTTP: the FAQ lists the published public articles only; the
complaint form shows the public articles that fit what was typed (a step of
its own, no script, nothing sent) and the complaint can still be sent, kept
with the articles its complainant saw (and the form's count of each showing)."""

import asyncpg
import httpx

from complaints import knowledge
from tests.helpers.console import sign_in, with_password
from tests.helpers.knowledge import BROKEN_PARCEL, DOUBLE_CHARGE
from tests.helpers.web import shown

TYPED = {
    "nom": "Jeanne Martin",
    "email": "jeanne@example.com",
    "objet": "Colis abîmé",
    "description": "Le colis est arrivé ouvert et le vase était cassé.",
    "produit": "Vase Médicis",
}


async def _article(pool: asyncpg.Pool, fields: dict[str, str]) -> int:
    return await knowledge.create(pool, knowledge.ArticleText.of(fields), "Alice")


async def test_the_faq_lists_the_published_public_articles_only(http: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    public = await _article(pool, BROKEN_PARCEL)
    internal = await _article(pool, DOUBLE_CHARGE)  # published, not public
    draft = await _article(pool, {**BROKEN_PARCEL, "title": "Colis perdu", "status": "draft"})
    page = await http.get("/faq")
    assert page.status_code == 200 and "script" not in page.text.lower()
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert f'id="article-{public}"' in page.text and BROKEN_PARCEL["answer"] in shown(page)
    assert f'id="article-{internal}"' not in page.text and f'id="article-{draft}"' not in page.text
    assert "livraison" in shown(page) and 'href="/reclamation"' in page.text
    assert 'href="/faq"' in (await http.get("/reclamation")).text


async def test_the_form_offers_the_fitting_answers_and_the_complaint_is_still_sent(
    http: httpx.AsyncClient, keys: dict, pool: asyncpg.Pool
) -> None:
    public = await _article(pool, BROKEN_PARCEL)
    internal = await _article(pool, {**BROKEN_PARCEL, "title": "Colis cassé (interne)", "public": ""})
    await _article(pool, {**DOUBLE_CHARGE, "public": "1"})
    form = await http.get("/reclamation")
    assert (
        'formaction="/reclamation/reponses-proches#reponses-proches"' in form.text
        and "Voir les réponses proches" in shown(form)
    )

    empty = await http.post("/reclamation/reponses-proches", data={"objet": "", "description": ""})
    assert empty.status_code == 200 and "pas de réponse toute prête" in shown(empty)
    offered = await http.post("/reclamation/reponses-proches", data={**TYPED, "form_id": "f-1"})
    assert offered.status_code == 200
    section = offered.text.split('id="reponses-proches"')[1].split("</section>")[0]
    assert f'id="reponse-{public}"' in section and BROKEN_PARCEL["answer"].replace("'", "&#39;") in section
    assert section.count('class="answer"') == 1 and f'id="reponse-{internal}"' not in section
    assert 'name="articles_vus" value="' + str(public) + '"' in offered.text
    assert 'name="form_id" value="f-1"' in offered.text and 'value="Colis abîmé"' in offered.text  # kept as typed
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 0  # nothing sent
    assert await pool.fetchval("SELECT shown FROM article_form_views WHERE article_id = $1", public) == 1

    sent = await http.post("/reclamation", data={**TYPED, "form_id": "f-1", "articles_vus": f"{public},abc"})
    assert sent.status_code == 303
    resent = await http.post("/reclamation", data={**TYPED, "form_id": "f-1", "articles_vus": str(public)})
    assert resent.status_code == 303
    ref = await pool.fetchval("SELECT reference FROM complaints")
    seen = await pool.fetch("SELECT complaint_reference, article_id FROM complaint_seen_articles")
    assert [tuple(row) for row in seen] == [(ref, public)]

    without = await http.post("/reclamation", data={**TYPED, "form_id": "f-2"})  # never looked: sent all the same
    assert without.status_code == 303 and await pool.fetchval("SELECT count(*) FROM complaints") == 2

    await http.post("/reclamation/reponses-proches", data={**TYPED, "form_id": "f-3"})  # seen, not sent
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    measure = shown(await http.get("/console/articles/indicateurs"))
    # shown twice, one complaint sent after seeing it, one showing without a complaint
    assert "Colis arrivé endommagé 2 1 1" in measure

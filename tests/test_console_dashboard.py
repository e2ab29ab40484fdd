"""The managers' dashboard over the seeded register (tests/helpers/
seeded_register.py): the figures of March 2026 from the same KpiReport as
`complaints report`, charts as inline SVG without script or style, and each
figure a link to the queue listing its complaints."""

import html
import re

import asyncpg
import httpx

from api.console.dashboard import DEADLINES_SHORT
from reporting.figures import display
from tests.helpers.console import sign_in, with_password
from tests.helpers.seeded_register import add_complaint, at, seed_register
from tests.helpers.web import shown

MARCH = {"du": "2026-03-01", "au": "2026-03-31"}
PERIOD = "du=2026-03-01&amp;au=2026-03-31"


def _said(text: str) -> str:
    """As shown() reads a page: every run of spaces (no-break ones too) one space."""
    return re.sub(r"\s+", " ", text)


def _references(page: httpx.Response) -> set[str]:
    return set(re.findall(r'href="/console/reclamations/(T-[A-Z])"', page.text))


async def test_the_dashboard_of_march_every_figure_linked_to_its_queue(
    http: httpx.AsyncClient, pool: asyncpg.Pool, keys: dict
) -> None:
    await seed_register(pool)
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    assert (await http.get("/console/tableau")).status_code == 403  # a handler
    http.cookies.clear()
    await with_password(pool, "Chloé")
    await sign_in(http, "Chloé")

    page = await http.get("/console/tableau", params=MARCH)
    assert page.status_code == 200, page.text
    text = shown(page)
    assert f'href="/console/files/toutes?{PERIOD}" data-figure="received">5 reçues' in page.text
    assert "2 encore ouvertes, 3 clôturées" in text
    assert "2 réclamations à risque" in text and "4 en dépassement" in text
    # deadlines: acknowledgement 3 met of 5 judged, response 2 of 4
    assert _said(f"{DEADLINES_SHORT['acknowledgement']} {display(0.6, 'share')} (3/5)") in text
    assert _said(f"{DEADLINES_SHORT['response']} {display(0.5, 'share')} (2/4)") in text
    assert _said(f"CSAT moyen (1 à 5) : {display(3.5, 'score')}") in text
    assert _said(f"NPS : {display(50.0, 'nps')}") in text
    assert _said(f"Taux de réponse à l'enquête : {display(2 / 3, 'share')} (2/3)") in text
    assert "Réclamants récurrents : 2" in text
    assert 'data-regime="general"' in page.text
    # charts: inline SVG, presentation attributes only (the CSP allows no inline style or script)
    assert page.text.count("<svg") == 4 and "style=" not in page.text and "<script>" not in page.text

    # each figure's link lists its complaints
    causes = re.search(r'<a href="([^"]*cause=emballage[^"]*)">', page.text)
    assert causes is not None
    assert _references(await http.get(html.unescape(causes[1]))) == {"T-A", "T-B"}
    handling = re.search(r'<a href="([^"]*phase=handling[^"]*)">', page.text)
    assert handling is not None
    assert _references(await http.get(html.unescape(handling[1]))) == {"T-D"}
    everything = await http.get(f"/console/files/toutes?{html.unescape(PERIOD)}")
    assert _references(everything) == {"T-A", "T-B", "T-C", "T-D", "T-E"}

    refused = await http.get("/console/tableau", params={"du": "2026-03-31", "au": "2026-03-01"})
    assert refused.status_code == 422 and "Choisissez une période valide" in shown(refused)


async def test_a_merged_duplicate_is_shown_apart_not_received(
    http: httpx.AsyncClient, pool: asyncpg.Pool, keys: dict
) -> None:
    seeded = await seed_register(pool)
    await add_complaint(
        pool, "T-Z", at(3), phase="closed", closed_at=at(4), merged_into=seeded.refs["A"], response_deadline_met=True
    )
    await with_password(pool, "Chloé")
    await sign_in(http, "Chloé")
    text = shown(await http.get("/console/tableau", params=MARCH))
    assert "5 reçues" in text and "2 encore ouvertes, 3 clôturées" in text
    assert "Doublons fusionnés dans une autre réclamation : 1 (à part : dans aucun autre chiffre)" in text
    assert _said(f"{DEADLINES_SHORT['response']} {display(0.5, 'share')} (2/4)") in text

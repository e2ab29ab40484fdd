"""The survey's process-card questions (the problem taken into account,
clarified and explained; the corrective and improvement actions; continuing
the relationship), answered on the status page: in the register, the journal,
the KPI figures, the quality report and the dashboard; a survey without them
still counts."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from temporalio.client import Client

from complaints.complaint_status import Phase
from reporting.document import render_html
from reporting.figures import PROCESS_LABELS, display
from reporting.kpis import kpi_report
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.console import sign_in, with_password
from tests.helpers.examples import ARGUED, CUSTOMER
from tests.helpers.mailbox import Mailbox, body_of, status_link_in
from tests.helpers.web import path_of, shown

FORM = {
    "nom": "Jeanne Martin",
    "email": CUSTOMER,
    "objet": "Colis abîmé",
    "produit": "Vase Médicis",
    "description": "Le colis est arrivé ouvert et le vase était cassé.",
    "solution": "Le remplacement du vase",
}


async def _survey_page(
    http: httpx.AsyncClient, client: Client, mailbox: Mailbox, keys: dict, form_id: str, emails: int
) -> tuple[str, str]:
    """A web complaint answered and accepted: its reference and the survey's form action."""
    sent = await http.post("/reclamation", data={**FORM, "form_id": form_id})
    ref = re.findall(r"Référence : (\S+)", shown(await http.get(sent.headers["location"])))[0]
    await wait_for_phase(client, ref, Phase.ASSESSMENT)
    await http.post(f"/complaints/{ref}/assessment", json={}, headers=keys["handler"])
    decision = {"outcome": "accepted", "justification": ARGUED}
    await http.post(f"/complaints/{ref}/decision", json=decision, headers=keys["handler"])
    await wait_for_phase(client, ref, Phase.RESPONDED)
    link = path_of(status_link_in((await mailbox.wait_for(CUSTOMER, count=emails - 1))[-1]))
    verdict = re.findall(r'action="(/suivi/[^"]+/verdict\?token=[^"]+)"', (await http.get(link)).text)[0]
    assert (await http.post(verdict.replace("&amp;", "&"), data={"choix": "accepter"})).status_code == 303
    await wait_for_phase(client, ref, Phase.SURVEY)
    survey_mail = (await mailbox.wait_for(CUSTOMER, count=emails))[-1]
    page = await http.get(link)
    assert "des actions correctives et d'amélioration que nous avons prévues et menées" in body_of(survey_mail)
    assert "Des actions correctives et d'amélioration que nous avons prévues et menées ?" in shown(page)
    action = re.findall(r'action="(/suivi/[^"]+/enquete\?token=[^"]+)"', page.text)[0]
    return ref, action.replace("&amp;", "&")


async def test_the_process_questions_reach_the_register_and_the_figures(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, mailbox: Mailbox, worker
) -> None:
    answered_ref, answered = await _survey_page(http, client, mailbox, keys, "f-1", 3)
    out_of_range = await http.post(answered, data={"csat": "5", "ces": "4", "nps": "10", "actions": "7"})
    assert out_of_range.status_code == 422 and "les suivantes, de 1 à 5, sont facultatives" in shown(out_of_range)
    assert await pool.fetchval("SELECT count(*) FROM surveys") == 0
    sent = await http.post(
        answered, data={"csat": "5", "ces": "4", "nps": "10", "probleme": "4", "actions": "2", "relation": "5"}
    )
    assert sent.status_code == 303
    await wait_for_phase(client, answered_ref, Phase.CLOSED)

    plain_ref, plain = await _survey_page(http, client, mailbox, keys, "f-2", 6)
    sent = await http.post(plain, data={"csat": "2", "ces": "3", "nps": "6"})
    assert sent.status_code == 303
    await wait_for_phase(client, plain_ref, Phase.CLOSED)

    rows = await pool.fetch(
        """SELECT complaint_reference, csat, problem_score, actions_score, relationship_score FROM surveys
            ORDER BY complaint_reference"""
    )
    assert [tuple(row) for row in rows] == [(answered_ref, 5, 4, 2, 5), (plain_ref, 2, None, None, None)]
    details = await pool.fetchval(
        "SELECT details FROM journal WHERE complaint_reference = $1 AND event = 'survey_answered'", answered_ref
    )
    assert '"relationship": 5' in details and '"problem": 4' in details

    now = datetime.now(UTC)
    report = await kpi_report(pool, now - timedelta(days=1), now + timedelta(days=1))
    s = report.overall.satisfaction
    assert (s.answered, s.csat_mean, s.problem_mean, s.actions_mean, s.relationship_mean) == (2, 3.5, 4.0, 2.0, 5.0)
    quality = render_html(report, drawn=[])
    for path, value in (("problem_mean", 4.0), ("actions_mean", 2.0), ("relationship_mean", 5.0)):
        assert f'data-figure="satisfaction.{path}" data-scope="all">{display(value, "score")}<' in quality

    await with_password(pool, "Chloé")
    await sign_in(http, "Chloé")
    today = now.astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    dashboard = shown(await http.get("/console/tableau", params={"du": today, "au": today}))
    for name, value in (("problem", 4.0), ("actions", 2.0), ("relationship", 5.0)):
        assert re.sub(r"\s+", " ", f"{PROCESS_LABELS[name]} : {display(value, 'score')}") in dashboard

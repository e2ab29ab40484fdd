"""The stored quality reports in the console: one made now for a chosen
period (once, however often the form is sent), listed, and viewable as it
was emailed, under a policy that runs no script."""

import asyncpg
import httpx

from complaints.settings import Settings
from tests.helpers.console import hidden, sign_in, with_password
from tests.helpers.mailbox import Mailbox
from tests.helpers.polling import eventually
from tests.helpers.seeded_register import seed_register
from tests.helpers.web import shown


async def test_a_manager_makes_a_quality_report_now_and_reads_it(
    http: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, keys: dict, worker
) -> None:
    await seed_register(pool)
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    assert (await http.get("/console/rapports")).status_code == 403  # a handler
    http.cookies.clear()
    await with_password(pool, "Chloé")
    await sign_in(http, "Chloé")

    page = await http.get("/console/rapports")
    assert page.status_code == 200 and "Aucun rapport pour l'instant." in shown(page)
    form = {"csrf": hidden(page, "csrf"), "form_id": hidden(page, "form_id")}
    backwards = await http.post("/console/rapports", data={**form, "du": "2026-03-31", "au": "2026-03-01"})
    assert backwards.status_code == 422 and "Choisissez une période valide" in shown(backwards)

    for _ in range(2):  # sent twice (a double click): one report
        made = await http.post("/console/rapports", data={**form, "du": "2026-03-01", "au": "2026-03-31"})
        assert made.status_code == 303 and made.headers["location"] == "/console/rapports?fait=1"
    await mailbox.wait_for(settings.quality_email)
    stored = await eventually(lambda: pool.fetch("SELECT id FROM quality_reports"))
    assert len(stored) == 1
    report_id = stored[0]["id"]

    listed = await http.get("/console/rapports")
    assert f"Rapport n° {report_id}" in shown(listed) and "du 1 mars 2026 au 31 mars 2026" in shown(listed)
    viewed = await http.get(f"/console/rapports/{report_id}")
    assert viewed.status_code == 200
    assert viewed.text == await pool.fetchval("SELECT html FROM quality_reports WHERE id = $1", report_id)
    policy = viewed.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert (await http.get("/console/rapports/999999")).status_code == 404

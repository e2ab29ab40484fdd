"""GET /reports/kpis: the same indicators as `complaints report`, for managers."""

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from temporalio.client import Client

from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from reporting.kpis import kpi_report
from reporting.periods import days
from tests.helpers.complaint_workflow import wait_for_acknowledgement

Make = Callable[..., ComplaintSubmission]


async def test_managers_read_the_indicators_others_are_refused(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    worker,
    complaint: Make,
    http: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
) -> None:
    for channel in ("phone", "phone", "letter"):
        ref = (await submit_complaint(pool, client, settings, complaint(channel=channel), actor="t")).reference
        await wait_for_acknowledgement(client, ref)
    day = datetime.now(ZoneInfo(settings.timezone)).date()
    today = day.isoformat()

    answer = await http.get(f"/reports/kpis?from={today}&to={today}&by=channel", headers=keys["manager"])
    assert answer.status_code == 200, answer.text
    figures = answer.json()
    assert figures["overall"]["volumes"]["received"] == 3
    assert {g["key"]: g["indicators"]["volumes"]["received"] for g in figures["groups"]} == {"phone": 2, "letter": 1}
    direct = await kpi_report(pool, *days(day, day, settings.timezone), "channel")
    assert figures["overall"]["volumes"] == direct.overall.volumes.model_dump()

    assert (await http.get("/reports/kpis", headers=keys["handler"])).status_code == 403
    assert (await http.get("/reports/kpis")).status_code == 401
    bad = await http.get(f"/reports/kpis?from={today}&to=2020-01-01", headers=keys["manager"])
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")

"""The console shows a deadline counted in days (due at 00:00 of the day
after its last day, Paris) as its last day, whole: the complaint page's
badges and the queues, on the real stack."""

import html
import re
from datetime import timedelta

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from complaints.dates import LocalDates
from complaints.policy import PriorityDeadlines, Span
from complaints.settings import Settings
from tests.helpers.console import complaint_page, signed_in_as
from tests.helpers.polling import eventually
from tests.helpers.web import taken_in
from workflows.complaint import ComplaintWorkflow

COUNTED = {
    p: PriorityDeadlines(
        assessment=Span.model_validate("5 working days"), response=Span.model_validate("1 calendar month")
    )
    for p in ("P1", "P2", "P3", "P4")
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every deadline counted in days: the ACPR regime's and the priorities'."""
    return settings.model_copy(update={"default_regime": "acpr", "priority_deadlines": COUNTED})


async def test_a_counted_deadline_is_shown_as_its_last_day(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, settings: Settings, worker
) -> None:
    ref = await taken_in(http, keys, client)
    status = await client.get_workflow_handle(ref).query(ComplaintWorkflow.status)
    dates = LocalDates(settings.timezone, settings.locale)
    regulatory = status.deadlines["regulatory"].due_at
    last = dates.due_day(regulatory)
    assert last is not None  # due at 00:00, Paris, of the day after its last day
    await signed_in_as(http, pool, "Alice")

    badges = re.search(r'<ul class="badges".*?</ul>', (await complaint_page(http, ref)).text, re.S)
    assert badges is not None
    shown_badges = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", badges[0])).split())
    assert f"Délai réglementaire : {dates.day(last)} inclus" in shown_badges
    assert f"{dates.day(last + timedelta(days=1))}, 00:00" not in shown_badges
    assert "00:00" not in shown_badges  # every deadline here is counted in days

    async def listed() -> str | None:
        queue = (await http.get("/console/files/non-attribuees")).text
        row = next((r for r in re.findall(r"<tr>.*?</tr>", queue, re.S) if ref in r), None)
        return row if row and "<td>—</td>" not in row.split("</td>")[-2] + "</td>" else None

    row = await eventually(listed, timeout=10)
    assert " inclus " in row and "00:00" not in row

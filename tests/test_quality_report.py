"""The quality report: made on demand from the command line and by its weekly
schedule, stored with the figures it was rendered from, emailed once to the
quality list (HTML with a text part); the schedules exist once however many
workers start; overdue actions alerted once each; the stored HTML rendered in
headless Chromium (screenshot in tests/artifacts/)."""

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict
from zoneinfo import ZoneInfo

import asyncpg
from selenium.webdriver.common.by import By
from temporalio.client import Client

from activities.outbox import Outbox
from activities.reporting import QualityReportJob, ReportingActivities
from complaints.settings import Settings
from reporting.document import QUALITY_REPORT_TITLE, render_text
from reporting.kpis import kpi_report
from reporting.model import KpiReport
from reporting.periods import quality_period
from tests.helpers.browser import headless_chromium, needs_chromium
from tests.helpers.cli import complaints
from tests.helpers.mailbox import Mailbox, body_of
from tests.helpers.polling import eventually
from tests.helpers.register import outbox
from tests.helpers.seeded_register import AS_OF, MARCH, seed_register
from tests.helpers.session import ARTIFACTS
from worker.schedules import (
    actions_review_schedule_id,
    ensure_reporting_schedules,
    quality_report_schedule_id,
    report_refresh_schedule_id,
)
from workflows.actions_review import ActionsReviewWorkflow


class Seen(TypedDict):
    """What the browser shows of the stored report."""

    title: str
    charts: list[tuple[int, int]]  # width, height
    chart_titles: list[str]
    received: str
    nps: str


async def stored_reports(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM quality_reports ORDER BY id")


async def test_on_demand_the_report_is_stored_and_emailed_once_to_the_quality_list(
    pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker
) -> None:
    await seed_register(pool)
    made = await complaints(settings, "report", "--quality", "--from", "2026-03-01", "--to", "2026-03-31")
    assert made.returncode == 0, made.stderr
    [stored] = await stored_reports(pool)
    assert made.stdout.strip() == (
        f"quality report {stored['id']} (du 1 mars 2026 au 31 mars 2026) stored and emailed to {settings.quality_email}"
    )

    [message] = await mailbox.wait_for(settings.quality_email)
    assert message["Subject"] == f"{QUALITY_REPORT_TITLE} — du 1 mars 2026 au 31 mars 2026"
    assert message.get_content_type() == "multipart/alternative"
    assert body_of(message, ("plain",)) == stored["text"]
    assert body_of(message, ("html",)) == stored["html"]
    assert stored["emailed_at"] is not None and stored["recipient"] == settings.quality_email

    # what was stored is what the register says, and the documents were rendered from it
    figures = KpiReport.model_validate_json(stored["figures"])
    assert figures == await kpi_report(pool, *MARCH, as_of=figures.as_of)
    assert render_text(figures, QUALITY_REPORT_TITLE) == stored["text"]
    assert figures.overall.volumes.received == 5 and stored["html"].count("<svg") == 5

    # a retried run finds its report and its email: nothing twice
    activities = ReportingActivities(pool, settings, Outbox(pool, settings))
    again = await activities.generate_quality_report(
        QualityReportJob(key=stored["key"], as_of=datetime.now(UTC), period_from=MARCH[0], period_to=MARCH[1])
    )
    assert again.id == stored["id"]
    assert await activities.email_quality_report(stored["id"]) == stored["emailed_at"]
    # the retried email found its message sent: delivered once, nothing left to send
    assert await outbox(pool) == [(f"quality-report:{stored['key']}", "sent", 1)]
    assert len(mailbox.messages(settings.quality_email)) == 1 and len(await stored_reports(pool)) == 1


async def test_the_schedules_exist_once_however_many_workers_start_and_run(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker
) -> None:
    await seed_register(pool)
    await asyncio.gather(*(ensure_reporting_schedules(client, settings) for _ in range(3)))  # three workers start
    ids = {
        quality_report_schedule_id(settings),
        actions_review_schedule_id(settings),
        report_refresh_schedule_id(settings),
    }

    async def listed() -> list[str]:
        return [s.id async for s in await client.list_schedules() if s.id in ids]

    found = await eventually(listed)
    assert sorted(found) == sorted(ids)
    quality = client.get_schedule_handle(quality_report_schedule_id(settings))
    review = client.get_schedule_handle(actions_review_schedule_id(settings))
    refresh = client.get_schedule_handle(report_refresh_schedule_id(settings))
    try:
        # weekly on Mondays at 08:00, daily at 07:30, Paris time
        paris = ZoneInfo(settings.timezone)
        weekly = [t.astimezone(paris) for t in (await quality.describe()).info.next_action_times]
        daily = [t.astimezone(paris) for t in (await review.describe()).info.next_action_times]
        assert {(t.weekday(), t.hour, t.minute) for t in weekly} == {(0, 8, 0)}
        assert {(t.hour, t.minute) for t in daily} == {(7, 30)} and len({t.date() for t in daily}) == len(daily)
        [every] = (await refresh.describe()).schedule.spec.intervals
        assert every.every == timedelta(minutes=settings.report_refresh_minutes)

        # the projection reports read, brought up to the journal
        await refresh.trigger()

        async def projected() -> int | None:
            return await pool.fetchval("SELECT nullif(count(*), 0) FROM report_complaints")

        assert await eventually(projected) == 8  # the seeded complaints

        # the weekly run: the 13 full weeks before this week
        await quality.trigger()
        [_weekly] = await mailbox.wait_for(settings.quality_email, timeout=30)  # one message
        [stored] = await stored_reports(pool)
        assert (stored["period_from"], stored["period_to"]) == quality_period(
            datetime.now(UTC), settings.quality_report_weeks, settings.timezone
        )
        assert stored["key"].startswith(f"{quality_report_schedule_id(settings)}-run")

        # the daily check: D's and C's actions are overdue by now; each alerted once
        await review.trigger()
        alerts = await mailbox.wait_for(settings.operations_email, count=2, timeout=30)
        subjects = sorted(str(m["Subject"]) for m in alerts)
        assert subjects == [
            f"[Alerte SLA] Délai d'une action corrective ou d'amélioration dépassé — T-{ref}" for ref in ("C", "D")
        ]
    finally:
        await quality.delete()
        await review.delete()
        await refresh.delete()
    assert (
        await client.execute_workflow(
            ActionsReviewWorkflow.run, id=f"{settings.task_queue}-review-again", task_queue=settings.task_queue
        )
        == 0
    )  # nothing left to deliver
    assert len(mailbox.messages(settings.operations_email)) == 2
    deliveries = await pool.fetch("SELECT alert_key, sink FROM alert_deliveries ORDER BY alert_key, sink")
    assert sorted((d["alert_key"].split(":")[:2], d["sink"]) for d in deliveries) == [
        (["T-C", "action"], "email"),
        (["T-C", "action"], "log"),
        (["T-D", "action"], "email"),
        (["T-D", "action"], "log"),
    ]
    assert await pool.fetchval("SELECT count(*) FROM journal WHERE event = 'action_overdue'") == 2


@needs_chromium
async def test_the_stored_report_renders_in_headless_chromium(
    pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    await seed_register(pool)
    stored = await ReportingActivities(pool, settings, Outbox(pool, settings)).generate_quality_report(
        QualityReportJob(key="chromium", as_of=AS_OF, period_from=MARCH[0], period_to=MARCH[1])
    )
    html = await pool.fetchval("SELECT html FROM quality_reports WHERE id = $1", stored.id)
    # self-contained, nothing to run or fetch: the only addresses are the SVG namespaces
    assert not re.search(r"<script|<link|<img|src=|url\((?!#)", html)  # url(#clip): within the SVG
    assert set(re.findall(r'([\w:-]+)="https?://', html)) == {"xmlns", "xmlns:xlink"}
    page = tmp_path / "rapport.html"
    page.write_text(html, encoding="utf-8")
    shot = ARTIFACTS / "quality-report.png"

    def browse() -> Seen:
        driver = headless_chromium(tmp_path / "profile")
        try:
            driver.get(page.as_uri())
            charts = driver.find_elements(By.CSS_SELECTOR, "figure svg")
            seen: Seen = {
                "title": driver.find_element(By.TAG_NAME, "h1").text,
                "charts": [(c.size["width"], c.size["height"]) for c in charts],
                "chart_titles": [h.text for h in driver.find_elements(By.CSS_SELECTOR, "figure h3")],
                "received": driver.find_element(By.CSS_SELECTOR, 'td[data-figure="volumes.received"]').text,
                "nps": driver.find_element(By.CSS_SELECTOR, 'td[data-figure="satisfaction.nps"]').text,
            }
            height = driver.execute_script("return document.body.scrollHeight")
            driver.set_window_size(1000, min(height + 100, 16000))
            ARTIFACTS.mkdir(exist_ok=True)
            driver.save_screenshot(str(shot))
            return seen
        finally:
            driver.quit()

    seen = await asyncio.to_thread(browse)
    assert seen["title"] == QUALITY_REPORT_TITLE
    assert seen["chart_titles"] == [
        "Réclamations reçues par jour",
        "Respect des échéances",
        "Satisfaction",
        "Principales causes racines",
        "Actions ouvertes par responsable",
    ]
    assert len(seen["charts"]) == 5 and all(w > 400 and h > 100 for w, h in seen["charts"])
    assert (seen["received"], seen["nps"]) == ("5", "+50,0")
    assert shot.stat().st_size > 50_000

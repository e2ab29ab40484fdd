"""A handler merges a duplicate from the console in a real browser (headless
Chromium, no script needed): on the complaint's page, the reference of the
same customer's other complaint; the two side by side; confirmed; the
survivor's page follows, naming the complaint it took in. A complaint of
another customer is refused in French, nothing changed. Screenshots go to
tests/artifacts/."""

import asyncio
from collections.abc import Callable

import asyncpg
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from temporalio.client import Client

from complaints.complaint_status import Phase
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.browser import needs_chromium, page_showing, sign_in_console
from tests.helpers.complaint_workflow import start, wait_for_phase
from tests.helpers.console import with_password
from tests.helpers.session import ARTIFACTS

pytestmark = needs_chromium


async def test_a_handler_merges_a_duplicate_from_its_page_after_seeing_both(
    site: str,
    browser: webdriver.Chrome,
    pool: asyncpg.Pool,
    client: Client,
    settings: Settings,
    complaint: Callable[..., ComplaintSubmission],
    worker,
    keys: dict,
) -> None:
    a = (await start(client, pool, settings, complaint())).id
    b = (await start(client, pool, settings, complaint(subject="Vase cassé, je relance"))).id
    stranger = (
        await start(client, pool, settings, complaint(complainant={"name": "Paul", "email": "paul@example.com"}))
    ).id
    await with_password(pool, "Alice")

    def merge_from_the_page(into: str, expected: str) -> str:
        browser.get(f"{site}/console/reclamations/{a}")
        field = browser.find_element(By.ID, "fusion-vers")
        field.send_keys(into)
        field.submit()
        WebDriverWait(browser, 30).until(lambda d: "/fusion?vers=" in d.current_url)
        return page_showing(browser, expected)

    await asyncio.to_thread(sign_in_console, browser, site, "Alice", 30)
    refused = await asyncio.to_thread(merge_from_the_page, stranger, "ne sont pas celles du même client")
    assert "ne sont pas celles du même client" in refused

    def confirm() -> tuple[str, str]:
        seen = merge_from_the_page(b, f"Confirmer : fusionner {a} dans {b}")
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "console-merge.png"))
        browser.find_element(By.ID, "confirmer-fusion").click()
        WebDriverWait(browser, 60).until(lambda d: f"/console/reclamations/{b}?fait=1" in d.current_url)
        return seen, page_showing(browser, "La commande est enregistrée.")

    seen, after = await asyncio.to_thread(confirm)
    assert f"Confirmer : fusionner {a} dans {b}" in seen and "Vase cassé, je relance" in seen
    assert "La commande est enregistrée." in after and f"A repris {a}" in after
    await wait_for_phase(client, a, Phase.CLOSED)
    merged = await pool.fetch("SELECT reference, merged_into FROM complaints WHERE merged_into IS NOT NULL")
    assert [tuple(row) for row in merged] == [(a, b)]
    [entry] = await pool.fetch("SELECT actor FROM journal WHERE complaint_reference = $1 AND event = 'merged_in'", b)
    assert entry["actor"] == "Alice"

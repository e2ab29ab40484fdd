"""Engineers read a complaint's run in the Temporal UI: opened in headless
Chromium, a screenshot kept as a test artifact."""

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from temporalio.client import Client

from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.browser import headless_chromium, needs_chromium
from tests.helpers.complaint_workflow import start
from tests.helpers.session import ARTIFACTS

Make = Callable[..., ComplaintSubmission]


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    driver = headless_chromium(tmp_path / "profile", window="1400,1000")
    yield driver
    driver.quit()


@needs_chromium
async def test_the_ui_shows_a_complaints_run(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    worker,
    complaint: Make,
    ui_url: str,
    chromium: webdriver.Chrome,
) -> None:
    handle = await start(client, pool, settings, complaint())
    page = f"{ui_url}/namespaces/{settings.temporal_namespace}/workflows/{handle.id}"

    def open_run() -> str:
        chromium.get(page)
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            WebDriverWait(chromium, 30).until(lambda d: "ComplaintWorkflow" in d.find_element(By.TAG_NAME, "body").text)
        finally:
            chromium.save_screenshot(str(ARTIFACTS / f"temporal-ui-{handle.id}.png"))
        return chromium.find_element(By.TAG_NAME, "body").text

    text = await asyncio.to_thread(open_run)
    assert handle.id in text and "ComplaintWorkflow" in text
    assert "Jeanne" not in text and "jeanne@example.com" not in text  # without the codec: ciphertext
    assert (ARTIFACTS / f"temporal-ui-{handle.id}.png").stat().st_size > 10_000

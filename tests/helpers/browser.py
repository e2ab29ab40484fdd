"""Headless Chromium (Debian's, through its chromedriver) for the page tests."""

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers.console import PASSWORD

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")

needs_chromium = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)


def headless_chromium(profile: Path, window: str = "1000,1400") -> webdriver.Chrome:
    """A browser on a fresh profile; no background traffic (the machine has no network)."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--window-size={window}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


# What a wait may meet while the page it reads is being replaced by the next one.
PAGE_CHANGING = (StaleElementReferenceException, NoSuchElementException)


def main_text(browser: webdriver.Chrome) -> str:
    """The text of the page's <main> (read again on each call of a wait)."""
    return str(browser.find_element(By.TAG_NAME, "main").text)


def page_showing(browser: webdriver.Chrome, text: str, timeout: float = 30) -> str:
    """The <main> text once the page shows `text`: after a click that loads the
    next page, the old one may still be there, or be replaced while it is read."""
    WebDriverWait(browser, timeout, ignored_exceptions=PAGE_CHANGING).until(lambda d: text in main_text(d))
    return main_text(browser)


def sign_in_console(browser: webdriver.Chrome, site: str, name: str, timeout: float = 10) -> None:
    """Through the console's sign-in page, as `name` (with tests.helpers.console's password), to the queues."""
    browser.get(f"{site}/console")
    WebDriverWait(browser, timeout).until(lambda d: "/console/connexion" in d.current_url)
    browser.find_element(By.ID, "nom").send_keys(name)
    browser.find_element(By.ID, "mot_de_passe").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    # The queue's address comes before its page: wait for the page, whose links the tests follow next.
    WebDriverWait(browser, timeout).until(
        lambda d: "/console/files/" in d.current_url and d.execute_script("return document.readyState") == "complete"
    )

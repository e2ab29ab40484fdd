"""The knowledge base end to end in a real browser (headless Chromium), on
the real stack: a handler writes and publishes an article, sees it
suggested on the complaint it fits, inserts its answer into a progress
update the customer receives (the complaint keeps the article); the article
is on the FAQ and offered by the complaint form, whose complaint is still sent."""

import asyncio

import asyncpg
import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from temporalio.client import Client

from complaints.complaint_status import Phase
from tests.helpers.browser import needs_chromium, sign_in_console
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.console import with_password
from tests.helpers.examples import CUSTOMER
from tests.helpers.knowledge import BROKEN_PARCEL
from tests.helpers.mailbox import Mailbox, body_of
from tests.helpers.session import ARTIFACTS
from tests.helpers.web import taken_in

pytestmark = needs_chromium


async def test_an_article_written_in_the_console_answers_a_complaint_and_the_public(
    site: str,
    browser: webdriver.Chrome,
    http: httpx.AsyncClient,
    pool: asyncpg.Pool,
    client: Client,
    mailbox: Mailbox,
    worker,
    keys: dict,
) -> None:
    await with_password(pool, "Alice")
    ref = await taken_in(http, keys, client)
    wait = WebDriverWait(browser, 15)

    def main_text() -> str:
        return browser.find_element(By.TAG_NAME, "main").text

    def write_and_publish() -> None:
        sign_in_console(browser, site, "Alice")
        browser.find_element(By.LINK_TEXT, "Base de connaissances").click()
        browser.find_element(By.LINK_TEXT, "Écrire un article").click()
        for field in ("title", "problem", "cause", "answer", "product", "category"):
            browser.find_element(By.ID, field).send_keys(BROKEN_PARCEL[field])
        Select(browser.find_element(By.ID, "status")).select_by_value("published")
        browser.find_element(By.ID, "public").click()
        browser.find_element(By.CSS_SELECTOR, "#article button[type=submit]").click()
        wait.until(lambda d: "fait=1" in d.current_url)
        browser.get(f"{site}/console/reclamations/{ref}")
        browser.find_element(By.CSS_SELECTOR, "#form-assessment button[type=submit]").click()
        wait.until(lambda d: "fait=1" in d.current_url)

    await asyncio.to_thread(write_and_publish)
    article_id = await pool.fetchval("SELECT id FROM articles WHERE status = 'published' AND public")
    await wait_for_phase(client, ref, Phase.HANDLING)

    def insert_into_a_progress_update() -> str:
        browser.get(f"{site}/console/reclamations/{ref}")
        suggested = browser.find_element(By.ID, f"article-{article_id}")
        assert BROKEN_PARCEL["title"] in suggested.text
        suggested.find_element(By.CSS_SELECTOR, "a.insert[href*='pour=progress-updates']").click()
        message = browser.find_element(By.ID, "progress-updates-message")
        assert message.get_attribute("value") == BROKEN_PARCEL["answer"]
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "knowledge-inserted.png"))
        browser.find_element(By.CSS_SELECTOR, "#form-progress-updates button[type=submit]").click()
        wait.until(lambda d: "fait=1" in d.current_url)
        return main_text()

    after = await asyncio.to_thread(insert_into_a_progress_update)
    assert f"Articles utilisés : {BROKEN_PARCEL['title']} (Alice" in after
    used = await pool.fetchrow("SELECT complaint_reference, command FROM complaint_articles")
    assert tuple(used) == (ref, "send_progress_update")
    update = (await mailbox.wait_for(CUSTOMER, count=2))[-1]
    assert "un article neuf à nos frais" in body_of(update, ("plain",))

    def the_public_sees_it() -> str:
        browser.delete_all_cookies()
        browser.get(f"{site}/faq")
        assert BROKEN_PARCEL["answer"] in main_text()
        browser.find_element(By.LINK_TEXT, "Déposez une réclamation").click()
        browser.find_element(By.ID, "objet").send_keys("Vase cassé à la livraison")
        browser.find_element(By.ID, "description").send_keys("Le colis est arrivé ouvert, le vase est cassé.")
        browser.find_element(By.ID, "voir-reponses").click()
        wait.until(lambda d: d.find_elements(By.ID, f"reponse-{article_id}"))
        browser.save_screenshot(str(ARTIFACTS / "knowledge-form.png"))
        browser.find_element(By.ID, "nom").send_keys("Marc Petit")
        browser.find_element(By.ID, "email").send_keys("marc@example.com")
        browser.find_element(By.XPATH, "//button[normalize-space()='Envoyer ma réclamation']").click()
        wait.until(lambda d: "/reclamation/enregistree" in d.current_url)
        return main_text()

    confirmation = await asyncio.to_thread(the_public_sees_it)
    assert "Votre réclamation est enregistrée" in confirmation
    seen = await pool.fetchrow(
        """SELECT c.complainant_name, s.article_id FROM complaint_seen_articles s
             JOIN complaints c ON c.reference = s.complaint_reference"""
    )
    assert tuple(seen) == ("Marc Petit", article_id)

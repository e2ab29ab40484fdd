"""A complainant in a real browser (headless Chromium, no JavaScript needed):
fills the complaint form, lands on the confirmation, then opens the status
link from the acknowledgement email. Screenshots go to tests/artifacts/."""

import asyncio
import re
from pathlib import Path

import asyncpg
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers.browser import needs_chromium
from tests.helpers.examples import CUSTOMER
from tests.helpers.mailbox import Mailbox, status_link_in
from tests.helpers.polling import eventually
from tests.helpers.session import ARTIFACTS

pytestmark = needs_chromium
BROWSER_WINDOW = "1000,1400"  # the conftest's browser


async def test_a_complainant_fills_the_form_and_follows_the_link_in_the_acknowledgement(
    site: str, browser: webdriver.Chrome, pool: asyncpg.Pool, mailbox: Mailbox, worker, tmp_path: Path
) -> None:
    invoice = tmp_path / "facture.pdf"
    invoice.write_bytes(b"%PDF-1.4 facture 8812")
    ARTIFACTS.mkdir(exist_ok=True)

    def fill_and_send() -> str:
        browser.get(f"{site}/reclamation")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Déposer une réclamation"
        fields = {
            "nom": "Jeanne Martin",
            "email": CUSTOMER,
            "objet": "Colis abîmé",
            "produit": "Vase Médicis",
            "description": "Le colis est arrivé ouvert et le vase était cassé.",
            "solution": "Le remplacement du vase",
        }
        for name, value in fields.items():
            browser.find_element(By.NAME, name).send_keys(value)
        browser.find_element(By.NAME, "documents").send_keys(str(invoice))
        browser.save_screenshot(str(ARTIFACTS / "web-complaint-form.png"))
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(browser, 15).until(lambda d: "/reclamation/enregistree" in d.current_url)
        browser.save_screenshot(str(ARTIFACTS / "web-complaint-confirmation.png"))
        assert browser.find_element(By.TAG_NAME, "h1").text == "Votre réclamation est enregistrée"
        assert "Et maintenant ?" in browser.find_element(By.TAG_NAME, "main").text
        return browser.find_element(By.ID, "reference").text

    ref = await asyncio.to_thread(fill_and_send)
    assert re.fullmatch(r"\w+-\d{4}-\d{6}", ref)
    row = await pool.fetchrow("SELECT channel, subject FROM complaints WHERE reference = $1", ref)
    assert (row["channel"], row["subject"]) == ("web", "Colis abîmé")
    assert await pool.fetchval("SELECT filename FROM documents WHERE complaint_reference = $1", ref) == "facture.pdf"

    [ack] = await mailbox.wait_for(CUSTOMER)
    link = status_link_in(ack)
    assert link.startswith(f"{site}/suivi/{ref}?token=")
    # the timeline shows the acknowledgement once it is recorded
    await eventually(
        lambda: pool.fetchval("SELECT 1 FROM journal WHERE complaint_reference = $1 AND event = 'acknowledged'", ref)
    )

    def open_status() -> str:
        browser.get(link)
        browser.save_screenshot(str(ARTIFACTS / "web-complaint-status.png"))
        return browser.find_element(By.TAG_NAME, "main").text

    status = await asyncio.to_thread(open_status)
    assert f"Réclamation {ref}" in status and "Objet : Colis abîmé" in status
    assert "Réclamation reçue" in status and "Accusé de réception envoyé par email" in status

"""The events page in a real browser (headless Chromium), with the event
dispatcher running: an administrator sees the subscribers and a dead letter,
adds a subscriber (its secret shown once), edits it and rotates its secret,
delivers the dead letter again; then adds a rule that calls that subscriber
and adds a checklist item, and ticks the item on the complaint's page. The
subscriber's receiver gets the rule's event signed with the rotated secret.
Screenshots go to tests/artifacts/."""

import asyncio
import json
import re
from collections.abc import Callable

import asyncpg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from temporalio.client import Client

from activities.alerts import sign
from complaints import checklists, subscribers
from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.browser import PAGE_CHANGING, main_text, needs_chromium, page_showing, sign_in_console
from tests.helpers.console import with_password
from tests.helpers.events import dispatching, quick, subscribe, unique_events
from tests.helpers.polling import eventually
from tests.helpers.session import ARTIFACTS
from tests.helpers.webhooks import serving_webhook

pytestmark = needs_chromium
BROWSER_WINDOW = "1280,2400"
Make = Callable[..., ComplaintSubmission]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return quick(settings)


def _button(browser: webdriver.Chrome, text: str) -> webdriver.remote.webelement.WebElement:
    quoted = f'"{text}"' if "'" in text else f"'{text}'"
    return browser.find_element(By.XPATH, f"//main//button[normalize-space(.)={quoted}]")


def _fill(browser: webdriver.Chrome, fields: dict[str, str]) -> None:
    for field_id, value in fields.items():
        element = browser.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(value)


def _secret(text: str) -> str:
    found = re.search(r"whsec_[\w-]+", text)
    assert found, "no secret shown"
    return found.group(0)


async def test_an_administrator_manages_subscribers_dead_letters_and_rules_in_the_browser(
    site: str, browser: webdriver.Chrome, pool: asyncpg.Pool, client: Client, settings: Settings, complaint: Make,
    keys: dict,
) -> None:  # fmt: skip
    await with_password(pool, "Admin")
    with serving_webhook([410]) as erp, serving_webhook() as crm:
        await subscribe(pool, erp, "ERP")
        async with dispatching(client, pool, settings):
            first = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
            [dead] = await eventually(lambda: subscribers.dead_letters(pool), timeout=30)

            def subscribers_and_dead_letters() -> tuple[str, str, str, str]:
                sign_in_console(browser, site, "Admin")
                browser.find_element(By.LINK_TEXT, "Événements et règles").click()
                listed = page_showing(browser, "non remis")
                ARTIFACTS.mkdir(exist_ok=True)
                browser.save_screenshot(str(ARTIFACTS / "console-events.png"))
                _fill(browser, {"nom-abonne": "CRM", "url": crm.url, "types": "org.complaints.decision.made"})
                _button(browser, "Ajouter l'abonné").click()
                added = page_showing(browser, "whsec_")
                browser.find_element(By.LINK_TEXT, "Modifier « CRM »").click()
                browser.find_element(By.NAME, "donnees").click()
                _button(browser, "Enregistrer les modifications").click()
                WebDriverWait(browser, 10).until(lambda d: "fait=1" in d.current_url)
                edited = page_showing(browser, "Modifications enregistrées.")
                _button(browser, "Renouveler la clé").click()
                rotated = page_showing(browser, "clé renouvelée")
                browser.save_screenshot(str(ARTIFACTS / "console-subscriber.png"))
                return listed, added, edited, rotated

            listed, added, edited, rotated = await asyncio.to_thread(subscribers_and_dead_letters)
            assert "ERP" in listed and first in listed and "410" in listed and "non remis" in listed
            first_secret, new_secret = _secret(added), _secret(rotated)
            stored = await pool.fetchrow(
                "SELECT secret, personal_data, event_types FROM subscribers WHERE name = 'CRM'"
            )
            assert first_secret != new_secret == stored["secret"]
            assert stored["personal_data"] is True and stored["event_types"] == ["org.complaints.decision.made"]
            assert "Modifications enregistrées." in edited and "Admin : modifié (données personnelles : oui)" in edited
            assert "clé renouvelée" in rotated

            def deliver_again_then_add_a_rule() -> tuple[str, str]:
                browser.get(f"{site}/console/evenements")
                assert new_secret not in browser.page_source
                _button(browser, "Envoyer de nouveau").click()

                def delivered(d: webdriver.Chrome) -> bool:
                    d.refresh()
                    return "remis" in main_text(d).replace("non remis", "")

                WebDriverWait(browser, 30, ignored_exceptions=PAGE_CHANGING).until(delivered)
                again = main_text(browser)
                _fill(
                    browser,
                    {
                        "nom-regle": "Sécurité",
                        "evenement": "assessed",
                        "category": "safety",
                        "abonne": "CRM",
                        "liste": "Vérifier le lot de bouilloires",
                    },
                )
                _button(browser, "Ajouter la règle").click()
                rules = page_showing(browser, "appeler l'abonné CRM")
                browser.save_screenshot(str(ARTIFACTS / "console-rules.png"))
                return again, rules

            again, rules = await asyncio.to_thread(deliver_again_then_add_a_rule)
            assert "Envoyer de nouveau" not in again
            assert "appeler l'abonné CRM" in rules and "liste de contrôle : Vérifier le lot de bouilloires" in rules
            burn = complaint(
                subject="Brûlure avec la bouilloire",
                description="Mon fils a eu une brûlure à la main en servant le thé.",
                product="Bouilloire Alto",
            )
            safety = (await submit_complaint(pool, client, settings, burn, actor="t")).reference
            await eventually(lambda: checklists.items(pool, safety), timeout=30)
            await eventually(lambda: [e for e in unique_events(crm) if e["subject"] == safety], timeout=30)

            def tick_the_item() -> str:
                browser.get(f"{site}/console/reclamations/{safety}")
                _button(browser, "Marquer « Vérifier le lot de bouilloires » comme fait").click()
                ticked = page_showing(browser, "fait par Admin")
                browser.save_screenshot(str(ARTIFACTS / "console-checklist.png"))
                return ticked

            page = await asyncio.to_thread(tick_the_item)
    assert "ajouté par règle Sécurité" in page and "fait par Admin" in page
    assert [row["status"] for row in await subscribers.dead_letters(pool)] == ["delivered"]
    assert [json.loads(body)["id"] for _, body in erp.received].count(dead["event_id"]) == 1
    [(headers, body)] = [(h, b) for h, b in crm.received if json.loads(b)["subject"] == safety]
    assert json.loads(body)["type"] == "org.complaints.assessment.made" and "details" in json.loads(body)["data"]
    assert headers["x-complaints-signature"] == sign(new_secret, headers["x-complaints-timestamp"], body)

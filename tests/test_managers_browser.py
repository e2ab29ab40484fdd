"""The managers' tools in a real browser (headless Chromium) over the seeded
register (tests/helpers/seeded_register.py) and one complaint whose
compensation waits for a manager: the approvals queue shows it with its
amount, proposer and justification, and a manager approves it there with a
comment; the dashboard shows March's figures, its charts drawn (inline SVG),
and a chart's bar leads to the queue of its complaints. Screenshots go to
tests/artifacts/."""

import asyncio
from collections.abc import Callable
from decimal import Decimal

import asyncpg
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from temporalio.client import Client

from complaints.complaint_status import Phase
from complaints.intake import submit_complaint
from complaints.operator_commands import Compensation, CompensationKind, ConfirmAssessment, Decision, Outcome
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.browser import needs_chromium, sign_in_console
from tests.helpers.complaint_workflow import execute_update, wait_for_acknowledgement, wait_for_phase
from tests.helpers.console import with_password
from tests.helpers.examples import ALICE, ARGUED
from tests.helpers.seeded_register import seed_register
from tests.helpers.session import ARTIFACTS
from workflows.complaint import ComplaintWorkflow

pytestmark = needs_chromium
BROWSER_WINDOW = "1280,1800"  # the conftest's browser


async def _awaiting_approval(
    pool: asyncpg.Pool, client: Client, settings: Settings, complaint: Callable[..., ComplaintSubmission]
) -> str:
    reference = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    await wait_for_acknowledgement(client, reference)
    handle = client.get_workflow_handle(reference)
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    refund = Compensation(kind=CompensationKind.REFUND, amount=Decimal("250.00"), description="prix du vase")
    decision = Decision(by=ALICE, outcome=Outcome.ACCEPTED, justification=ARGUED, compensation=refund)
    await execute_update(handle, ComplaintWorkflow.decide, decision)
    await wait_for_phase(client, reference, Phase.AWAITING_APPROVAL)
    return reference


async def test_a_manager_approves_from_the_queue_and_reads_the_dashboard(
    site: str,
    browser: webdriver.Chrome,
    pool: asyncpg.Pool,
    client: Client,
    settings: Settings,
    complaint: Callable[..., ComplaintSubmission],
    worker,
    keys: dict,
) -> None:
    await seed_register(pool)
    ref = await _awaiting_approval(pool, client, settings, complaint)
    await with_password(pool, "Chloé")

    def sign_in_and_approve() -> str:
        sign_in_console(browser, site, "Chloé")
        browser.get(f"{site}/console/files/approbations")
        row = browser.find_element(By.CSS_SELECTOR, f'tr[data-reference="{ref}"]')
        seen = row.text
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "console-approvals.png"))
        row.find_element(By.TAG_NAME, "textarea").send_keys("Geste justifié.")
        row.find_element(By.CSS_SELECTOR, "button[value=true]").click()
        WebDriverWait(browser, 15).until(lambda d: "fait=" in d.current_url)
        return seen + "\n" + browser.find_element(By.TAG_NAME, "main").text

    seen = await asyncio.to_thread(sign_in_and_approve)
    assert "250.00 €" in seen and "Alice" in seen and ARGUED in seen and "Remboursement" in seen
    assert f"Votre décision sur {ref} est enregistrée." in seen
    await wait_for_phase(client, ref, Phase.RESPONDED)
    approved = await pool.fetchrow(
        """SELECT actor, details->>'comment' AS comment FROM journal
            WHERE complaint_reference = $1 AND event = 'compensation_approved'""",
        ref,
    )
    assert (approved["actor"], approved["comment"]) == ("Chloé", "Geste justifié.")

    def dashboard() -> tuple[str, list[int], str]:
        browser.get(f"{site}/console/tableau?du=2026-03-01&au=2026-03-31")
        main = browser.find_element(By.TAG_NAME, "main").text
        widths = [svg.size["width"] for svg in browser.find_elements(By.TAG_NAME, "svg")]
        browser.save_screenshot(str(ARTIFACTS / "console-dashboard.png"))
        browser.find_element(By.XPATH, "//*[local-name()='a'][.//*[local-name()='text' and .='emballage']]").click()
        WebDriverWait(browser, 10).until(lambda d: "cause=emballage" in d.current_url)
        return main, widths, browser.find_element(By.TAG_NAME, "main").text

    main, widths, queue = await asyncio.to_thread(dashboard)
    assert "5 reçues" in main and "2 réclamations à risque" in main and "4 en dépassement" in main
    assert "Réclamants récurrents : 2" in main and "emballage" in main
    assert len(widths) == 4 and all(width > 300 for width in widths)  # drawn, not blocked
    assert "T-A" in queue and "T-B" in queue and "T-C" not in queue

"""The console end to end in a real browser (headless Chromium), on the real
stack: an intake operator records a phone complaint; a handler finds it under
"unassigned", confirms the assessment, assigns it to themself, sends a
progress update, requests information (the customer answers through the
signed link), decides with a compensation above the threshold; a manager
approves it from the approvals queue; the customer accepts; the survey closes
it. Each step's effect is read in the register and the mailbox; screenshots of
the queue and the complaint page go to tests/artifacts/."""

import asyncio

import asyncpg
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from temporalio.client import Client

from complaints.complaint_status import Phase
from tests.helpers.browser import PAGE_CHANGING, main_text, needs_chromium, sign_in_console
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.console import with_password
from tests.helpers.examples import ARGUED, CUSTOMER
from tests.helpers.mailbox import Mailbox, status_link_in, subjects
from tests.helpers.polling import eventually
from tests.helpers.session import ARTIFACTS

pytestmark = needs_chromium


class Console:
    """The browser, as an operator uses it (called from a thread)."""

    def __init__(self, browser: webdriver.Chrome, site: str) -> None:
        self.browser, self.site = browser, site

    def sign_in(self, name: str) -> None:
        self.browser.delete_all_cookies()
        sign_in_console(self.browser, self.site, name)

    def open(self, path: str) -> None:
        self.browser.get(f"{self.site}{path}")

    def listed(self, queue: str, reference: str) -> None:
        """Open a queue until it lists `reference` (a loaded machine may show
        the page a moment before the step that puts it there is read)."""

        def found(browser: webdriver.Chrome) -> bool:
            self.open(queue)
            return bool(browser.find_elements(By.LINK_TEXT, reference))

        try:
            WebDriverWait(self.browser, 20, poll_frequency=1).until(found)
        except TimeoutException:
            self.shot("console-queue-missing.png")
            raise

    def fill(self, fields: dict[str, str]) -> None:
        for element_id, value in fields.items():
            element = self.browser.find_element(By.ID, element_id)
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            else:
                element.clear()
                element.send_keys(value)

    def submit(self, form_id: str, fields: dict[str, str] | None = None) -> None:
        self.fill(fields or {})
        self.browser.find_element(By.CSS_SELECTOR, f"#{form_id} button[type=submit]").click()
        WebDriverWait(self.browser, 15).until(lambda d: "fait=1" in d.current_url)

    def text(self) -> str:
        return self.browser.find_element(By.TAG_NAME, "main").text

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.browser.save_screenshot(str(ARTIFACTS / name))


async def test_a_complaint_from_the_phone_call_to_closure_through_the_console(
    site: str, browser: webdriver.Chrome, pool: asyncpg.Pool, client: Client, mailbox: Mailbox, worker, keys: dict
) -> None:
    for name in ("Irène", "Alice", "Chloé"):
        await with_password(pool, name)
    console = Console(browser, site)

    def take_in() -> str:
        console.sign_in("Irène")
        console.open("/console/nouvelle")
        console.fill(
            {
                "canal": "phone",
                "nom": "Jeanne Martin",
                "email": CUSTOMER,
                "telephone": "01 02 03 04 05",
                "objet": "Colis abîmé",
                "produit": "Vase Médicis",
                "description": "Le colis est arrivé ouvert et le vase était cassé.",
                "solution": "Le remplacement du vase",
            }
        )
        browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
        WebDriverWait(browser, 15).until(lambda d: "/console/reclamations/" in d.current_url)
        return browser.current_url.split("/console/reclamations/")[1].split("?")[0]

    ref = await asyncio.to_thread(take_in)
    page = f"/console/reclamations/{ref}"
    row = await pool.fetchrow("SELECT channel, subject FROM complaints WHERE reference = $1", ref)
    assert (row["channel"], row["subject"]) == ("phone", "Colis abîmé")
    await mailbox.wait_for(CUSTOMER)  # the acknowledgement
    await wait_for_phase(client, ref, Phase.ASSESSMENT)

    def find_and_confirm() -> None:
        console.sign_in("Alice")
        console.listed("/console/files/non-attribuees", ref)
        console.shot("console-queue.png")
        browser.find_element(By.LINK_TEXT, ref).click()
        WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith(page))
        console.submit("form-assessment")

    await asyncio.to_thread(find_and_confirm)
    await wait_for_phase(client, ref, Phase.HANDLING)
    assert await pool.fetchval("SELECT priority FROM complaints WHERE reference = $1", ref)

    def assign_and_update() -> None:
        console.open(page)
        console.submit("form-assignment-moi")
        console.submit("form-progress-updates", {"progress-updates-message": "Le transporteur enquête."})

    await asyncio.to_thread(assign_and_update)
    assert await pool.fetchval("SELECT handler FROM complaints WHERE reference = $1", ref) == "Alice"
    await mailbox.wait_for(CUSTOMER, count=2)
    assert f"Votre réclamation {ref} : point d'avancement" in subjects(mailbox, CUSTOMER)

    await asyncio.to_thread(
        console.submit, "form-information-requests", {"information-requests-questions": "Une photo du colis ?"}
    )
    await wait_for_phase(client, ref, Phase.AWAITING_CUSTOMER)
    request_mail = (await mailbox.wait_for(CUSTOMER, count=3))[-1]
    assert "précisions" in str(request_mail["Subject"])

    def customer_replies() -> None:
        browser.delete_all_cookies()
        browser.get(status_link_in(request_mail))
        browser.find_element(By.ID, "message").send_keys("Voici la photo : le carton est déchiré.")
        browser.find_element(By.CSS_SELECTOR, "form[enctype] button[type=submit]").click()
        WebDriverWait(browser, 10, ignored_exceptions=PAGE_CHANGING).until(lambda d: "Merci" in main_text(d))

    await asyncio.to_thread(customer_replies)
    await wait_for_phase(client, ref, Phase.HANDLING)

    def decide() -> None:
        console.sign_in("Alice")
        console.open(page)
        console.submit(
            "form-decision",
            {
                "decision-outcome": "accepted",
                "decision-justification": ARGUED,
                "decision-compensation-kind": "refund",
                "decision-compensation-amount": "250.00",
                "decision-compensation-description": "Le prix du vase",
            },
        )

    await asyncio.to_thread(decide)
    await wait_for_phase(client, ref, Phase.AWAITING_APPROVAL)
    assert await pool.fetchval("SELECT phase FROM complaints WHERE reference = $1", ref) == "awaiting_approval"

    def approve() -> None:
        console.sign_in("Chloé")
        console.listed("/console/files/approbations", ref)
        browser.find_element(By.LINK_TEXT, ref).click()
        WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith(page))
        console.shot("console-complaint.png")
        console.submit("form-approval", {"approval-approved": "true", "approval-comment": "Geste justifié."})

    await asyncio.to_thread(approve)
    await wait_for_phase(client, ref, Phase.RESPONDED)
    response_mail = (await mailbox.wait_for(CUSTOMER, count=4))[-1]
    assert ref in str(response_mail["Subject"])
    assert await pool.fetchval("SELECT count(*) FROM journal WHERE complaint_reference = $1 AND actor = 'Chloé'", ref)

    def customer_accepts() -> None:
        browser.delete_all_cookies()
        browser.get(status_link_in(response_mail))
        browser.find_element(By.XPATH, "//form[input[@value='accepter']]//button").click()
        WebDriverWait(browser, 10, ignored_exceptions=PAGE_CHANGING).until(lambda d: "accepté" in main_text(d))

    await asyncio.to_thread(customer_accepts)
    await wait_for_phase(client, ref, Phase.SURVEY)
    survey_mail = await eventually(
        lambda: [m for m in mailbox.messages(CUSTOMER) if "avis" in str(m["Subject"]).lower()], timeout=15
    )

    def customer_answers_the_survey() -> None:
        browser.get(status_link_in(survey_mail[-1]))
        for name, value in (("csat", "5"), ("ces", "4"), ("nps", "9")):
            browser.find_element(By.CSS_SELECTOR, f"input[name={name}][value='{value}']").click()
        browser.find_element(By.XPATH, "//form[.//input[@name='csat']]//button").click()
        WebDriverWait(browser, 10, ignored_exceptions=PAGE_CHANGING).until(
            lambda d: "Merci pour votre avis" in main_text(d)
        )

    await asyncio.to_thread(customer_answers_the_survey)
    closed = await eventually(
        lambda: pool.fetchrow(
            "SELECT phase, outcome FROM complaints WHERE reference = $1 AND closed_at IS NOT NULL", ref
        )
    )
    assert (closed["phase"], closed["outcome"]) == ("closed", "accepted")

"""The regulatory clock (issue 12 #4): the regime's answer maximum from
intake, never paused, alerted once wherever the complaint stands; the review
deadline; a regime changed at assessment; the holding reply's maximum; the
letters that state the recourse and the mediation date.

On the time-skipping dev server: a complaint is started with skipping off,
brought where the test wants it in real time, then fast-forwarded past its
deadlines; the evidence is the register's alert rows, the journal and the
letters sent."""

from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg
import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from complaints import search_attributes as attrs
from complaints.assessment import CATEGORIES
from complaints.complaint_status import ComplaintStatus, Phase
from complaints.customer_signals import Contest
from complaints.intake import submit_complaint
from complaints.operator_commands import AnalysisExtension, ConfirmAssessment, Decision, InformationRequest
from complaints.policy import RegimeRules
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import execute_update, refused, wait_for_phase
from tests.helpers.examples import ALICE, ARGUED, BRUNO, CUSTOMER, without_email
from tests.helpers.history import wait_until_idle
from tests.helpers.mailbox import Mailbox, body_of
from tests.helpers.polling import eventually
from tests.helpers.register import journal_events
from tests.helpers.settings import SHORT_RESPONSE, spans
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]
Handle = WorkflowHandle[ComplaintWorkflow, ComplaintStatus]
# ACPR: acknowledged within 10 jours ouvrables, answered within 2 calendar months of sending.
PAST_THE_MAXIMUM = timedelta(days=70)


def acpr(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"default_regime": "acpr", "priority_deadlines": SHORT_RESPONSE, **changes})


async def taken_in(env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, submission: ComplaintSubmission):
    """The complaint's run, on a workflow clock that skips only when told."""
    with env.with_time_skipping_disabled():
        ref = (await submit_complaint(pool, env.client, settings, submission, actor="t")).reference
    return env.client.get_workflow_handle_for(ComplaintWorkflow.run, ref)


async def alerts_of(pool: asyncpg.Pool, ref: str) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT deadline, kind FROM alerts WHERE complaint_reference = $1 ORDER BY due_at, kind DESC", ref
    )
    return [(row["deadline"], row["kind"]) for row in rows]


async def alerted(pool: asyncpg.Pool, ref: str, deadline: str, kind: str = "breach") -> list[tuple[str, str]]:
    async def raised() -> list[tuple[str, str]] | None:
        found = await alerts_of(pool, ref)
        return found if (deadline, kind) in found else None

    return await eventually(raised, timeout=30)


async def in_handling(env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, make: Make) -> Handle:
    handle = await taken_in(env, pool, settings, make())
    await wait_for_phase(env.client, handle.id, Phase.ASSESSMENT)
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    return handle


async def test_the_regulatory_clock_runs_from_intake_with_the_regimes_dates(
    env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    settings = acpr(settings)
    handle = await in_handling(env, pool, settings, complaint)
    status = await handle.query(ComplaintWorkflow.status)
    policy = settings.complaint_policy_at(status.sent_at or status.received_at)
    sent, received = status.sent_at, status.received_at
    regulatory = status.deadlines["regulatory"]
    assert status.regime == "acpr" and not regulatory.pausable and regulatory.cap is None
    assert regulatory.due_at == status.regulatory_due_at == policy.regulatory_due("acpr", sent, received)
    assert status.ack_due_at == policy.acknowledgement_due_for("acpr", sent, received)
    assert status.deadlines["acknowledgement"].due_at == status.ack_due_at
    # The acknowledgement states the regime's answer date, as its last day.
    [ack] = await mailbox.wait_for(CUSTOMER)
    last_day = policy.calendar.last_day(regulatory.due_at)
    assert f"{last_day.day} " in body_of(ack) and str(last_day.year) in body_of(ack)
    row = await pool.fetchrow("SELECT ack_due_at, regulatory_due_at FROM complaints WHERE reference = $1", handle.id)
    assert (row["ack_due_at"], row["regulatory_due_at"]) == (status.ack_due_at, regulatory.due_at)


async def test_the_regulatory_breach_fires_once_after_an_internal_response_breach(
    env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await in_handling(env, pool, acpr(settings), complaint)
    await env.fast_forward(handle, PAST_THE_MAXIMUM)

    await alerted(pool, handle.id, "regulatory")
    await wait_until_idle(handle)
    assert await alerts_of(pool, handle.id) == [
        ("response", "warning"),
        ("response", "breach"),
        ("regulatory", "warning"),
        ("regulatory", "breach"),
    ]
    status = await handle.query(ComplaintWorkflow.status)
    assert status.deadlines["regulatory"].breached and status.phase is Phase.HANDLING
    # Two delay notices: the internal one, then the one that opens mediation now.
    notices = [m for m in mailbox.messages(CUSTOMER) if "retard" in m["Subject"]]
    assert len(notices) == 2
    assert "dès maintenant saisir gratuitement le" in body_of(notices[1])
    assert "dès maintenant" not in body_of(notices[0])


async def test_the_regulatory_breach_fires_once_during_a_customer_wait(
    env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    waiting = spans(information_reminder="80 days", information_timeout="90 days")
    handle = await in_handling(env, pool, acpr(settings, **waiting), complaint)
    await execute_update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="La facture ?")
    )
    await env.fast_forward(handle, PAST_THE_MAXIMUM)

    await alerted(pool, handle.id, "regulatory")
    await wait_until_idle(handle)
    # The internal clocks stand still for the customer; the regulatory one does not.
    assert await alerts_of(pool, handle.id) == [("regulatory", "warning"), ("regulatory", "breach")]
    assert (await handle.query(ComplaintWorkflow.status)).phase is Phase.AWAITING_CUSTOMER


async def test_the_regulatory_breach_fires_once_while_still_in_intake(
    env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await taken_in(env, pool, acpr(settings), without_email(complaint))
    await wait_for_phase(env.client, handle.id, Phase.INTAKE)
    # From intake on, the list views know the next deadline (the acknowledgement's, before the maximum).
    status = await handle.query(ComplaintWorkflow.status)
    shown = (await handle.describe()).typed_search_attributes.get(attrs.NEXT_DEADLINE)
    assert shown == status.ack_due_at < status.regulatory_due_at
    await env.fast_forward(handle, PAST_THE_MAXIMUM)

    await alerted(pool, handle.id, "regulatory")
    await wait_until_idle(handle)
    assert await alerts_of(pool, handle.id) == [
        ("acknowledgement", "breach"),
        ("regulatory", "warning"),
        ("regulatory", "breach"),
    ]
    status = await handle.query(ComplaintWorkflow.status)
    assert status.phase is Phase.INTAKE and status.acknowledged_at is None
    # No email: the letter opening mediation goes by post, once.
    assert (await journal_events(pool, handle.id)).count("delay_notice_to_post") == 1


async def test_a_contest_opens_the_review_deadline_which_fires_once(
    env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    settings = acpr(settings)
    handle = await in_handling(env, pool, settings, complaint)
    await execute_update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="rejected", justification=ARGUED))
    await wait_for_phase(env.client, handle.id, Phase.RESPONDED)
    # The rejection states the recourse: the mediator, how to refer, until when.
    [response] = [m for m in mailbox.messages(CUSTOMER) if "notre réponse" in m["Subject"]]
    body = body_of(response)
    status = await handle.query(ComplaintWorkflow.status)
    policy = settings.complaint_policy_at(status.received_at)
    until = policy.calendar.last_day(policy.mediation_until(status.sent_at, status.received_at))
    assert settings.mediator_name and settings.mediator_name in body
    assert "Adressez-lui votre demande" in body and f"{until.day} " in body and str(until.year) in body
    assert until.year == status.received_at.year + 1
    assert status.deadlines["regulatory"].met_at is not None

    await handle.signal(ComplaintWorkflow.contest_response, Contest(reason="Le transporteur n'y est pour rien."))
    await wait_for_phase(env.client, handle.id, Phase.REVIEW)
    review = (await handle.query(ComplaintWorkflow.status)).deadlines["review"]
    assert review.due_at - review.started_at == timedelta(days=15)

    await env.fast_forward(handle, PAST_THE_MAXIMUM)

    await alerted(pool, handle.id, "regulatory")
    await wait_until_idle(handle)
    # The contested response was not the final answer: during the review its
    # own clock fires once, and the regulatory maximum (to the final answer) once.
    assert await alerts_of(pool, handle.id) == [
        ("review", "warning"),
        ("review", "breach"),
        ("regulatory", "warning"),
        ("regulatory", "breach"),
    ]
    assert (await handle.query(ComplaintWorkflow.status)).phase is Phase.REVIEW
    status = await execute_update(
        handle, ComplaintWorkflow.decide, Decision(by=BRUNO, outcome="rejected", justification=ARGUED)
    )
    await wait_for_phase(env.client, handle.id, Phase.SURVEY)
    final = await handle.query(ComplaintWorkflow.status)
    assert final.deadlines["review"].met_at is not None and final.deadlines["regulatory"].met_at is not None


async def test_a_regime_change_at_assessment_moves_the_regulatory_deadline(
    env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    settings = acpr(settings)
    handle = await taken_in(env, pool, settings, complaint())
    await wait_for_phase(env.client, handle.id, Phase.ASSESSMENT)
    change = ConfirmAssessment(by=ALICE, regime="payment_services")
    assert "needs a reason" in await refused(handle.execute_update(ComplaintWorkflow.confirm_assessment, change))
    unknown = ConfirmAssessment(by=ALICE, regime="martian", reason="Essai")
    assert "unknown regime" in await refused(handle.execute_update(ComplaintWorkflow.confirm_assessment, unknown))

    reason = "Un virement SEPA : services de paiement (L.133-45)."
    status = await execute_update(
        handle, ComplaintWorkflow.confirm_assessment, change.model_copy(update={"reason": reason})
    )
    policy = settings.complaint_policy_at(status.received_at)
    due = policy.regulatory_due("payment_services", status.sent_at, status.received_at)
    regulatory = status.deadlines["regulatory"]
    assert status.regime == "payment_services" and regulatory.due_at == due == status.regulatory_due_at
    assert regulatory.generation == 1
    assert status.deadlines["response"].effective_due <= due
    row = await pool.fetchrow(
        "SELECT regime, regulatory_due_at, ack_due_at FROM complaints WHERE reference = $1", handle.id
    )
    assert (row["regime"], row["regulatory_due_at"]) == ("payment_services", due)
    # Acknowledged before the assessment: judged by the date it had, in the run and the register alike.
    assert status.deadlines["acknowledgement"].met_at is not None and row["ack_due_at"] == status.ack_due_at
    assert "regime_changed" in await journal_events(pool, handle.id)

    # A holding reply may go up to the regime's maximum (35 jours ouvrables), never past it.
    maximum = policy.holding_reply_max("payment_services", status.sent_at, status.received_at)
    assert maximum is not None and maximum > due
    beyond = AnalysisExtension(by=ALICE, reason="Enquête auprès de la banque", new_due_at=maximum + timedelta(days=1))
    message = await refused(handle.execute_update(ComplaintWorkflow.extend_analysis, beyond))
    assert "holding reply's maximum" in message
    held = beyond.model_copy(update={"new_due_at": maximum - timedelta(hours=1)})
    status = await execute_update(handle, ComplaintWorkflow.extend_analysis, held)
    assert status.response_due_at == held.new_due_at and status.deadlines["regulatory"].due_at == maximum


async def test_the_settings_category_rule_chooses_the_regime_once_the_category_is_known(
    env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    # COMPLAINTS_REGIMES by category: every assessed category is ACPR's, "Paiement" is payment services'.
    rules = RegimeRules(category={**dict.fromkeys(CATEGORIES, "acpr"), "Paiement": "payment_services"})
    settings = settings.model_copy(update={"regimes": rules})
    handle = await taken_in(env, pool, settings, complaint())
    await wait_for_phase(env.client, handle.id, Phase.ASSESSMENT)
    status = await handle.query(ComplaintWorkflow.status)
    policy = settings.complaint_policy_at(status.sent_at or status.received_at)
    acpr_due = policy.regulatory_due("acpr", status.sent_at, status.received_at)
    assert status.regime == "acpr" and status.deadlines["regulatory"].due_at == acpr_due == status.regulatory_due_at
    row = await pool.fetchrow("SELECT regime, regulatory_due_at FROM complaints WHERE reference = $1", handle.id)
    assert (row["regime"], row["regulatory_due_at"]) == ("acpr", acpr_due)

    # The handler files it under another category: its rule applies, without a reason to give.
    status = await execute_update(
        handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE, category="Paiement")
    )
    due = policy.regulatory_due("payment_services", status.sent_at, status.received_at)
    assert status.regime == "payment_services" and status.deadlines["regulatory"].due_at == due
    row = await pool.fetchrow("SELECT regime, regulatory_due_at FROM complaints WHERE reference = $1", handle.id)
    assert (row["regime"], row["regulatory_due_at"]) == ("payment_services", due)
    assert (await journal_events(pool, handle.id)).count("regime_changed") == 2


async def test_the_api_lists_the_regulatory_deadline_beside_the_acknowledgement(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make, http: httpx.AsyncClient, keys
) -> None:
    ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    await wait_for_phase(client, ref, Phase.ASSESSMENT)
    detail = (await http.get(f"/complaints/{ref}", headers=keys["handler"])).json()
    shown = {d["name"]: d for d in detail["deadlines"]}
    assert {"acknowledgement", "regulatory", "assessment", "response"} <= set(shown)
    status = await client.get_workflow_handle(ref).query(ComplaintWorkflow.status)
    assert datetime.fromisoformat(shown["regulatory"]["due_at"]) == status.regulatory_due_at
    assert shown["regulatory"]["met_at"] is None and shown["acknowledgement"]["met_at"] is not None
    await client.get_workflow_handle(ref).terminate("test over")

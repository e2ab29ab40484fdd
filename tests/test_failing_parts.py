"""A complaint's run when a part fails or is slow (issue 13): an alert sink
that never takes an alert, a mailbox that refuses mail (for a while, or for
good), the response going out while commands arrive, a complainant without
email; and the information requests and approval rounds that went wrong."""

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.alerts import AlertActivities
from activities.mail import CustomerEmail, MailActivities
from complaints.alerts import DeadlineAlert
from complaints.complaint_status import Phase
from complaints.customer_signals import CustomerReply
from complaints.operator_commands import (
    AnalysisExtension,
    ApprovalVerdict,
    ConfirmAssessment,
    Decision,
    InformationRequest,
    InternalNote,
    PostalLetter,
    ProgressUpdate,
)
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import execute_update, start, wait_for_phase
from tests.helpers.examples import ALICE, ARGUED, CHLOE, CUSTOMER, DENIS, without_email
from tests.helpers.history import wait_until_idle
from tests.helpers.mailbox import Mailbox, body_of, subjects
from tests.helpers.polling import eventually
from tests.helpers.register import failed_sends, journal_events
from tests.helpers.runs import fill_history, run_id, serving, status_of
from tests.helpers.session import SUGGEST_CONTINUE_AS_NEW_AFTER
from tests.helpers.settings import QUICK_ASSESSMENT, SHORT_RESPONSE, tuned
from tests.helpers.webhooks import WebhookReceiver, serving_webhook
from workflows.complaint import ComplaintWorkflow, background

Make = Callable[..., ComplaintSubmission]
QUICKLY = 10.0  # seconds: an answer that does not wait for a failing part


async def refusal(call: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await asyncio.wait_for(call, QUICKLY)
    return str(getattr(error.value.cause, "message", error.value.cause))


async def journal(pool: asyncpg.Pool, reference: str, event: str) -> list[dict[str, Any]]:
    import json

    rows = await pool.fetch(
        "SELECT details FROM journal WHERE complaint_reference = $1 AND event = $2 ORDER BY id", reference, event
    )
    return [json.loads(row["details"]) for row in rows]


# --- alerts (#1) ------------------------------------------------------------------------


@pytest.fixture
def dead_webhook() -> Iterator[WebhookReceiver]:
    """A webhook that answers 503 to everything."""
    with serving_webhook([503] * 10**6) as receiver:
        yield receiver


async def test_a_sink_that_keeps_failing_holds_up_no_alert_and_no_delay_notice(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    mailbox: Mailbox,
    dead_webhook: WebhookReceiver,
    complaint: Make,
) -> None:
    """The warning's delivery keeps being retried; the breach is raised on
    time all the same, and the customer is told of the delay."""
    alerting = tuned(
        settings, priority_deadlines=QUICK_ASSESSMENT, alert_sinks=["webhook"], alert_webhook_url=dead_webhook.url
    )
    async with serving(client, pool, alerting):
        handle = await start(client, pool, alerting, complaint())

        async def both_recorded() -> bool:
            kinds = await pool.fetch("SELECT kind FROM alerts WHERE complaint_reference = $1", handle.id)
            return sorted(k["kind"] for k in kinds) == ["breach", "warning"]

        await eventually(both_recorded, timeout=20)
        await eventually(lambda: any("retard" in t for t in subjects(mailbox, CUSTOMER)), timeout=20)
        status = await status_of(handle)
        assert status.escalation_level == 1 and dead_webhook.received == []
        # Commands go on meanwhile.
        await asyncio.wait_for(
            execute_update(handle, ComplaintWorkflow.add_note, InternalNote(by=ALICE, text="relance")), QUICKLY
        )


async def test_an_undeliverable_alert_is_journaled_and_the_run_goes_on(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    mailbox: Mailbox,
    complaint: Make,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @activity.defn(name="send_alert")
    async def undeliverable(self: AlertActivities, alert: DeadlineAlert) -> None:
        raise ApplicationError("webhook: 404 Not Found", type="AlertUndeliverable", non_retryable=True)

    monkeypatch.setattr(AlertActivities, "send_alert", undeliverable)
    quick = tuned(settings, priority_deadlines=QUICK_ASSESSMENT)
    async with serving(client, pool, quick):
        handle = await start(client, pool, quick, complaint())

        async def both_journaled() -> list[dict[str, Any]]:
            found = await journal(pool, handle.id, "alert_undeliverable")
            return found if len(found) == 2 else []

        warning, breach = await eventually(both_journaled, timeout=20)
        assert (warning["kind"], breach["kind"]) == ("warning", "breach")
        assert breach["reason"] == "webhook: 404 Not Found" and breach["retried"] is False
        await eventually(lambda: any("retard" in t for t in subjects(mailbox, CUSTOMER)), timeout=20)
        assert (await status_of(handle)).escalation_level == 1


async def test_alerts_still_undelivered_when_the_run_continues_as_new_are_delivered_by_the_next(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    mailbox: Mailbox,
    dead_webhook: WebhookReceiver,
    complaint: Make,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Continue-as-new waits a while for deliveries (here 2 s), then carries
    them over; the next run finishes them, each sink getting each alert once."""
    monkeypatch.setattr(background, "DELIVERIES_GRACE", timedelta(seconds=2))
    alerting = tuned(
        settings, priority_deadlines=QUICK_ASSESSMENT, alert_sinks=["webhook"], alert_webhook_url=dead_webhook.url
    )
    async with serving(client, pool, alerting):
        handle = await start(client, pool, alerting, complaint())
        await eventually(lambda: any("retard" in t for t in subjects(mailbox, CUSTOMER)), timeout=20)
        await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
        first_run = await run_id(client, handle.id)
        await fill_history(handle, client, SUGGEST_CONTINUE_AS_NEW_AFTER + 10)

        async def continued() -> bool:
            return await run_id(client, handle.id) != first_run

        await eventually(continued, timeout=20)
        assert dead_webhook.received == []
        dead_webhook.answers.clear()  # the webhook is back

        await eventually(lambda: len(dead_webhook.received) >= 2, timeout=40)
        await wait_until_idle(client.get_workflow_handle(handle.id), timeout=30)  # no delivery left on its way
    assert sorted(e["type"] for e in dead_webhook.events()) == ["sla.breach", "sla.warning"]
    sinks = await pool.fetch("SELECT sink FROM alert_deliveries WHERE alert_key LIKE $1", f"{handle.id}:%")
    assert [s["sink"] for s in sinks] == ["webhook", "webhook"]
    assert sum("retard" in t for t in subjects(mailbox, CUSTOMER)) == 1


# --- the mailbox (#8) ----------------------------------------------------------------------


async def test_a_progress_update_whose_email_fails_blocks_no_other_command(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    mailbox.sink.refused_recipients.add(CUSTOMER)
    progress = asyncio.create_task(
        execute_update(handle, ComplaintWorkflow.send_progress_update, ProgressUpdate(by=ALICE, message="On enquête."))
    )
    await eventually(lambda: failed_sends(pool, f"{handle.id}:progress_update:%"), timeout=30)  # its email retries
    await asyncio.wait_for(
        execute_update(handle, ComplaintWorkflow.add_note, InternalNote(by=ALICE, text="ok")), QUICKLY
    )
    assert not progress.done()
    mailbox.sink.refused_recipients.clear()
    await asyncio.wait_for(progress, 30)


class RefusingMail(MailActivities):
    """The complainant's address refuses these letters for good (an SMTP 5xx)."""

    refused: frozenset[str] = frozenset({"progress_update", "response"})

    @activity.defn(name="send_customer_email")
    async def send_customer_email(self, email: CustomerEmail) -> datetime | None:
        if email.template in self.refused and not email.by_post:
            raise ApplicationError("550 5.1.1 mailbox unknown", type="EmailRefused", non_retryable=True)
        return await super().send_customer_email(email)


async def test_an_address_that_refuses_mail_for_good_switches_to_letters(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    mailbox: Mailbox,
    complaint: Make,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The refusal is journaled for operations; the letter and every later
    one go by post, and the response counts once an operator confirms it went."""
    monkeypatch.setattr("worker.main.MailActivities", RefusingMail)
    settings = tuned(settings)
    async with serving(client, pool, settings):
        handle = await start(client, pool, settings, complaint())
        await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
        status = await asyncio.wait_for(
            execute_update(
                handle, ComplaintWorkflow.send_progress_update, ProgressUpdate(by=ALICE, message="On enquête.")
            ),
            QUICKLY,
        )
        assert status.has_email is False
        [refused] = await journal(pool, handle.id, "email_refused")
        assert refused["template"] == "progress_update" and "550" in refused["reason"]
        events = await journal_events(pool, handle.id)
        assert events.count("progress_update_to_post") == 1

        await execute_update(
            handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED)
        )

        async def awaiting_the_letter() -> bool:
            return "response_to_post" in await journal_events(pool, handle.id)

        await eventually(awaiting_the_letter)
        status = await status_of(handle)
        assert status.phase is Phase.HANDLING and status.responded_at is None
        assert "confirm the response letter" in status.waiting_for
        sent_at = datetime.now(UTC)
        status = await execute_update(
            handle, ComplaintWorkflow.confirm_postal_response, PostalLetter(confirmed_by="Claire", sent_at=sent_at)
        )
        assert status.phase is Phase.RESPONDED and status.responded_at == sent_at
    [responded] = await journal(pool, handle.id, "responded")
    assert responded["letter_confirmed_by"] == "Claire"


async def test_operations_are_alerted_once_when_an_address_refuses_mail_for_good(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    mailbox: Mailbox,
    complaint: Make,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """#8: the refusal reaches operations on every sink (here email and log),
    after the letter to print; the later letters, already by post, raise none."""
    monkeypatch.setattr("worker.main.MailActivities", RefusingMail)
    async with serving(client, pool, settings):
        handle = await start(client, pool, settings, complaint())
        await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
        for message in ("On enquête.", "Le transporteur répond demain."):
            await execute_update(
                handle, ComplaintWorkflow.send_progress_update, ProgressUpdate(by=ALICE, message=message)
            )
        [alert] = await mailbox.wait_for(settings.operations_email)
        assert str(alert["Subject"]) == f"[Alerte] Adresse email refusée — {handle.id}"
        assert "Courrier refusé : progress_update" in body_of(alert) and "550" in body_of(alert)
        assert await journal(pool, handle.id, "alert_undeliverable") == []
        events = await journal_events(pool, handle.id)
        assert events.count("email_refused") == 1 and events.count("progress_update_to_post") == 2
    assert len(mailbox.messages(settings.operations_email)) == 1


async def test_a_response_by_post_counts_once_an_operator_confirms_it_went(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    """#10, a complainant without email: like the postal acknowledgement."""
    settings = tuned(settings)
    ref = (await submit(client, pool, settings, without_email(complaint))).reference
    handle = client.get_workflow_handle(ref)
    await execute_update(handle, ComplaintWorkflow.confirm_postal_acknowledgement, PostalLetter(confirmed_by="Claire"))
    await wait_for_phase(client, ref, Phase.ASSESSMENT)
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await wait_until_idle(handle)  # waiting for the operator, with nothing else on its way
    status = await status_of(handle)
    assert status.responded_at is None and "confirm the response letter" in status.waiting_for
    assert "while the response is being sent" in await refusal(
        execute_update(handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="?"))
    )
    status = await execute_update(handle, ComplaintWorkflow.confirm_postal_response, PostalLetter(confirmed_by="Marc"))
    assert status.phase is Phase.RESPONDED and status.responded_at is not None
    assert mailbox.messages(CUSTOMER) == []


async def submit(client: Client, pool: asyncpg.Pool, settings: Settings, submission: ComplaintSubmission) -> Any:
    from complaints.intake import submit_complaint

    return await submit_complaint(pool, client, settings, submission, actor="desk")


# --- the response going out (#7, #10) ---------------------------------------------------------


async def test_while_the_response_goes_out_commands_that_change_it_are_refused(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings, priority_deadlines=SHORT_RESPONSE), complaint())
    status = await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    mailbox.sink.refused_recipients.add(CUSTOMER)  # the response email waits for the mailbox
    await execute_update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await eventually(lambda: failed_sends(pool, f"{handle.id}:response:%"), timeout=30)  # the response is going out
    assert await refusal(
        execute_update(handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Photo ?"))
    ) == ("cannot request information while the response is being sent")
    later = AnalysisExtension(by=ALICE, reason="Expertise", new_due_at=status.response_due_at + timedelta(days=2))
    assert "while the response is being sent" in await refusal(
        execute_update(handle, ComplaintWorkflow.extend_analysis, later)
    )
    override = ConfirmAssessment(by=ALICE, priority="P1", reason="Client vulnérable")
    assert "while the response is being sent" in await refusal(
        execute_update(handle, ComplaintWorkflow.confirm_assessment, override)
    )
    mailbox.sink.refused_recipients.clear()
    await wait_for_phase(client, handle.id, Phase.RESPONDED, timeout=30)
    status = await status_of(handle)
    assert status.awaiting_customer_since is None and status.extensions == 0


async def test_the_response_counts_from_when_its_email_went(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    """#10: during a mailbox outage the response is not given (nor its deadline met) before it went."""
    handle = await start(client, pool, tuned(settings), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    mailbox.sink.refused_recipients.add(CUSTOMER)
    await execute_update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))

    async def refused_twice() -> bool:
        return await failed_sends(pool, f"{handle.id}:response:%") >= 2

    await eventually(refused_twice, timeout=60)
    assert (await status_of(handle)).responded_at is None  # not given while it could not go
    released_at = datetime.now(UTC)
    mailbox.sink.refused_recipients.clear()
    await wait_for_phase(client, handle.id, Phase.RESPONDED, timeout=30)
    status = await status_of(handle)
    sent_at = await pool.fetchval("SELECT sent_at FROM outbox WHERE key = $1", f"{handle.id}:response:1")
    assert status.responded_at is not None and status.responded_at >= sent_at > released_at
    assert status.deadlines["response"].met_at == status.responded_at
    row = await pool.fetchrow("SELECT responded_at FROM complaints WHERE reference = $1", handle.id)
    assert row["responded_at"] == status.responded_at


# --- information requests (#9, #11) -------------------------------------------------------------


async def test_an_information_request_during_the_assessment_returns_to_it(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    """#9: the assessment still needs its confirmation; both phase changes are in the register."""
    handle = await start(client, pool, tuned(settings, information_timeout="30 seconds"), complaint())
    status = await execute_update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Photo du colis ?")
    )
    assert status.phase is Phase.AWAITING_CUSTOMER
    phase = "SELECT phase FROM complaints WHERE reference = $1"
    assert await pool.fetchval(phase, handle.id) == "awaiting_customer"
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Voici la photo", message_id="m-1"))
    await wait_for_phase(client, handle.id, Phase.ASSESSMENT)
    assert await pool.fetchval(phase, handle.id) == "assessment"
    status = await status_of(handle)
    assert status.assessment_confirmed_by is None and "assessment" not in status.breaches
    events = await journal_events(pool, handle.id)
    assert events.count("information_requested") == 1 and events.count("customer_replied") == 1
    status = await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    assert status.phase is Phase.HANDLING


async def test_an_extension_during_a_customer_wait_is_due_on_the_date_told(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    """#11: the wait is not added on top of the date the customer was told."""
    settings = tuned(settings, priority_deadlines=SHORT_RESPONSE, information_timeout="60 seconds")
    handle = await start(client, pool, settings, complaint())
    status = await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Photo ?")
    )
    told = status.response_due_at + timedelta(days=3)
    await asyncio.sleep(1)
    status = await execute_update(
        handle, ComplaintWorkflow.extend_analysis, AnalysisExtension(by=ALICE, reason="Expertise", new_due_at=told)
    )
    assert status.response_due_at == told
    await asyncio.sleep(2)
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Voici", message_id="m-1"))
    await wait_for_phase(client, handle.id, Phase.HANDLING)
    assert (await status_of(handle)).response_due_at == told
    assert await pool.fetchval("SELECT response_due_at FROM complaints WHERE reference = $1", handle.id) == told


# --- approval rounds (#6) ------------------------------------------------------------------------


async def test_a_second_approval_round_escalates_again(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings, approval_wait="2 seconds"), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=CHLOE))
    refund = {"kind": "refund", "amount": "900", "description": "remboursement"}
    proposal = Decision.model_validate(
        {"by": CHLOE, "outcome": "accepted", "justification": ARGUED, "compensation": refund}
    )
    for round_ in (1, 2):
        await execute_update(handle, ComplaintWorkflow.decide, proposal)
        await mailbox.wait_for(settings.operations_email, count=round_, timeout=20)
        await execute_update(handle, ComplaintWorkflow.approve_compensation, ApprovalVerdict(by=DENIS, approved=False))
    keys = await pool.fetch("SELECT key FROM alerts WHERE complaint_reference = $1 ORDER BY raised_at", handle.id)
    assert [k["key"] for k in keys] == [f"{handle.id}:approval:0:breach", f"{handle.id}:approval:1:breach"]
    assert (await status_of(handle)).escalation_level == 2

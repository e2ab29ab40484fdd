"""The lifecycle after intake, end to end on the real stack with shortened
deadlines: assessment, handling, response, review, survey, closure."""

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
from temporalio.client import Client

from complaints.assessment import Priority
from complaints.complaint_status import Phase
from complaints.customer_signals import Contest, CustomerReply, SurveyAnswer
from complaints.operator_commands import (
    AnalysisExtension,
    ApprovalVerdict,
    Assignment,
    ConfirmAssessment,
    Decision,
    InformationRequest,
    InternalNote,
    PlannedAction,
    ProgressUpdate,
)
from complaints.policy import PriorityDeadlines, Span
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import execute_update, phase_of, refused, start, wait_for_phase
from tests.helpers.examples import ALICE, ARGUED, BRUNO, CHLOE, CUSTOMER, DENIS
from tests.helpers.history import wait_until_idle
from tests.helpers.mailbox import Mailbox, body_of, subjects
from tests.helpers.polling import eventually
from tests.helpers.register import journal_events
from tests.helpers.settings import SHORT_RESPONSE, tuned
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]


async def test_accepted_with_compensation_from_assessment_to_closure(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    settings = tuned(settings, survey_reminder="60 seconds")
    handle = await start(client, pool, settings, complaint())
    ref = handle.id
    status = await handle.query(ComplaintWorkflow.status)
    assert status.assessment is not None and status.priority is not None and status.acknowledged_at is not None
    assert status.deadlines["assessment"].effective_due > status.acknowledged_at

    status = await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    assert status.phase is Phase.HANDLING and status.assessment_confirmed_by == "Alice"
    await execute_update(handle, ComplaintWorkflow.assign, Assignment(by=ALICE, handler="Alice", team="Logistique"))
    await execute_update(
        handle,
        ComplaintWorkflow.plan_action,
        PlannedAction(
            by=ALICE,
            kind="corrective",
            description="Renforcer l'emballage des vases",
            owner="Entrepôt",
            due_on=date(2027, 1, 15),
        ),
    )
    await execute_update(handle, ComplaintWorkflow.add_note, InternalNote(by=ALICE, text="Client fidèle depuis 2019"))
    await execute_update(
        handle, ComplaintWorkflow.send_progress_update, ProgressUpdate(by=ALICE, message="Le transporteur enquête.")
    )
    status = await execute_update(
        handle,
        ComplaintWorkflow.decide,
        Decision(
            by=ALICE,
            outcome="accepted",
            justification=ARGUED,
            compensation={"kind": "credit_note", "amount": "45.50", "description": "valeur du vase"},
        ),
    )
    await wait_for_phase(client, ref, Phase.RESPONDED)

    [response] = [m for m in mailbox.messages(CUSTOMER) if "notre réponse" in str(m["Subject"])]
    letter = body_of(response)
    assert ARGUED in letter and "un avoir de 45.50 EUR" in letter
    assert "Renforcer l'emballage des vases" in letter
    assert "médiateur" not in letter  # accepted: no recourse to state
    ledger = await pool.fetch("SELECT * FROM compensations WHERE complaint_reference = $1", ref)
    assert [(r["kind"], r["amount"], r["proposed_by"]) for r in ledger] == [("credit_note", Decimal("45.50"), "Alice")]

    await handle.signal(ComplaintWorkflow.accept_response)
    await wait_for_phase(client, ref, Phase.SURVEY)
    await mailbox.wait_for(CUSTOMER, count=4)  # ack, progress, response, survey
    await handle.signal(ComplaintWorkflow.survey_answer, SurveyAnswer(csat=4, ces=2, nps=9, comment="Merci"))
    final = await handle.result()
    assert final.phase is Phase.CLOSED and final.survey is not None

    row = await pool.fetchrow("SELECT * FROM complaints WHERE reference = $1", ref)
    assert row["phase"] == "closed" and row["outcome"] == "accepted"
    assert row["handler"] == "Alice" and row["team"] == "Logistique"
    assert row["compensation_total"] == Decimal("45.50")
    assert row["ack_deadline_met"] and row["assessment_deadline_met"] and row["response_deadline_met"]
    assert row["customer_verdict"] == "accepted"
    survey = await pool.fetchrow("SELECT * FROM surveys WHERE complaint_reference = $1", ref)
    assert (survey["csat"], survey["ces"], survey["nps"]) == (4, 2, 9)
    assert await pool.fetchval("SELECT count(*) FROM actions WHERE complaint_reference = $1", ref) == 1
    events = await journal_events(pool, ref)
    for event in (
        "assessment_confirmed",
        "assigned",
        "corrective_action_planned",
        "internal_note",
        "progress_update_emailed",
        "decided",
        "compensation_granted",
        "response_emailed",
        "responded",
        "response_accepted",
        "survey_emailed",
        "survey_answered",
        "closed",
    ):
        assert events.count(event) == 1, event
    note_visible = await pool.fetchval(
        "SELECT visible_to_customer FROM journal WHERE complaint_reference = $1 AND event = 'internal_note'", ref
    )
    assert note_visible is False
    closed = await pool.fetchval("SELECT details FROM journal WHERE complaint_reference = $1 AND event = 'closed'", ref)
    assert '"receipt_to_response"' in closed and '"deadlines_met"' in closed


async def test_rejection_states_the_recourse_and_a_decision_must_be_argued(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))

    reason = await refused(handle.execute_update(ComplaintWorkflow.decide, Decision(by=ALICE, outcome="rejected")))
    assert "must be argued" in reason
    reason = await refused(
        handle.execute_update(
            ComplaintWorkflow.decide,
            Decision(
                by=ALICE,
                outcome="rejected",
                justification=ARGUED,
                compensation={"kind": "apology", "description": "excuses"},
            ),
        )
    )
    assert "grants no compensation" in reason

    await execute_update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="rejected", justification=ARGUED))
    await wait_for_phase(client, handle.id, Phase.RESPONDED)
    [response] = [m for m in mailbox.messages(CUSTOMER) if "notre réponse" in str(m["Subject"])]
    letter = body_of(response)
    assert settings.mediator_name and settings.mediator_contact  # the default mediator
    assert settings.mediator_name in letter and settings.mediator_contact in letter
    assert "réexaminée par un autre" in letter and ARGUED in letter
    assert await pool.fetchval("SELECT count(*) FROM compensations") == 0


async def test_no_rejection_without_the_mediator_configured(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings, mediator_name=None), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    for outcome in ("rejected", "partially_accepted"):
        reason = await refused(
            handle.execute_update(ComplaintWorkflow.decide, Decision(by=ALICE, outcome=outcome, justification=ARGUED))
        )
        assert "configure the mediator" in reason
    assert await phase_of(handle) is Phase.HANDLING


async def test_contest_opens_one_review_by_another_handler_then_mediator_information(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="rejected", justification=ARGUED))
    await wait_for_phase(client, handle.id, Phase.RESPONDED)

    await handle.signal(ComplaintWorkflow.contest_response, Contest(reason="Le vase était bien emballé."))
    await wait_for_phase(client, handle.id, Phase.REVIEW)
    reason = await refused(
        handle.execute_update(ComplaintWorkflow.decide, Decision(by=ALICE, outcome="rejected", justification=ARGUED))
    )
    assert "another handler" in reason
    await execute_update(
        handle,
        ComplaintWorkflow.decide,
        Decision(
            by=BRUNO,
            outcome="partially_accepted",
            justification="Après réexamen, la moitié du prix est due.",
            compensation={"kind": "refund", "amount": "20", "description": "moitié du prix"},
        ),
    )
    await wait_for_phase(client, handle.id, Phase.SURVEY)

    letters = [m for m in mailbox.messages(CUSTOMER) if "Réexamen" in str(m["Subject"])]
    assert len(letters) == 1
    text = body_of(letters[0])
    assert settings.mediator_name  # the default mediator
    assert settings.mediator_name in text and "un remboursement de 20.00 EUR" in text
    assert "réexaminée par un autre" not in text  # one review only
    status = await handle.query(ComplaintWorkflow.status)
    assert [d.decided_by for d in status.decisions] == ["Alice", "Bruno"] and status.contested


async def test_information_requested_and_answered_pauses_the_internal_clocks(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    settings = tuned(
        settings,
        information_reminder="30 seconds",
        information_timeout="60 seconds",
        priority_deadlines=SHORT_RESPONSE,
    )
    handle = await start(client, pool, settings, complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    before = (await handle.query(ComplaintWorkflow.status)).deadlines["response"].effective_due

    asked = datetime.now(UTC)
    status = await execute_update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Photo du colis ?")
    )
    assert status.phase is Phase.AWAITING_CUSTOMER
    [request] = [m for m in mailbox.messages(CUSTOMER) if "précisions" in str(m["Subject"])]
    assert "Photo du colis ?" in body_of(request)
    await asyncio.sleep(2)  # the customer takes two seconds to answer
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Voici la photo", document_ids=[1]))
    await wait_for_phase(client, handle.id, Phase.HANDLING)
    waited = datetime.now(UTC) - asked

    status = await handle.query(ComplaintWorkflow.status)
    response = status.deadlines["response"]
    # paused from the request until the reply was filed: within what this test waited
    assert timedelta(seconds=2) <= response.paused_for <= waited
    assert response.effective_due - before == response.paused_for  # accounted exactly
    assert status.deadlines["response"].cap == status.regulatory_due_at  # the regulatory maximum never pauses
    events = await journal_events(pool, handle.id)
    assert events.count("customer_replied") == 1 and "information_not_received" not in events


async def test_information_not_answered_reminder_then_goes_on(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Numéro de commande ?")
    )
    await wait_for_phase(client, handle.id, Phase.HANDLING, timeout=20)
    titles = subjects(mailbox, CUSTOMER)
    assert sum("nous avons besoin de précisions" in t for t in titles) == 1
    assert sum(t.startswith("Rappel") for t in titles) == 1
    assert (await journal_events(pool, handle.id)).count("information_not_received") == 1


async def test_warning_then_breach_once_each_with_the_customer_told_of_the_delay(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    table = {
        p: PriorityDeadlines(assessment=Span.model_validate("4 seconds"), response=Span.model_validate("10 minutes"))
        for p in ("P1", "P2", "P3", "P4")
    }
    handle = await start(client, pool, tuned(settings, priority_deadlines=table), complaint())
    ops = settings.operations_email
    await mailbox.wait_for(ops, count=2, timeout=20)
    await eventually(lambda: any("retard" in t for t in subjects(mailbox, CUSTOMER)))
    # Once each: both alerts recorded and sent, and the delay notice; the run then
    # waits, nothing in flight, for the response deadline's warning minutes away.
    history = await wait_until_idle(handle)
    assert history.scheduled("record_alert") == history.scheduled("send_alert") == 2
    assert history.running_timers == ["response warning"]

    alerts = await pool.fetch(
        "SELECT deadline, kind FROM alerts WHERE complaint_reference = $1 ORDER BY raised_at", handle.id
    )
    assert [(a["deadline"], a["kind"]) for a in alerts] == [("assessment", "warning"), ("assessment", "breach")]
    assert len(mailbox.messages(ops)) == 2
    assert sum("retard" in t for t in subjects(mailbox, CUSTOMER)) == 1
    status = await handle.query(ComplaintWorkflow.status)
    assert status.sla_status.value == "breached" and status.escalation_level == 1
    row = await pool.fetchrow("SELECT sla_status, escalation_level FROM complaints WHERE reference = $1", handle.id)
    assert (row["sla_status"], row["escalation_level"]) == ("breached", 1)


async def test_priority_override_needs_a_reason_and_moves_the_deadlines(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    before = await handle.query(ComplaintWorkflow.status)
    target = Priority.P1 if before.priority is not Priority.P1 else Priority.P4
    reason = await refused(
        handle.execute_update(ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE, priority=target))
    )
    assert "needs a reason" in reason

    after = await execute_update(
        handle,
        ComplaintWorkflow.confirm_assessment,
        ConfirmAssessment(by=ALICE, priority=target, reason="Client hospitalisé selon son appel"),
    )
    acknowledged = after.acknowledged_at
    assert acknowledged is not None
    policy = settings.complaint_policy
    assert after.priority is target
    assert after.response_due_at == policy.priority_response_due(target.value, acknowledged, after.received_at)
    assert after.deadlines["response"].generation == before.deadlines["response"].generation + 1
    row = await pool.fetchrow("SELECT priority, response_due_at FROM complaints WHERE reference = $1", handle.id)
    assert row["priority"] == target.value and row["response_due_at"] == after.response_due_at


async def test_extension_cannot_pass_the_regulatory_maximum_and_the_customer_is_told(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings, priority_deadlines=SHORT_RESPONSE), complaint())
    status = await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    too_late = status.regulatory_due_at + timedelta(days=1)
    reason = await refused(
        handle.execute_update(
            ComplaintWorkflow.extend_analysis, AnalysisExtension(by=ALICE, reason="Expertise", new_due_at=too_late)
        )
    )
    assert "regulatory maximum" in reason

    new_due = status.response_due_at + timedelta(days=3)
    status = await execute_update(
        handle,
        ComplaintWorkflow.extend_analysis,
        AnalysisExtension(by=ALICE, reason="Une expertise du vase est en cours.", new_due_at=new_due),
    )
    assert status.response_due_at == new_due
    [holding] = [m for m in mailbox.messages(CUSTOMER) if "plus de temps" in str(m["Subject"])]
    assert "Une expertise du vase est en cours." in body_of(holding)


async def test_compensation_above_threshold_waits_for_another_manager(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=CHLOE))
    status = await execute_update(
        handle,
        ComplaintWorkflow.decide,
        Decision(
            by=CHLOE,
            outcome="accepted",
            justification=ARGUED,
            compensation={"kind": "refund", "amount": "650", "description": "remboursement intégral"},
        ),
    )
    assert status.phase is Phase.AWAITING_APPROVAL

    assert "proposer cannot approve" in await refused(
        handle.execute_update(ComplaintWorkflow.approve_compensation, ApprovalVerdict(by=CHLOE, approved=True))
    )
    assert "only a manager" in await refused(
        handle.execute_update(ComplaintWorkflow.approve_compensation, ApprovalVerdict(by=BRUNO, approved=True))
    )
    assert await pool.fetchval("SELECT count(*) FROM compensations") == 0

    await execute_update(handle, ComplaintWorkflow.approve_compensation, ApprovalVerdict(by=DENIS, approved=True))
    await wait_for_phase(client, handle.id, Phase.RESPONDED)
    ledger = await pool.fetchrow("SELECT * FROM compensations WHERE complaint_reference = $1", handle.id)
    assert (ledger["amount"], ledger["proposed_by"], ledger["approved_by"]) == (Decimal(650), "Chloé", "Denis")


async def test_nobody_approving_in_time_escalates(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings, approval_wait="2 seconds"), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(
        handle,
        ComplaintWorkflow.decide,
        Decision(
            by=ALICE,
            outcome="accepted",
            justification=ARGUED,
            compensation={"kind": "refund", "amount": "900", "description": "remboursement"},
        ),
    )
    [alert] = await mailbox.wait_for(settings.operations_email, timeout=15)
    assert "approbation" in str(alert["Subject"])
    assert (await handle.query(ComplaintWorkflow.status)).escalation_level == 1


async def test_survey_not_answered_is_reminded_then_closed(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    settings = tuned(settings, verdict_wait="1 second", survey_reminder="2 seconds", survey_wait="4 seconds")
    handle = await start(client, pool, settings, complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    final = await asyncio.wait_for(handle.result(), 30)
    assert final.phase is Phase.CLOSED and final.survey is None
    titles = subjects(mailbox, CUSTOMER)
    assert sum(t.startswith("Votre avis") for t in titles) == 1
    assert sum(t.startswith("Rappel : votre avis") for t in titles) == 1
    assert await pool.fetchval("SELECT count(*) FROM surveys") == 0
    assert await pool.fetchval("SELECT phase FROM complaints WHERE reference = $1", handle.id) == "closed"


async def test_commands_that_do_not_fit_the_phase_are_refused(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    reason = await refused(
        handle.execute_update(ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    )
    assert "cannot decide while the complaint is assessment" in reason
    reason = await refused(
        handle.execute_update(ComplaintWorkflow.approve_compensation, ApprovalVerdict(by=DENIS, approved=True))
    )
    assert "cannot approve a compensation" in reason
    await execute_update(
        handle,
        ComplaintWorkflow.confirm_assessment,
        ConfirmAssessment(by=ALICE, priority=Priority.P1, reason="Risque de blessure"),
    )
    reason = await refused(
        handle.execute_update(
            ComplaintWorkflow.plan_action,
            PlannedAction(by=ALICE, kind="corrective", description="x", owner="y", due_on=date(2027, 1, 1)),
        )
    )
    assert "root-cause analysis" in reason


async def test_assessment_reads_the_complainants_history_and_puts_safety_first(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    earlier = [await start(client, pool, settings, complaint()) for _ in range(2)]
    burn = complaint(
        subject="Bouilloire dangereuse",
        description="La poignée a chauffé et mon fils a une brûlure à la main.",
    )
    handle = await start(client, pool, settings, burn)
    status = await handle.query(ComplaintWorkflow.status)
    assessment = status.assessment
    assert assessment is not None
    assert status.priority is Priority.P1 and assessment.category == "safety"
    assert [i.kind.value for i in assessment.impacts][:1] == ["health_safety"]
    assert assessment.recurrence.recurring
    assert assessment.recurrence.earlier == [h.id for h in earlier]
    row = await pool.fetchrow("SELECT priority, recurring, assessment FROM complaints WHERE reference = $1", handle.id)
    assert row["priority"] == "P1" and row["recurring"] is True
    assert "brûlure" in row["assessment"]


async def test_customer_messages_outside_a_request_are_journaled_once(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    message = CustomerReply(message="J'ai retrouvé le bon de livraison", document_ids=[], message_id="<m1@client>")
    await handle.signal(ComplaintWorkflow.customer_reply, message)
    await handle.signal(ComplaintWorkflow.customer_reply, message)  # delivered twice

    async def filed() -> bool:
        return (await journal_events(pool, handle.id)).count("customer_message") == 1

    await eventually(filed)
    # Both deliveries reached the run, which waits with nothing in flight.
    history = await wait_until_idle(handle)
    assert history.signals == ["customer_reply", "customer_reply"]
    status = await handle.query(ComplaintWorkflow.status)
    assert status.messages_received == 1
    assert (await journal_events(pool, handle.id)).count("customer_message") == 1


async def test_a_verdict_or_survey_before_its_time_is_ignored(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    await handle.signal(ComplaintWorkflow.accept_response)  # nothing has been answered yet
    await handle.signal(ComplaintWorkflow.survey_answer, SurveyAnswer(csat=1, ces=1, nps=0))
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await wait_for_phase(client, handle.id, Phase.RESPONDED)
    # The run received both early signals and, nothing in flight, waits for the verdict.
    history = await wait_until_idle(handle)
    assert history.signals == ["accept_response", "survey_answer"]
    assert "customer's verdict" in history.running_timers
    status = await handle.query(ComplaintWorkflow.status)
    assert status.phase is Phase.RESPONDED and status.customer_verdict is None and status.survey is None

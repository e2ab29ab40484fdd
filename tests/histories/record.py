"""Record a complaint's workflow history for the replay test.

    python -m tests.histories.record <scenario> [--out FILE]   # or: make histories SCENARIO=<scenario>

Runs the scenario from start to closure on a throwaway stack (a Temporal dev
server, an embedded PostgreSQL, a local SMTP sink), with the worker built from
the code checked out, and writes the closed run's history as JSON to
tests/histories/<scenario>.json. Payloads are encrypted with the fixed key of
tests/helpers/histories.py, which the replay test decodes with.

A scenario that continues as new writes each run: the last to
<scenario>.json, the first to <scenario>-first-run.json. A scenario that
merges another complaint into the recorded one writes the absorbed
complaint's run to <scenario>-absorbed.json.

Record a history when the workflow changes how it runs (a new patch), and keep
the old files: they are what runs still in flight look like."""

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.merging import merge
from complaints import search_attributes
from complaints.assessment import CATEGORIES, Priority
from complaints.complaint_status import ComplaintStatus, Phase
from complaints.customer_signals import Contest, CustomerReply, SurveyAnswer
from complaints.database import open_pool
from complaints.intake import submit_complaint
from complaints.operator_commands import (
    AnalysisExtension,
    ApprovalVerdict,
    Assignment,
    Closure,
    ConfirmAssessment,
    Decision,
    InformationRequest,
    InternalNote,
    Operator,
    PlannedAction,
    PostalLetter,
    ProgressUpdate,
    RootCause,
)
from complaints.policy import PriorityDeadlines, Span
from complaints.settings import Settings
from complaints.submission import validate_submission
from devstack.mail_sink import start_sink
from devstack.postgres import start_embedded_postgres
from devstack.temporal_server import temporal_cli
from tests.helpers.histories import FOLDER, HISTORY_CONVERTER, HISTORY_PAYLOAD_KEYS
from tests.helpers.network import free_port
from tests.helpers.smtp_servers import scripted_smtp
from worker.main import build_worker
from workflows.complaint import ComplaintWorkflow

Handle = WorkflowHandle[Any, Any]
ALICE = Operator(name="Alice", role="handler")
BRUNO = Operator(name="Bruno", role="handler")
CHLOE = Operator(name="Chloé", role="manager")
DENIS = Operator(name="Denis", role="manager")
ARGUED = "Le transporteur a reconnu avoir endommagé le colis lors de la livraison."
SUBMISSION = {
    "channel": "phone",
    "complainant": {"name": "Jeanne Martin", "email": "jeanne@example.com"},
    "subject": "Colis abîmé",
    "description": "Le colis est arrivé ouvert et le vase était cassé.",
    "desired_resolution": "Le remplacement du vase",
    "product": "Vase Médicis",
}
QUICK = {"verdict_wait": "60 seconds", "survey_reminder": "60 seconds", "survey_wait": "120 seconds"}


@dataclass
class Stack:
    """What a scenario that takes in a second complaint uses, and the second run's history once closed."""

    pool: Any = None
    settings: Any = None
    absorbed: list[dict[str, Any]] = field(default_factory=list)


STACK = Stack()


async def until(handle: Handle, reached: Callable[[ComplaintStatus], bool], timeout: float = 30) -> ComplaintStatus:
    """Poll the run's status until `reached`."""
    for _ in range(int(timeout * 10)):
        status = await handle.query(ComplaintWorkflow.status)
        if reached(status):
            return status
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{handle.id} did not get there in {timeout}s")


async def update(handle: Handle, method: Any, command: object) -> ComplaintStatus:
    """`execute_update`, typed: the SDK types an update declared with `description=` as returning a coroutine."""
    status: ComplaintStatus = await handle.execute_update(method, command)
    return status


async def in_phase(handle: Handle, phase: Phase) -> ComplaintStatus:
    return await until(handle, lambda status: status.phase is phase)


async def information_and_review(handle: Handle) -> None:
    """The assessment deadline warns and breaches (the customer is told of the
    delay); information asked and answered; a message outside the request; a
    verdict sent too early (ignored); a rejection contested, reviewed by
    another handler with a refund; the survey answered."""
    await in_phase(handle, Phase.ASSESSMENT)
    await until(handle, lambda status: status.escalation_level == 1)
    await update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE, category="transport"))
    await update(handle, ComplaintWorkflow.assign, Assignment(by=ALICE, handler="Alice", team="Logistique"))
    await update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Photo du colis ?")
    )
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Voici la photo", message_id="m-1"))
    await in_phase(handle, Phase.HANDLING)
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Le livreur a signé", message_id="m-2"))
    await until(handle, lambda status: status.messages_received == 1)
    await handle.signal(ComplaintWorkflow.accept_response)  # before any response: ignored
    await update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="rejected", justification=ARGUED))
    await in_phase(handle, Phase.RESPONDED)
    await handle.signal(ComplaintWorkflow.contest_response, Contest(reason="Le vase était bien emballé."))
    await in_phase(handle, Phase.REVIEW)
    refund = {"kind": "refund", "amount": "20", "description": "moitié du prix"}
    justification = "Après réexamen, la moitié du prix est due."
    review = Decision.model_validate(
        {"by": BRUNO, "outcome": "partially_accepted", "justification": justification, "compensation": refund}
    )
    await update(handle, ComplaintWorkflow.decide, review)
    await in_phase(handle, Phase.SURVEY)
    await handle.signal(ComplaintWorkflow.survey_answer, SurveyAnswer(csat=4, ces=3, nps=8, comment="Merci"))


async def approval_and_close(handle: Handle) -> None:
    """The priority raised to P1 (deadlines move); the analysis extended; a
    corrective action with its root cause, a note, a progress update; a refund
    above the threshold whose approval breaches, then approved by another
    manager; the response accepted; closed by a manager during the survey."""
    await in_phase(handle, Phase.ASSESSMENT)
    raised = ConfirmAssessment(by=CHLOE, priority=Priority.P1, reason="Cliente vulnérable", category="transport")
    status = await update(handle, ComplaintWorkflow.confirm_assessment, raised)
    extension = AnalysisExtension(
        by=CHLOE, reason="Une expertise du vase est en cours.", new_due_at=status.response_due_at + timedelta(days=1)
    )
    await update(handle, ComplaintWorkflow.extend_analysis, extension)
    cause = RootCause(category="emballage", analysis="Calage insuffisant des objets fragiles")
    action = PlannedAction(
        by=CHLOE, kind="corrective", description="Caler les vases", owner="Entrepôt", due_on=date(2027, 1, 15)
    )
    await update(handle, ComplaintWorkflow.plan_action, action.model_copy(update={"root_cause": cause}))
    await update(handle, ComplaintWorkflow.add_note, InternalNote(by=CHLOE, text="Cliente fidèle"))
    await update(
        handle, ComplaintWorkflow.send_progress_update, ProgressUpdate(by=CHLOE, message="Le transporteur enquête.")
    )
    refund = {"kind": "refund", "amount": "650", "description": "remboursement intégral"}
    decision = Decision.model_validate(
        {"by": CHLOE, "outcome": "accepted", "justification": ARGUED, "compensation": refund}
    )
    await update(handle, ComplaintWorkflow.decide, decision)
    await until(handle, lambda status: "approval" in status.breaches)
    await update(handle, ComplaintWorkflow.approve_compensation, ApprovalVerdict(by=DENIS, approved=True))
    await in_phase(handle, Phase.RESPONDED)
    await handle.signal(ComplaintWorkflow.accept_response)
    await in_phase(handle, Phase.SURVEY)
    await update(handle, ComplaintWorkflow.close, Closure(by=DENIS, note="Remboursé, client satisfait"))


async def information_timed_out(handle: Handle) -> None:
    """An information request during the assessment, not answered: reminded,
    timed out, back to the assessment, which is then confirmed; a second
    request during handling, the analysis extended while the customer is
    awaited, then answered; a progress update; accepted; the survey answered."""
    await in_phase(handle, Phase.ASSESSMENT)
    await update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="N° de commande ?")
    )
    await until(handle, lambda status: status.phase is Phase.ASSESSMENT and status.awaiting_customer_since is None)
    status = await update(
        handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE, category="transport")
    )
    await update(handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Photo ?"))
    extension = AnalysisExtension(
        by=ALICE, reason="Une expertise du vase est en cours.", new_due_at=status.response_due_at + timedelta(days=2)
    )
    await update(handle, ComplaintWorkflow.extend_analysis, extension)
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Voici la photo", message_id="m-1"))
    await in_phase(handle, Phase.HANDLING)
    await update(
        handle, ComplaintWorkflow.send_progress_update, ProgressUpdate(by=ALICE, message="Expertise en cours.")
    )
    await update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await in_phase(handle, Phase.RESPONDED)
    await handle.signal(ComplaintWorkflow.accept_response)
    await in_phase(handle, Phase.SURVEY)
    await handle.signal(ComplaintWorkflow.survey_answer, SurveyAnswer(csat=5, ces=2, nps=9))


async def continued_as_new(handle: Handle) -> None:
    """The assessment deadline warns and breaches (each alert delivered beside
    the watcher, the customer told of the delay); confirmed; a customer
    message, and notes until the run continues as new; in the new run a
    refund above the threshold approved by another manager, the response
    accepted, closed during the survey."""
    await in_phase(handle, Phase.ASSESSMENT)
    await until(handle, lambda status: status.escalation_level == 1)
    await update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=CHLOE))
    first = (await handle.describe()).run_id
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Le livreur a signé", message_id="m-1"))
    n = 0
    while (await handle.describe()).run_id == first:
        await update(handle, ComplaintWorkflow.add_note, InternalNote(by=CHLOE, text=f"appel {n}"))
        n += 1
    refund = {"kind": "refund", "amount": "650", "description": "remboursement intégral"}
    decision = Decision.model_validate(
        {"by": CHLOE, "outcome": "accepted", "justification": ARGUED, "compensation": refund}
    )
    await update(handle, ComplaintWorkflow.decide, decision)
    await update(handle, ComplaintWorkflow.approve_compensation, ApprovalVerdict(by=DENIS, approved=True))
    await in_phase(handle, Phase.RESPONDED)
    await handle.signal(ComplaintWorkflow.accept_response)
    await in_phase(handle, Phase.SURVEY)
    await update(handle, ComplaintWorkflow.close, Closure(by=DENIS, note="Remboursé"))


async def regulatory_clock(handle: Handle) -> None:
    """The regulatory clock (issue 12): the regime changed at assessment with
    a reason (the regulatory deadline moves); an information request during
    which the regulatory maximum warns and breaches (the customer told they
    may refer to the mediator now; the internal clocks paused); answered; a
    rejection (recourse, mediator, the one-year date) contested; the review
    deadline warns and breaches; reviewed by another handler; the survey answered."""
    await in_phase(handle, Phase.ASSESSMENT)
    change = ConfirmAssessment(by=ALICE, regime="slower", reason="Un contrat cadre plus long s'applique.")
    await update(handle, ComplaintWorkflow.confirm_assessment, change)
    await update(handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Photo ?"))
    await until(handle, lambda status: "regulatory" in status.breaches)
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Voici la photo", message_id="m-1"))
    await in_phase(handle, Phase.HANDLING)
    await update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="rejected", justification=ARGUED))
    await in_phase(handle, Phase.RESPONDED)
    await handle.signal(ComplaintWorkflow.contest_response, Contest(reason="Le vase était bien emballé."))
    await in_phase(handle, Phase.REVIEW)
    await until(handle, lambda status: "review" in status.breaches)
    await update(handle, ComplaintWorkflow.decide, Decision(by=BRUNO, outcome="rejected", justification=ARGUED))
    await in_phase(handle, Phase.SURVEY)
    await handle.signal(ComplaintWorkflow.survey_answer, SurveyAnswer(csat=2, ces=4, nps=3))


async def holding_reply(handle: Handle) -> None:
    """A regime with a holding reply (as payment services, L.133-45): the
    assessment confirmed; the analysis extended past the regime's answer date
    (a holding reply: the regulatory clock moved to the holding-reply
    maximum); accepted and answered in time; accepted by the customer; the
    survey answered."""
    status = await in_phase(handle, Phase.ASSESSMENT)
    await update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE, category="paiement"))
    extension = AnalysisExtension(
        by=ALICE,
        reason="Une enquête auprès de la banque du bénéficiaire.",
        new_due_at=status.regulatory_due_at + timedelta(minutes=5),
    )
    await update(handle, ComplaintWorkflow.extend_analysis, extension)
    await update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await in_phase(handle, Phase.RESPONDED)
    await handle.signal(ComplaintWorkflow.accept_response)
    await in_phase(handle, Phase.SURVEY)
    await handle.signal(ComplaintWorkflow.survey_answer, SurveyAnswer(csat=5, ces=1, nps=10))


async def regime_by_category(handle: Handle) -> None:
    """COMPLAINTS_REGIMES by category: the assessed category puts the complaint
    under its regime (journaled by the system); the handler files it under
    another category, whose rule moves it again; accepted and answered in time,
    accepted by the customer, the survey answered."""
    await in_phase(handle, Phase.ASSESSMENT)
    await update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE, category="paiement"))
    await update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await in_phase(handle, Phase.RESPONDED)
    await handle.signal(ComplaintWorkflow.accept_response)
    await in_phase(handle, Phase.SURVEY)
    await handle.signal(ComplaintWorkflow.survey_answer, SurveyAnswer(csat=4, ces=2, nps=8))


async def email_refused(handle: Handle) -> None:
    """The complainant's address refuses mail for good (the SMTP server answers
    550 to every recipient): the acknowledgement refused, journaled and alerted
    to operations (the alert refused too: journaled undeliverable); the letter
    confirmed by post; accepted, the response by post, its letter confirmed; closed."""
    await until(handle, lambda status: status.phase is Phase.INTAKE and not status.has_email)  # refused
    await update(handle, ComplaintWorkflow.confirm_postal_acknowledgement, PostalLetter(confirmed_by="Claire"))
    await in_phase(handle, Phase.ASSESSMENT)
    await update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await until(handle, lambda status: "response letter" in status.waiting_for)
    await update(handle, ComplaintWorkflow.confirm_postal_response, PostalLetter(confirmed_by="Claire"))
    await in_phase(handle, Phase.RESPONDED)
    await update(handle, ComplaintWorkflow.close, Closure(by=ALICE, note="Réponse envoyée par courrier"))


async def merged(handle: Handle) -> None:
    """A second complaint of the same customer, sent earlier, with a message,
    is merged into the recorded one during its assessment (its sending date,
    documents and messages taken, the customer told once); the absorbed run
    closes as merged; the survivor is then answered, accepted, surveyed."""
    await in_phase(handle, Phase.ASSESSMENT)
    client = handle._client  # the recorder's own client (the scenarios take only the handle)
    earlier = {**SUBMISSION, "channel": "letter", "sent_at": datetime.now(UTC) - timedelta(days=3)}
    submission = validate_submission(earlier, STACK.settings.document_limits)
    other = await submit_complaint(STACK.pool, client, STACK.settings, submission, actor="recorder")
    absorbed = client.get_workflow_handle(other.reference)
    await in_phase(absorbed, Phase.ASSESSMENT)
    await absorbed.signal(
        ComplaintWorkflow.customer_reply, CustomerReply(message="Le livreur a signé", message_id="m-1")
    )
    await until(absorbed, lambda status: status.messages_received == 1)
    await merge(client, STACK.pool, other.reference, handle.id, ALICE)
    await absorbed.result()
    STACK.absorbed.append((await absorbed.fetch_history()).to_json_dict())
    await update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE, category="transport"))
    await update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await in_phase(handle, Phase.RESPONDED)
    await handle.signal(ComplaintWorkflow.accept_response)
    await in_phase(handle, Phase.SURVEY)
    await handle.signal(ComplaintWorkflow.survey_answer, SurveyAnswer(csat=5, ces=1, nps=10))


def _fast_assessment(assessment: str) -> dict[str, PriorityDeadlines]:
    quick = Span.model_validate(assessment)
    response = Span.model_validate("10 minutes")
    return {p: PriorityDeadlines(assessment=quick, response=response) for p in ("P1", "P2", "P3", "P4")}


Scenario = Callable[[Handle], Awaitable[None]]
SCENARIOS: dict[str, tuple[Scenario, dict[str, Any]]] = {
    "information_and_review": (
        information_and_review,
        {**QUICK, "priority_deadlines": _fast_assessment("4 seconds"), "information_timeout": "60 seconds"},
    ),
    "approval_and_close": (approval_and_close, {**QUICK, "approval_wait": "2 seconds"}),
    "information_timed_out": (
        information_timed_out,
        {
            **QUICK,
            "priority_deadlines": _fast_assessment("1 day"),
            "information_reminder": "2 seconds",
            "information_timeout": "4 seconds",
        },
    ),
    "continued_as_new": (continued_as_new, {**QUICK, "priority_deadlines": _fast_assessment("4 seconds")}),
    "regulatory_clock": (
        regulatory_clock,
        {
            **QUICK,
            "priority_deadlines": _fast_assessment("1 day"),
            "information_timeout": "60 seconds",
            "review_deadline": "6 seconds",
            "default_regime": "quick",
            "regime_definitions": {
                "quick": {"title": "Essai", "acknowledgement": "1 day", "answer": "10 seconds"},
                "slower": {"title": "Essai plus long", "acknowledgement": "1 day", "answer": "16 seconds"},
            },
        },
    ),
    "email_refused": (email_refused, {**QUICK, "priority_deadlines": _fast_assessment("1 day")}),
    "merged": (merged, {**QUICK, "priority_deadlines": _fast_assessment("1 day"), "default_regime": "acpr"}),
    "holding_reply": (
        holding_reply,
        {
            **QUICK,
            "priority_deadlines": _fast_assessment("1 day"),
            "default_regime": "held",
            "regime_definitions": {
                "held": {"title": "Essai", "answer": "1 hour", "holding_reply_max": "2 hours"},
            },
        },
    ),
    "regime_by_category": (
        regime_by_category,
        {
            **QUICK,
            "priority_deadlines": _fast_assessment("1 day"),
            "regimes": {"category": {**dict.fromkeys(CATEGORIES, "assessed"), "paiement": "filed"}},
            "regime_definitions": {
                "assessed": {"title": "Essai", "acknowledgement": "1 day", "answer": "1 hour"},
                "filed": {"title": "Essai classé", "acknowledgement": "1 day", "answer": "2 hours"},
            },
        },
    ),
}
# Scenarios whose SMTP server refuses every recipient for good (550).
SMTP_REFUSING = {"email_refused"}
# Dev-server settings a scenario needs (continue-as-new suggested early).
SERVER_ARGS = {
    "continued_as_new": ["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=200"],
}


def _settings(folder: Path, smtp_port: int, database_url: str, changes: dict[str, Any]) -> Settings:
    """Validated without reading the environment or .env: a recording never depends on the shell."""
    return Settings.model_validate(
        {
            "data_dir": folder,
            "database_url": database_url,
            "task_queue": f"histories-{uuid.uuid4().hex[:8]}",
            "reference_prefix": "HIST",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "payload_keys": HISTORY_PAYLOAD_KEYS,
            "worker_shutdown_grace_seconds": 0,
            **changes,
        }
    )


async def record(name: str) -> list[dict[str, Any]]:
    """Run `name` to closure on a throwaway stack; return its histories, the
    last run's first (the first run's after it, if the run continued as new)."""
    scenario, changes = SCENARIOS[name]
    with tempfile.TemporaryDirectory(prefix="histories-") as tmp:
        folder = Path(tmp)
        postgres = start_embedded_postgres(folder / "postgres")
        smtp_port = free_port()
        mail, _ = start_sink(folder / "mail", "127.0.0.1", smtp_port)
        refusing = contextlib.ExitStack()
        if name in SMTP_REFUSING:
            smtp, smtp_port = refusing.enter_context(scripted_smtp())
            smtp.rcpt_reply = "550 5.1.1 mailbox unknown"
        try:
            settings = _settings(folder, smtp_port, postgres.get_uri(), changes)
            async with await WorkflowEnvironment.start_local(
                dev_server_existing_path=temporal_cli(),
                dev_server_extra_args=SERVER_ARGS.get(name, []),
                data_converter=HISTORY_CONVERTER,
                search_attributes=search_attributes.ALL,
            ) as env:
                pool = await open_pool(settings)
                STACK.pool, STACK.settings = pool, settings
                try:
                    async with build_worker(env.client, pool, settings):
                        submission = validate_submission(SUBMISSION, settings.document_limits)
                        submitted = await submit_complaint(pool, env.client, settings, submission, actor="recorder")
                        handle = env.client.get_workflow_handle(submitted.reference)
                        first_run = (await handle.describe()).run_id
                        await scenario(handle)
                        await handle.result()
                        histories = [(await handle.fetch_history()).to_json_dict()]
                        if (await handle.describe()).run_id != first_run:
                            first = env.client.get_workflow_handle(submitted.reference, run_id=first_run)
                            histories.append((await first.fetch_history()).to_json_dict())
                        return histories + STACK.absorbed
                finally:
                    await pool.close()
        finally:
            refusing.close()
            mail.stop()
            postgres.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.histories.record", description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--out", type=Path, help="default: tests/histories/<scenario>.json")
    args = parser.parse_args(argv)
    out: Path = args.out or FOLDER / f"{args.scenario}.json"
    first_out = out.with_name(f"{out.stem}-first-run.json")
    absorbed_out = out.with_name(f"{out.stem}-absorbed.json")
    for path in (out, first_out, absorbed_out):
        if path.exists():
            parser.error(f"{path} exists: keep it (runs in flight look like it) and give another --out")
    histories = asyncio.run(record(args.scenario))
    outs = (out, absorbed_out) if STACK.absorbed else (out, first_out)
    for path, history in zip(outs, histories, strict=False):
        path.write_text(json.dumps(history, indent=1, ensure_ascii=False) + "\n")
        print(f"{path}: {len(history['events'])} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())

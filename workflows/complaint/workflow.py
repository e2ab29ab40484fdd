"""ComplaintWorkflow: one durable run per complaint, id = its reference.

The run walks the complaint through its phases (intake, assessment, handling,
response, satisfaction, closure); operators act through updates whose
validators refuse what does not fit, the complainant through signals, and a
watcher raises each SLA warning and breach once."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.alerts import AlertActivities
    from activities.compensation import CompensationActivities
    from activities.mail import MailActivities
    from activities.register import RegisterActivities
    from complaints import metrics
    from complaints import search_attributes as attrs
    from complaints.assessment import Priority
    from complaints.lifecycle import (
        Acknowledgement,
        AcknowledgementEmail,
        ActionRecord,
        AnalysisExtension,
        ApprovalVerdict,
        AssessmentRequest,
        Assignment,
        Closure,
        CompensationGrant,
        ComplaintChanges,
        ComplaintStart,
        ComplaintStatus,
        ConfirmAssessment,
        Contest,
        CustomerEmail,
        CustomerReply,
        Deadline,
        DeadlineAlert,
        DeadlineEvent,
        Decision,
        DecisionRecord,
        InformationRequest,
        IntakeRecord,
        InternalNote,
        Outcome,
        Phase,
        PlannedAction,
        PostalAcknowledgement,
        ProgressUpdate,
        RegisterEntry,
        Role,
        SlaStatus,
        SurveyAnswer,
        SurveyRecord,
    )
    from workflows import deadlines

REGISTER_TIMEOUT = timedelta(seconds=30)
EMAIL_TIMEOUT = timedelta(seconds=15)  # above the SMTP client's own timeout
# Email keeps being retried until it goes through; the deadline timers, not
# the retry count, decide when people must be told.
EMAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
)
MIN_JUSTIFICATION = 20  # characters: "toute réponse doit être argumentée"
BEFORE_RESPONSE = {Phase.ASSESSMENT, Phase.HANDLING, Phase.AWAITING_CUSTOMER, Phase.AWAITING_APPROVAL}
ACTIVE = BEFORE_RESPONSE | {Phase.ACKNOWLEDGED, Phase.RESPONDED, Phase.REVIEW, Phase.SURVEY}
WAITING_FOR = {
    Phase.ACKNOWLEDGED: "the assessment",
    Phase.ASSESSMENT: "a handler to confirm the assessment",
    Phase.HANDLING: "the handler's decision",
    Phase.AWAITING_CUSTOMER: "the customer's reply",
    Phase.AWAITING_APPROVAL: "a manager to approve the compensation",
    Phase.RESPONDED: "the customer to accept or contest the response",
    Phase.REVIEW: "a second handler's review",
    Phase.SURVEY: "the satisfaction survey",
    Phase.CLOSED: "nothing: closed",
}


@workflow.defn
class ComplaintWorkflow:
    @workflow.init
    def __init__(self, start: ComplaintStart) -> None:
        self._ref = start.reference
        self._policy = start.policy
        received = start.received_at
        self._s = start.carried_over or ComplaintStatus(
            reference=start.reference,
            phase=Phase.RECEIVED,
            channel=start.channel,
            received_at=received,
            ack_due_at=self._policy.acknowledgement_due(received),
            response_due_at=self._policy.response_due(received),
            regulatory_due_at=self._policy.response_due(received),
            deadlines={
                "acknowledgement": Deadline(
                    name="acknowledgement",
                    started_at=received,
                    due_at=self._policy.acknowledgement_due(received),
                    warn=False,
                )
            },
        )
        self._ack: Acknowledgement | None = None
        self._lock = asyncio.Lock()
        self._clock_version = 0
        self._firing = False
        self._close: Closure | None = None

    # --- the run --------------------------------------------------------------

    @workflow.run
    async def run(self, start: ComplaintStart) -> ComplaintStatus:
        watcher = asyncio.create_task(self._watch_deadlines())
        self._files_replies = workflow.patched("file-replies-in-any-phase")
        filer = asyncio.create_task(self._file_replies()) if self._files_replies else None
        phases = {
            Phase.RECEIVED: self._take_in,
            Phase.INTAKE: self._take_in,
            Phase.ACKNOWLEDGED: self._assess,
            Phase.ASSESSMENT: self._wait_while_in_phase,
            Phase.HANDLING: self._handle,
            Phase.AWAITING_CUSTOMER: self._await_customer,
            Phase.AWAITING_APPROVAL: self._wait_while_in_phase,
            Phase.RESPONDED: self._await_verdict,
            Phase.REVIEW: self._handle,
            Phase.SURVEY: self._survey,
        }
        while self._s.phase is not Phase.CLOSED:
            await phases[self._s.phase]()
            if workflow.info().is_continue_as_new_suggested() and self._s.phase is not Phase.CLOSED:
                await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._firing)
                workflow.continue_as_new(
                    ComplaintStart(
                        reference=self._ref,
                        received_at=self._s.received_at,
                        channel=self._s.channel,
                        policy=self._policy,
                        carried_over=self._s,
                    )
                )
        watcher.cancel()
        if filer:
            filer.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._s

    async def _take_in(self) -> None:
        """Phase 1: record, acknowledge by email or confirmed letter."""
        facts = await workflow.execute_activity_method(
            RegisterActivities.record_intake,
            IntakeRecord(reference=self._ref, ack_due_at=self._s.ack_due_at),
            start_to_close_timeout=REGISTER_TIMEOUT,
            summary="record the complaint in the register",
        )
        self._s.has_email = facts.has_email
        if self._s.phase is Phase.RECEIVED:
            workflow.metric_meter().create_counter(metrics.RECEIVED, "Complaints received").add(
                1, {"channel": self._s.channel.value}
            )
        awaited = (
            "the acknowledgement email" if facts.has_email else "an operator to confirm the acknowledgement letter"
        )
        self._move_to(Phase.INTAKE, awaited)
        emailing = asyncio.create_task(self._acknowledge_by_email()) if facts.has_email else None
        await workflow.wait_condition(lambda: self._ack is not None)
        if emailing and not emailing.done():
            emailing.cancel()  # acknowledged by post while email kept failing
        ack = self._ack
        assert ack is not None
        await workflow.execute_activity_method(
            RegisterActivities.record_acknowledgement,
            ack,
            start_to_close_timeout=REGISTER_TIMEOUT,
            summary=f"record the acknowledgement ({ack.method})",
        )
        self._s.acknowledged_at = ack.acknowledged_at
        self._s.ack_method = ack.method
        workflow.metric_meter().create_histogram_float(metrics.ACK_LATENCY, "Receipt to acknowledgement", "s").record(
            (ack.acknowledged_at - self._s.received_at).total_seconds(), {"method": ack.method}
        )
        self._meet("acknowledgement", ack.acknowledged_at)
        self._move_to(Phase.ACKNOWLEDGED)

    async def _acknowledge_by_email(self) -> None:
        sent_at = await workflow.execute_activity_method(
            MailActivities.send_acknowledgement,
            AcknowledgementEmail(reference=self._ref, response_due_at=self._s.response_due_at),
            start_to_close_timeout=EMAIL_TIMEOUT,
            retry_policy=EMAIL_RETRY,
            summary="email the acknowledgement to the complainant",
        )
        if self._ack is None:
            self._ack = Acknowledgement(
                reference=self._ref,
                method="email",
                acknowledged_at=sent_at,
                response_due_at=self._s.response_due_at,
                actor="system",
            )

    async def _assess(self) -> None:
        """Score the complaint, then start the deadlines its priority sets."""
        assessment = await workflow.execute_activity_method(
            RegisterActivities.assess_complaint,
            AssessmentRequest(reference=self._ref, window=self._policy.recurrence_window),
            start_to_close_timeout=REGISTER_TIMEOUT,
            summary="assess severity, complexity, impact and history",
        )
        self._s.assessment = assessment
        self._s.priority = assessment.priority
        self._s.category = assessment.category
        acknowledged = self._s.acknowledged_at or workflow.now()
        self._s.deadlines["assessment"] = Deadline(
            name="assessment",
            started_at=acknowledged,
            due_at=self._policy.assessment_due(assessment.priority.value, acknowledged),
            cap=self._s.regulatory_due_at,
            pausable=True,
        )
        self._s.deadlines["response"] = Deadline(
            name="response",
            started_at=acknowledged,
            due_at=self._policy.priority_response_due(assessment.priority.value, acknowledged, self._s.received_at),
            cap=self._s.regulatory_due_at,
            pausable=True,
        )
        self._deadlines_changed()
        await self._record(
            "assessed",
            "system",
            {
                "priority": assessment.priority.value,
                "severity": assessment.severity.level,
                "complexity": assessment.complexity.level,
                "impacts": [impact.kind.value for impact in assessment.impacts],
                "recurring": assessment.recurrence.recurring,
            },
            ComplaintChanges(
                phase=Phase.ASSESSMENT,
                priority=assessment.priority,
                severity=assessment.severity.level,
                complexity=assessment.complexity.level,
                recurring=assessment.recurrence.recurring,
                category=assessment.category,
                assessment=assessment,
                assessment_due_at=self._s.deadlines["assessment"].effective_due,
                response_due_at=self._s.response_due_at,
            ),
        )
        self._move_to(Phase.ASSESSMENT)

    async def _wait_while_in_phase(self) -> None:
        """Updates move the complaint on from here."""
        phase = self._s.phase
        await workflow.wait_condition(
            lambda: self._s.phase is not phase or workflow.info().is_continue_as_new_suggested()
        )

    async def _handle(self) -> None:
        """Handling (or review): wait for a decision, then respond."""
        phase = self._s.phase
        await workflow.wait_condition(
            lambda: (
                self._s.decision is not None
                or self._s.phase is not phase
                or workflow.info().is_continue_as_new_suggested()
            )
        )
        if self._s.decision is not None and self._s.phase is phase:
            await self._respond(self._s.decision)

    async def _await_customer(self) -> None:
        """Wait for the reply to an information request: remind once, then go
        on with what we have. Internal clocks may pause meanwhile."""
        asked_at = self._s.awaiting_customer_since or workflow.now()
        reply_by = self._policy.information_timeout.after(asked_at)
        remind_at = self._policy.information_reminder.after(asked_at)
        pending = self._s.replies_pending
        replied = await self._wait_until(lambda: bool(pending), remind_at, "information reminder")
        if not replied and remind_at < reply_by:
            await self._email_customer(
                "information_reminder",
                {"questions": self._s.open_questions, "reply_by": reply_by},
            )
            replied = await self._wait_until(lambda: bool(pending), reply_by, "information timeout")
        if replied:
            reply = pending.pop(0)
            await self._record(
                "customer_replied",
                "complainant",
                {"message": reply.message, "document_ids": reply.document_ids},
                visible_to_customer=True,
            )
        else:
            await self._record("information_not_received", "system", {"reply_by": reply_by})
        self._end_customer_wait()
        self._move_to(Phase.HANDLING)

    async def _respond(self, decision: DecisionRecord) -> None:
        """Grant the compensation, send the argued response, record it."""
        number = len(self._s.decisions) + 1
        if decision.compensation and decision.outcome is not Outcome.REJECTED:
            workflow.metric_meter().create_histogram_float(metrics.COMPENSATION, "Compensation granted", "EUR").record(
                float(decision.compensation.amount), {"kind": decision.compensation.kind.value}
            )
            await workflow.execute_activity_method(
                CompensationActivities.grant_compensation,
                CompensationGrant(
                    reference=self._ref,
                    key=f"{self._ref}:compensation:{number}",
                    compensation=decision.compensation,
                    proposed_by=decision.decided_by,
                    approved_by=decision.approved_by,
                ),
                start_to_close_timeout=REGISTER_TIMEOUT,
                summary=f"grant the compensation ({decision.compensation.kind.value})",
            )
        now = workflow.now()
        await self._email_customer(
            "response",
            {
                "outcome": decision.outcome.value,
                "justification": decision.justification,
                "compensation": _compensation_values(decision),
                "actions": self._s.actions,
                "recourse": decision.outcome is not Outcome.ACCEPTED or decision.review,
                "review": decision.review,
                "verdict_by": self._policy.verdict_wait.after(now),
            },
            step=f"response:{number}",
        )
        self._s.decisions.append(decision)
        self._s.decision = None
        self._s.responded_at = self._s.responded_at or now
        self._meet("response", now)
        await self._record(
            "review_responded" if decision.review else "responded",
            decision.decided_by,
            {"outcome": decision.outcome.value, "justification": decision.justification},
            ComplaintChanges(
                phase=Phase.SURVEY if decision.review else Phase.RESPONDED,
                outcome=decision.outcome,
                responded_at=self._s.responded_at,
                response_deadline_met=self._s.responded_at <= self._s.response_due_at,
            ),
            visible_to_customer=True,
        )
        # After a review, the mediator's details went with the letter: on to the survey.
        self._move_to(Phase.SURVEY if decision.review else Phase.RESPONDED)

    async def _await_verdict(self) -> None:
        verdict_by = self._policy.verdict_wait.after(self._s.responded_at or workflow.now())
        s = self._s
        await self._wait_until(
            lambda: s.accepted_signal or s.contest_signal is not None or self._close is not None,
            verdict_by,
            "customer's verdict",
        )
        if self._close is not None:
            await self._finish()
        elif s.contest_signal is not None and not s.contested:
            s.contested = True
            s.customer_verdict = "contested"
            await self._record(
                "contested",
                "complainant",
                {"reason": s.contest_signal.reason},
                ComplaintChanges(phase=Phase.REVIEW, customer_verdict="contested"),
                visible_to_customer=True,
            )
            self._move_to(Phase.REVIEW)
        else:
            accepted = s.accepted_signal and not s.contested
            s.customer_verdict = s.customer_verdict or ("accepted" if accepted else None)
            await self._record(
                "response_accepted" if accepted else "no_verdict",
                "complainant" if accepted else "system",
                changes=ComplaintChanges(phase=Phase.SURVEY, customer_verdict=s.customer_verdict),
                visible_to_customer=accepted,
            )
            self._move_to(Phase.SURVEY)

    async def _survey(self) -> None:
        """Ask for satisfaction; remind once; close with or without an answer."""
        if self._s.has_email and self._close is None:
            sent_at = workflow.now()
            answer_by = self._policy.survey_wait.after(sent_at)
            remind_at = self._policy.survey_reminder.after(sent_at)
            await self._email_customer("survey", {"answer_by": answer_by})
            done = lambda: self._s.survey is not None or self._close is not None  # noqa: E731
            if not await self._wait_until(done, remind_at, "survey reminder") and remind_at < answer_by:
                await self._email_customer("survey_reminder", {"answer_by": answer_by})
                await self._wait_until(done, answer_by, "survey closes")
        if self._s.survey is not None:
            await workflow.execute_activity_method(
                RegisterActivities.record_survey,
                SurveyRecord(reference=self._ref, answer=self._s.survey),
                start_to_close_timeout=REGISTER_TIMEOUT,
                summary="record the survey answer",
            )
        await self._finish()

    async def _finish(self) -> None:
        """Closure: outcome, durations, deadlines met, root cause, compensation."""
        now = workflow.now()
        self._s.closed_at = now
        for deadline in self._s.deadlines.values():
            deadline.met_at = deadline.met_at or now
        self._deadlines_changed()
        met = {name: not d.breached for name, d in self._s.deadlines.items()}
        given = sum(
            (d.compensation.amount for d in self._s.decisions if d.compensation and d.outcome is not Outcome.REJECTED),
            start=0,
        )
        responded = self._s.responded_at
        await self._record(
            "closed",
            self._close.by.name if self._close else "system",
            {
                "outcome": self._s.decisions[-1].outcome.value if self._s.decisions else None,
                "receipt_to_acknowledgement": _seconds(self._s.received_at, self._s.acknowledged_at),
                "receipt_to_response": _seconds(self._s.received_at, responded),
                "deadlines_met": met,
                "root_cause_category": self._s.root_cause_category or self._s.category,
                "compensation_total": given,
                "survey_answered": self._s.survey is not None,
                "note": self._close.note if self._close else None,
            },
            ComplaintChanges(
                phase=Phase.CLOSED,
                closed_at=now,
                ack_deadline_met=met.get("acknowledgement"),
                assessment_deadline_met=met.get("assessment"),
                response_deadline_met=met.get("response"),
                root_cause_category=self._s.root_cause_category or self._s.category,
                compensation_total=given,
            ),
            visible_to_customer=True,
        )
        self._move_to(Phase.CLOSED)

    # --- what operators do (updates) -----------------------------------------

    @workflow.update(description="Confirm the suggested priority, or override it with a reason.")
    async def confirm_assessment(self, command: ConfirmAssessment) -> ComplaintStatus:
        async with self._lock:
            suggested = self._s.priority
            priority = command.priority or suggested
            assert priority is not None
            if command.category:
                self._s.category = command.category
            if priority is not suggested:
                self._reprioritise(priority)
            first = self._s.assessment_confirmed_by is None
            self._s.assessment_confirmed_by = command.by.name
            if first:
                self._meet("assessment", workflow.now())
            await self._record(
                "priority_overridden" if priority is not suggested else "assessment_confirmed",
                command.by.name,
                {"priority": priority.value, "was": suggested.value if suggested else None, "reason": command.reason},
                ComplaintChanges(
                    phase=Phase.HANDLING if self._s.phase is Phase.ASSESSMENT else None,
                    priority=priority,
                    category=self._s.category,
                    assessed_at=workflow.now() if first else None,
                    assessment_deadline_met=(not self._s.deadlines["assessment"].breached) if first else None,
                    response_due_at=self._s.response_due_at,
                ),
            )
            if self._s.phase is Phase.ASSESSMENT:
                self._move_to(Phase.HANDLING)
            return self._s

    @confirm_assessment.validator
    def _check_confirm_assessment(self, command: ConfirmAssessment) -> None:
        self._require_phase("confirm or change the assessment", BEFORE_RESPONSE)
        if command.priority and command.priority is not self._s.priority and not command.reason:
            raise ValueError(f"overriding the priority {self._s.priority} with {command.priority} needs a reason")

    @workflow.update(description="Assign the complaint to a handler and team.")
    async def assign(self, command: Assignment) -> ComplaintStatus:
        async with self._lock:
            self._s.handler, self._s.team = command.handler, command.team
            workflow.upsert_search_attributes([attrs.HANDLER.value_set(command.handler)])
            await self._record(
                "assigned",
                command.by.name,
                {"handler": command.handler, "team": command.team},
                ComplaintChanges(handler=command.handler, team=command.team),
            )
            return self._s

    @assign.validator
    def _check_assign(self, command: Assignment) -> None:
        self._require_phase("assign the complaint", ACTIVE)

    @workflow.update(description="Plan a corrective or improvement action (owner, due date).")
    async def plan_action(self, action: PlannedAction) -> ComplaintStatus:
        async with self._lock:
            self._s.actions.append(action.description)
            if action.root_cause:
                self._s.root_cause_category = action.root_cause.category
            await workflow.execute_activity_method(
                RegisterActivities.record_action,
                ActionRecord(reference=self._ref, step_key=self._step_key("action"), action=action),
                start_to_close_timeout=REGISTER_TIMEOUT,
                summary=f"record a {action.kind} action",
            )
            return self._s

    @plan_action.validator
    def _check_plan_action(self, action: PlannedAction) -> None:
        self._require_phase("plan actions", ACTIVE)
        if action.kind == "corrective" and self._s.priority is Priority.P1 and action.root_cause is None:
            raise ValueError("a corrective action on a P1 complaint needs a root-cause analysis (root_cause)")

    @workflow.update(description="Add an internal note (never shown to the customer).")
    async def add_note(self, note: InternalNote) -> ComplaintStatus:
        async with self._lock:
            await self._record("internal_note", note.by.name, {"text": note.text})
            return self._s

    @add_note.validator
    def _check_add_note(self, note: InternalNote) -> None:
        self._require_phase("add a note", ACTIVE | {Phase.INTAKE})

    @workflow.update(description="Tell the customer where the complaint stands (emailed).")
    async def send_progress_update(self, update: ProgressUpdate) -> ComplaintStatus:
        async with self._lock:
            await self._email_customer("progress_update", {"message": update.message})
            return self._s

    @send_progress_update.validator
    def _check_progress_update(self, update: ProgressUpdate) -> None:
        self._require_phase("send a progress update", ACTIVE)

    @workflow.update(description="Ask the customer for information; the complaint waits for the reply.")
    async def request_information(self, request: InformationRequest) -> ComplaintStatus:
        async with self._lock:
            now = workflow.now()
            self._s.open_questions = request.questions
            self._s.information_requests += 1
            await self._email_customer(
                "information_request",
                {"questions": request.questions, "reply_by": self._policy.information_timeout.after(now)},
            )
            self._s.awaiting_customer_since = now
            if not self._files_replies:
                self._s.replies_pending.clear()
            self._deadlines_changed()
            self._move_to(Phase.AWAITING_CUSTOMER)
            return self._s

    @request_information.validator
    def _check_request_information(self, request: InformationRequest) -> None:
        self._require_phase("request information", {Phase.ASSESSMENT, Phase.HANDLING})

    @workflow.update(description="Extend the analysis: the customer is told why and the new date.")
    async def extend_analysis(self, extension: AnalysisExtension) -> ComplaintStatus:
        async with self._lock:
            response = self._s.deadlines["response"]
            deadlines.move(response, extension.new_due_at - response.paused_for, workflow.now())
            self._s.extensions += 1
            self._deadlines_changed()
            await self._email_customer(
                "analysis_extension",
                {"reason": extension.reason, "new_due_at": extension.new_due_at},
            )
            await self._record(
                "analysis_extended",
                extension.by.name,
                {"reason": extension.reason, "new_due_at": extension.new_due_at},
                ComplaintChanges(response_due_at=self._s.response_due_at),
                visible_to_customer=True,
            )
            return self._s

    @extend_analysis.validator
    def _check_extend_analysis(self, extension: AnalysisExtension) -> None:
        self._require_phase("extend the analysis", BEFORE_RESPONSE)
        if extension.new_due_at <= self._s.response_due_at:
            raise ValueError(
                f"the new date must be after the current response deadline ({self._s.response_due_at:%Y-%m-%d %H:%M} UTC)"
            )
        if extension.new_due_at > self._s.regulatory_due_at:
            raise ValueError(
                f"the new date may not pass the regulatory maximum ({self._s.regulatory_due_at:%Y-%m-%d %H:%M} UTC)"
            )

    @workflow.update(description="Decide: accepted, partially accepted or rejected, with a justification.")
    async def decide(self, decision: Decision) -> ComplaintStatus:
        record = DecisionRecord(
            outcome=decision.outcome,
            justification=decision.justification,
            compensation=decision.compensation,
            decided_by=decision.by.name,
            decided_at=workflow.now(),
            review=self._s.phase is Phase.REVIEW,
        )
        async with self._lock:
            await self._record(
                "review_decided" if record.review else "decided",
                decision.by.name,
                {"outcome": decision.outcome.value, "compensation": _compensation_values(record)},
            )
            if self._needs_approval(record):
                self._s.proposal = record
                self._s.deadlines["approval"] = Deadline(
                    name="approval",
                    started_at=record.decided_at,
                    due_at=self._policy.approval_wait.after(record.decided_at),
                    warn=False,
                )
                self._deadlines_changed()
                await self._record(
                    "approval_requested",
                    decision.by.name,
                    {"amount": record.compensation.amount if record.compensation else 0},
                    ComplaintChanges(phase=Phase.AWAITING_APPROVAL),
                )
                self._move_to(Phase.AWAITING_APPROVAL)
            else:
                self._s.decision = record
        return self._s

    @decide.validator
    def _check_decide(self, decision: Decision) -> None:
        self._require_phase("decide", {Phase.HANDLING, Phase.REVIEW})
        if self._s.decision or self._s.proposal:
            raise ValueError("a decision is already being carried out")
        if len(decision.justification) < MIN_JUSTIFICATION:
            raise ValueError(
                "every answer, positive or negative, must be argued: write a justification "
                f"of at least {MIN_JUSTIFICATION} characters the customer can understand"
            )
        if decision.outcome is Outcome.REJECTED and decision.compensation:
            raise ValueError("a rejection grants no compensation; decide 'partially_accepted' instead")
        if decision.outcome is not Outcome.ACCEPTED and self._policy.mediator is None:
            raise ValueError(
                "a rejection must state the recourse: configure the mediator "
                "(COMPLAINTS_MEDIATOR_NAME and COMPLAINTS_MEDIATOR_CONTACT) first"
            )
        if self._s.phase is Phase.REVIEW and self._s.decisions and decision.by.name == self._s.decisions[-1].decided_by:
            raise ValueError("the review must be made by another handler than the first decision's")

    @workflow.update(description="A manager approves (or refuses) the proposed compensation.")
    async def approve_compensation(self, verdict: ApprovalVerdict) -> ComplaintStatus:
        async with self._lock:
            proposal = self._s.proposal
            assert proposal is not None
            self._s.proposal = None
            self._meet("approval", workflow.now())
            await self._record(
                "compensation_approved" if verdict.approved else "compensation_refused",
                verdict.by.name,
                {"comment": verdict.comment},
                ComplaintChanges(phase=Phase.REVIEW if proposal.review else Phase.HANDLING),
            )
            self._move_to(Phase.REVIEW if proposal.review else Phase.HANDLING)
            if verdict.approved:
                self._s.decision = proposal.model_copy(update={"approved_by": verdict.by.name})
            return self._s

    @approve_compensation.validator
    def _check_approve_compensation(self, verdict: ApprovalVerdict) -> None:
        self._require_phase("approve a compensation", {Phase.AWAITING_APPROVAL})
        assert self._s.proposal is not None
        if verdict.by.role not in (Role.MANAGER, Role.ADMIN):
            raise ValueError("only a manager approves a compensation above the threshold")
        if verdict.by.name == self._s.proposal.decided_by:
            raise ValueError("the compensation's proposer cannot approve it: another manager must")

    @workflow.update(
        description="An operator confirms the acknowledgement was sent by post "
        "(the complainant gave no email, or email keeps failing)."
    )
    async def confirm_postal_acknowledgement(self, letter: PostalAcknowledgement) -> ComplaintStatus:
        self._ack = Acknowledgement(
            reference=self._ref,
            method="post",
            acknowledged_at=letter.sent_at or workflow.now(),
            response_due_at=self._s.response_due_at,
            actor=letter.confirmed_by,
        )
        await workflow.wait_condition(lambda: self._s.acknowledged_at is not None)
        return self._s

    @confirm_postal_acknowledgement.validator
    def _check_postal_acknowledgement(self, letter: PostalAcknowledgement) -> None:
        ack = self._ack or self._s
        if ack.acknowledged_at is not None:
            raise ValueError(
                f"{self._ref} is already acknowledged "
                f"({self._ack.method if self._ack else self._s.ack_method}, {ack.acknowledged_at:%Y-%m-%d %H:%M} UTC)"
            )
        if letter.sent_at and letter.sent_at < self._s.received_at:
            raise ValueError("the letter cannot have been sent before the complaint was received")
        if letter.sent_at and letter.sent_at > workflow.now():
            raise ValueError("the letter's sending date is in the future")

    @workflow.update(description="Close the complaint after the response without waiting further.")
    async def close(self, closure: Closure) -> ComplaintStatus:
        self._close = closure
        await workflow.wait_condition(lambda: self._s.phase is Phase.CLOSED)
        return self._s

    @close.validator
    def _check_close(self, closure: Closure) -> None:
        self._require_phase("close", {Phase.RESPONDED, Phase.SURVEY})

    # --- what the complainant sends (signals) ---------------------------------

    @workflow.signal(description="The customer answers an information request (documents by id).")
    def customer_reply(self, reply: CustomerReply) -> None:
        if reply.message_id:
            if reply.message_id in self._s.reply_ids:
                return  # the same message delivered again
            self._s.reply_ids = [*self._s.reply_ids[-199:], reply.message_id]
        self._s.replies_pending.append(reply)

    @workflow.signal(description="The customer accepts the response.")
    def accept_response(self) -> None:
        if self._verdict_ignored():
            return
        self._s.accepted_signal = True

    @workflow.signal(description="The customer contests the response.")
    def contest_response(self, contest: Contest) -> None:
        if self._verdict_ignored():
            return
        self._s.contest_signal = self._s.contest_signal or contest

    @workflow.signal(description="The customer answers the satisfaction survey.")
    def survey_answer(self, answer: SurveyAnswer) -> None:
        if self._s.phase is not Phase.SURVEY and workflow.patched("messages-only-in-their-phase"):
            return  # no survey has been sent
        if self._s.survey is None:
            self._s.survey = answer

    def _verdict_ignored(self) -> bool:
        """A verdict counts only on a response the customer has received."""
        return self._s.phase is not Phase.RESPONDED and workflow.patched("messages-only-in-their-phase")

    @workflow.query(description="Where the complaint stands: phase, priority, deadlines, SLA.")
    def status(self) -> ComplaintStatus:
        return self._s

    async def _file_replies(self) -> None:
        """Journal what the customer writes outside an information request, so
        the handler sees it; during a request, the reply is the answer."""
        s = self._s
        while True:
            await workflow.wait_condition(lambda: bool(s.replies_pending) and s.phase is not Phase.AWAITING_CUSTOMER)
            reply = s.replies_pending.pop(0)
            s.messages_received += 1
            await self._record(
                "customer_message",
                "complainant",
                {"message": reply.message, "document_ids": reply.document_ids},
                visible_to_customer=True,
            )

    # --- deadlines -------------------------------------------------------------

    async def _watch_deadlines(self) -> None:
        """Fire each warning and breach once, at the time the clocks say."""
        while True:
            version = self._clock_version
            paused = self._paused()
            event = deadlines.next_event(self._s.deadlines, self._policy.warning_fraction, paused)
            changed = lambda: self._clock_version != version  # noqa: E731
            if event is None:
                await workflow.wait_condition(changed)
                continue
            if not await self._wait_until(changed, event.at, f"{event.deadline} {event.kind}"):
                await self._fire(event)

    async def _fire(self, event: DeadlineEvent) -> None:
        self._firing = True
        deadline = self._s.deadlines[event.deadline]
        alert = DeadlineAlert(
            reference=self._ref,
            deadline=event.deadline,
            kind=event.kind,
            due_at=deadline.effective_due,
            generation=event.generation,
        )
        if event.kind == "warning":
            deadline.warned = True
            if self._s.sla_status is SlaStatus.ON_TRACK:
                self._s.sla_status = SlaStatus.WARNING
        else:
            deadline.breached = True
            self._s.sla_status = SlaStatus.BREACHED
            self._s.breaches.append(event.deadline)
            self._s.escalation_level += 1
        self._deadlines_changed()
        workflow.metric_meter().create_counter(metrics.SLA_ALERTS, "SLA warnings and breaches").add(
            1, {"deadline": event.deadline, "kind": event.kind}
        )
        await workflow.execute_activity_method(
            RegisterActivities.record_alert,
            alert,
            start_to_close_timeout=REGISTER_TIMEOUT,
            summary=f"record the {event.deadline} deadline {event.kind}",
        )
        await workflow.execute_activity_method(
            AlertActivities.send_alert,
            alert,
            start_to_close_timeout=EMAIL_TIMEOUT,
            retry_policy=EMAIL_RETRY,
            summary=f"alert operations: {event.deadline} deadline {event.kind}",
        )
        if event.kind == "breach" and event.deadline in ("assessment", "response"):
            await self._email_customer(
                "delay_notice",
                {"deadline_label": "de traitement", "response_due_at": self._s.regulatory_due_at},
                step=f"delay:{alert.key}",
            )
        self._firing = False

    def _reprioritise(self, priority: Priority) -> None:
        """A new priority moves the deadlines that are still running."""
        self._s.priority = priority
        acknowledged = self._s.acknowledged_at or self._s.received_at
        now = workflow.now()
        assessment = self._s.deadlines["assessment"]
        if not assessment.met_at:
            deadlines.move(assessment, self._policy.assessment_due(priority.value, acknowledged), now)
        response = self._s.deadlines["response"]
        if not response.met_at:
            due = self._policy.priority_response_due(priority.value, acknowledged, self._s.received_at)
            deadlines.move(response, due, now)
        self._deadlines_changed()

    def _meet(self, name: str, at: datetime) -> None:
        deadline = self._s.deadlines.get(name)
        if deadline and not deadline.met_at:
            deadline.met_at = at
            self._deadlines_changed()

    def _paused(self) -> bool:
        return self._policy.pause_while_awaiting_customer and self._s.awaiting_customer_since is not None

    def _end_customer_wait(self) -> None:
        since = self._s.awaiting_customer_since
        if since and self._policy.pause_while_awaiting_customer:
            deadlines.resume(self._s.deadlines, since, workflow.now())
        self._s.awaiting_customer_since = None
        self._deadlines_changed()

    def _deadlines_changed(self) -> None:
        self._clock_version += 1
        if "response" in self._s.deadlines:
            self._s.response_due_at = self._s.deadlines["response"].effective_due
        due = deadlines.next_due(self._s.deadlines)
        workflow.upsert_search_attributes(
            [
                attrs.SLA_STATUS.value_set(self._s.sla_status.value),
                attrs.ESCALATION_LEVEL.value_set(self._s.escalation_level),
                attrs.NEXT_DEADLINE.value_set(due) if due else attrs.NEXT_DEADLINE.value_unset(),
            ]
        )

    # --- helpers ----------------------------------------------------------------

    async def _wait_until(self, done: Any, at: datetime, summary: str) -> bool:
        """Wait for `done()` until `at`; False when the time came first."""
        remaining = at - workflow.now()
        if remaining <= timedelta(0):
            return bool(done())
        try:
            await workflow.wait_condition(done, timeout=remaining, timeout_summary=summary)
            return True
        except TimeoutError:
            return False

    def _require_phase(self, action: str, allowed: set[Phase]) -> None:
        if self._s.phase not in allowed:
            raise ValueError(
                f"cannot {action} while the complaint is {self._s.phase.value} "
                f"(possible when {', '.join(sorted(p.value for p in allowed))})"
            )

    def _needs_approval(self, decision: DecisionRecord) -> bool:
        return bool(
            decision.compensation
            and decision.outcome is not Outcome.REJECTED
            and decision.compensation.amount > self._policy.approval_threshold
        )

    def _step_key(self, event: str) -> str:
        self._s.steps += 1
        return f"{self._ref}:{event}:{self._s.steps}"

    async def _record(
        self,
        event: str,
        actor: str,
        details: dict[str, Any] | None = None,
        changes: ComplaintChanges | None = None,
        *,
        visible_to_customer: bool = False,
    ) -> None:
        await workflow.execute_activity_method(
            RegisterActivities.record,
            RegisterEntry(
                reference=self._ref,
                event=event,
                actor=actor,
                step_key=self._step_key(event),
                details=details or {},
                changes=changes or ComplaintChanges(),
                visible_to_customer=visible_to_customer,
            ),
            start_to_close_timeout=REGISTER_TIMEOUT,
            summary=f"journal: {event}",
        )

    async def _email_customer(self, template: str, values: dict[str, Any], step: str | None = None) -> None:
        await workflow.execute_activity_method(
            MailActivities.send_customer_email,
            CustomerEmail(
                reference=self._ref,
                template=template,
                step_key=f"{self._ref}:{step}" if step else self._step_key(template),
                values=values,
            ),
            start_to_close_timeout=EMAIL_TIMEOUT,
            retry_policy=EMAIL_RETRY,
            summary=f"email the customer: {template.replace('_', ' ')}",
        )

    def _move_to(self, phase: Phase, waiting_for: str | None = None) -> None:
        self._s.phase = phase
        self._s.waiting_for = waiting_for or WAITING_FOR.get(phase, "")
        due = deadlines.next_due(self._s.deadlines)
        workflow.upsert_search_attributes([attrs.PHASE.value_set(phase.value)])
        if self._s.priority:
            workflow.upsert_search_attributes([attrs.PRIORITY.value_set(self._s.priority.value)])
        if self._s.category and workflow.patched("category-search-attribute"):
            workflow.upsert_search_attributes([attrs.CATEGORY.value_set(self._s.category)])
        workflow.set_current_details(
            f"**{phase.value}** — waiting for {self._s.waiting_for}"
            + (f"; next deadline {due:%Y-%m-%d %H:%M} UTC" if due else "")
        )


def _compensation_values(decision: DecisionRecord) -> dict[str, Any] | None:
    given = decision.compensation
    if not given or decision.outcome is Outcome.REJECTED:
        return None
    return {
        "kind": given.kind.value,
        "amount": f"{given.amount:.2f}" if given.amount else None,
        "description": given.description,
    }


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if end else None

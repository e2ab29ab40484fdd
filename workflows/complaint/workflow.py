"""ComplaintWorkflow: one durable run per complaint, id = its reference.

The run walks the complaint through its phases (intake, assessment, handling,
response, satisfaction, closure); operators act through updates whose
validators refuse what does not fit (rules.py) and whose effects commands.py
carries out, the complainant through signals, and a watcher raises each SLA
warning and breach once (deadlines.py, background.py)."""

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.register import AssessmentRequest, IntakeRecord, SurveyRecord
    from complaints.complaint_status import ComplaintStatus, DecisionRecord, Phase
    from complaints.customer_signals import Contest, CustomerReply, SurveyAnswer
    from complaints.operator_commands import (
        Absorption,
        AnalysisExtension,
        ApprovalVerdict,
        Assignment,
        Closure,
        ConfirmAssessment,
        Decision,
        InformationRequest,
        InternalNote,
        MergeInto,
        PlannedAction,
        PostalLetter,
        ProgressUpdate,
    )
    from complaints.workflow_state import ComplaintStart
    from workflows.complaint import calls, deadlines, entries, rules, visibility
    from workflows.complaint.background import BackgroundSteps
    from workflows.complaint.commands import CommandSteps
    from workflows.complaint.entries import Entry
    from workflows.complaint.patches import Paths, fewer_events

# Customer messages outside an information request are journaled (runs started before: dropped).
FILE_REPLIES_PATCH = "file-replies-in-any-phase"
# A verdict or survey answer counts only in its phase (runs started before: in any).
IN_PHASE_PATCH = "messages-only-in-their-phase"


@workflow.defn
class ComplaintWorkflow(CommandSteps, BackgroundSteps):
    @workflow.init
    def __init__(self, start: ComplaintStart) -> None:
        self._start = start
        self._ref = start.reference
        self._policy = start.policy
        self.state = start.carried_over or deadlines.received(start)
        self._paths = Paths()  # the run's own, once it runs
        self._ack = None
        self._lock = asyncio.Lock()
        self._clock_version = 0
        self._firing = self._filing = self._continuing = False
        self._delivering = {}
        self._writes = None  # FEWER_EVENTS: set when the run takes it
        self._held = None

    # --- the run --------------------------------------------------------------

    @workflow.run
    async def run(self, start: ComplaintStart) -> ComplaintStatus:
        fewer = fewer_events()
        watcher = asyncio.create_task(self._watch_nearest_deadline() if fewer else self._watch_deadlines())
        self._files_replies = fewer or workflow.patched(FILE_REPLIES_PATCH)
        self._changed_only = fewer or workflow.patched(visibility.CHANGED_ONLY_PATCH)
        self._paths = Paths.every_one() if fewer else Paths.of_this_run()
        if fewer:
            self._writes, self._held = calls.LocalWrites(), visibility.HeldUpdates()
        shower = asyncio.create_task(self._show_held_updates()) if fewer else None
        self._start_regulatory_clock(start)
        self._resume_deliveries()
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
        while self.state.phase is not Phase.CLOSED:
            if self._paths.merges:
                await self._phase_unless_merged(phases[self.state.phase])
            else:
                await phases[self.state.phase]()
            if workflow.info().is_continue_as_new_suggested() and self.state.phase is not Phase.CLOSED:
                await self._continue_as_new()
        watcher.cancel()
        if filer:
            filer.cancel()
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self.state.deliveries)
        if shower:
            shower.cancel()
        self._upsert_held()
        return self.state.public()

    async def _phase_unless_merged(self, phase: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """MERGES: a phase runs until it ends or the complaint is merged into
        another; then it stops where it is and the run closes as merged."""
        if self.state.merged_into is None:
            running = asyncio.create_task(phase())
            await workflow.wait_condition(lambda: running.done() or self.state.merged_into is not None)
            if not running.done():
                running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        if self.state.merged_into is not None and self.state.phase is not Phase.CLOSED:
            await self._close_merged(self.state.merged_into)

    async def _close_merged(self, into: str) -> None:
        """Closed as merged into `into`: every clock stopped, nothing sent to the
        customer (the survivor tells them), the survivor named in the register."""
        now = workflow.now()
        self.state.closed_at = now
        deadlines.stop_all(self.state.deadlines, now)
        self._deadlines_changed()
        await self._record(entries.merged_into(self.state, into, self.state.merged_by or "system", now))
        self._move_to(Phase.CLOSED)

    async def _take_in(self) -> None:
        """Phase 1: record, acknowledge by email or confirmed letter."""
        intake = IntakeRecord(reference=self._ref, ack_due_at=self.state.ack_due_at)
        facts = await calls.record_intake(intake, self._writes)
        self.state.has_email = facts.has_email
        if self.state.phase is Phase.RECEIVED:
            visibility.count_received(self.state.channel)
        self._move_to(Phase.INTAKE, visibility.waiting_for_acknowledgement(facts.has_email))
        emailing = asyncio.create_task(self._acknowledge_by_email()) if facts.has_email else None
        await workflow.wait_condition(lambda: self._ack is not None)
        if emailing and not emailing.done():
            emailing.cancel()  # acknowledged by post while email kept failing
        ack = self._ack
        assert ack is not None
        await calls.record_acknowledgement(ack, self._writes)
        self.state.acknowledged_at = ack.acknowledged_at
        self.state.ack_method = ack.method
        visibility.record_acknowledgement_latency(self.state, ack)
        self._meet("acknowledgement", ack.acknowledged_at)
        self._move_to(Phase.ACKNOWLEDGED)

    async def _assess(self) -> None:
        """Score the complaint, then start the deadlines its priority sets."""
        request = AssessmentRequest(reference=self._ref, window=self._policy.recurrence_window)
        assessment = await calls.assess(request, self._writes)
        self.state.assessment = assessment
        self.state.priority = assessment.priority
        self.state.category = assessment.category
        acknowledged = self.state.acknowledged_at or workflow.now()
        self.state.deadlines.update(deadlines.for_priority(self._policy, self.state, assessment.priority, acknowledged))
        self._deadlines_changed()
        await self._record(entries.assessed(self.state, assessment))
        await self._regime_of_category("system")
        self._move_to(Phase.ASSESSMENT)

    async def _wait_while_in_phase(self) -> None:
        """Updates move the complaint on from here."""
        phase = self.state.phase
        await workflow.wait_condition(
            lambda: self.state.phase is not phase or workflow.info().is_continue_as_new_suggested()
        )

    async def _handle(self) -> None:
        """Handling (or review): wait for a decision, then respond."""
        phase = self.state.phase
        await workflow.wait_condition(
            lambda: (
                self.state.decision is not None
                or self.state.phase is not phase
                or workflow.info().is_continue_as_new_suggested()
            )
        )
        if self.state.decision is not None and self.state.phase is phase:
            await self._respond(self.state.decision)

    async def _await_customer(self) -> None:
        """Wait for the reply to an information request: remind once, then go
        on with what we have. Internal clocks may pause meanwhile."""
        asked_at = self.state.awaiting_customer_since or workflow.now()
        reply_by = self._policy.wait_until(self._policy.information_timeout, asked_at)
        remind_at = self._policy.wait_until(self._policy.information_reminder, asked_at)
        pending = self.state.replies_pending
        answered = lambda: bool(pending) and not self._filing  # noqa: E731 (a message filed before is no answer)
        replied = await self._wait_until(answered, remind_at, "information reminder")
        if not replied and remind_at < reply_by:
            reminder = {"questions": self.state.open_questions, "reply_by": reply_by}
            await self._email_customer("information_reminder", reminder)
            replied = await self._wait_until(answered, reply_by, "information timeout")
        # Back where it was asked (runs started before INFORMATION_RETURNS_TO_ITS_PHASE: to handling, unjournaled).
        returns = self._paths.information_returns_to_its_phase
        back_to = (self.state.information_asked_in if returns else None) or Phase.HANDLING
        reply = pending.pop(0) if replied else None
        await self._record(entries.information_ended(reply, reply_by, back_to if returns else None))
        deadlines.end_pause(self.state, self._policy, workflow.now())
        self.state.information_asked_in = None
        self._deadlines_changed()
        self._move_to(back_to)

    async def _respond(self, decision: DecisionRecord) -> None:
        """Grant the compensation, send the argued response, record it. The
        response counts from when it went (RESPONSE_WHEN_SENT): after the
        email, or by post once an operator confirms the letter went."""
        self.state.responding = True  # commands that would change the answer are refused meanwhile
        number = len(self.state.decisions) + 1
        await self._grant_compensation(decision, number)
        now = workflow.now()
        letter = entries.response_letter(self.state, self._policy, decision, now)
        await self._email_customer("response", letter, step=f"response:{number}")
        confirmed = None
        if self._paths.response_when_sent:
            now = workflow.now()
            if not self.state.has_email:
                confirmed = await self._response_letter_confirmed()
                now = confirmed.sent_at or now
        self.state.decisions.append(decision)
        self.state.decision = None
        self.state.responded_at = responded_at = self.state.responded_at or now
        self._responded(decision, now)
        by = confirmed.confirmed_by if confirmed else None
        await self._record(entries.responded(self.state, decision, responded_at, by))
        self.state.responding = False
        self._move_to(Phase.SURVEY if decision.review else Phase.RESPONDED)

    async def _await_verdict(self) -> None:
        verdict_by = self._policy.wait_until(self._policy.verdict_wait, self.state.responded_at or workflow.now())
        s = self.state
        await self._wait_until(
            lambda: s.accepted_signal or s.contest_signal is not None or self.state.closure is not None,
            verdict_by,
            "customer's verdict",
        )
        if self.state.closure is not None:
            await self._finish()
        elif s.contest_signal is not None and not s.contested:
            s.contested = True
            s.customer_verdict = "contested"
            self._open_review()
            await self._record(entries.contested(s.contest_signal.reason))
            self._move_to(Phase.REVIEW)
        else:
            accepted = s.accepted_signal and not s.contested
            s.customer_verdict = s.customer_verdict or ("accepted" if accepted else None)
            await self._record(entries.verdict(accepted, s.customer_verdict))
            self._move_to(Phase.SURVEY)

    async def _survey(self) -> None:
        """Ask for satisfaction; remind once; close with or without an answer."""
        if self.state.has_email and self.state.closure is None:
            sent_at = workflow.now()
            answer_by = self._policy.wait_until(self._policy.survey_wait, sent_at)
            remind_at = self._policy.wait_until(self._policy.survey_reminder, sent_at)
            await self._email_customer("survey", {"answer_by": answer_by})
            done = lambda: self.state.survey is not None or self.state.closure is not None  # noqa: E731
            reminding = remind_at < answer_by
            if not await self._wait_until(done, remind_at, "survey reminder") and reminding and self.state.has_email:
                await self._email_customer("survey_reminder", {"answer_by": answer_by})
                await self._wait_until(done, answer_by, "survey closes")
        if self.state.survey is not None:
            await calls.record_survey(SurveyRecord(reference=self._ref, answer=self.state.survey), self._writes)
        await self._finish()

    async def _finish(self) -> None:
        """Closure: every clock stopped, the closing facts journaled."""
        now = workflow.now()
        self.state.closed_at = now
        deadlines.stop_all(self.state.deadlines, now)
        self._deadlines_changed()
        await self._record(entries.closed(self.state, self.state.closure, now))
        self._move_to(Phase.CLOSED)

    # --- what operators do (updates; commands.py carries them out) ------------

    @workflow.update(description="Confirm the suggested priority, or override it with a reason.")
    async def confirm_assessment(self, command: ConfirmAssessment) -> ComplaintStatus:
        async with self._lock:
            await self._confirm_assessment(command)
        return self.state.public()

    @confirm_assessment.validator
    def _check_confirm_assessment(self, command: ConfirmAssessment) -> None:
        rules.check_confirm_assessment(self.state, command, self._policy, self._paths.regulatory_clock)

    @workflow.update(description="Assign the complaint to a handler and team.")
    async def assign(self, command: Assignment) -> ComplaintStatus:
        async with self._lock:
            await self._assign(command)
        return self.state.public()

    @assign.validator
    def _check_assign(self, command: Assignment) -> None:
        rules.check_assign(self.state)

    @workflow.update(description="Plan a corrective or improvement action (owner, due date).")
    async def plan_action(self, action: PlannedAction) -> ComplaintStatus:
        async with self._lock:
            await self._plan_action(action)
        return self.state.public()

    @plan_action.validator
    def _check_plan_action(self, action: PlannedAction) -> None:
        rules.check_plan_action(self.state, action)

    @workflow.update(description="Add an internal note (never shown to the customer).")
    async def add_note(self, note: InternalNote) -> ComplaintStatus:
        async with self._lock:
            await self._record(Entry("internal_note", note.by.name, {"text": note.text}))
        return self.state.public()

    @add_note.validator
    def _check_add_note(self, note: InternalNote) -> None:
        rules.check_add_note(self.state)

    @workflow.update(description="Tell the customer where the complaint stands (emailed).")
    async def send_progress_update(self, update: ProgressUpdate) -> ComplaintStatus:
        await self._send_progress_update(update)
        return self.state.public()

    @send_progress_update.validator
    def _check_progress_update(self, update: ProgressUpdate) -> None:
        rules.check_progress_update(self.state)

    @workflow.update(description="Ask the customer for information; the complaint waits for the reply.")
    async def request_information(self, request: InformationRequest) -> ComplaintStatus:
        await self._request_information(request)
        return self.state.public()

    @request_information.validator
    def _check_request_information(self, request: InformationRequest) -> None:
        rules.check_request_information(self.state)

    @workflow.update(description="Extend the analysis: the customer is told why and the new date.")
    async def extend_analysis(self, extension: AnalysisExtension) -> ComplaintStatus:
        await self._extend_analysis(extension)
        return self.state.public()

    @extend_analysis.validator
    def _check_extend_analysis(self, extension: AnalysisExtension) -> None:
        rules.check_extend_analysis(self.state, extension, self._holding_max())

    @workflow.update(description="Decide: accepted, partially accepted or rejected, with a justification.")
    async def decide(self, decision: Decision) -> ComplaintStatus:
        await self._take_decision(decision, workflow.now())
        return self.state.public()

    @decide.validator
    def _check_decide(self, decision: Decision) -> None:
        rules.check_decide(self.state, self._policy, decision)

    @workflow.update(description="A manager approves (or refuses) the proposed compensation.")
    async def approve_compensation(self, verdict: ApprovalVerdict) -> ComplaintStatus:
        await self._approve_compensation(verdict)
        return self.state.public()

    @approve_compensation.validator
    def _check_approve_compensation(self, verdict: ApprovalVerdict) -> None:
        rules.check_approve_compensation(self.state, verdict)

    @workflow.update(
        description="An operator confirms the acknowledgement was sent by post "
        "(the complainant gave no email, or email keeps failing)."
    )
    async def confirm_postal_acknowledgement(self, letter: PostalLetter) -> ComplaintStatus:
        await self._acknowledge_by_post(letter)
        return self.state.public()

    @confirm_postal_acknowledgement.validator
    def _check_postal_acknowledgement(self, letter: PostalLetter) -> None:
        rules.check_postal_acknowledgement(self.state, self._ack, letter, workflow.now())

    @workflow.update(
        description="An operator confirms the response letter went by post (the complainant has no email)."
    )
    async def confirm_postal_response(self, letter: PostalLetter) -> ComplaintStatus:
        self.state.response_letter = letter.model_copy(update={"sent_at": letter.sent_at or workflow.now()})
        await workflow.wait_condition(lambda: not self.state.responding)
        return self.state.public()

    @confirm_postal_response.validator
    def _check_postal_response(self, letter: PostalLetter) -> None:
        rules.check_postal_response(self.state, letter, workflow.now())

    @workflow.update(description="Close the complaint after the response without waiting further.")
    async def close(self, closure: Closure) -> ComplaintStatus:
        """Answers once closed, or once the run continues as new (the closure
        carried over; waiting would deadlock: continue-as-new waits for handlers)."""
        self.state.closure = self.state.closure or closure  # a second close is answered as the first
        await workflow.wait_condition(lambda: self.state.phase is Phase.CLOSED or self._continuing)
        return self.state.public()

    @close.validator
    def _check_close(self, closure: Closure) -> None:
        rules.check_close(self.state)

    @workflow.update(description="Merge this complaint into another of the same customer (closed as merged).")
    async def merge_into(self, command: MergeInto) -> ComplaintStatus:
        await self._merge_into(command)
        return self.state.public()

    @merge_into.validator
    def _check_merge_into(self, command: MergeInto) -> None:
        rules.check_merge_into(self.state, command, self._paths.merges)

    @workflow.update(description="Take in a complaint merged into this one: its sending date, documents, messages.")
    async def absorb(self, absorption: Absorption) -> ComplaintStatus:
        await self._absorb(absorption)
        return self.state.public()

    @absorb.validator
    def _check_absorb(self, absorption: Absorption) -> None:
        rules.check_absorb(self.state, absorption, self._paths.merges)

    # --- what the complainant sends (signals) ---------------------------------

    @workflow.signal(description="The customer answers an information request (documents by id).")
    def customer_reply(self, reply: CustomerReply) -> None:
        if reply.message_id:
            if reply.message_id in self.state.reply_ids:
                return  # the same message delivered again
            self.state.reply_ids = [*self.state.reply_ids[-199:], reply.message_id]
        self.state.replies_pending.append(reply)

    @workflow.signal(description="The customer accepts the response.")
    def accept_response(self) -> None:
        if self._verdict_ignored():
            return
        self.state.accepted_signal = True

    @workflow.signal(description="The customer contests the response.")
    def contest_response(self, contest: Contest) -> None:
        if self._verdict_ignored():
            return
        self.state.contest_signal = self.state.contest_signal or contest

    @workflow.signal(description="The customer answers the satisfaction survey.")
    def survey_answer(self, answer: SurveyAnswer) -> None:
        if self.state.phase is not Phase.SURVEY and self._in_phase_only():
            return  # no survey has been sent
        if self.state.survey is None:
            self.state.survey = answer

    def _verdict_ignored(self) -> bool:
        """A verdict counts only on a response the customer has received."""
        return self.state.phase is not Phase.RESPONDED and self._in_phase_only()

    def _in_phase_only(self) -> bool:
        """IN_PHASE_PATCH, asked only by runs started before FEWER_EVENTS
        (a signal may come before the run asked, in its first workflow task)."""
        return fewer_events() or workflow.patched(IN_PHASE_PATCH)

    @workflow.query(description="Where the complaint stands: phase, priority, deadlines, SLA.")
    def status(self) -> ComplaintStatus:
        return self.state.public()

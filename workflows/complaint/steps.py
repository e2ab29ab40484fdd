"""What the complaint's run does, shared by its phases and its message
handlers: journal a step, email the customer, move to a phase, change a
deadline and fire its alerts, and carry out what an operator's command asks
(once its validator let it in). ComplaintWorkflow (workflow.py) inherits it
and sets the attributes in its `__init__`."""

import asyncio
import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.mail import AcknowledgementEmail, CustomerEmail
    from activities.register import Acknowledgement, ActionRecord, ComplaintChanges, RegisterEntry
    from complaints.assessment import Priority
    from complaints.complaint_status import DecisionRecord, Phase
    from complaints.operator_commands import (
        AnalysisExtension,
        ApprovalVerdict,
        Assignment,
        Closure,
        ConfirmAssessment,
        InformationRequest,
        PlannedAction,
        PostalAcknowledgement,
    )
    from complaints.policy import ComplaintPolicy
    from complaints.workflow_state import ComplaintStart, ComplaintState, DeadlineEvent
    from workflows.complaint import calls, deadlines, entries, rules, visibility
    from workflows.complaint.entries import Entry


class ComplaintSteps:
    _start: ComplaintStart
    _ref: str
    _policy: ComplaintPolicy
    state: ComplaintState
    _ack: Acknowledgement | None  # taken, until the register has it
    _close: Closure | None
    _lock: asyncio.Lock  # one command at a time past its first await
    _clock_version: int  # bumped on every deadline change: the watcher looks again
    _firing: bool  # an alert is being raised: continue-as-new waits for it
    _files_replies: bool  # patch: customer messages outside a request are journaled
    _changed_only: bool  # patch: one upsert of the changed search attributes per transition

    # --- operator commands ------------------------------------------------------

    async def _confirm_assessment(self, command: ConfirmAssessment) -> None:
        suggested = self.state.priority
        priority = command.priority or suggested
        assert priority is not None  # the validator's phases come after the assessment
        if command.category:
            self.state.category = command.category
        if priority is not suggested:
            self._reprioritise(priority)
        first = self.state.assessment_confirmed_by is None
        self.state.assessment_confirmed_by = command.by.name
        if first:
            self._meet("assessment", workflow.now())
        await self._record(
            entries.assessment_confirmed(self.state, command, suggested, priority, first, workflow.now())
        )
        if self.state.phase is Phase.ASSESSMENT:
            self._move_to(Phase.HANDLING)

    async def _assign(self, command: Assignment) -> None:
        self.state.handler, self.state.team = command.handler, command.team
        visibility.show_handler(command.handler)
        details = {"handler": command.handler, "team": command.team}
        await self._record(
            Entry("assigned", command.by.name, details, ComplaintChanges(handler=command.handler, team=command.team))
        )

    async def _plan_action(self, action: PlannedAction) -> None:
        self.state.actions.append(action.description)
        if action.root_cause:
            self.state.root_cause_category = action.root_cause.category
        await calls.record_action(ActionRecord(reference=self._ref, step_key=self._step_key("action"), action=action))

    async def _request_information(self, request: InformationRequest) -> None:
        now = workflow.now()
        self.state.open_questions = request.questions
        self.state.information_requests += 1
        reply_by = self._policy.information_timeout.after(now)
        await self._email_customer("information_request", {"questions": request.questions, "reply_by": reply_by})
        self.state.awaiting_customer_since = now
        if not self._files_replies:
            self.state.replies_pending.clear()
        self._deadlines_changed()
        self._move_to(Phase.AWAITING_CUSTOMER)

    async def _extend_analysis(self, extension: AnalysisExtension) -> None:
        response = self.state.deadlines["response"]
        deadlines.move(response, extension.new_due_at - response.paused_for, workflow.now())
        self.state.extensions += 1
        self._deadlines_changed()
        told = {"reason": extension.reason, "new_due_at": extension.new_due_at}
        await self._email_customer("analysis_extension", told)
        changes = ComplaintChanges(response_due_at=self.state.response_due_at)
        await self._record(Entry("analysis_extended", extension.by.name, told, changes, visible_to_customer=True))

    async def _decide(self, record: DecisionRecord) -> None:
        """Carried out at once, unless a manager must approve the compensation first."""
        details = {"outcome": record.outcome.value, "compensation": entries.compensation_values(record)}
        await self._record(Entry("review_decided" if record.review else "decided", record.decided_by, details))
        if not rules.needs_approval(record, self._policy):
            self.state.decision = record
            return
        self.state.proposal = record
        self.state.deadlines["approval"] = deadlines.approval(self._policy, record.decided_at)
        self._deadlines_changed()
        amount = {"amount": record.compensation.amount if record.compensation else 0}
        changes = ComplaintChanges(phase=Phase.AWAITING_APPROVAL)
        await self._record(Entry("approval_requested", record.decided_by, amount, changes))
        self._move_to(Phase.AWAITING_APPROVAL)

    async def _approve_compensation(self, verdict: ApprovalVerdict) -> None:
        proposal = self.state.proposal
        assert proposal is not None
        self.state.proposal = None
        self._meet("approval", workflow.now())
        back_to = Phase.REVIEW if proposal.review else Phase.HANDLING
        event = "compensation_approved" if verdict.approved else "compensation_refused"
        await self._record(Entry(event, verdict.by.name, {"comment": verdict.comment}, ComplaintChanges(phase=back_to)))
        self._move_to(back_to)
        if verdict.approved:
            self.state.decision = proposal.model_copy(update={"approved_by": verdict.by.name})

    # --- beside the phases ------------------------------------------------------

    async def _acknowledge_by_email(self) -> None:
        email = AcknowledgementEmail(reference=self._ref, response_due_at=self.state.response_due_at)
        sent_at = await calls.send_acknowledgement(email)
        if self._ack is None:
            self._ack = Acknowledgement(
                reference=self._ref,
                method="email",
                acknowledged_at=sent_at,
                response_due_at=self.state.response_due_at,
                actor="system",
            )

    async def _acknowledge_by_post(self, letter: PostalAcknowledgement) -> None:
        """The letter counts once the intake phase has recorded it."""
        self._ack = Acknowledgement(
            reference=self._ref,
            method="post",
            acknowledged_at=letter.sent_at or workflow.now(),
            response_due_at=self.state.response_due_at,
            actor=letter.confirmed_by,
        )
        await workflow.wait_condition(lambda: self.state.acknowledged_at is not None)

    async def _file_replies(self) -> None:
        """Journal what the customer writes outside an information request, so
        the handler sees it; during a request, the reply is the answer."""
        s = self.state
        while True:
            await workflow.wait_condition(lambda: bool(s.replies_pending) and s.phase is not Phase.AWAITING_CUSTOMER)
            reply = s.replies_pending.pop(0)
            s.messages_received += 1
            message = {"message": reply.message, "document_ids": reply.document_ids}
            await self._record(Entry("customer_message", "complainant", message, visible_to_customer=True))

    async def _continue_as_new(self) -> None:
        """Once no handler or alert is midway (continue-as-new would drop it), go on in a new run with the state."""
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._firing)
        # The same input (sending date and regime too), carrying the state over.
        workflow.continue_as_new(self._start.model_copy(update={"carried_over": self.state}))

    # --- deadlines -------------------------------------------------------------

    async def _watch_deadlines(self) -> None:
        """Fire each warning and breach once, at the time the clocks say."""
        while True:
            changed = functools.partial(self._clocks_changed_since, self._clock_version)
            paused = deadlines.paused(self.state, self._policy)
            event = deadlines.next_event(self.state.deadlines, self._policy.warning_fraction, paused)
            if event is None:
                await workflow.wait_condition(changed)
                continue
            if not await self._wait_until(changed, event.at, f"{event.deadline} {event.kind}"):
                await self._fire(event)

    def _clocks_changed_since(self, version: int) -> bool:
        return self._clock_version != version

    async def _fire(self, event: DeadlineEvent) -> None:
        self._firing = True
        raised = deadlines.raise_alert(self.state, event)
        self._deadlines_changed()
        visibility.count_alert(event)
        await calls.record_alert(raised.alert)
        await calls.send_alert(raised.alert)
        if raised.delay_notice:
            notice = {"deadline_label": "de traitement", "response_due_at": self.state.regulatory_due_at}
            await self._email_customer("delay_notice", notice, step=f"delay:{raised.alert.key}")
        self._firing = False

    def _reprioritise(self, priority: Priority) -> None:
        self.state.priority = priority
        deadlines.reprioritise(self.state, self._policy, priority, workflow.now())
        self._deadlines_changed()

    def _meet(self, name: str, at: datetime) -> None:
        if deadlines.meet(self.state.deadlines, name, at):
            self._deadlines_changed()

    def _deadlines_changed(self) -> None:
        self._clock_version += 1
        deadlines.sync_response_due(self.state)
        visibility.show_deadlines(self.state, changed_only=self._changed_only)

    # --- journal, email, phases ----------------------------------------------------

    async def _wait_until(self, done: Callable[[], bool], at: datetime, summary: str) -> bool:
        """Wait for `done()` until `at`; False when the time came first."""
        remaining = at - workflow.now()
        if remaining <= timedelta(0):
            return bool(done())
        try:
            await workflow.wait_condition(done, timeout=remaining, timeout_summary=summary)
            return True
        except TimeoutError:
            return False

    def _step_key(self, event: str) -> str:
        """The next step's idempotency key (workflow id + step number)."""
        self.state.steps += 1
        return f"{self._ref}:{event}:{self.state.steps}"

    async def _record(self, entry: Entry) -> None:
        await calls.record(
            RegisterEntry(
                reference=self._ref,
                event=entry.event,
                actor=entry.actor,
                step_key=self._step_key(entry.event),
                details=entry.details,
                changes=entry.changes,
                visible_to_customer=entry.visible_to_customer,
            )
        )

    async def _email_customer(self, template: str, values: dict[str, Any], step: str | None = None) -> None:
        """`step`: the email's own idempotency key; by default the next step number."""
        key = f"{self._ref}:{step}" if step else self._step_key(template)
        await calls.email_customer(CustomerEmail(reference=self._ref, template=template, step_key=key, values=values))

    def _move_to(self, phase: Phase, waiting_for: str | None = None) -> None:
        self.state.phase = phase
        self.state.waiting_for = waiting_for or visibility.WAITING_FOR.get(phase, "")
        visibility.show_phase(self.state, changed_only=self._changed_only)

"""What operators' commands do once their validators let them in (the
handlers in workflow.py call these).

Two commands delivered in the same activation both pass their validators
before either handler runs past its first await: a command that changes what
the complaint does next claims it before its first await, or checks again
(`refuse_unless`) once it holds the lock and claims it there. The lock is
never held across an email (EMAIL_OUTSIDE_THE_LOCK): a failing mailbox does
not block every other command."""

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.merging import MergeCopy
    from activities.register import ActionRecord, ComplaintChanges
    from complaints.complaint_status import DecisionRecord, Phase
    from complaints.operator_commands import (
        Absorption,
        AnalysisExtension,
        ApprovalVerdict,
        Assignment,
        ConfirmAssessment,
        Decision,
        InformationRequest,
        MergeInto,
        PlannedAction,
        ProgressUpdate,
    )
    from workflows.complaint import calls, deadlines, entries, rules, visibility
    from workflows.complaint.entries import Entry
    from workflows.complaint.patches import REGIME_BY_CATEGORY
    from workflows.complaint.steps import ComplaintSteps, refuse_unless


class CommandSteps(ComplaintSteps):
    _continuing: bool  # the run waits to continue as new (background.py)

    async def _confirm_assessment(self, command: ConfirmAssessment) -> None:
        suggested = self.state.priority
        priority = command.priority or suggested
        if priority is None:  # the validator's phases come after the assessment
            raise ApplicationError("the complaint is not assessed yet", type="CommandRefused", non_retryable=True)
        recategorised = bool(command.category) and command.category != self.state.category
        if command.category:
            self.state.category = command.category
        if priority is not suggested:
            self._reprioritise(priority)
        was = self.state.regime
        if command.regime and command.regime != was:
            deadlines.change_regime(self.state, self._start, command.regime, workflow.now())
            self._deadlines_changed()
        first = self.state.assessment_confirmed_by is None
        self.state.assessment_confirmed_by = command.by.name
        if first:
            self._meet("assessment", workflow.now())
        await self._record(
            entries.assessment_confirmed(self.state, command, suggested, priority, first, workflow.now())
        )
        if command.regime and command.regime != was:
            await self._record(entries.regime_changed(self.state, command.by.name, command.reason, was))
        elif recategorised and not command.regime:
            await self._regime_of_category(command.by.name)
        if self.state.phase is Phase.ASSESSMENT:
            self._move_to(Phase.HANDLING)

    async def _regime_of_category(self, by: str) -> None:
        """REGIME_BY_CATEGORY: the regime COMPLAINTS_REGIMES gives the complaint's
        category, now that it is known, moves its deadlines as a handler's change would."""
        category = self.state.category
        regime = self._policy.regime_rules.match(category=category, product=None, channel=None)
        if regime is None or regime == self.state.regime or "regulatory" not in self.state.deadlines:
            return
        if not workflow.patched(REGIME_BY_CATEGORY):
            return
        was = self.state.regime
        deadlines.change_regime(self.state, self._start, regime, workflow.now())
        self._deadlines_changed()
        await self._record(entries.regime_changed(self.state, by, f"catégorie {category}", was))

    async def _assign(self, command: Assignment) -> None:
        self.state.handler, self.state.team = command.handler, command.team
        visibility.show_handler(command.handler, self._held)
        details = {"handler": command.handler, "team": command.team}
        await self._record(
            Entry("assigned", command.by.name, details, ComplaintChanges(handler=command.handler, team=command.team))
        )

    async def _plan_action(self, action: PlannedAction) -> None:
        self.state.actions.append(action.description)
        if action.root_cause:
            self.state.root_cause_category = action.root_cause.category
        await calls.record_action(
            ActionRecord(reference=self._ref, step_key=self._step_key("action"), action=action), self._writes
        )

    async def _send_progress_update(self, update: ProgressUpdate) -> None:
        if self._paths.email_outside_the_lock:
            await self._email_customer("progress_update", {"message": update.message})
            return
        async with self._lock:
            await self._email_customer("progress_update", {"message": update.message})

    # --- an information request --------------------------------------------------

    async def _request_information(self, request: InformationRequest) -> None:
        if not self._paths.email_outside_the_lock:
            async with self._lock:
                await self._request_information_as_before(request)
            return
        async with self._lock:
            refuse_unless(rules.check_request_information, self.state)
            letter = self._ask(request)
            if self._paths.information_returns_to_its_phase:
                await self._record(entries.information_requested(request.by.name, letter))
        await self._email_customer("information_request", letter)

    def _ask(self, request: InformationRequest) -> dict[str, Any]:
        """Claim the wait for the customer at once (the clocks pause from now);
        returns the letter's values."""
        now = workflow.now()
        s = self.state
        s.open_questions = request.questions
        s.information_requests += 1
        s.information_asked_in = s.phase
        s.awaiting_customer_since = now
        self._deadlines_changed()
        self._move_to(Phase.AWAITING_CUSTOMER)
        reply_by = self._policy.wait_until(self._policy.information_timeout, now)
        return {"questions": request.questions, "reply_by": reply_by}

    async def _request_information_as_before(self, request: InformationRequest) -> None:
        now = workflow.now()
        self.state.open_questions = request.questions
        self.state.information_requests += 1
        reply_by = self._policy.wait_until(self._policy.information_timeout, now)
        await self._email_customer("information_request", {"questions": request.questions, "reply_by": reply_by})
        self.state.awaiting_customer_since = now
        if not self._files_replies:
            self.state.replies_pending.clear()
        self._deadlines_changed()
        self._move_to(Phase.AWAITING_CUSTOMER)

    # --- an extension ----------------------------------------------------------------

    async def _extend_analysis(self, extension: AnalysisExtension) -> None:
        if not self._paths.email_outside_the_lock:
            async with self._lock:
                await self._extend_analysis_as_before(extension)
            return
        async with self._lock:
            refuse_unless(rules.check_extend_analysis, self.state, extension, self._holding_max())  # date in force
            told = self._extend(extension)
            regulatory = self.state.regulatory_due_at if self._holding_max() else None  # moved by a holding reply
            changes = ComplaintChanges(response_due_at=self.state.response_due_at, regulatory_due_at=regulatory)
            await self._record(Entry("analysis_extended", extension.by.name, told, changes, visible_to_customer=True))
        await self._email_customer("analysis_extension", told)

    def _extend(self, extension: AnalysisExtension) -> dict[str, Any]:
        """Move the response date at once; returns what the customer is told."""
        maximum = self._holding_max()
        holding = bool(maximum) and extension.new_due_at > self.state.regulatory_due_at
        if maximum and holding:
            deadlines.holding_reply(self.state, maximum, workflow.now())
        if self._paths.extension_as_told:
            deadlines.extend(self.state, self._policy, extension.new_due_at, workflow.now())
        else:
            response = self.state.deadlines["response"]
            deadlines.move(response, extension.new_due_at - response.paused_for, workflow.now())
        self.state.extensions += 1
        self._deadlines_changed()
        told: dict[str, Any] = {"reason": extension.reason, "new_due_at": extension.new_due_at}
        if holding:  # past the regime's answer date: a holding reply (L.133-45)
            told["holding_reply"] = True
        return told

    async def _extend_analysis_as_before(self, extension: AnalysisExtension) -> None:
        told = self._extend(extension)
        await self._email_customer("analysis_extension", told)
        changes = ComplaintChanges(response_due_at=self.state.response_due_at)
        await self._record(Entry("analysis_extended", extension.by.name, told, changes, visible_to_customer=True))

    # --- a decision and its approval ---------------------------------------------------

    async def _take_decision(self, decision: Decision, now: datetime) -> None:
        """The decision is claimed before the first await: a second one
        validated meanwhile is refused here, never journaled."""
        record = DecisionRecord(
            outcome=decision.outcome,
            justification=decision.justification,
            compensation=decision.compensation,
            decided_by=decision.by.name,
            decided_at=now,
            review=self.state.phase is Phase.REVIEW,
        )
        if not self._paths.decision_claimed:
            async with self._lock:
                await self._decide(record)
            return
        refuse_unless(rules.check_decide, self.state, self._policy, decision)
        self.state.deciding = True
        try:
            async with self._lock:
                refuse_unless(rules.require_phase, self.state, "decide", rules.DECIDING)
                await self._decide(record)
        finally:
            self.state.deciding = False

    async def _decide(self, record: DecisionRecord) -> None:
        """Carried out at once, unless a manager must approve the compensation first."""
        details = {"outcome": record.outcome.value, "compensation": entries.compensation_values(record)}
        await self._record(Entry("review_decided" if record.review else "decided", record.decided_by, details))
        if not rules.needs_approval(record, self._policy):
            self.state.decision = record
            return
        self.state.proposal = record
        self.state.deadlines["approval"] = deadlines.approval(
            self._policy, record.decided_at, self.state.deadlines.get("approval")
        )
        self._deadlines_changed()
        amount = {"amount": record.compensation.amount if record.compensation else 0}
        changes = ComplaintChanges(phase=Phase.AWAITING_APPROVAL)
        await self._record(Entry("approval_requested", record.decided_by, amount, changes))
        self._move_to(Phase.AWAITING_APPROVAL)

    async def _approve_compensation(self, verdict: ApprovalVerdict) -> None:
        """The proposal is taken as soon as the lock is held: a second verdict
        (validated in the same activation) finds none and is refused."""
        async with self._lock:
            refuse_unless(rules.check_approve_compensation, self.state, verdict)
            proposal = self.state.proposal
            if proposal is None:  # refused just above; says so to the type checker
                return
            self.state.proposal = None
            self._meet("approval", workflow.now())
            back_to = Phase.REVIEW if proposal.review else Phase.HANDLING
            event = "compensation_approved" if verdict.approved else "compensation_refused"
            comment = {"comment": verdict.comment}
            await self._record(Entry(event, verdict.by.name, comment, ComplaintChanges(phase=back_to)))
            self._move_to(back_to)
            if verdict.approved:
                self.state.decision = proposal.model_copy(update={"approved_by": verdict.by.name})

    # --- a merge (MERGES) ------------------------------------------------------------------

    async def _merge_into(self, command: MergeInto) -> None:
        """Claimed at once: the run stops its phase and closes as merged
        (ComplaintWorkflow._close_merged), with no answer or survey to the
        customer; answers once closed, or once the run continues as new (the
        claim carried over, closed by the next run)."""
        if self.state.merged_into is None:
            self.state.merged_into, self.state.merged_by = command.into, command.by.name
        await workflow.wait_condition(lambda: self.state.phase is Phase.CLOSED or self._continuing)

    async def _absorb(self, absorption: Absorption) -> None:
        """The survivor takes the absorbed complaint in, once: the earlier
        sending date moves its legal clocks, its documents and messages are
        copied here, and the customer is told once that both are handled together."""
        if absorption.absorbed in self.state.absorbed:
            return
        self.state.absorbed.append(absorption.absorbed)
        async with self._lock:
            if absorption.absorbed_sent_at < (self.state.sent_at or self.state.received_at):
                self._start = self._start.model_copy(update={"sent_at": absorption.absorbed_sent_at})
                deadlines.earlier_sending(self.state, self._policy, absorption.absorbed_sent_at)
                self._deadlines_changed()
            copied = await calls.copy_merged(MergeCopy(absorbed=absorption.absorbed, survivor=self._ref))
            self.state.messages_received += copied.messages
            await self._record(entries.absorbed(self.state, absorption, copied.documents, copied.messages))
        told = {"absorbed": absorption.absorbed, "regulatory_due_at": self.state.regulatory_due_at}
        await self._email_customer("merged", told, step=f"merged:{absorption.absorbed}")

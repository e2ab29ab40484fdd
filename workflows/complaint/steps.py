"""What the complaint's run does, shared by its phases, its message handlers
and what runs beside them: journal a step, email the customer (or post the
letter), move to a phase, change a deadline, acknowledge. What operators'
commands do is in commands.py; the deadline watcher, alert deliveries, the
filer of customer messages and continue-as-new in background.py.
ComplaintWorkflow (workflow.py) inherits both and sets the attributes in its
`__init__`."""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.compensation import CompensationGrant
    from activities.mail import AcknowledgementEmail, CustomerEmail
    from activities.register import Acknowledgement, RegisterEntry
    from complaints.alerts import EmailRefusalAlert
    from complaints.assessment import Priority
    from complaints.complaint_status import DecisionRecord, Phase
    from complaints.operator_commands import Outcome, PostalLetter
    from complaints.policy import ComplaintPolicy
    from complaints.workflow_state import ComplaintStart, ComplaintState
    from workflows.complaint import calls, deadlines, visibility
    from workflows.complaint.entries import Entry
    from workflows.complaint.patches import EMAIL_REFUSAL_ALERTED, Paths

# The type of the ApplicationError a customer email raises when the address refuses mail for good.
EMAIL_REFUSED = "EmailRefused"
# Letters that matter enough to go by post when the address refuses them (not the survey).
POSTED_WHEN_REFUSED = frozenset(
    {
        "progress_update",
        "information_request",
        "information_reminder",
        "analysis_extension",
        "response",
        "delay_notice",
        "merged",
    }
)


def refuse_unless(check: Callable[..., None], *args: Any) -> None:
    """Run a validator's rule inside a handler: a refusal fails the update
    (an ApplicationError), never the workflow task (as a ValueError would)."""
    try:
        check(*args)
    except ValueError as error:
        raise ApplicationError(str(error), type="CommandRefused", non_retryable=True) from None


class ComplaintSteps:
    _start: ComplaintStart
    _ref: str
    _policy: ComplaintPolicy
    state: ComplaintState
    _paths: Paths  # the patches this run takes (patches.py)
    _ack: Acknowledgement | None  # taken, until the register has it
    _lock: asyncio.Lock  # one command at a time past its first await (never across an email: Paths)
    _clock_version: int  # bumped on every deadline change: the watcher looks again
    _files_replies: bool  # patch: customer messages outside a request are journaled
    _changed_only: bool  # patch: one upsert of the changed search attributes per transition
    _writes: calls.LocalWrites | None  # FEWER_EVENTS: register writes as local activities
    _held: visibility.HeldUpdates | None  # FEWER_EVENTS: search attributes upserted once per workflow task

    async def _grant_compensation(self, decision: DecisionRecord, number: int) -> None:
        """What the `number`th decision grants (a rejection grants nothing)."""
        if decision.compensation and decision.outcome is not Outcome.REJECTED:
            visibility.record_compensation(decision.compensation)
            grant = CompensationGrant(
                reference=self._ref,
                key=f"{self._ref}:compensation:{number}",
                compensation=decision.compensation,
                proposed_by=decision.decided_by,
                approved_by=decision.approved_by,
            )
            await calls.grant_compensation(grant, self._writes)

    # --- letters an operator confirms ----------------------------------------------

    async def _acknowledge_by_email(self) -> None:
        email = AcknowledgementEmail(reference=self._ref, response_due_at=self.state.response_due_at)
        try:
            sent_at = await calls.send_acknowledgement(email)
        except ActivityError as error:
            if not calls.failed_with(error, EMAIL_REFUSED):
                raise
            refusal = await self._email_refused("acknowledgement", error)
            self._move_to(Phase.INTAKE, visibility.waiting_for_acknowledgement(False))
            await self._alert_refusal(refusal)
            return  # an operator confirms the letter (confirm_postal_acknowledgement)
        if self._ack is None:
            self._ack = Acknowledgement(
                reference=self._ref,
                method="email",
                acknowledged_at=sent_at,
                response_due_at=self.state.response_due_at,
                actor="system",
            )

    async def _acknowledge_by_post(self, letter: PostalLetter) -> None:
        """The letter counts once the intake phase has recorded it."""
        self._ack = Acknowledgement(
            reference=self._ref,
            method="post",
            acknowledged_at=letter.sent_at or workflow.now(),
            response_due_at=self.state.response_due_at,
            actor=letter.confirmed_by,
        )
        await workflow.wait_condition(lambda: self.state.acknowledged_at is not None)

    async def _response_letter_confirmed(self) -> PostalLetter:
        """The response went by post: it counts once an operator confirms the
        letter went (confirm_postal_response), like the postal acknowledgement."""
        s = self.state
        s.response_letter_awaited = True
        self._move_to(s.phase, visibility.WAITING_FOR_RESPONSE_LETTER)
        await workflow.wait_condition(lambda: s.response_letter is not None)
        letter = s.response_letter or PostalLetter(confirmed_by="system")
        s.response_letter_awaited, s.response_letter = False, None
        return letter

    # --- deadlines -------------------------------------------------------------

    def _reprioritise(self, priority: Priority) -> None:
        self.state.priority = priority
        deadlines.reprioritise(self.state, self._policy, priority, workflow.now())
        self._deadlines_changed()

    def _start_regulatory_clock(self, start: ComplaintStart) -> None:
        """REGULATORY_CLOCK, in a run started after it (a continued run carries its clocks over)."""
        if self._paths.regulatory_clock and start.carried_over is None:
            deadlines.start_regulatory(self.state, start)
            self._deadlines_changed()

    def _holding_max(self) -> datetime | None:
        """The regime's holding-reply maximum (REGULATORY_CLOCK), where it has one."""
        if not self._paths.regulatory_clock:
            return None
        s = self._start
        return self._policy.holding_reply_max(self.state.regime or s.regime, s.sent_at, s.received_at)

    def _responded(self, decision: DecisionRecord, at: datetime) -> None:
        """The response went: its clock, the regulatory one, and a review's, are met."""
        self._meet("response", at)
        self._meet("regulatory", at)
        if decision.review:
            self._meet("review", at)

    def _open_review(self) -> None:
        """A contested response is reviewed within the policy's review deadline (REGULATORY_CLOCK)."""
        if self._paths.regulatory_clock:
            self.state.deadlines["review"] = deadlines.review(self._policy, workflow.now())
            deadlines.reopen_regulatory(self.state.deadlines)
            self._deadlines_changed()

    def _meet(self, name: str, at: datetime) -> None:
        if deadlines.meet(self.state.deadlines, name, at):
            self._deadlines_changed()

    def _deadlines_changed(self) -> None:
        self._clock_version += 1
        deadlines.sync_response_due(self.state)
        visibility.show_deadlines(self.state, changed_only=self._changed_only, held=self._held)

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
            ),
            self._writes,
        )

    async def _email_customer(self, template: str, values: dict[str, Any], step: str | None = None) -> datetime | None:
        """`step`: the email's own idempotency key; by default the next step
        number. Returns when the email went; None when the letter went by post.
        An address that refuses mail for good is journaled, and this letter and
        every later one goes by post."""
        key = f"{self._ref}:{step}" if step else self._step_key(template)
        email = CustomerEmail(
            reference=self._ref, template=template, step_key=key, values=values, by_post=not self.state.has_email
        )
        try:
            return await calls.email_customer(email)
        except ActivityError as error:
            if not calls.failed_with(error, EMAIL_REFUSED):
                raise
            refusal = await self._email_refused(template, error)
        if template in POSTED_WHEN_REFUSED:
            await calls.email_customer(email.model_copy(update={"step_key": f"{key}:post", "by_post": True}))
        await self._alert_refusal(refusal)  # after the letter: operations' alert never holds it up
        return None

    async def _email_refused(self, template: str, error: ActivityError) -> EmailRefusalAlert:
        """The complainant's address refuses mail for good: on to the postal path."""
        self.state.has_email = False
        details = {"template": template, "reason": calls.reason(error), "then": "by post"}
        await self._record(Entry("email_refused", "system", details))
        return EmailRefusalAlert(
            reference=self._ref, template=template, reason=details["reason"], step=self.state.steps
        )

    async def _alert_refusal(self, alert: EmailRefusalAlert) -> None:
        """Operations are told the letters go by post now (EMAIL_REFUSAL_ALERTED);
        an alert no sink takes is journaled, never retried for ever."""
        if not workflow.patched(EMAIL_REFUSAL_ALERTED):
            return
        try:
            await calls.alert_email_refused(alert)
        except ActivityError as error:
            details = {
                "alert": alert.key,
                "reason": calls.reason(error),
                "retried": not calls.failed_with(error, calls.ALERT_UNDELIVERABLE),
            }
            await self._record(Entry("alert_undeliverable", "system", details))

    def _move_to(self, phase: Phase, waiting_for: str | None = None) -> None:
        self.state.phase = phase
        self.state.waiting_for = waiting_for or visibility.WAITING_FOR.get(phase, "")
        visibility.show_phase(self.state, changed_only=self._changed_only, held=self._held)

"""ComplaintWorkflow: one durable run per complaint, id = its reference.

Phase 1 (intake): record, acknowledge within the deadline by email or by a
confirmed letter, and raise an SLA breach if nobody acknowledged in time."""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.mail import MailActivities
    from activities.register import RegisterActivities
    from complaints import search_attributes as attrs
    from complaints.lifecycle import (
        Acknowledgement,
        AcknowledgementEmail,
        ComplaintStart,
        ComplaintStatus,
        DeadlineBreach,
        IntakeRecord,
        Phase,
        PostalAcknowledgement,
        SlaStatus,
    )

REGISTER_TIMEOUT = timedelta(seconds=30)
EMAIL_TIMEOUT = timedelta(seconds=15)  # above the SMTP client's own timeout
# Email keeps being retried until it goes through; the deadline timer, not the
# retry count, decides when people must be told.
EMAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
)


@workflow.defn
class ComplaintWorkflow:
    @workflow.init
    def __init__(self, start: ComplaintStart) -> None:
        self._start = start
        policy = start.policy
        self._status = ComplaintStatus(
            reference=start.reference,
            phase=Phase.RECEIVED,
            channel=start.channel,
            received_at=start.received_at,
            ack_due_at=policy.acknowledgement_due(start.received_at),
            response_due_at=policy.response_due(start.received_at),
        )
        self._ack: Acknowledgement | None = None

    @workflow.run
    async def run(self, start: ComplaintStart) -> None:
        facts = await workflow.execute_activity_method(
            RegisterActivities.record_intake,
            IntakeRecord(reference=start.reference, ack_due_at=self._status.ack_due_at),
            start_to_close_timeout=REGISTER_TIMEOUT,
            summary="record the complaint in the register",
        )
        awaited = (
            "the acknowledgement email"
            if facts.has_email
            else "an operator to confirm the acknowledgement letter"
        )
        self._move_to(Phase.INTAKE, awaited, self._status.ack_due_at)
        emailing = asyncio.create_task(self._acknowledge_by_email()) if facts.has_email else None
        await self._await_acknowledgement()
        if emailing and not emailing.done():
            emailing.cancel()  # acknowledged by post while email kept failing
        await self._record_acknowledgement()
        # The assessment, handling and response phases continue from here.
        await workflow.wait_condition(lambda: False)

    @workflow.query(description="Where the complaint stands: phase, deadlines, SLA status.")
    def status(self) -> ComplaintStatus:
        return self._status

    @workflow.update(
        description="An operator confirms the acknowledgement was sent by post "
        "(the complainant gave no email, or email keeps failing)."
    )
    async def confirm_postal_acknowledgement(self, letter: PostalAcknowledgement) -> ComplaintStatus:
        self._ack = Acknowledgement(
            reference=self._start.reference,
            method="post",
            acknowledged_at=letter.sent_at or workflow.now(),
            response_due_at=self._status.response_due_at,
            actor=letter.confirmed_by,
        )
        await workflow.wait_condition(lambda: self._status.phase is Phase.ACKNOWLEDGED)
        return self._status

    @confirm_postal_acknowledgement.validator
    def _check_postal_acknowledgement(self, letter: PostalAcknowledgement) -> None:
        if self._ack is not None:
            raise ValueError(
                f"{self._start.reference} is already acknowledged "
                f"({self._ack.method}, {self._ack.acknowledged_at:%Y-%m-%d %H:%M} UTC)"
            )
        if letter.sent_at and letter.sent_at < self._start.received_at:
            raise ValueError("the letter cannot have been sent before the complaint was received")
        if letter.sent_at and letter.sent_at > workflow.now():
            raise ValueError("the letter's sending date is in the future")

    async def _acknowledge_by_email(self) -> None:
        sent_at = await workflow.execute_activity_method(
            MailActivities.send_acknowledgement,
            AcknowledgementEmail(
                reference=self._start.reference, response_due_at=self._status.response_due_at
            ),
            start_to_close_timeout=EMAIL_TIMEOUT,
            retry_policy=EMAIL_RETRY,
            summary="email the acknowledgement to the complainant",
        )
        if self._ack is None:
            self._ack = Acknowledgement(
                reference=self._start.reference,
                method="email",
                acknowledged_at=sent_at,
                response_due_at=self._status.response_due_at,
                actor="system",
            )

    async def _await_acknowledgement(self) -> None:
        """Wait for the acknowledgement; past its deadline, raise the breach
        once and keep waiting."""
        remaining = self._status.ack_due_at - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(
                    lambda: self._ack is not None,
                    timeout=remaining,
                    timeout_summary="acknowledgement deadline",
                )
            except asyncio.TimeoutError:
                pass
        if self._ack is None:
            await self._breach("acknowledgement", self._status.ack_due_at)
            await workflow.wait_condition(lambda: self._ack is not None)

    async def _breach(self, deadline: str, due_at: datetime) -> None:
        self._status.sla_status = SlaStatus.BREACHED
        self._status.breaches.append(deadline)
        workflow.upsert_search_attributes([attrs.SLA_STATUS.value_set(SlaStatus.BREACHED.value)])
        breach = DeadlineBreach(reference=self._start.reference, deadline=deadline, due_at=due_at)
        await workflow.execute_activity_method(
            RegisterActivities.record_breach,
            breach,
            start_to_close_timeout=REGISTER_TIMEOUT,
            summary=f"record the {deadline} deadline breach",
        )
        await workflow.execute_activity_method(
            MailActivities.send_breach_alert,
            breach,
            start_to_close_timeout=EMAIL_TIMEOUT,
            retry_policy=EMAIL_RETRY,
            summary=f"alert operations: {deadline} deadline passed",
        )

    async def _record_acknowledgement(self) -> None:
        assert self._ack is not None
        await workflow.execute_activity_method(
            RegisterActivities.record_acknowledgement,
            self._ack,
            start_to_close_timeout=REGISTER_TIMEOUT,
            summary=f"record the acknowledgement ({self._ack.method})",
        )
        self._status.acknowledged_at = self._ack.acknowledged_at
        self._status.ack_method = self._ack.method
        self._move_to(Phase.ACKNOWLEDGED, "the assessment", self._status.response_due_at)

    def _move_to(self, phase: Phase, waiting_for: str, next_deadline: datetime) -> None:
        self._status.phase = phase
        self._status.waiting_for = waiting_for
        workflow.upsert_search_attributes(
            [attrs.PHASE.value_set(phase.value), attrs.NEXT_DEADLINE.value_set(next_deadline)]
        )
        workflow.set_current_details(
            f"**{phase.value}** — waiting for {waiting_for}; next deadline {next_deadline:%Y-%m-%d %H:%M} UTC"
        )

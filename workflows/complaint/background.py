"""What runs beside the phases of a complaint's run: the deadline watcher and
the delivery of the alerts it raises, the filer of customer messages, and
continue-as-new once nothing that must not be lost is midway.

Alerts never hold up the watcher (ALERTS_BESIDE_THE_WATCHER): each raised
alert is delivered by a task of its own — recorded, then the customer's delay
notice and operations' alert side by side — and an alert no sink takes is
journaled ("alert_undeliverable") instead of retried for ever. Deliveries
still under way when the run continues as new are carried over in the state
and finished by the next run."""

import asyncio
import contextlib
import functools
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from complaints.complaint_status import Phase
    from complaints.workflow_state import AlertDelivery, DeadlineEvent
    from workflows.complaint import calls, deadlines, visibility
    from workflows.complaint.entries import Entry
    from workflows.complaint.patches import ALERTS_RECORDED_LOCALLY
    from workflows.complaint.steps import ComplaintSteps

ALERT_UNDELIVERABLE = "AlertUndeliverable"  # the type of the activity's error when no sink can take the alert
# How long continue-as-new waits for alerts being delivered before carrying them over.
DELIVERIES_GRACE = timedelta(minutes=1)


class BackgroundSteps(ComplaintSteps):
    _firing: bool  # as runs started before ALERTS_BESIDE_THE_WATCHER: an alert is being raised
    _filing: bool  # a customer message is being journaled: continue-as-new waits for it
    _continuing: bool  # the run waits to continue as new: a close answers without waiting for closure
    _delivering: dict[str, asyncio.Task[None]]  # this run's delivery tasks, by alert key

    # --- deadlines -------------------------------------------------------------

    def _next_event(self) -> DeadlineEvent | None:
        return deadlines.next_event(
            self.state.deadlines,
            self._policy.warning_fraction,
            deadlines.paused(self.state, self._policy),
            whole_pause=self._paths.warning_moves_with_pauses,
            running=self.state.running_through_pause,
        )

    async def _watch_deadlines(self) -> None:
        """Fire each warning and breach once, at the time the clocks say."""
        while True:
            changed = functools.partial(self._clocks_changed_since, self._clock_version)
            event = self._next_event()
            if event is None:
                await workflow.wait_condition(changed)
                continue
            if not await self._wait_until(changed, event.at, f"{event.deadline} {event.kind}"):
                await self._fire(event)

    def _clocks_changed_since(self, version: int) -> bool:
        return self._clock_version != version

    async def _watch_nearest_deadline(self) -> None:
        """FEWER_EVENTS: as _watch_deadlines, with one timer for the nearest
        warning or breach, kept while that stays the nearest (a change of
        another clock restarts no timer), and the clocks looked at again once
        the workflow task's register writes are done (one restart a transition)."""
        timer: asyncio.Task[None] | None = None
        timed = due = None
        try:
            while True:
                version, event = self._clock_version, self._next_event()
                fired, due = due, None  # the event whose timer fired, if it is still the nearest: due now
                if event is not None and (event == fired or event.at <= workflow.now()):
                    await self._fire(event)
                    continue
                if event != timed:
                    if timer is not None:
                        timer.cancel()
                    timer, timed = self._timer_for(event), event
                if await self._timer_or_clocks(timer, version):
                    timer, timed, due = None, None, timed
        finally:
            if timer is not None:
                timer.cancel()

    async def _timer_or_clocks(self, timer: "asyncio.Task[None] | None", version: int) -> bool:
        """Until the timer fires (True) or the clocks changed since `version`
        and the register writes are done (False)."""
        await workflow.wait_condition(
            lambda: (
                (timer is not None and timer.done()) or (self._clocks_changed_since(version) and self._writes_settled())
            )
        )
        return timer is not None and timer.done()

    def _timer_for(self, event: DeadlineEvent | None) -> "asyncio.Task[None] | None":
        if event is None:
            return None
        summary = f"{event.deadline} {event.kind}"
        return asyncio.create_task(workflow.sleep(event.at - workflow.now(), summary=summary))

    def _writes_settled(self) -> bool:
        return self._writes is None or self._writes.settled

    # --- search attributes (FEWER_EVENTS) ---------------------------------------

    async def _show_held_updates(self) -> None:
        """Upsert what the run's moves held, once no register write is in flight."""
        while True:
            await workflow.wait_condition(
                lambda: self._held is not None and self._held.waiting and self._writes_settled()
            )
            self._upsert_held()

    def _upsert_held(self) -> None:
        if self._held is not None:
            self._held.upsert()

    async def _fire(self, event: DeadlineEvent) -> None:
        raised = deadlines.raise_alert(self.state, event)
        self._deadlines_changed()
        visibility.count_alert(event)
        if self._paths.alerts_beside_the_watcher:
            delivery = AlertDelivery(alert=raised.alert, notice_due=raised.delay_notice)
            self.state.deliveries.append(delivery)
            self._start_delivery(delivery)
            return
        self._firing = True  # as recorded before: in sequence, retried for ever
        await calls.record_alert(raised.alert)
        # A refusal for good (AlertUndeliverable) must not end the watcher: it is
        # recorded by the activity, and the delay notice still goes.
        with contextlib.suppress(ActivityError):
            await calls.send_alert(raised.alert)
        if raised.delay_notice:
            await self._email_customer(
                "delay_notice", self._delay_notice(event.deadline), step=f"delay:{raised.alert.key}"
            )
        self._firing = False

    # --- alert deliveries ------------------------------------------------------

    def _resume_deliveries(self) -> None:
        """Deliveries carried over from the previous run: started once its
        activities in flight have surely ended (their timeout), so a sink is
        not sent the same alert by two attempts at once."""
        for delivery in self.state.deliveries:
            self._start_delivery(delivery, after=calls.EMAIL_TIMEOUT)

    def _start_delivery(self, delivery: AlertDelivery, after: timedelta | None = None) -> None:
        self._delivering[delivery.alert.key] = asyncio.create_task(self._deliver(delivery, after))

    async def _deliver(self, delivery: AlertDelivery, after: timedelta | None) -> None:
        if after:
            await workflow.sleep(after, summary="let the previous run's alert delivery end")
        if not delivery.recorded:
            await calls.record_alert(delivery.alert, self._alert_writes())
            delivery.recorded = True
        await asyncio.gather(self._tell_customer_of_delay(delivery), self._alert_operations(delivery))
        self.state.deliveries = [d for d in self.state.deliveries if d is not delivery]
        self._delivering.pop(delivery.alert.key, None)

    def _alert_writes(self) -> calls.LocalWrites | None:
        """The run's local writes for an alert (ALERTS_RECORDED_LOCALLY, asked by runs on FEWER_EVENTS)."""
        if self._writes is not None and workflow.patched(ALERTS_RECORDED_LOCALLY):
            return self._writes
        return None

    async def _tell_customer_of_delay(self, delivery: AlertDelivery) -> None:
        if delivery.notice_due:
            notice = self._delay_notice(delivery.alert.deadline)
            await self._email_customer("delay_notice", notice, step=f"delay:{delivery.alert.key}")
            delivery.notice_due = False

    async def _alert_operations(self, delivery: AlertDelivery) -> None:
        alert = delivery.alert
        if delivery.sent:
            return
        try:
            await calls.send_alert(alert, calls.ALERT_RETRY)
        except ActivityError as error:
            details = {
                "alert": alert.key,
                "deadline": alert.deadline,
                "kind": alert.kind,
                "reason": calls.reason(error),
                "retried": not calls.failed_with(error, ALERT_UNDELIVERABLE),
            }
            await self._record(Entry("alert_undeliverable", "system", details))
        delivery.sent = True

    def _delay_notice(self, deadline: str) -> dict[str, object]:
        """At the regulatory breach, the customer may refer to the mediator now."""
        if deadline == deadlines.MEDIATION_OPEN:
            until = self._policy.mediation_until(self.state.sent_at, self.state.received_at)
            return {"deadline_label": "réglementaire", "mediation": True, "mediation_until": until}
        return {"deadline_label": "de traitement", "response_due_at": self.state.regulatory_due_at}

    # --- customer messages -------------------------------------------------------

    async def _file_replies(self) -> None:
        """Journal what the customer writes outside an information request, so
        the handler sees it; during a request, the reply is the answer. A
        message leaves the buffer only once journaled (continue-as-new waits)."""
        s = self.state
        while True:
            await workflow.wait_condition(lambda: bool(s.replies_pending) and s.phase is not Phase.AWAITING_CUSTOMER)
            reply = s.replies_pending[0]
            self._filing = True
            message = {"message": reply.message, "document_ids": reply.document_ids}
            await self._record(Entry("customer_message", "complainant", message, visible_to_customer=True))
            if s.replies_pending and s.replies_pending[0] is reply:
                s.replies_pending.pop(0)
            s.messages_received += 1
            self._filing = False

    # --- continue-as-new -----------------------------------------------------------

    async def _continue_as_new(self) -> None:
        """Once no handler is midway and no customer message is being
        journaled (continue-as-new would drop them), go on in a new run with
        the state. Alerts being delivered get a minute; what is left of them
        is carried over."""
        self._continuing = True
        ready = lambda: workflow.all_handlers_finished() and not self._firing and not self._filing  # noqa: E731
        if self.state.deliveries:
            with contextlib.suppress(TimeoutError):  # carried over
                await workflow.wait_condition(
                    lambda: ready() and not self.state.deliveries,
                    timeout=DELIVERIES_GRACE,
                    timeout_summary="alerts being delivered, before continuing as new",
                )
        await workflow.wait_condition(ready)
        self._upsert_held()  # the next run starts with the search attributes this one shows
        # The same input (sending date and regime too), carrying the state over.
        workflow.continue_as_new(self._start.model_copy(update={"carried_over": self.state}))

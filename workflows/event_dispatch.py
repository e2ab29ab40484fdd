"""EventDispatchWorkflow: the journal delivered to subscribers and acted on by
the automation rules, for as long as the worker runs (one run per task queue,
ensured by the worker; continue-as-new keeps its history short).

Each round plans the next journal steps through an activity (who gets what,
which rules fire: recorded in the history), then delivers each subscriber's
events strictly in journal order, subscribers side by side, and carries out
the rules' actions in order. A delivery is retried with backoff by its
activity's retry policy; after `max_attempts` it goes to the dead letters and
the subscriber's next event follows. The watermark moves only when a round is
done, so a crash repeats a round (at least once; the event ids are stable)."""

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.events import (
        DeadLetter,
        Delivery,
        EventActivities,
        EventPlan,
        PlanRequest,
        RuleAction,
        by_subscriber,
    )

QUICK = timedelta(seconds=30)


class DispatchStart(BaseModel):
    dispatcher: str
    source: str
    max_attempts: int = 8
    poll_seconds: float = 2.0
    retry_initial_seconds: float = 1.0
    watermark: int | None = None
    rounds_per_run: int = 500  # then continue-as-new, whatever the history's size


@workflow.defn
class EventDispatchWorkflow:
    @workflow.run
    async def run(self, start: DispatchStart) -> None:
        watermark = start.watermark
        for _ in range(start.rounds_per_run):
            plan: EventPlan = await workflow.execute_activity_method(
                EventActivities.plan_events,
                PlanRequest(dispatcher=start.dispatcher, source=start.source, watermark=watermark),
                start_to_close_timeout=QUICK,
                summary="the next journal steps, their subscribers and rules",
            )
            idle = plan.watermark == watermark and not plan.deliveries and not plan.actions
            watermark = plan.watermark
            await asyncio.gather(
                *(self._deliver_in_order(start, group) for group in by_subscriber(plan.deliveries).values()),
                self._act(plan.actions),
            )
            if workflow.info().is_continue_as_new_suggested():
                break
            if idle:
                await workflow.sleep(timedelta(seconds=start.poll_seconds), summary="wait for new journal steps")
        # the last round's watermark is recorded by the next run's first plan
        workflow.continue_as_new(start.model_copy(update={"watermark": watermark}))

    async def _deliver_in_order(self, start: DispatchStart, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            try:
                await workflow.execute_activity_method(
                    EventActivities.deliver_event,
                    delivery,
                    start_to_close_timeout=QUICK,
                    retry_policy=RetryPolicy(
                        initial_interval=timedelta(seconds=start.retry_initial_seconds),
                        backoff_coefficient=2.0,
                        maximum_interval=timedelta(minutes=10),
                        maximum_attempts=start.max_attempts,
                    ),
                    summary=f"{delivery.event['type']} {delivery.reference}",
                )
            except ActivityError as error:
                cause = error.cause
                reason = str(cause) if cause else str(error)
                await workflow.execute_activity_method(
                    EventActivities.record_dead_letter,
                    DeadLetter(delivery=delivery, error=reason),
                    start_to_close_timeout=QUICK,
                    summary="dead letter",
                )
                continue
            if delivery.dead_letter_id is not None:
                await workflow.execute_activity_method(
                    EventActivities.settle_dead_letter,
                    delivery.dead_letter_id,
                    start_to_close_timeout=QUICK,
                    summary="dead letter delivered again",
                )

    async def _act(self, actions: list[RuleAction]) -> None:
        for action in actions:
            await workflow.execute_activity_method(
                EventActivities.carry_out_rule_action,
                action,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
                summary=f"rule {action.rule_name}: {action.action['kind']} {action.reference}",
            )

"""The activities the complaint workflow calls, one wrapper each, owning its
timeout, retry policy and the summary the Temporal UI shows.

Activity types, arguments and the order of calls are part of every recorded
history: changing them breaks the replay of running complaints unless patched."""

from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.types import MethodAsyncSingleParam

with workflow.unsafe.imports_passed_through():
    from activities.alerts import AlertActivities
    from activities.compensation import CompensationActivities, CompensationGrant
    from activities.mail import AcknowledgementEmail, CustomerEmail, MailActivities
    from activities.merging import MergeActivities, MergeCopied, MergeCopy
    from activities.register import (
        Acknowledgement,
        ActionRecord,
        AssessmentRequest,
        IntakeFacts,
        IntakeRecord,
        RegisterActivities,
        RegisterEntry,
        SurveyRecord,
    )
    from complaints.alerts import DeadlineAlert, EmailRefusalAlert
    from complaints.assessment import Assessment
    from complaints.settings import EMAIL_ATTEMPT_TIMEOUT_SECONDS

REGISTER_TIMEOUT = timedelta(seconds=30)
# Above the whole SMTP exchange an attempt may take (the outbox bounds it).
EMAIL_TIMEOUT = timedelta(seconds=EMAIL_ATTEMPT_TIMEOUT_SECONDS)
# Email keeps being retried until it goes through; the deadline timers, not
# the retry count, decide when people must be told.
EMAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
)

# Operations' alerts: retried for about twenty minutes, then journaled as
# undeliverable (the alert stays recorded, the digest lists it); a delivery
# the activity finds impossible (AlertUndeliverable) is not retried.
ALERT_UNDELIVERABLE = "AlertUndeliverable"  # activities.alerts: no sink can take the alert, not retried
ALERT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=12,
    non_retryable_error_types=[ALERT_UNDELIVERABLE],
)

Arg = TypeVar("Arg")
Result = TypeVar("Result")


# A register write as a local activity retries in the worker for a few
# seconds (its workflow task held open meanwhile), then between workflow
# timers: updates and signals are not held up by a register that is down, and
# once it is back the write goes within LOCAL_RETRY's longest interval.
LOCAL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10))
LOCAL_RETRY_THRESHOLD = timedelta(seconds=3)
# How long the watcher and visibility wait for register writes in flight
# before they go on without them (a write still retrying).
SETTLING = timedelta(seconds=5)


class LocalWrites:
    """A run's register writes as local activities (FEWER_EVENTS): one marker
    each instead of an activity task and the workflow task it wakes. Each is
    keyed in the register like before, so the attempt a crash repeats writes
    nothing twice. The deadline watcher and visibility wait until none is in
    flight (or the oldest has retried past SETTLING), so one workflow task
    shows its changes once."""

    def __init__(self) -> None:
        self._started: list[datetime] = []

    @property
    def settled(self) -> bool:
        return not self._started or workflow.now() - min(self._started) >= SETTLING

    async def write(self, activity: MethodAsyncSingleParam[Any, Arg, Result], arg: Arg, summary: str) -> Result:
        started = workflow.now()
        self._started.append(started)
        try:
            return await workflow.execute_local_activity_method(
                activity,
                arg,
                start_to_close_timeout=REGISTER_TIMEOUT,
                retry_policy=LOCAL_RETRY,
                local_retry_threshold=LOCAL_RETRY_THRESHOLD,
                summary=summary,
            )
        finally:
            self._started.remove(started)


async def _register(
    activity: MethodAsyncSingleParam[Any, Arg, Result], arg: Arg, summary: str, local: LocalWrites | None
) -> Result:
    """A register write: PostgreSQL, retried with the default policy; a
    local activity when `local` is given (runs started before: an activity)."""
    if local is not None:
        return await local.write(activity, arg, summary)
    return await workflow.execute_activity_method(
        activity, arg, start_to_close_timeout=REGISTER_TIMEOUT, summary=summary
    )


async def _deliver(
    activity: MethodAsyncSingleParam[Any, Arg, Result], arg: Arg, summary: str, retry: RetryPolicy = EMAIL_RETRY
) -> Result:
    """An email or alert: retried until it goes through (or as `retry` says)."""
    return await workflow.execute_activity_method(
        activity, arg, start_to_close_timeout=EMAIL_TIMEOUT, retry_policy=retry, summary=summary
    )


async def record_intake(intake: IntakeRecord, local: LocalWrites | None = None) -> IntakeFacts:
    return await _register(RegisterActivities.record_intake, intake, "record the complaint in the register", local)


async def record_acknowledgement(ack: Acknowledgement, local: LocalWrites | None = None) -> None:
    summary = f"record the acknowledgement ({ack.method})"
    await _register(RegisterActivities.record_acknowledgement, ack, summary, local)


async def assess(request: AssessmentRequest, local: LocalWrites | None = None) -> Assessment:
    summary = "assess severity, complexity, impact and history"
    return await _register(RegisterActivities.assess_complaint, request, summary, local)


async def record(entry: RegisterEntry, local: LocalWrites | None = None) -> None:
    """Journal one step, with the register columns it changes."""
    await _register(RegisterActivities.record, entry, f"journal: {entry.event}", local)


async def record_action(action: ActionRecord, local: LocalWrites | None = None) -> None:
    await _register(RegisterActivities.record_action, action, f"record a {action.action.kind} action", local)


async def record_alert(alert: DeadlineAlert, local: LocalWrites | None = None) -> None:
    """A local activity for runs on ALERTS_RECORDED_LOCALLY (before: an activity on every path)."""
    summary = f"record the {alert.deadline} deadline {alert.kind}"
    await _register(RegisterActivities.record_alert, alert, summary, local)


async def record_survey(survey: SurveyRecord, local: LocalWrites | None = None) -> None:
    await _register(RegisterActivities.record_survey, survey, "record the survey answer", local)


async def copy_merged(copy: MergeCopy) -> MergeCopied:
    summary = f"copy {copy.absorbed}'s documents and messages to {copy.survivor}"
    return await _register(MergeActivities.copy_merged, copy, summary, None)


async def grant_compensation(grant: CompensationGrant, local: LocalWrites | None = None) -> None:
    summary = f"grant the compensation ({grant.compensation.kind.value})"
    await _register(CompensationActivities.grant_compensation, grant, summary, local)


async def send_acknowledgement(email: AcknowledgementEmail) -> datetime:
    """Returns when the email went."""
    return await _deliver(MailActivities.send_acknowledgement, email, "email the acknowledgement to the complainant")


async def email_customer(email: CustomerEmail) -> datetime | None:
    """Returns when the email went; None when the letter goes by post."""
    summary = f"email the customer: {email.template.replace('_', ' ')}"
    return await _deliver(MailActivities.send_customer_email, email, summary)


async def send_alert(alert: DeadlineAlert, retry: RetryPolicy = EMAIL_RETRY) -> None:
    """`retry`: ALERT_RETRY for runs that deliver alerts beside the watcher."""
    summary = f"alert operations: {alert.deadline} deadline {alert.kind}"
    await _deliver(AlertActivities.send_alert, alert, summary, retry)


async def alert_email_refused(alert: EmailRefusalAlert) -> None:
    """Operations told the complainant's address refuses mail (retried as the alerts are)."""
    summary = f"alert operations: the complainant's address refused the {alert.template.replace('_', ' ')}"
    await _deliver(AlertActivities.alert_email_refused, alert, summary, ALERT_RETRY)


def failed_with(error: BaseException, error_type: str) -> bool:
    """Whether an activity failed with an ApplicationError of `error_type`."""
    cause = error.cause if isinstance(error, ActivityError) else None
    return isinstance(cause, ApplicationError) and cause.type == error_type


def reason(error: BaseException) -> str:
    """What an activity's failure says (its cause's message)."""
    cause = error.cause if isinstance(error, ActivityError) else None
    return str(getattr(cause, "message", None) or cause or error)

"""The activities the complaint workflow calls, one wrapper each, owning its
timeout, retry policy and the summary the Temporal UI shows.

Activity types, arguments and the order of calls are part of every recorded
history: changing them breaks the replay of running complaints unless patched."""

from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.types import MethodAsyncSingleParam

with workflow.unsafe.imports_passed_through():
    from activities.alerts import AlertActivities
    from activities.compensation import CompensationActivities, CompensationGrant
    from activities.mail import AcknowledgementEmail, CustomerEmail, MailActivities
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
    from complaints.alerts import DeadlineAlert
    from complaints.assessment import Assessment

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

Arg = TypeVar("Arg")
Result = TypeVar("Result")


async def _register(activity: MethodAsyncSingleParam[Any, Arg, Result], arg: Arg, summary: str) -> Result:
    """A register write: PostgreSQL, retried with the default policy."""
    return await workflow.execute_activity_method(
        activity, arg, start_to_close_timeout=REGISTER_TIMEOUT, summary=summary
    )


async def _deliver(activity: MethodAsyncSingleParam[Any, Arg, Result], arg: Arg, summary: str) -> Result:
    """An email or alert: retried until it goes through."""
    return await workflow.execute_activity_method(
        activity, arg, start_to_close_timeout=EMAIL_TIMEOUT, retry_policy=EMAIL_RETRY, summary=summary
    )


async def record_intake(intake: IntakeRecord) -> IntakeFacts:
    return await _register(RegisterActivities.record_intake, intake, "record the complaint in the register")


async def record_acknowledgement(ack: Acknowledgement) -> None:
    await _register(RegisterActivities.record_acknowledgement, ack, f"record the acknowledgement ({ack.method})")


async def assess(request: AssessmentRequest) -> Assessment:
    return await _register(
        RegisterActivities.assess_complaint, request, "assess severity, complexity, impact and history"
    )


async def record(entry: RegisterEntry) -> None:
    """Journal one step, with the register columns it changes."""
    await _register(RegisterActivities.record, entry, f"journal: {entry.event}")


async def record_action(action: ActionRecord) -> None:
    await _register(RegisterActivities.record_action, action, f"record a {action.action.kind} action")


async def record_alert(alert: DeadlineAlert) -> None:
    await _register(RegisterActivities.record_alert, alert, f"record the {alert.deadline} deadline {alert.kind}")


async def record_survey(survey: SurveyRecord) -> None:
    await _register(RegisterActivities.record_survey, survey, "record the survey answer")


async def grant_compensation(grant: CompensationGrant) -> None:
    summary = f"grant the compensation ({grant.compensation.kind.value})"
    await _register(CompensationActivities.grant_compensation, grant, summary)


async def send_acknowledgement(email: AcknowledgementEmail) -> datetime:
    """Returns when the email went."""
    return await _deliver(MailActivities.send_acknowledgement, email, "email the acknowledgement to the complainant")


async def email_customer(email: CustomerEmail) -> None:
    await _deliver(MailActivities.send_customer_email, email, f"email the customer: {email.template.replace('_', ' ')}")


async def send_alert(alert: DeadlineAlert) -> None:
    await _deliver(AlertActivities.send_alert, alert, f"alert operations: {alert.deadline} deadline {alert.kind}")

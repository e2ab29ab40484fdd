"""The waits a complaint's run sets (the customer's reply, verdict and survey, a
manager's approval) are counted in the organisation's calendar, like its
deadlines: a wait written in working days skips the closed days the settings
give (docs/deadlines.md)."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.client import Client

from complaints.operator_commands import ConfirmAssessment, InformationRequest
from complaints.policy import ComplaintPolicy, Span
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from complaints.working_days import WorkingCalendar
from tests.helpers.complaint_workflow import execute_update, start
from tests.helpers.examples import ALICE
from workflows.complaint import ComplaintWorkflow

THREE_WORKING_DAYS = Span.model_validate("3 working days")


def closed_after(today: datetime, days: int) -> list[str]:
    """The `days` days after `today` (in Paris), as COMPLAINTS_CLOSED_DAYS writes them."""
    first = WorkingCalendar().local_date(today)
    return [(first + timedelta(days=n)).isoformat() for n in range(1, days + 1)]


def test_a_wait_in_working_days_skips_the_organisations_closed_days() -> None:
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday
    settings = Settings(_env_file=None, closed_days=closed_after(now, 3))  # Thursday to Saturday closed
    policy = settings.complaint_policy_at(now)
    # Sunday 6 does not count: Monday 7, Tuesday 8, Wednesday 9 December.
    assert policy.calendar.last_day(policy.wait_until(THREE_WORKING_DAYS, now)).isoformat() == "2026-12-09"
    # A policy carried by a run started before counted its waits in the default calendar, as it still does.
    before = ComplaintPolicy.model_validate_json(policy.model_dump_json(exclude={"calendar": {"every_span"}}))
    assert before.wait_until(THREE_WORKING_DAYS, now) == THREE_WORKING_DAYS.after(now)


async def test_an_information_request_gives_a_reply_date_past_the_closed_days(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Callable[..., ComplaintSubmission]
) -> None:
    now = datetime.now(UTC)
    settings = settings.model_copy(
        update={"closed_days": closed_after(now, 4), "information_timeout": THREE_WORKING_DAYS}
    )
    handle = await start(client, pool, settings, complaint())
    ref = handle.id
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="?"))
    details = await pool.fetchval(
        "SELECT details FROM journal WHERE complaint_reference = $1 AND event = 'information_requested'", ref
    )
    reply_by = datetime.fromisoformat(json.loads(details)["reply_by"])
    policy = settings.complaint_policy_at(now)
    # Four closed days, then three working days: never before the seventh day.
    assert policy.calendar.local_date(reply_by - timedelta(microseconds=1)) >= policy.calendar.local_date(
        now
    ) + timedelta(days=7)

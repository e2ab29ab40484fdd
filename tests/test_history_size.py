"""A complaint's history stays short: the events a real run records up to
the wait for the assessment's confirmation, and over a complete lifecycle.
Fewer events is less for the server to write and the worker to replay; the
bounds keep them from creeping back."""

from collections import Counter
from collections.abc import Callable
from datetime import date

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from complaints.complaint_status import Phase
from complaints.customer_signals import SurveyAnswer
from complaints.operator_commands import (
    Assignment,
    ConfirmAssessment,
    Decision,
    InternalNote,
    PlannedAction,
    ProgressUpdate,
)
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import execute_update, start, wait_for_phase
from tests.helpers.examples import ALICE, ARGUED
from tests.helpers.history import wait_until_idle
from tests.helpers.settings import tuned
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]
TO_ASSESSMENT = 24  # events once the run waits for a handler to confirm the assessment
LIFECYCLE = 120  # events of a complete lifecycle, from intake to closure


# Events the run's code causes, by its commands, and the events that wake it.
WORKFLOW_TASK = ("WORKFLOW_TASK_SCHEDULED", "WORKFLOW_TASK_STARTED", "WORKFLOW_TASK_COMPLETED")
RETRIED_TASK = {"WORKFLOW_TASK_TIMED_OUT", "WORKFLOW_TASK_FAILED"}
WAKES = {
    "WORKFLOW_EXECUTION_STARTED",
    "WORKFLOW_EXECUTION_SIGNALED",
    "TIMER_FIRED",
    "ACTIVITY_TASK_COMPLETED",
    "ACTIVITY_TASK_FAILED",
    "ACTIVITY_TASK_TIMED_OUT",
    "ACTIVITY_TASK_CANCELED",
}


async def event_counts(handle: WorkflowHandle, *, scheduling: bool = True) -> Counter[str]:
    """The run's events by type. `scheduling=False`: one workflow task per
    event that woke the run, whatever the scheduling made of it: the SDK's
    heartbeat of a task held open while local activities run long on a
    loaded machine, a task timed out on a busy worker's sticky queue and
    retried. For a run that received no update (an update's task follows
    no event of its own)."""
    names = [
        EventType.Name(event.event_type).removeprefix("EVENT_TYPE_") for event in (await handle.fetch_history()).events
    ]
    if scheduling:
        return Counter(names)
    counts = Counter(name for name in names if name not in WORKFLOW_TASK and name not in RETRIED_TASK)
    tasks, woken = 0, False
    for name in names:
        woken = woken or name in WAKES
        if name == "WORKFLOW_TASK_SCHEDULED" and woken:
            tasks, woken = tasks + 1, False
    counts.update(dict.fromkeys(WORKFLOW_TASK, tasks))
    return counts


async def test_a_complaint_waits_for_its_assessment_within_24_events(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    handle = await start(client, pool, settings, complaint())
    await wait_until_idle(handle)
    counts = await event_counts(handle, scheduling=False)
    assert sum(counts.values()) <= TO_ASSESSMENT, counts


async def test_a_complete_lifecycle_stays_within_120_events(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    """Assessment confirmed, assigned, an action planned, a note, a progress
    update, an accepted decision with a credit note, accepted, the survey answered."""
    handle = await start(client, pool, tuned(settings), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(handle, ComplaintWorkflow.assign, Assignment(by=ALICE, handler="Alice", team="Logistique"))
    action = PlannedAction(
        by=ALICE, kind="corrective", description="Caler les vases", owner="Entrepôt", due_on=date(2027, 1, 15)
    )
    await execute_update(handle, ComplaintWorkflow.plan_action, action)
    await execute_update(handle, ComplaintWorkflow.add_note, InternalNote(by=ALICE, text="Cliente fidèle"))
    await execute_update(handle, ComplaintWorkflow.send_progress_update, ProgressUpdate(by=ALICE, message="En cours."))
    credit = {"kind": "credit_note", "amount": "45.50", "description": "valeur du vase"}
    decision = Decision.model_validate(
        {"by": ALICE, "outcome": "accepted", "justification": ARGUED, "compensation": credit}
    )
    await execute_update(handle, ComplaintWorkflow.decide, decision)
    await wait_for_phase(client, handle.id, Phase.RESPONDED)
    await handle.signal(ComplaintWorkflow.accept_response)
    await wait_for_phase(client, handle.id, Phase.SURVEY)
    await handle.signal(ComplaintWorkflow.survey_answer, SurveyAnswer(csat=5, ces=1, nps=10))
    assert (await handle.result()).phase is Phase.CLOSED
    counts = await event_counts(handle)
    assert sum(counts.values()) <= LIFECYCLE, counts

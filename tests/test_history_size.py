"""A complaint's history stays short: the events a real run records up to
the wait for the assessment's confirmation, and over a complete lifecycle.
Fewer events is less for the server to write and the worker to replay; the
bounds keep them from creeping back."""

from collections import Counter
from collections.abc import Callable
from datetime import date
from itertools import pairwise

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


async def event_counts(handle: WorkflowHandle, *, heartbeats: bool = True) -> Counter[str]:
    """The run's events by type; `heartbeats=False`: without the workflow
    tasks that completed with nothing, as the SDK's heartbeat of a task held
    open while a local activity runs long on a loaded machine (for a run that
    received no message: an update's task also follows a completed one)."""
    names = [
        EventType.Name(event.event_type).removeprefix("EVENT_TYPE_") for event in (await handle.fetch_history()).events
    ]
    counts = Counter(names)
    if heartbeats:
        return counts
    empty = sum(
        1
        for done, following in pairwise(names)
        if done == "WORKFLOW_TASK_COMPLETED" and following == "WORKFLOW_TASK_SCHEDULED"
    )
    for kind in ("WORKFLOW_TASK_SCHEDULED", "WORKFLOW_TASK_STARTED", "WORKFLOW_TASK_COMPLETED"):
        counts[kind] -= empty
    return counts


async def test_a_complaint_waits_for_its_assessment_within_24_events(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    handle = await start(client, pool, settings, complaint())
    await wait_until_idle(handle)
    counts = await event_counts(handle, heartbeats=False)
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

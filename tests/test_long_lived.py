"""Long-lived complaints: continue-as-new keeps the state; compensation is
exactly once in effect; a recorded lifecycle still replays."""

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Replayer

from activities.compensation import CompensationActivities, CompensationGrant
from complaints.complaint_status import Phase
from complaints.intake import submit_complaint
from complaints.operator_commands import Compensation, ConfirmAssessment, Decision, InternalNote, PlannedAction
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import execute_update, start, wait_for_phase
from tests.helpers.examples import ALICE, ARGUED
from tests.helpers.histories import HISTORY_CONVERTER, load, patches, recorded, search_attributes
from tests.helpers.register import journal_events
from tests.helpers.session import SUGGEST_CONTINUE_AS_NEW_AFTER
from tests.helpers.settings import tuned
from workflows.complaint import ComplaintWorkflow
from workflows.complaint.patches import FEWER_EVENTS
from workflows.complaint.visibility import CHANGED_ONLY_PATCH

Make = Callable[..., ComplaintSubmission]


async def test_a_complaint_with_many_messages_continues_as_new_with_its_state(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    first_run = (await handle.describe()).run_id
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(
        handle,
        ComplaintWorkflow.plan_action,
        PlannedAction(
            by=ALICE, kind="improvement", description="Former les livreurs", owner="Transport", due_on=date(2027, 2, 1)
        ),
    )
    notes = SUGGEST_CONTINUE_AS_NEW_AFTER // 6
    for n in range(notes):
        await execute_update(handle, ComplaintWorkflow.add_note, InternalNote(by=ALICE, text=f"appel {n}"))

    latest = client.get_workflow_handle(handle.id)
    assert (await latest.describe()).run_id != first_run
    status = await latest.query(ComplaintWorkflow.status)
    assert status.phase is Phase.HANDLING and status.assessment_confirmed_by == "Alice"
    assert status.actions == ["Former les livreurs"]
    assert (await journal_events(pool, handle.id)).count("internal_note") == notes

    await execute_update(latest, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await wait_for_phase(client, handle.id, Phase.RESPONDED)


async def test_compensation_granted_twice_is_one_ledger_entry(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    """The activity retried after its effect (its completion was lost)."""
    ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    grant = CompensationGrant(
        reference=ref,
        key=f"{ref}:compensation:1",
        compensation=Compensation(kind="refund", amount=Decimal("80"), description="frais de port"),
        proposed_by="Alice",
    )
    activities = CompensationActivities(pool, "EUR")
    environment = ActivityEnvironment()
    first = await environment.run(activities.grant_compensation, grant)
    again = await environment.run(activities.grant_compensation, grant)
    assert first == again
    rows = await pool.fetch("SELECT amount FROM compensations WHERE complaint_reference = $1", ref)
    assert [r["amount"] for r in rows] == [Decimal("80.00")]
    assert (await journal_events(pool, ref)).count("compensation_granted") == 1


@pytest.mark.parametrize("path", recorded(), ids=lambda path: path.stem)
async def test_the_recorded_complete_lifecycle_still_replays(path: Path) -> None:
    """Every history in tests/histories (`make histories` records one) replays
    on this code. A change that breaks determinism fails here: use workflow.patched."""
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=HISTORY_CONVERTER)
    await replayer.replay_workflow(history)


@pytest.mark.parametrize(
    "path",
    [path for path in recorded() if {CHANGED_ONLY_PATCH, FEWER_EVENTS} & patches(load(path))],
    ids=lambda path: path.stem,
)
def test_a_run_upserts_only_the_search_attributes_that_changed(path: Path) -> None:
    shown, upserts = search_attributes(load(path))
    assert upserts
    for upsert in upserts:
        unchanged = {name: value for name, value in upsert.items() if shown.get(name) == value}
        assert not unchanged, f"upserted with the values they had: {unchanged}"
        shown.update(upsert)
    history = load(path)
    if history["events"][-1]["eventType"] != "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW":
        assert shown["ComplaintPhase"] == '"closed"'

"""Commands that race (issue 13): two identical updates at once, a close or a
customer message while the run is about to continue as new, two extensions
at once. `in_one_activation` sends updates while no worker polls, so the next
workflow task carries them all. Each update's validator runs when its handler
task starts: after the handlers before it reached their first await, so a
command queued behind the lock (a note holding it) was validated on the
state as it was before the commands ahead of it changed it."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError

from complaints.complaint_status import ComplaintStatus, Phase
from complaints.customer_signals import CustomerReply
from complaints.operator_commands import (
    AnalysisExtension,
    ApprovalVerdict,
    Closure,
    ConfirmAssessment,
    Decision,
    InternalNote,
)
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import execute_update, start, wait_for_phase
from tests.helpers.examples import ALICE, ARGUED, CHLOE, DENIS
from tests.helpers.polling import eventually
from tests.helpers.register import journal_events, waiting_on_locks
from tests.helpers.runs import accepted_updates, fill_history, run_id, serving, status_of
from tests.helpers.session import SUGGEST_CONTINUE_AS_NEW_AFTER
from tests.helpers.settings import SHORT_RESPONSE, tuned
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]
REFUND = {"kind": "refund", "amount": "650", "description": "remboursement intégral"}


async def in_one_activation(
    client: Client, pool: asyncpg.Pool, settings: Settings, *updates: Callable[[], Awaitable[Any]]
) -> list[Any]:
    """Send `updates` while no worker polls (the caller's worker stopped),
    then serve: the run gets them in one workflow task. Returns each one's
    result or exception."""
    sent: list[asyncio.Future[Any]] = []
    for update in updates:  # admitted by the server in this order, waiting for a worker
        sent.append(asyncio.ensure_future(update()))
        await asyncio.sleep(0.5)
    async with serving(client, pool, settings):
        return await asyncio.wait_for(asyncio.gather(*sent, return_exceptions=True), 30)


def update(handle: WorkflowHandle, method: Any, command: object) -> Callable[[], Awaitable[Any]]:
    """An update with an id of its own (two clicks, or a retry without an idempotency key)."""
    return lambda: execute_update(handle, method, command, id=str(uuid.uuid4()))


def note(handle: WorkflowHandle) -> Callable[[], Awaitable[Any]]:
    """A note first: it holds the lock while it is journaled, the commands behind it wait."""
    return update(handle, ComplaintWorkflow.add_note, InternalNote(by=ALICE, text="appel du client"))


def refusals(results: list[Any]) -> list[str]:
    return [str(getattr(r.cause, "message", r.cause)) for r in results if isinstance(r, WorkflowUpdateFailedError)]


def answered(results: list[Any]) -> list[ComplaintStatus]:
    return [r for r in results if isinstance(r, ComplaintStatus)]


async def test_two_identical_decisions_at_once_are_one_decision(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    """#2: the second is refused; one decision journaled, one response."""
    settings = tuned(settings)
    async with serving(client, pool, settings):
        handle = await start(client, pool, settings, complaint())
        await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    decision = Decision(by=ALICE, outcome="accepted", justification=ARGUED)
    results = await in_one_activation(
        client,
        pool,
        settings,
        update(handle, ComplaintWorkflow.decide, decision),
        update(handle, ComplaintWorkflow.decide, decision),
    )
    assert len(answered(results)) == 1, results
    assert refusals(results) == ["a decision is already being carried out"]
    async with serving(client, pool, settings):
        await wait_for_phase(client, handle.id, Phase.RESPONDED)
        status = await status_of(handle)
    events = await journal_events(pool, handle.id)
    assert events.count("decided") == 1 and events.count("responded") == 1
    assert len(status.decisions) == 1


async def test_two_approvals_at_once_approve_once_and_the_run_goes_on(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    """#4: the second verdict is refused (no assert wedging the run on every replay)."""
    settings = tuned(settings)
    async with serving(client, pool, settings):
        handle = await start(client, pool, settings, complaint())
        await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=CHLOE))
        proposal = Decision.model_validate(
            {"by": CHLOE, "outcome": "accepted", "justification": ARGUED, "compensation": REFUND}
        )
        await execute_update(handle, ComplaintWorkflow.decide, proposal)
    verdict = ApprovalVerdict(by=DENIS, approved=True)
    approve = update(handle, ComplaintWorkflow.approve_compensation, verdict)
    results = await in_one_activation(client, pool, settings, note(handle), approve, approve)
    assert len(answered(results)) == 2, results  # the note and one approval
    [reason] = refusals(results)  # refused under the lock: the proposal taken, or the phase gone with it
    assert reason in (
        "the compensation is already being approved or refused",
        "cannot approve a compensation while the complaint is handling (possible when awaiting_approval)",
    )
    async with serving(client, pool, settings):
        await wait_for_phase(client, handle.id, Phase.RESPONDED)
    events = await journal_events(pool, handle.id)
    assert events.count("compensation_approved") == 1 and events.count("compensation_granted") == 1


async def test_two_closes_at_once_close_once(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    settings = tuned(settings)
    async with serving(client, pool, settings):
        handle = await start(client, pool, settings, complaint())
        await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
        await execute_update(
            handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED)
        )
        await wait_for_phase(client, handle.id, Phase.RESPONDED)
    close = update(handle, ComplaintWorkflow.close, Closure(by=DENIS, note="réglé"))
    results = await in_one_activation(client, pool, settings, close, close)
    assert [s.phase for s in answered(results)] == [Phase.CLOSED, Phase.CLOSED], results
    events = await journal_events(pool, handle.id)
    assert events.count("closed") == 1


async def test_two_extensions_at_once_never_move_the_date_back(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    """#11: the second, earlier date is refused under the lock (both passed their validators)."""
    settings = tuned(settings, priority_deadlines=SHORT_RESPONSE)
    async with serving(client, pool, settings):
        handle = await start(client, pool, settings, complaint())
        status = await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    later = status.response_due_at + timedelta(days=5)
    earlier = status.response_due_at + timedelta(days=2)
    results = await in_one_activation(
        client,
        pool,
        settings,
        note(handle),
        update(
            handle, ComplaintWorkflow.extend_analysis, AnalysisExtension(by=ALICE, reason="Expertise", new_due_at=later)
        ),
        update(
            handle,
            ComplaintWorkflow.extend_analysis,
            AnalysisExtension(by=ALICE, reason="Expertise", new_due_at=earlier),
        ),
    )
    assert len(answered(results)) == 2, results  # the note and the later date
    [reason] = refusals(results)
    assert reason.startswith("the new date must be after the current response deadline")
    async with serving(client, pool, settings):
        assert (await status_of(handle)).response_due_at == later
    assert await pool.fetchval("SELECT response_due_at FROM complaints WHERE reference = $1", handle.id) == later


async def test_a_close_while_the_run_is_to_continue_as_new_closes(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    """#5: the close is taken while the verdict is being journaled; the run
    then wants to continue as new. Neither waits for the other: the close
    answers, the closure goes over to the new run, which closes."""
    handle = await start(client, pool, tuned(settings), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await wait_for_phase(client, handle.id, Phase.RESPONDED)
    first_run = await run_id(client, handle.id)
    await fill_history(handle, client, SUGGEST_CONTINUE_AS_NEW_AFTER + 10)

    conn = await asyncpg.connect(settings.database_url)
    holding = conn.transaction()
    await holding.start()
    await conn.execute("SELECT 1 FROM complaints WHERE reference = $1 FOR UPDATE", handle.id)  # the journal waits
    try:
        await handle.signal(ComplaintWorkflow.accept_response)
        await eventually(lambda: waiting_on_locks(pool), timeout=30)  # the verdict's journal entry waits for the row
        closing = asyncio.create_task(execute_update(handle, ComplaintWorkflow.close, Closure(by=DENIS, note="réglé")))
        first = client.get_workflow_handle(handle.id, run_id=first_run)

        async def close_taken() -> bool:
            return "close" in await accepted_updates(first)

        await eventually(close_taken, timeout=30)  # taken while the verdict is being journaled
    finally:
        await holding.rollback()
        await conn.close()
    await asyncio.wait_for(closing, 30)
    final = await asyncio.wait_for(client.get_workflow_handle(handle.id, result_type=ComplaintStatus).result(), 30)
    assert final.phase is Phase.CLOSED
    assert await run_id(client, handle.id) != first_run
    closed_by = await pool.fetchval(
        "SELECT actor FROM journal WHERE complaint_reference = $1 AND event = 'closed'", handle.id
    )
    assert closed_by == "Denis"


async def test_continue_as_new_waits_for_a_customer_message_being_journaled(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    """#3: the message stays in the buffer until journaled, and the run continues as new only then."""
    handle = await start(client, pool, tuned(settings), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    first_run = await run_id(client, handle.id)
    await pool.execute(
        """CREATE SEQUENCE journal_refusals;
           CREATE FUNCTION journal_down() RETURNS trigger AS $$
           BEGIN PERFORM nextval('journal_refusals'); RAISE EXCEPTION 'the journal is unavailable'; END $$
           LANGUAGE plpgsql;
           CREATE TRIGGER journal_down BEFORE INSERT ON journal FOR EACH ROW
           WHEN (NEW.event = 'customer_message') EXECUTE FUNCTION journal_down();"""
    )
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Le livreur a signé", message_id="m-1"))
    await fill_history(handle, client, SUGGEST_CONTINUE_AS_NEW_AFTER + 10)  # continue-as-new is due

    async def journaling_failed() -> bool:
        """An attempt refused (a sequence is not rolled back with it): a local
        activity's attempts show in no pending activity."""
        refused = await pool.fetchval("SELECT is_called FROM journal_refusals")
        return bool(refused)

    await eventually(journaling_failed, timeout=30)  # the message is still to be journaled
    await pool.execute("DROP TRIGGER journal_down ON journal")

    async def continued() -> bool:
        return await run_id(client, handle.id) != first_run

    async def filed() -> bool:
        return (await journal_events(pool, handle.id)).count("customer_message") == 1

    await eventually(filed, timeout=40, every=0.5)
    await eventually(continued, timeout=20, every=0.5)
    status = await status_of(client.get_workflow_handle(handle.id))
    assert status.messages_received == 1 and status.phase is Phase.HANDLING

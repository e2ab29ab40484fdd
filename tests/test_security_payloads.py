"""Issue 14, finding 3: whoever reaches the Temporal frontend without the
payload keys commands nothing. A client with a plain data converter sends a
signal and an update to a running complaint, and starts a workflow of the
complaint's type: the signal is dropped, the update refused, the start fails,
nothing is written, and the run goes on taking the project's own encrypted
commands, without a workflow task failing on the way."""

import asyncio
from collections.abc import Callable

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from complaints.complaint_status import Phase
from complaints.customer_signals import CustomerReply
from complaints.intake import COMPLAINT_WORKFLOW
from complaints.operator_commands import ConfirmAssessment, Decision, InformationRequest
from complaints.payload_codec import UNENCRYPTED_ERROR
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import execute_update, start, wait_for_phase
from tests.helpers.examples import ALICE
from tests.helpers.history import wait_until_idle
from tests.helpers.register import journal_events, table_counts
from tests.helpers.settings import tuned
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]
FORGED = "Je confirme, remboursez sur le compte FR76 0000 0000 0000"
JUSTIFICATION = "Le colis a été perdu par le transporteur : remboursement intégral."


async def _plain_client(client: Client) -> Client:
    """The attacker's: the same frontend, no codec."""
    return await Client.connect(
        client.service_client.config.target_host, namespace=client.namespace, data_converter=pydantic_data_converter
    )


async def _failed_workflow_tasks(handle: WorkflowHandle) -> int:
    events = (await handle.fetch_history()).events
    return sum(event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for event in events)


async def test_a_plaintext_signal_is_dropped_and_a_plaintext_update_refused(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    handle = await start(client, pool, tuned(settings), complaint())
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    attacker = await _plain_client(client)
    forged = attacker.get_workflow_handle(handle.id)

    # an update: refused before any validator or handler sees it
    journal = await journal_events(pool, handle.id)
    forged_decision = Decision(by=ALICE, outcome="accepted", justification=FORGED)
    with pytest.raises(WorkflowUpdateFailedError) as refusal:
        await forged.execute_update("decide", forged_decision)
    assert isinstance(refusal.value.cause, ApplicationError) and refusal.value.cause.type == UNENCRYPTED_ERROR
    status = await handle.query(ComplaintWorkflow.status)
    assert status.phase is Phase.HANDLING and status.decisions == []
    assert await journal_events(pool, handle.id) == journal

    # a signal: taken by the server, dropped by the run
    await execute_update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Votre IBAN ?")
    )
    await wait_for_phase(client, handle.id, Phase.AWAITING_CUSTOMER)
    await wait_until_idle(handle)
    journal = await journal_events(pool, handle.id)
    await forged.signal("customer_reply", CustomerReply(message=FORGED))
    history = await wait_until_idle(handle)  # the signal's workflow task is done
    assert history.signals == ["customer_reply"]
    status = await handle.query(ComplaintWorkflow.status)
    assert status.phase is Phase.AWAITING_CUSTOMER
    assert FORGED not in status.model_dump_json()
    assert await journal_events(pool, handle.id) == journal

    # the run still takes the project's own commands
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="FR76 1234"))
    await wait_for_phase(client, handle.id, Phase.HANDLING)
    await execute_update(
        handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=JUSTIFICATION)
    )
    await wait_for_phase(client, handle.id, Phase.RESPONDED)
    status = await handle.query(ComplaintWorkflow.status)
    assert [d.justification for d in status.decisions] == [JUSTIFICATION]
    assert await _failed_workflow_tasks(handle) == 0, "no workflow task failed (and none retried) on the way"


async def test_a_plaintext_start_of_a_complaint_workflow_writes_nothing(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker
) -> None:
    before = await table_counts(pool)
    attacker = await _plain_client(client)
    reference = f"{settings.reference_prefix}-2026-999999"
    forged = await attacker.start_workflow(
        COMPLAINT_WORKFLOW,
        {"reference": reference, "complainant": {"name": "Mallory", "email": "mallory@example.com"}},
        id=reference,
        task_queue=settings.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as failure:
        await asyncio.wait_for(forged.result(), timeout=30)  # failed at once, not retried as a task
    assert isinstance(failure.value.cause, ApplicationError) and failure.value.cause.type == UNENCRYPTED_ERROR
    assert await _failed_workflow_tasks(client.get_workflow_handle(reference)) == 0
    assert await table_counts(pool) == before

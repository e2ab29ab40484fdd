"""A command sent as the run moves to the phase it needs is carried out, not
refused: the run writes its register rows, then moves, and a command that
reaches it in the workflow task that moves it is validated before the move.
The API asks again while the register shows a phase the command fits; a
command the register and the run both say does not fit is refused at once.

The run is held one step behind by having no worker on its queue while the
commands are sent: the next workflow task carries them all."""

import asyncio
import time

import asyncpg
import httpx
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import UpdateRef, WaitPolicy
from temporalio.api.workflowservice.v1 import PollWorkflowExecutionUpdateRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from api.workflow_calls import BEHIND_PAUSES
from complaints.complaint_status import Phase
from complaints.settings import Settings
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.examples import ARGUED, COMPLAINT
from tests.helpers.polling import eventually
from tests.helpers.register import journal_events
from tests.helpers.runs import serving, status_of
from workflows.complaint.visibility import WAITING_FOR_RESPONSE_LETTER

BY_POST = {**COMPLAINT, "complainant": {"name": "Paul Durand", "postal_address": "3 rue des Lilas, 69001 Lyon"}}


async def _admitted(client: Client, ref: str, update_id: str) -> bool:
    """Whether the service holds the update for the run's next workflow task."""
    request = PollWorkflowExecutionUpdateRequest(
        namespace=client.namespace,
        update_ref=UpdateRef(workflow_execution=WorkflowExecution(workflow_id=ref), update_id=update_id),
        wait_policy=WaitPolicy(
            lifecycle_stage=UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
        ),
    )
    try:
        await client.workflow_service.poll_workflow_execution_update(request)
    except RPCError:  # not known yet
        return False
    return True


async def _waiting_for(handle: WorkflowHandle, what: str) -> bool:
    return (await status_of(handle)).waiting_for == what


async def _sent(http: httpx.AsyncClient, client: Client, ref: str, path: str, key: str, headers: dict) -> asyncio.Task:
    """POST the command (its Idempotency-Key `key`) and wait until the service holds it."""
    answer = asyncio.create_task(
        http.post(f"/complaints/{ref}/{path}", json={}, headers={**headers, "Idempotency-Key": key})
    )
    await eventually(lambda: _admitted(client, ref, f"api:{key}"))
    return answer


async def test_the_assessment_confirmed_as_the_run_moves_to_it_is_carried_out(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, settings: Settings
) -> None:
    """The letter confirmed and the assessment confirmed at once (two operators,
    a worker restarting): the run takes both in one workflow task, the second
    validated while the complaint is still in intake. 200, not 409."""
    async with serving(client, pool, settings):
        ref = (await http.post("/complaints", json=BY_POST, headers=keys["intake"])).json()["reference"]
        await wait_for_phase(client, ref, Phase.INTAKE)
    acknowledged = await _sent(http, client, ref, "postal-acknowledgement", "letter", keys["intake"])
    confirmed = await _sent(http, client, ref, "assessment", "confirm", keys["handler"])
    async with serving(client, pool, settings):
        letter, assessment = await asyncio.wait_for(asyncio.gather(acknowledged, confirmed), 30)
    assert letter.status_code == 200, letter.text
    assert assessment.status_code == 200, assessment.text
    assert assessment.json()["phase"] == Phase.HANDLING.value
    events = await journal_events(pool, ref)
    assert events.count("assessment_confirmed") == 1
    assert events.index("assessed") < events.index("assessment_confirmed")
    phase = await pool.fetchval("SELECT phase FROM complaints WHERE reference = $1", ref)
    assert phase == Phase.HANDLING.value


async def test_the_closure_sent_as_the_response_letter_is_confirmed_is_carried_out(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, settings: Settings
) -> None:
    """Decision → responded: the letter confirmed and the closure at once, the
    closure validated while the complaint is still handling. 200, not 409."""
    async with serving(client, pool, settings):
        ref = (await http.post("/complaints", json=BY_POST, headers=keys["intake"])).json()["reference"]
        await wait_for_phase(client, ref, Phase.INTAKE)
        await http.post(f"/complaints/{ref}/postal-acknowledgement", headers=keys["intake"])
        await wait_for_phase(client, ref, Phase.ASSESSMENT)
        await http.post(f"/complaints/{ref}/assessment", json={}, headers=keys["handler"])
        decision = {"outcome": "accepted", "justification": ARGUED}
        assert (await http.post(f"/complaints/{ref}/decision", json=decision, headers=keys["handler"])).is_success
        handle = client.get_workflow_handle(ref)
        await eventually(lambda: _waiting_for(handle, WAITING_FOR_RESPONSE_LETTER))
    letter = await _sent(http, client, ref, "postal-response", "letter", keys["intake"])
    closure = await _sent(http, client, ref, "closure", "close", keys["handler"])
    async with serving(client, pool, settings):
        posted, closed = await asyncio.wait_for(asyncio.gather(letter, closure), 30)
    assert posted.status_code == 200, posted.text
    assert closed.status_code == 200, closed.text
    assert closed.json()["phase"] == Phase.CLOSED.value
    events = await journal_events(pool, ref)
    assert events.count("closed") == 1 and events.index("responded") < events.index("closed")


async def test_a_command_the_register_and_the_run_both_refuse_is_409_at_once(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, settings: Settings
) -> None:
    """Closing a complaint in assessment: refused without asking again."""
    async with serving(client, pool, settings):
        ref = (await http.post("/complaints", json=COMPLAINT, headers=keys["intake"])).json()["reference"]
        await wait_for_phase(client, ref, Phase.ASSESSMENT)
        sent = time.monotonic()
        refused = await http.post(f"/complaints/{ref}/closure", json={}, headers=keys["handler"])
        answered_in = time.monotonic() - sent
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("cannot close while the complaint is assessment")
    assert answered_in < sum(BEHIND_PAUSES)  # not asked again
    assert "closed" not in await journal_events(pool, ref)

"""Personal data (issue 14, finding 11): failures encrypted in the history,
no link tokens in access logs, erasure and retention that leave no personal
data in the register or in Temporal, and the statistics kept."""

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

import asyncpg
import httpx
import pytest
import uvicorn
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RetryConfig, RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.app import create_app
from complaints.complaint_status import Phase
from complaints.customer_signals import CustomerReply
from complaints.intake import resume_unstarted, start_unstarted, submit_complaint
from complaints.operator_commands import Closure, ConfirmAssessment, Decision, InformationRequest, InternalNote
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from reporting.projection import refresh
from tests.helpers.cli import complaints
from tests.helpers.complaint_workflow import execute_update, phase_of, start, wait_for_phase
from tests.helpers.examples import ALICE, ARGUED, DENIS
from tests.helpers.network import free_port
from tests.helpers.polling import eventually
from tests.helpers.register import table_counts
from tests.helpers.settings import tuned
from tests.helpers.tcp_proxy import TcpProxy
from worker.schedules import ensure_retention_schedule, retention_schedule_id
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]

SECRET = "Ophélie Vasseur-Quintin, 12 rue Pasteur"


@activity.defn
async def failing_with_personal_data() -> None:
    raise ApplicationError(f"no mailbox for {SECRET}", non_retryable=True)


@workflow.defn(sandboxed=False)
class FailingActivityWorkflow:
    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.execute_activity(
                failing_with_personal_data,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except ActivityError as error:
            return str(error.cause)
        return "no failure"


async def test_an_activity_failure_message_is_not_readable_in_the_history(client: Client) -> None:
    queue = f"privacy-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[FailingActivityWorkflow],
        activities=[failing_with_personal_data],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await client.start_workflow(FailingActivityWorkflow.run, id=queue, task_queue=queue)
        assert SECRET in await handle.result()  # the project's clients decode it

    plain = await Client.connect(
        client.service_client.config.target_host, namespace=client.namespace, data_converter=pydantic_data_converter
    )
    raw = (await plain.get_workflow_handle(handle.id).fetch_history()).to_json()
    assert "ActivityTaskFailed" in raw or "activityTaskFailedEventAttributes" in raw
    for part in ("Ophélie", "Pasteur", "no mailbox"):
        assert part not in raw


async def test_access_logs_hold_no_link_token(settings: Settings, pool, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, pool, None), host="127.0.0.1", port=port, log_level="info")
    )
    serving = asyncio.create_task(server.serve())
    access = logging.getLogger("uvicorn.access")
    access.addHandler(caplog.handler)  # uvicorn's access logger does not propagate
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await http.get("/suivi/REC-2026-000001", params={"token": "SIGNED-LINK-SECRET.abc"})
            await http.get("/reclamation", params={"lang": "fr", "TOKEN": "OTHER-SECRET"})
    finally:
        access.removeHandler(caplog.handler)
        server.should_exit = True
        await serving
    lines = [record.getMessage() for record in caplog.records if record.name == "uvicorn.access"]
    assert any("/suivi/REC-2026-000001?token=[redacted]" in line for line in lines), lines
    assert not any("SECRET" in line for line in lines), lines


# --- erasure -------------------------------------------------------------------------

PERSON = {
    "name": "Ophélie Vasseur-Quintin",
    "email": "ophelie.vq@example.net",
    "phone": "06 98 76 54 32",
    "postal_address": "12 rue Pasteur, 69007 Lyon",
    "customer_id": "CLI-778899",
}
TRACES = [
    "Vasseur",
    "ophelie.vq",
    "98 76 54 32",
    "rue Pasteur",
    "CLI-778899",
    "voisin Gérard",
    "vase de ma grand-mère",
    "Gérard habite",
    "Note sur Ophélie",
    "releve-bancaire",
]


def personal_complaint(complaint: Callable[..., ComplaintSubmission]) -> ComplaintSubmission:
    return complaint(
        complainant=PERSON,
        subject="Colis de Mme Vasseur",
        description="Mon voisin Gérard a vu le livreur jeter le colis.",
        desired_resolution="Le remplacement du vase de ma grand-mère",
        documents=[{"filename": "releve-bancaire.txt", "content_type": "text/plain", "content": b"IBAN FR76 1234"}],
    )


async def traces_left(pool: asyncpg.Pool) -> dict[str, list[str]]:
    """Every table (every column of every row, as text) holding any trace."""
    tables = await pool.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    )
    patterns = [f"%{trace}%" for trace in TRACES]
    found: dict[str, list[str]] = {}
    for table in tables:
        name = table["table_name"]
        rows = await pool.fetch(f'SELECT t::text AS row FROM "{name}" t WHERE t::text ILIKE ANY($1)', patterns)
        if rows:
            found[name] = [row["row"][:300] for row in rows]
    return found


async def handled_complaint(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Callable[..., ComplaintSubmission]
) -> str:
    handle = await start(client, pool, tuned(settings), personal_complaint(complaint))
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(handle, ComplaintWorkflow.add_note, InternalNote(by=ALICE, text="Note sur Ophélie"))
    await execute_update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Où habite Gérard ?")
    )
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Gérard habite au 14"))
    await wait_for_phase(client, handle.id, Phase.HANDLING)
    await refresh(pool, wait=True)
    return handle.id


async def test_an_open_complaint_is_not_erased_without_force(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    reference = await handled_complaint(client, pool, settings, complaint)
    before = await table_counts(pool)

    refused = await complaints(settings, "erase", reference, "--by", "DPO Dupont")

    assert refused.returncode == 1
    assert "still open" in refused.stderr
    assert await table_counts(pool) == before
    assert await phase_of(client.get_workflow_handle(reference)) is Phase.HANDLING
    assert set(await traces_left(pool)) >= {"complaints", "documents", "journal", "outbox"}


async def test_erasure_leaves_no_personal_data_and_keeps_the_statistics(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    reference = await handled_complaint(client, pool, settings, complaint)
    assert await traces_left(pool)
    entries_before = await pool.fetchval("SELECT count(*) FROM journal WHERE complaint_reference = $1", reference)

    done = await complaints(settings, "erase", reference, "--by", "DPO Dupont", "--reason", "article 17", "--force")
    assert done.returncode == 0, done.stderr
    assert f"{reference}: personal data erased" in done.stdout
    await refresh(pool, wait=True)

    assert await traces_left(pool) == {}
    row = await pool.fetchrow("SELECT * FROM complaints WHERE reference = $1", reference)
    assert (row["channel"], row["product"], row["phase"]) == ("phone", "Vase Médicis", "closed")
    assert row["erased_at"] is not None and row["received_at"] is not None
    assert await pool.fetchval("SELECT count(*) FROM documents WHERE complaint_reference = $1", reference) == 0
    report = await pool.fetchrow("SELECT * FROM report_complaints WHERE reference = $1", reference)
    assert (report["channel"], report["product"], report["customer_id"]) == ("phone", "Vase Médicis", None)
    # every entry kept, and two more: the forced closure and the erasure, with who and why
    journal = await pool.fetch(
        "SELECT event, actor, details FROM journal WHERE complaint_reference = $1 ORDER BY id", reference
    )
    assert len(journal) == entries_before + 2
    assert [(e["event"], e["actor"]) for e in journal[-2:]] == [
        ("closed_for_erasure", "DPO Dupont"),
        ("erased", "DPO Dupont"),
    ]
    assert json.loads(journal[-1]["details"]) == {"reason": "article 17"}
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pool.execute("UPDATE journal SET details = '{}' WHERE complaint_reference = $1", reference)

    async def history_gone() -> bool:
        try:
            await client.get_workflow_handle(reference).fetch_history()
        except RPCError as error:
            return error.status == RPCStatusCode.NOT_FOUND
        return False

    await eventually(history_gone, timeout=60)  # the server deletes in the background

    again = await complaints(settings, "erase", reference, "--by", "DPO Dupont")
    assert again.returncode == 0 and "erased already" in again.stdout


# --- retention -----------------------------------------------------------------------


async def closed_complaint(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Callable[..., ComplaintSubmission]
) -> str:
    reference = await handled_complaint(client, pool, settings, complaint)
    handle = client.get_workflow_handle(reference)
    await execute_update(handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=ARGUED))
    await wait_for_phase(client, reference, Phase.RESPONDED)
    await execute_update(handle, ComplaintWorkflow.close, Closure(by=DENIS, note="Réglé avec Mme Vasseur"))

    async def closed() -> bool:
        return await pool.fetchval("SELECT phase FROM complaints WHERE reference = $1", reference) == "closed"

    await eventually(closed)
    await handle.result()
    return reference


async def test_the_retention_schedule_erases_complaints_closed_long_enough_ago(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    old = await closed_complaint(client, pool, settings, complaint)
    recent = await closed_complaint(client, pool, settings, complaint)
    # the first was closed six years ago; the retention period is five
    await pool.execute("UPDATE complaints SET closed_at = now() - interval '6 years' WHERE reference = $1", old)
    await ensure_retention_schedule(client, settings)

    await client.get_schedule_handle(retention_schedule_id(settings)).trigger()

    async def erased() -> bool:
        return await pool.fetchval("SELECT erased_at FROM complaints WHERE reference = $1", old) is not None

    await eventually(erased, timeout=30)
    assert await pool.fetchval("SELECT erased_at FROM complaints WHERE reference = $1", recent) is None
    left = await traces_left(pool)
    assert left and all(recent in row and old not in row for rows in left.values() for row in rows), left
    entry = await pool.fetchrow(
        "SELECT actor, details FROM journal WHERE complaint_reference = $1 AND event = 'erased'", old
    )
    assert entry["actor"] == "retention" and "5 ans" in json.loads(entry["details"])["reason"]

    async def history_gone() -> bool:
        try:
            await client.get_workflow_handle(old).fetch_history()
        except RPCError as error:
            return error.status == RPCStatusCode.NOT_FOUND
        return False

    await eventually(history_gone, timeout=60)
    await client.get_workflow_handle(recent).fetch_history()  # kept


async def test_erasing_by_complainant_erases_each_of_their_complaints_and_no_other(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    theirs = [(await start(client, pool, settings, personal_complaint(complaint))).id for _ in range(2)]
    other = (await start(client, pool, settings, complaint())).id
    before = await table_counts(pool)

    neither = await complaints(settings, "erase", "--by", "DPO Dupont")
    assert neither.returncode == 2 and "either a reference or --complainant" in neither.stderr
    assert await table_counts(pool) == before

    done = await complaints(
        settings, "erase", "--complainant", PERSON["email"].upper(), "--by", "DPO Dupont", "--force"
    )

    assert done.returncode == 0, done.stderr
    assert all(f"{reference}: personal data erased" in done.stdout for reference in theirs)
    assert await traces_left(pool) == {}
    erased = await pool.fetch("SELECT reference FROM complaints WHERE erased_at IS NOT NULL ORDER BY reference")
    assert [row["reference"] for row in erased] == sorted(theirs)
    assert await pool.fetchval("SELECT complainant_name FROM complaints WHERE reference = $1", other) == "Jeanne Martin"
    assert await phase_of(client.get_workflow_handle(other)) is Phase.ASSESSMENT


async def test_a_complaint_erased_before_its_run_started_is_never_started(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    host, port = settings.temporal_address.rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    await proxy.open()
    cut_off = await Client.connect(
        proxy.address,
        namespace=settings.temporal_namespace,
        data_converter=client.data_converter,
        retry_config=RetryConfig(max_retries=1),
    )
    await proxy.close()  # Temporal "down": the complaint is recorded without its run
    with pytest.raises(RPCError):
        await submit_complaint(pool, cut_off, settings, personal_complaint(complaint), actor="t")
    reference = await pool.fetchval("SELECT reference FROM complaints WHERE workflow_started_at IS NULL")

    done = await complaints(settings, "erase", reference, "--by", "DPO Dupont", "--force")
    assert done.returncode == 0, done.stderr

    sweep = await start_unstarted(pool, client, settings, limit=10)
    assert (sweep.started, sweep.remaining) == ([], 0)
    assert await resume_unstarted(pool, client, settings) == 0
    with pytest.raises(RPCError) as missing:
        await client.get_workflow_handle(reference).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
    assert await traces_left(pool) == {}

"""Taking a complaint in: recorded once, acknowledged once, on the real stack."""

import asyncio
import base64
import os
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import pytest
from temporalio import workflow
from temporalio.client import Client

from complaints.database import open_pool
from complaints.intake import COMPLAINT_WORKFLOW, ReferenceClash, record_complaint, resume_unstarted, submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import wait_for_acknowledgement
from tests.helpers.databases import fresh_database
from tests.helpers.history import wait_until_idle
from tests.helpers.mailbox import Mailbox, body_of
from tests.helpers.polling import eventually
from tests.helpers.register import journal_events, outbox
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]


def test_intake_starts_the_complaint_workflow_by_its_type() -> None:
    """The core starts the workflow by name, without importing the workflows."""
    assert workflow._Definition.must_from_class(ComplaintWorkflow).name == COMPLAINT_WORKFLOW


async def test_a_complaint_is_recorded_journaled_and_acknowledged_once(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    submitted = await submit_complaint(
        pool, client, settings, complaint(persons_concerned=["M. Durand, livreur"]), actor="agent-7"
    )
    ref = submitted.reference
    assert submitted.created
    assert ref == f"{settings.reference_prefix}-{datetime.now(UTC).year}-000001"

    [ack] = await mailbox.wait_for("jeanne@example.com")
    await wait_for_acknowledgement(client, ref)

    assert ref in ack["Subject"]
    body = body_of(ack)
    assert ref in body
    assert "Le remplacement du vase" in body  # the desired resolution as understood
    assert "Colis abîmé" in body
    assert "réponse argumentée au plus tard le" in body

    row = await pool.fetchrow("SELECT * FROM complaints WHERE reference = $1", ref)
    assert row["complainant_name"] == "Jeanne Martin"
    assert row["persons_concerned"] == ["M. Durand, livreur"]
    assert row["phase"] == "assessment" and row["ack_method"] == "email"
    assert row["acknowledged_at"] is not None and row["response_due_at"] is not None
    assert await journal_events(pool, ref) == [
        "received",
        "intake_recorded",
        "acknowledgement_emailed",
        "acknowledged",
        "assessed",
    ]
    assert (await pool.fetchval("SELECT actor FROM journal WHERE event = 'received'")) == "agent-7"
    status = await client.get_workflow_handle(ref).query(ComplaintWorkflow.status)
    assert status.acknowledged_at == row["acknowledged_at"]
    assert status.response_due_at == row["response_due_at"]

    # Once: the run waits for a handler with nothing in flight; it emailed the
    # acknowledgement once, delivered at the first attempt.
    history = await wait_until_idle(client.get_workflow_handle(ref))
    assert history.scheduled("send_acknowledgement") == history.completed("send_acknowledgement") == 1
    assert await outbox(pool) == [(f"{ref}:acknowledgement", "sent", 1)]
    assert len(mailbox.messages()) == 1


async def test_the_same_submission_twice_is_one_complaint(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    first, *again = await asyncio.gather(
        *(submit_complaint(pool, client, settings, complaint(idempotency_key="form-42"), actor="web") for _ in range(3))
    )
    later = await submit_complaint(pool, client, settings, complaint(idempotency_key="form-42"), actor="web")
    references = {first.reference, later.reference, *(s.reference for s in again)}
    assert len(references) == 1
    assert [first.created, *(s.created for s in again), later.created].count(True) == 1

    await mailbox.wait_for("jeanne@example.com")
    await wait_for_acknowledgement(client, first.reference)
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 1
    history = await wait_until_idle(client.get_workflow_handle(first.reference))
    assert history.scheduled("send_acknowledgement") == 1
    assert await outbox(pool) == [(f"{first.reference}:acknowledgement", "sent", 1)]
    assert len(mailbox.messages()) == 1
    # Visibility has caught up with the run's assessment, later than every start: one run.
    on_queue = f"TaskQueue = '{settings.task_queue}'"

    async def assessed_in_visibility() -> int:
        return (await client.count_workflows(f"{on_queue} AND ComplaintPhase = 'assessment'")).count

    await eventually(assessed_in_visibility, every=0.2)
    runs = [w async for w in client.list_workflows(on_queue)]
    assert len(runs) == 1


async def test_the_same_external_reference_on_a_channel_is_one_complaint(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    post = complaint(channel="social", external_reference="tweet-1861")
    first = await submit_complaint(pool, client, settings, post, actor="community")
    second = await submit_complaint(pool, client, settings, post, actor="community")
    assert first.reference == second.reference and not second.created


async def test_references_are_unique_and_sequential_under_concurrent_intake(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    submitted = await asyncio.gather(
        *(submit_complaint(pool, client, settings, complaint(), actor="t") for _ in range(20))
    )
    numbers = sorted(int(s.reference.rsplit("-", 1)[1]) for s in submitted)
    assert numbers == list(range(1, 21))


async def test_a_document_round_trips_byte_for_byte_and_stays_out_of_history(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    photo = b"\x89PNG\r\n\x1a\n" + os.urandom(300_000)
    submission = complaint(documents=[{"filename": "vase.png", "content_type": "image/png", "content": photo}])
    ref = (await submit_complaint(pool, client, settings, submission, actor="t")).reference
    await mailbox.wait_for("jeanne@example.com")
    await wait_for_acknowledgement(client, ref)

    stored = await pool.fetchrow("SELECT * FROM documents WHERE complaint_reference = $1", ref)
    assert stored["content"] == photo
    assert stored["size_bytes"] == len(photo)
    assert stored["sha256"] == submission.documents[0].sha256
    assert stored["filename"] == "vase.png" and stored["content_type"] == "image/png"

    history = (await client.get_workflow_handle(ref).fetch_history()).to_json()
    assert base64.b64encode(photo[:3000]).decode()[:400] not in history
    assert len(history) < 100_000
    assert "Le colis est arrivé ouvert" not in history  # the complaint's text stays in the register


async def test_a_complaint_recorded_without_its_workflow_is_started_at_worker_start(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    """The process died between the register write and the workflow start."""
    recorded = await record_complaint(pool, settings, complaint(), actor="t")
    assert await resume_unstarted(pool, client, settings) == 1
    await mailbox.wait_for("jeanne@example.com")
    await wait_for_acknowledgement(client, recorded.reference)
    assert await resume_unstarted(pool, client, settings) == 0


async def test_a_new_complaint_never_joins_another_complaints_run(
    client: Client, pool: asyncpg.Pool, settings: Settings, postgres: str, worker, complaint: Make
) -> None:
    """A register that does not belong to the namespace (reset, or another
    one) must not attach a new complaint to an old run."""
    await submit_complaint(pool, client, settings, complaint(), actor="t")
    other = settings.model_copy(update={"database_url": await fresh_database(postgres)})
    other_pool = await open_pool(other)
    try:
        with pytest.raises(ReferenceClash, match="taken by another register"):
            await submit_complaint(other_pool, client, other, complaint(), actor="t")
    finally:
        await other_pool.close()

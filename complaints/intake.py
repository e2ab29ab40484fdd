"""The one function every intake channel uses to take a complaint in.

The complaint and its documents are written to the register in one
transaction, then its workflow is started. The same idempotency key (or the
same channel + external reference) returns the same complaint: never a second
row, workflow or email. A complaint recorded whose workflow did not start (the
Temporal service was down) is started by the intake sweep (`start_unstarted`,
on a schedule every minute) and by `resume_unstarted` at worker start.

The workflow is started by its type name: the core does not import the
workflows that run on it."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from complaints import journal
from complaints import search_attributes as attrs
from complaints.complaint_status import Phase
from complaints.documents import store_document
from complaints.settings import Settings
from complaints.submission import Channel, ComplaintSubmission
from complaints.workflow_state import ComplaintStart

log = logging.getLogger(__name__)

# The workflow type of workflows.complaint.ComplaintWorkflow (tests/test_intake.py checks).
COMPLAINT_WORKFLOW = "ComplaintWorkflow"


@dataclass(frozen=True)
class Submitted:
    reference: str
    created: bool  # False: an earlier submission with the same key


async def submit_complaint(
    pool: asyncpg.Pool,
    client: Client,
    settings: Settings,
    submission: ComplaintSubmission,
    *,
    actor: str,
) -> Submitted:
    """Record `submission` (validated by the caller) and start its workflow."""
    submitted = await record_complaint(pool, settings, submission, actor)
    await start_workflow(pool, client, settings, submitted.reference)
    return submitted


INTAKE_ID = "intake_id"


class ReferenceClash(RuntimeError):
    """A new complaint's reference is already a workflow id: the register and
    the Temporal namespace do not belong together."""


async def start_workflow(pool: asyncpg.Pool, client: Client, settings: Settings, reference: str) -> None:
    """Start the complaint's workflow unless it runs or ran already. A run with
    its id that another register started is an error, never reused."""
    row = await pool.fetchrow(
        "SELECT received_at, sent_at, regime, channel, intake_id FROM complaints WHERE reference = $1", reference
    )
    start = ComplaintStart(
        reference=reference,
        received_at=row["received_at"],
        channel=Channel(row["channel"]),
        policy=settings.complaint_policy_at(row["sent_at"] or row["received_at"]),
        sent_at=row["sent_at"],
        regime=row["regime"],
    )
    intake_id = str(row["intake_id"])
    try:
        await client.start_workflow(
            COMPLAINT_WORKFLOW,
            start,
            id=reference,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo={INTAKE_ID: intake_id},
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(attrs.CHANNEL, start.channel.value),
                    SearchAttributePair(attrs.PHASE, Phase.RECEIVED.value),
                ]
            ),
            static_summary=f"Complaint {reference} received by {start.channel.value}",
            static_details=_details(start),
        )
    except WorkflowAlreadyStartedError as error:
        existing = await client.get_workflow_handle(reference).describe()
        if await existing.memo_value(INTAKE_ID, default=None) != intake_id:
            raise ReferenceClash(
                f"workflow id {reference} is taken by another register's complaint in namespace "
                f"{settings.temporal_namespace}: is DATABASE_URL the register of this namespace?"
            ) from error
        # otherwise it is this complaint's run, started by an earlier attempt
    await pool.execute(
        """UPDATE complaints SET workflow_started_at = now()
            WHERE reference = $1 AND workflow_started_at IS NULL""",
        reference,
    )


def _details(start: ComplaintStart) -> str:
    """What the Temporal UI shows of the run at a glance; never personal data."""
    dates = start.policy.regulatory_dates(start.regime, start.sent_at, start.received_at)
    return (
        f"**Complaint {start.reference}**\n\n"
        f"- channel: {start.channel.value}\n"
        f"- sent: {f'{start.sent_at:%Y-%m-%d %H:%M} UTC' if start.sent_at else 'not recorded'}\n"
        f"- received: {start.received_at:%Y-%m-%d %H:%M} UTC\n"
        f"- regime: {start.regime}\n"
        f"- acknowledgement due: {dates.acknowledgement_due:%Y-%m-%d %H:%M} UTC\n"
        f"- regulatory response deadline: {dates.answer_due:%Y-%m-%d %H:%M} UTC\n\n"
        "The complaint's content is in the register; payloads here are encrypted."
    )


@dataclass(frozen=True)
class Sweep:
    """What a sweep of unstarted complaints did."""

    started: list[str]  # references whose workflow it started (or found started)
    refused: dict[str, str]  # reference → why it cannot be started (a clash of references)
    remaining: int  # unstarted complaints left for the next sweep (past its limit)


async def start_unstarted(
    pool: asyncpg.Pool,
    client: Client,
    settings: Settings,
    *,
    limit: int = 200,
    each: Callable[[str], None] = lambda reference: None,
) -> Sweep:
    """Start the workflows of recorded complaints that have none, oldest first,
    at most `limit`; `each` is called after each one (an activity heartbeats).
    A complaint whose reference another register's run holds is left (and
    reported) while the others are started; the Temporal service unreachable
    raises, to be retried."""
    rows = await pool.fetch(
        # a complaint closed without a run (erased meanwhile) is never started
        """SELECT reference FROM complaints WHERE workflow_started_at IS NULL AND phase <> 'closed'
            ORDER BY created_at LIMIT $1""",
        limit + 1,
    )
    started, refused = [], {}
    for row in rows[:limit]:
        reference = row["reference"]
        try:
            await start_workflow(pool, client, settings, reference)
        except ReferenceClash as clash:
            log.error("%s cannot be started: %s", reference, clash)
            refused[reference] = str(clash)
        else:
            log.warning("started the workflow of %s, recorded without one", reference)
            started.append(reference)
        each(reference)
    remaining = 0
    if len(rows) > limit:
        remaining = await pool.fetchval(
            "SELECT count(*) FROM complaints WHERE workflow_started_at IS NULL AND phase <> 'closed'"
        )
        remaining -= len(refused)
    return Sweep(started, refused, remaining)


async def resume_unstarted(pool: asyncpg.Pool, client: Client, settings: Settings) -> int:
    """Start the workflows of recorded complaints whose start was interrupted."""
    rows = await pool.fetch(
        "SELECT reference FROM complaints WHERE workflow_started_at IS NULL AND phase <> 'closed' ORDER BY created_at"
    )
    for row in rows:
        log.warning("starting the workflow of %s, recorded without one", row["reference"])
        await start_workflow(pool, client, settings, row["reference"])
    return len(rows)


async def record_complaint(
    pool: asyncpg.Pool, settings: Settings, submission: ComplaintSubmission, actor: str
) -> Submitted:
    """Write the complaint and its documents in one transaction, or return
    the earlier complaint with the same key."""
    received_at = submission.received_at or datetime.now(UTC)
    # Sent when received unless the channel knows better (an email's Date, a
    # letter's date); a sending date a clock set fast puts after the receipt is the receipt.
    sent_at = min(submission.sent_at or received_at, received_at)
    regime = regime_for(submission, settings)
    async with pool.acquire() as conn:
        for _ in range(3):
            existing = await _find_earlier(conn, submission)
            if existing:
                return Submitted(existing, created=False)
            try:
                async with conn.transaction():
                    reference = await _allocate_reference(conn, settings, received_at)
                    await _insert(conn, reference, submission, received_at, sent_at, regime, actor)
                return Submitted(reference, created=True)
            except asyncpg.UniqueViolationError as error:
                if error.constraint_name == "complaints_pkey":
                    raise  # the reference counter is behind the register: never reuse a number
                # a concurrent submission with the same key won: return it
    raise RuntimeError("could not record the complaint: its idempotency key kept conflicting")


def regime_for(submission: ComplaintSubmission, settings: Settings) -> str:
    """The regime a complaint falls under at intake, by its product and channel
    (COMPLAINTS_REGIMES; its category is not known yet), else the default."""
    return settings.complaint_policy_at(submission.received_at or datetime.now(UTC)).regime_for(
        channel=submission.channel.value, product=submission.product
    )


async def _find_earlier(conn: asyncpg.Connection, submission: ComplaintSubmission) -> str | None:
    if submission.idempotency_key:
        found = await conn.fetchval(
            "SELECT reference FROM complaints WHERE idempotency_key = $1",
            submission.idempotency_key,
        )
        if found:
            return found
    if submission.external_reference:
        return await conn.fetchval(
            "SELECT reference FROM complaints WHERE channel = $1 AND external_reference = $2",
            submission.channel.value,
            submission.external_reference,
        )
    return None


async def _allocate_reference(conn: asyncpg.Connection, settings: Settings, received_at: datetime) -> str:
    """Next number of the year; the counter row lock serialises allocation and
    a rolled-back submission gives its number back."""
    number = await conn.fetchval(
        """INSERT INTO reference_counters (prefix, year, last_value) VALUES ($1, $2, 1)
           ON CONFLICT (prefix, year) DO UPDATE SET last_value = reference_counters.last_value + 1
           RETURNING last_value""",
        settings.reference_prefix,
        received_at.year,
    )
    return f"{settings.reference_prefix}-{received_at.year}-{number:06d}"


async def _insert(
    conn: asyncpg.Connection,
    reference: str,
    submission: ComplaintSubmission,
    received_at: datetime,
    sent_at: datetime,
    regime: str,
    actor: str,
) -> None:
    person = submission.complainant
    await conn.execute(
        """INSERT INTO complaints (
               reference, received_at, channel, complainant_name, complainant_email,
               complainant_phone, complainant_address, customer_id, subject, description,
               product, persons_concerned, desired_resolution, idempotency_key, external_reference,
               sent_at, regime, complainant_type)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)""",
        reference,
        received_at,
        submission.channel.value,
        person.name,
        person.email,
        person.phone,
        person.postal_address,
        person.customer_id,
        submission.subject,
        submission.description,
        submission.product,
        submission.persons_concerned,
        submission.desired_resolution,
        submission.idempotency_key,
        submission.external_reference,
        sent_at,
        regime,
        person.type and person.type.value,
    )
    for document in submission.documents:
        await store_document(conn, reference, document, "intake")
    await journal.append(
        conn,
        reference,
        "received",
        actor,
        {
            "channel": submission.channel.value,
            "sent_at": sent_at.isoformat(),
            "regime": regime,
            "documents": [
                {"filename": d.filename, "sha256": d.sha256, "size": len(d.content)} for d in submission.documents
            ],
        },
        step_key=f"{reference}:received",
    )

"""The 10-day acknowledgement deadline: email retried until it goes, a breach
raised once when nobody acknowledged in time, the postal path."""

from collections.abc import Callable
from datetime import timedelta

import asyncpg
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from complaints.complaint_status import Phase, SlaStatus
from complaints.intake import submit_complaint
from complaints.operator_commands import PostalLetter
from complaints.policy import Span
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.complaint_workflow import execute_update, refused, wait_for_acknowledgement
from tests.helpers.examples import CUSTOMER, without_email
from tests.helpers.history import RunHistory, history_of, wait_until_idle
from tests.helpers.mailbox import Mailbox, body_of
from tests.helpers.polling import eventually
from tests.helpers.register import journal_events, outbox, outbox_attempts
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]


def shortened(settings: Settings, ack: str) -> Settings:
    return settings.model_copy(update={"ack_deadline": Span.model_validate(ack)})


async def test_smtp_refusing_then_accepting_delivers_the_acknowledgement_once(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    mailbox.sink.refused_recipients.add(CUSTOMER)
    ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    key = f"{ref}:acknowledgement"
    await eventually(lambda: outbox_attempts(pool, key))
    assert "450" in await pool.fetchval("SELECT last_error FROM outbox WHERE key = $1", key)
    assert mailbox.messages() == []

    mailbox.sink.refused_recipients.clear()
    [ack] = await mailbox.wait_for(CUSTOMER)
    assert ref in ack["Subject"]
    await wait_for_acknowledgement(client, ref)
    # Once: the email is one activity, ended by the delivery that followed the
    # refused attempts, and the run waits with nothing in flight.
    history = await wait_until_idle(client.get_workflow_handle(ref))
    assert history.scheduled("send_acknowledgement") == history.completed("send_acknowledgement") == 1
    [(emailed, status, attempts)] = await outbox(pool)
    assert (emailed, status) == (key, "sent") and attempts >= 2
    assert len(mailbox.messages()) == 1
    assert (await journal_events(pool, ref)).count("acknowledgement_emailed") == 1


async def test_smtp_failing_past_the_deadline_raises_one_breach_alert(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    mailbox.sink.refused_recipients.add(CUSTOMER)
    short = shortened(settings, "3 seconds")
    ref = (await submit_complaint(pool, client, short, complaint(), actor="t")).reference

    [alert] = await mailbox.wait_for(settings.operations_email, timeout=20)
    assert ref in alert["Subject"] and "accusé de réception" in alert["Subject"]
    assert f"complaints ack-postal {ref}" in body_of(alert)
    alerts = await pool.fetch("SELECT * FROM alerts WHERE complaint_reference = $1", ref)
    assert [(a["deadline"], a["kind"]) for a in alerts] == [("acknowledgement", "breach")]
    status = await client.get_workflow_handle(ref).query(ComplaintWorkflow.status)
    assert status.sla_status is SlaStatus.BREACHED and status.phase is Phase.INTAKE
    assert await pool.fetchval("SELECT sla_status FROM complaints WHERE reference = $1", ref) == "breached"

    # Once, however long it lasts: the breach was recorded and sent once; the
    # run then holds no timer that could raise another (the regulatory clock's
    # own runs on, never paused), only the email retried.
    handle = client.get_workflow_handle(ref)

    async def alert_handled() -> RunHistory | None:
        history = await history_of(handle)
        return history if history.completed("send_alert") and not history.workflow_task_pending else None

    history = await eventually(alert_handled)
    assert history.scheduled("record_alert") == history.scheduled("send_alert") == 1
    assert history.running_timers == ["regulatory warning"]
    assert history.in_flight == ["send_acknowledgement"]
    assert len(mailbox.messages(settings.operations_email)) == 1

    mailbox.sink.refused_recipients.clear()  # email comes back: the late acknowledgement goes
    await mailbox.wait_for(CUSTOMER, timeout=30)
    await wait_for_acknowledgement(client, ref)
    row = await pool.fetchrow("SELECT * FROM complaints WHERE reference = $1", ref)
    assert row["acknowledged_at"] > row["ack_due_at"]
    events = await journal_events(pool, ref)
    assert events.count("acknowledgement_deadline_breached") == 1
    assert events.count("alert_emailed") == 1
    assert len(mailbox.messages(settings.operations_email)) == 1


async def test_no_email_and_no_letter_for_ten_days_breaches_then_the_letter_is_confirmed(
    env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    """The real 10-day deadline, on a time-skipping workflow clock."""
    ref = (await submit_complaint(pool, env.client, settings, without_email(complaint), actor="desk")).reference
    handle = env.client.get_workflow_handle(ref)

    [alert] = await mailbox.wait_for(settings.operations_email, timeout=30)
    assert ref in alert["Subject"]
    assert await env.get_current_time(handle) - (await handle.query(ComplaintWorkflow.status)).received_at >= timedelta(
        days=10
    )

    status = await execute_update(
        handle,
        ComplaintWorkflow.confirm_postal_acknowledgement,
        PostalLetter(confirmed_by="Claire, accueil"),
    )
    assert status.acknowledged_at is not None and status.ack_method == "post"
    row = await pool.fetchrow("SELECT * FROM complaints WHERE reference = $1", ref)
    assert row["ack_method"] == "post" and row["sla_status"] == "breached"
    actor = await pool.fetchval(
        "SELECT actor FROM journal WHERE complaint_reference = $1 AND event = 'acknowledged'", ref
    )
    assert actor == "Claire, accueil"
    assert mailbox.messages(CUSTOMER) == []
    # The workflow clock skips on to later timers once the run waits: the
    # regulatory clock's own warning may follow, but the acknowledgement's
    # breach was raised once.
    alerts = await pool.fetch("SELECT kind FROM alerts WHERE deadline = 'acknowledgement'")
    assert [a["kind"] for a in alerts] == ["breach"]


async def test_a_letter_confirmed_in_time_stops_the_breach(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    short = shortened(settings, "3 seconds")
    ref = (await submit_complaint(pool, client, short, without_email(complaint), actor="desk")).reference
    handle = client.get_workflow_handle(ref)
    status = await execute_update(
        handle, ComplaintWorkflow.confirm_postal_acknowledgement, PostalLetter(confirmed_by="Claire")
    )
    assert status.acknowledged_at is not None

    # The clock stopped in time, and the breach's timer with it: the watcher
    # waits for the later deadlines (days away) and nothing was raised.
    history = await wait_until_idle(handle)
    assert [t.ended for t in history.timers if t.summary == "acknowledgement breach"] == ["canceled"]
    assert history.running_timers and not [t for t in history.running_timers if t.startswith("acknowledgement")]
    assert history.scheduled("record_alert") == history.scheduled("send_alert") == 0
    status = await handle.query(ComplaintWorkflow.status)
    met = status.deadlines["acknowledgement"]
    assert met.met_at is not None and met.met_at < met.due_at and not met.breached
    assert mailbox.messages() == []
    assert await pool.fetchval("SELECT count(*) FROM alerts") == 0
    assert status.sla_status is SlaStatus.ON_TRACK


async def test_postal_confirmation_is_refused_when_it_does_not_fit(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    ref = (await submit_complaint(pool, client, settings, without_email(complaint), actor="t")).reference
    handle = client.get_workflow_handle(ref)
    received = (await handle.query(ComplaintWorkflow.status)).received_at

    future = await refused(
        handle.execute_update(
            ComplaintWorkflow.confirm_postal_acknowledgement,
            PostalLetter(confirmed_by="Claire", sent_at=received + timedelta(days=3)),
        )
    )
    assert "in the future" in future

    await execute_update(handle, ComplaintWorkflow.confirm_postal_acknowledgement, PostalLetter(confirmed_by="Claire"))
    twice = await refused(
        handle.execute_update(ComplaintWorkflow.confirm_postal_acknowledgement, PostalLetter(confirmed_by="Marc"))
    )
    assert "already acknowledged" in twice
    assert (await journal_events(pool, ref)).count("acknowledged") == 1

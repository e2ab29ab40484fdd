"""Each alert sink fails on its own: a sink that refuses an alert for good (an
SMTP 5xx, a webhook 4xx) is recorded as a failed delivery and not tried again,
the other sinks are still tried, and the activity then fails for good
(AlertUndeliverable, non-retryable); a sink that fails for now keeps the activity
retrying; sinks that cannot work as configured stop the worker at start."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import asyncpg
import pydantic
import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.alerts import ALERT_NOT_DELIVERED, ALERT_UNDELIVERABLE, AlertActivities
from activities.letters import Letters
from activities.outbox import Outbox
from activities.register import RegisterActivities
from complaints.alerts import DeadlineAlert
from complaints.intake import record_complaint, submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.polling import eventually
from tests.helpers.settings import QUICK_ASSESSMENT, tuned
from tests.helpers.smtp_servers import scripted_smtp
from tests.helpers.webhooks import WebhookReceiver, serving_webhook
from worker.main import build_worker

Make = Callable[..., ComplaintSubmission]
# The email sink's test server asks for a login without TLS, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with serving_webhook() as found:
        yield found


async def _alert(pool: asyncpg.Pool, settings: Settings, complaint: Make) -> DeadlineAlert:
    reference = (await record_complaint(pool, settings, complaint(), actor="t")).reference
    alert = DeadlineAlert(
        reference=reference, deadline="assessment", kind="breach", due_at=datetime(2026, 3, 2, 9, tzinfo=UTC)
    )
    await ActivityEnvironment().run(RegisterActivities(pool).record_alert, alert)
    return alert


async def _send(pool: asyncpg.Pool, settings: Settings, alert: DeadlineAlert) -> None:
    alerts = AlertActivities(pool, settings, Outbox(pool, settings), Letters(settings))
    await ActivityEnvironment().run(alerts.send_alert, alert)


async def _deliveries(pool: asyncpg.Pool, alert: DeadlineAlert) -> dict[str, tuple[str, str | None]]:
    rows = await pool.fetch("SELECT sink, status, error FROM alert_deliveries WHERE alert_key = $1", alert.key)
    return {row["sink"]: (row["status"], row["error"]) for row in rows}


EMAIL_REFUSALS = {
    "login refused (535)": ({"refuse_logins": True}, None, "535"),
    "recipient refused (550)": ({}, ("rcpt_reply", "550 5.1.1 No such mailbox"), "550"),
    "content refused (554)": ({}, ("data_reply", "554 5.7.1 Rejected"), "554"),
}


@pytest.mark.parametrize("case", list(EMAIL_REFUSALS))
async def test_an_email_sink_refused_for_good_is_recorded_and_the_later_sinks_still_get_the_alert(
    pool: asyncpg.Pool, settings: Settings, complaint: Make, webhook: WebhookReceiver, case: str
) -> None:
    options, reply, code = EMAIL_REFUSALS[case]
    alert = await _alert(pool, settings, complaint)
    with scripted_smtp(**options) as (smtp, port):
        if reply:
            setattr(smtp, *reply)
        alerting = settings.model_copy(
            update={
                "alert_sinks": ["email", "webhook", "log"],
                "alert_webhook_url": webhook.url,
                "smtp_port": port,
                "smtp_username": "alerts",
                "smtp_password": "wrong",
            }
        )
        if not options:  # the server offers no login: send without one
            alerting = alerting.model_copy(update={"smtp_username": None, "smtp_password": None})

        with pytest.raises(ApplicationError) as failure:
            await _send(pool, alerting, alert)
        assert failure.value.type == ALERT_UNDELIVERABLE and failure.value.non_retryable
        assert "email" in str(failure.value) and code in str(failure.value)

        found = await _deliveries(pool, alert)
        assert found["webhook"] == ("delivered", None) and found["log"] == ("delivered", None)
        status, error = found["email"]
        assert status == "failed" and error and code in error
        assert [event["id"] for event in webhook.events()] == [alert.key]
        journaled = await pool.fetch(
            "SELECT event FROM journal WHERE complaint_reference = $1 AND event LIKE 'alert_%' ORDER BY id",
            alert.reference,
        )
        assert [row["event"] for row in journaled] == ["alert_failed", "alert_sent_webhook", "alert_sent_log"]

        connections = smtp.connections
        with pytest.raises(ApplicationError) as again:  # retried anyway: nothing is sent again
            await _send(pool, alerting, alert)
        assert again.value.type == ALERT_UNDELIVERABLE
        assert smtp.connections == connections and webhook.requests == 1


@pytest.mark.parametrize("status", [400, 404, 410])
async def test_a_webhook_refusing_for_good_is_recorded_and_the_email_still_goes(
    pool: asyncpg.Pool, settings: Settings, complaint: Make, webhook: WebhookReceiver, mailbox, status: int
) -> None:
    alert = await _alert(pool, settings, complaint)
    alerting = settings.model_copy(update={"alert_sinks": ["webhook", "email"], "alert_webhook_url": webhook.url})
    webhook.answers = [status]

    with pytest.raises(ApplicationError) as failure:
        await _send(pool, alerting, alert)
    assert failure.value.type == ALERT_UNDELIVERABLE and failure.value.non_retryable

    found = await _deliveries(pool, alert)
    assert found["email"] == ("delivered", None)
    assert found["webhook"][0] == "failed" and str(status) in (found["webhook"][1] or "")
    assert len(mailbox.messages(alerting.operations_email)) == 1


@pytest.mark.parametrize("status", [408, 429, 503])
async def test_a_webhook_failing_for_now_keeps_the_alert_retrying_until_it_is_delivered(
    pool: asyncpg.Pool, settings: Settings, complaint: Make, webhook: WebhookReceiver, mailbox, status: int
) -> None:
    alert = await _alert(pool, settings, complaint)
    alerting = settings.model_copy(update={"alert_sinks": ["webhook", "email"], "alert_webhook_url": webhook.url})
    webhook.answers = [status]

    with pytest.raises(ApplicationError) as failure:
        await _send(pool, alerting, alert)
    assert failure.value.type == ALERT_NOT_DELIVERED and not failure.value.non_retryable
    assert webhook.url not in str(failure.value)  # failures are not encrypted; a chat webhook's URL is a secret
    assert await _deliveries(pool, alert) == {"email": ("delivered", None)}

    await _send(pool, alerting, alert)  # the retry
    assert await _deliveries(pool, alert) == {"email": ("delivered", None), "webhook": ("delivered", None)}
    assert [event["id"] for event in webhook.events()] == [alert.key]
    assert len(mailbox.messages(alerting.operations_email)) == 1


def test_a_webhook_sink_without_its_url_is_refused_when_the_settings_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COMPLAINTS_ALERT_SINKS", "email,webhook")
    monkeypatch.delenv("COMPLAINTS_ALERT_WEBHOOK_URL", raising=False)
    with pytest.raises(pydantic.ValidationError, match="COMPLAINTS_ALERT_WEBHOOK_URL is not set"):
        Settings(_env_file=None)
    monkeypatch.setenv("COMPLAINTS_ALERT_SINKS", "email,pager")
    with pytest.raises(pydantic.ValidationError, match="alert_sinks"):
        Settings(_env_file=None)


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"alert_sinks": ["email", "webhook"], "alert_webhook_url": None}, "COMPLAINTS_ALERT_WEBHOOK_URL is not set"),
        ({"alert_sinks": ["email", "pager"]}, "unknown alert sink 'pager'"),
    ],
)
async def test_a_worker_with_alert_sinks_that_cannot_work_does_not_start(
    client: Client, pool: asyncpg.Pool, settings: Settings, changes: dict[str, object], said: str
) -> None:
    with pytest.raises(ValueError, match=said):
        build_worker(client, pool, settings.model_copy(update=changes))


async def test_a_webhook_refusing_every_alert_is_tried_once_per_alert_and_the_run_journals_it(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make, webhook: WebhookReceiver
) -> None:
    """The real activity and the complaint's workflow: the assessment's
    warning and breach each reach the log, the webhook refuses each once (404),
    and the run journals each as undeliverable, not to be retried."""
    webhook.answers = [404] * 50
    alerting = tuned(
        settings,
        priority_deadlines=QUICK_ASSESSMENT,
        alert_sinks=["webhook", "log"],
        alert_webhook_url=webhook.url,
    )
    async with build_worker(client, pool, alerting):
        reference = (await submit_complaint(pool, client, alerting, complaint(), actor="t")).reference

        async def undeliverable() -> list[asyncpg.Record]:
            found = await pool.fetch(
                "SELECT details FROM journal WHERE complaint_reference = $1 AND event = 'alert_undeliverable'",
                reference,
            )
            return found if len(found) == 2 else []

        entries = await eventually(undeliverable, timeout=30)
    assert all('"retried": false' in entry["details"] for entry in entries)
    rows = await pool.fetch(
        "SELECT alert_key, sink, status FROM alert_deliveries WHERE alert_key LIKE $1 ORDER BY alert_key, sink",
        f"{reference}:%",
    )
    assert [(row["sink"], row["status"]) for row in rows] == [
        ("log", "delivered"),
        ("webhook", "failed"),
        ("log", "delivered"),
        ("webhook", "failed"),
    ]
    assert webhook.requests == 2 and webhook.received == []  # each alert tried once

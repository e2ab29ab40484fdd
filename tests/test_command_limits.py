"""A command's texts have a length: a note, a justification or a message
beyond 20,000 characters (a handler's name beyond 200) is refused with 422
naming the field, before it reaches the workflow; one at the limit is taken."""

from collections.abc import Callable

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import TEXT_MAX, ComplaintSubmission
from tests.helpers.complaint_workflow import wait_for_acknowledgement

Make = Callable[..., ComplaintSubmission]
TOO_LONG = [
    ("notes", {"text": "n" * (TEXT_MAX + 1)}, "text"),
    ("decision", {"outcome": "rejected", "justification": "j" * (TEXT_MAX + 1)}, "justification"),
    ("progress-updates", {"message": "m" * (TEXT_MAX + 1)}, "message"),
    ("information-requests", {"questions": "q" * (TEXT_MAX + 1)}, "questions"),
    ("assignment", {"handler": "h" * 201}, "handler"),
]


@pytest.mark.parametrize(("path", "body", "field"), TOO_LONG, ids=[path for path, _, _ in TOO_LONG])
async def test_a_command_text_beyond_its_limit_is_refused_with_the_field(
    http: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    mailbox,
    worker,
    complaint: Make,
    path: str,
    body: dict[str, object],
    field: str,
) -> None:
    reference = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    await wait_for_acknowledgement(client, reference)
    journaled = await pool.fetchval("SELECT count(*) FROM journal WHERE complaint_reference = $1", reference)

    refused = await http.post(f"/complaints/{reference}/{path}", json=body, headers=keys["handler"])

    assert refused.status_code == 422, refused.text[:300]
    problem = refused.json()
    assert [error["field"] for error in problem["errors"]] == [field]
    assert "at most" in problem["errors"][0]["message"]
    history = (await client.get_workflow_handle(reference).fetch_history()).to_json()
    assert "WorkflowExecutionUpdateAccepted" not in history  # never reached the workflow
    assert await pool.fetchval("SELECT count(*) FROM journal WHERE complaint_reference = $1", reference) == journaled


async def test_a_note_at_the_limit_is_taken(
    http: httpx.AsyncClient,
    keys: dict[str, dict[str, str]],
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    mailbox,
    worker,
    complaint: Make,
) -> None:
    reference = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    await wait_for_acknowledgement(client, reference)
    text = "n" * TEXT_MAX
    taken = await http.post(f"/complaints/{reference}/notes", json={"text": text}, headers=keys["handler"])
    assert taken.status_code == 200, taken.text[:300]
    details = await pool.fetchval(
        "SELECT details->>'text' FROM journal WHERE complaint_reference = $1 AND event = 'internal_note'", reference
    )
    assert details == text

"""Duplicate complaints merged (issue 16 #6): under running workflows the
survivor keeps the earliest sending date (its legal clocks moved to exact
dates, an alert already due raised once), takes every document and message
of the absorbed complaint, which is closed as merged from any open phase with
no answer to the customer; the customer told once; a merge posted twice is
one; each refusal says why and changes nothing; a reply quoting the absorbed
reference reaches the survivor."""

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from api.workflow_calls import run_update
from complaints.complaint_status import ComplaintStatus, Phase
from complaints.customer_signals import CustomerReply
from complaints.intake import submit_complaint
from complaints.links import LinkAction, signer
from complaints.merge_claims import claim_merge
from complaints.operator_commands import Absorption, MergeInto
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from inbound.server import InboundServer
from reporting.kpis import kpi_report
from reporting.register_export import as_csv, register_rows
from reporting.register_summary import register_summary
from tests.helpers.cli import complaints
from tests.helpers.complaint_states import POLICY, RECEIVED, deadline, status
from tests.helpers.complaint_workflow import start, wait_for_phase
from tests.helpers.console import complaint_page, hidden, sign_in, with_password
from tests.helpers.examples import ALICE, CUSTOMER
from tests.helpers.inbound_mail import authenticated, email, inbound_settings, journal_of, send
from tests.helpers.mailbox import Mailbox
from tests.helpers.polling import eventually
from tests.helpers.register import journal_events, table_counts
from tests.helpers.seeded_register import add_complaint
from tests.helpers.web import shown
from workflows.complaint import ComplaintWorkflow, deadlines, rules

Make = Callable[..., ComplaintSubmission]
PHOTO = {"filename": "vase.png", "content_type": "image/png", "content": b"\x89PNG\r\n\x1a\n photo du vase"}
POSTAL = {"name": "Paul Petit", "phone": "06 12 34 56 78", "postal_address": "3 rue Haute, 75011 Paris"}


def acpr(settings: Settings) -> Settings:
    """ACPR 2024-R-02: acknowledged within 10 working days and answered within 2 months of the sending."""
    return settings.model_copy(update={"default_regime": "acpr"})


async def _merge(http: httpx.AsyncClient, keys: dict, absorbed: str, survivor: str) -> httpx.Response:
    return await http.post(f"/complaints/{absorbed}/merge", json={"into": survivor}, headers=keys["handler"])


async def _status(client: Client, reference: str) -> ComplaintStatus:
    found: ComplaintStatus = await client.get_workflow_handle(reference).query(ComplaintWorkflow.status)
    return found


async def _copied_messages(pool: asyncpg.Pool, reference: str) -> list[tuple[str, str]]:
    rows = await journal_of(pool, reference, "customer_message")
    return [(row["details"].get("merged_from"), row["details"]["message"]) for row in rows]


async def _alerts(pool: asyncpg.Pool, reference: str) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT deadline, kind FROM alerts WHERE complaint_reference = $1 ORDER BY deadline, kind", reference
    )
    return [(row["deadline"], row["kind"]) for row in rows]


async def test_a_merge_keeps_the_earliest_sending_date_every_document_and_message_and_tells_the_customer_once(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    mailbox: Mailbox,
    worker: Any,
    complaint: Make,
    http: httpx.AsyncClient,
    keys: dict,
) -> None:
    settings = acpr(settings)
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)
    first = complaint(channel="letter", sent_at=sent, documents=[PHOTO])
    a = await start(client, pool, settings, first)
    await a.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Le livreur a signé", message_id="m-1"))
    await eventually(lambda: journal_of(pool, a.id, "customer_message"))
    b = await start(client, pool, settings, complaint(subject="Vase cassé, je relance"))
    before = await _status(client, b.id)
    assert before.sent_at == before.received_at and before.acknowledged_at is not None

    merged = await _merge(http, keys, a.id, b.id.lower())
    assert merged.status_code == 200, merged.text
    survivor = ComplaintStatus.model_validate(merged.json())

    # The survivor counts from A's sending date: the regulatory maximum, exactly; its acknowledgement stays as given.
    policy = settings.complaint_policy_at(before.received_at)
    due = policy.regulatory_due("acpr", sent, before.received_at)
    assert survivor.reference == b.id and survivor.sent_at == sent and survivor.absorbed == [a.id]
    assert survivor.regulatory_due_at == due < before.regulatory_due_at
    regulatory = survivor.deadlines["regulatory"]
    assert (regulatory.started_at, regulatory.due_at, regulatory.met_at) == (sent, due, None)
    assert survivor.deadlines["response"].cap == due and survivor.response_due_at <= due
    assert survivor.ack_due_at == before.ack_due_at and survivor.acknowledged_at == before.acknowledged_at
    row = await pool.fetchrow(
        "SELECT sent_at, regulatory_due_at, merged_into FROM complaints WHERE reference = $1", b.id
    )
    assert tuple(row) == (sent, due, None)

    # Nothing lost: A's document and its messages (its own text first) are the survivor's too.
    documents = await pool.fetch(
        "SELECT filename, sha256, source FROM documents WHERE complaint_reference = $1 ORDER BY id", b.id
    )
    assert [(d["filename"], d["source"]) for d in documents] == [("vase.png", f"merged:{a.id}")]
    assert await _copied_messages(pool, b.id) == [
        (a.id, f"{first.subject}\n\n{first.description}"),
        (a.id, "Le livreur a signé"),
    ]
    assert survivor.messages_received == 2

    # A is closed as merged, with no answer or survey; the merge journaled on both.
    absorbed = await _status(client, a.id)
    assert absorbed.phase is Phase.CLOSED and absorbed.merged_into == b.id and not absorbed.decisions
    row = await pool.fetchrow("SELECT phase, merged_into, outcome FROM complaints WHERE reference = $1", a.id)
    assert tuple(row) == ("closed", b.id, None)
    [closing] = await journal_of(pool, a.id, "merged_into")
    assert closing["actor"] == "Alice" and closing["details"]["merged_into"] == b.id
    [taken] = await journal_of(pool, b.id, "merged_in")
    assert taken["actor"] == "Alice" and taken["details"]["absorbed"] == a.id
    # The indicators count B alone: A is a duplicate, counted apart, not a complaint closed with its deadlines met.
    now = datetime.now(UTC)
    report = (await kpi_report(pool, now - timedelta(days=30), now + timedelta(days=1))).overall
    assert report.volumes.model_dump() == {"received": 1, "open": 1, "closed": 0, "merged": 1}
    assert report.deadlines.response.met == 0 and report.times.receipt_to_closure.count == 0
    kinds = await pool.fetch("SELECT complaint_reference, kind FROM outbox ORDER BY created_at, key")
    assert [(k["complaint_reference"], k["kind"]) for k in kinds] == [
        (a.id, "acknowledgement"),
        (b.id, "acknowledgement"),
        (b.id, "merged"),
    ]

    # Posted again: one merge, one email.
    again = await _merge(http, keys, a.id, b.id)
    assert again.status_code == 200 and again.json()["absorbed"] == [a.id]
    assert (await journal_events(pool, b.id)).count("merged_in") == 1
    assert len(await _copied_messages(pool, b.id)) == 2
    told = [m for m in mailbox.messages(CUSTOMER) if "traitées ensemble" in m["Subject"]]
    assert len(told) == 1 and a.id in told[0].get_content() and b.id in told[0]["Subject"]

    # A's own status page says where it went, with the survivor's link.
    token = signer(settings).sign(a.id, LinkAction.STATUS)
    page = await http.get(f"/suivi/{a.id}", params={"token": token})
    text = shown(page)
    assert page.status_code == 200 and f"traitées ensemble sous la référence {b.id}" in text
    assert f"/suivi/{b.id}?token=" in page.text


async def _held(client: Client, pool: asyncpg.Pool, references: list[str]) -> list[tuple[str, str]]:
    """Every complaint open, or merged into one whose run took it in and that
    is open or held so in turn: none closed without an open survivor holding
    it. Returns the merges made."""
    rows = await pool.fetch(
        "SELECT reference, phase, merged_into FROM complaints WHERE reference = ANY($1::text[])", references
    )
    found = {row["reference"]: row for row in rows}
    merges = []
    for reference, row in found.items():
        if row["merged_into"] is None:
            assert row["phase"] != "closed", f"{reference} is closed, merged into nothing"
            continue
        assert reference in (await _status(client, row["merged_into"])).absorbed, dict(row)
        merges.append((reference, row["merged_into"]))
    return merges


async def _at_once(
    http: httpx.AsyncClient, keys: dict, *pairs: tuple[str, str]
) -> dict[tuple[str, str], httpx.Response]:
    """The merges posted at the same time (each request's register reads run before any run is asked)."""
    answers = await asyncio.gather(*(_merge(http, keys, absorbed, survivor) for absorbed, survivor in pairs))
    return dict(zip(pairs, answers, strict=True))


def _one_done_one_refused(answers: dict[tuple[str, str], httpx.Response]) -> tuple[tuple[str, str], str]:
    """The merge made, and the other's refusal (409 with its reason)."""
    codes = sorted(answer.status_code for answer in answers.values())
    assert codes == [200, 409], [(pair, answer.status_code, answer.text) for pair, answer in answers.items()]
    [done] = [pair for pair, answer in answers.items() if answer.status_code == 200]
    [refused] = [answer for answer in answers.values() if answer.status_code == 409]
    return done, refused.json()["detail"]


async def test_opposite_merges_posted_at_once_make_one_merge_and_refuse_the_other(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    worker: Any,
    complaint: Make,
    http: httpx.AsyncClient,
    keys: dict,
) -> None:
    """A into B and B into A at once: one is made, the other refused, and
    neither complaint is closed into a complaint closed too."""
    a = await start(client, pool, settings, complaint())
    b = await start(client, pool, settings, complaint(subject="Vase cassé, je relance"))

    answers = await _at_once(http, keys, (a.id, b.id), (b.id, a.id))

    (absorbed, survivor), reason = _one_done_one_refused(answers)
    assert reason in (
        f"{absorbed} is being merged into {survivor}: merge into that one once it is done",
        f"{absorbed} was itself merged into {survivor}: merge into that one",
    ), reason
    assert await _held(client, pool, [a.id, b.id]) == [(absorbed, survivor)]
    assert await pool.fetchval("SELECT done_at IS NOT NULL FROM merges WHERE absorbed = $1", absorbed)


@pytest.mark.parametrize("a_into_b_first", [True, False], ids=["a-into-b-posted-first", "b-into-c-posted-first"])
async def test_chained_merges_posted_at_once_make_one_merge_and_refuse_the_other(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    worker: Any,
    complaint: Make,
    http: httpx.AsyncClient,
    keys: dict,
    a_into_b_first: bool,
) -> None:
    """A into B while B into C (posted in either order): B is the survivor of
    one and the absorbed of the other; one is made, the other refused, A never
    left closed into a closed B."""
    a = await start(client, pool, settings, complaint())
    b = await start(client, pool, settings, complaint(subject="Vase cassé, je relance"))
    c = await start(client, pool, settings, complaint(subject="Toujours rien"))

    pairs = [(a.id, b.id), (b.id, c.id)]
    answers = await _at_once(http, keys, *(pairs if a_into_b_first else pairs[::-1]))

    done, reason = _one_done_one_refused(answers)
    if done == (a.id, b.id):
        assert reason == f"{b.id} is taking in {a.id} (a merge under way): merge it once that merge is done", reason
    else:
        assert reason in (
            f"{b.id} is being merged into {c.id}: merge into that one once it is done",
            f"{b.id} was itself merged into {c.id}: merge into that one",
        ), reason
    assert await _held(client, pool, [a.id, b.id, c.id]) == [done]
    # The one refused is made once the other is done: A then B in turn, or A into C directly.
    then = (b.id, c.id) if done == (a.id, b.id) else (a.id, c.id)
    assert (await _merge(http, keys, *then)).status_code == 200
    assert sorted(await _held(client, pool, [a.id, b.id, c.id])) == sorted([done, then])


async def test_a_merge_left_between_its_halves_holds_its_complaints_until_posted_again(
    client: Client,
    pool: asyncpg.Pool,
    settings: Settings,
    worker: Any,
    complaint: Make,
    http: httpx.AsyncClient,
    keys: dict,
) -> None:
    """Claimed and A closed as merged, then nothing (the API stopped): no
    other merge takes A, B or C away meanwhile; posted again, it completes."""
    a = await start(client, pool, settings, complaint())
    b = await start(client, pool, settings, complaint(subject="Vase cassé, je relance"))
    c = await start(client, pool, settings, complaint(subject="Toujours rien"))
    pair = await claim_merge(pool, a.id, b.id)
    command = MergeInto(into=b.id, by=ALICE)
    await run_update(client, pool, a.id, ComplaintWorkflow.merge_into, command, f"merge:{a.id}:{b.id}")

    refusals = {
        (a.id, c.id): f"{a.id} was merged into {b.id} already",
        (b.id, c.id): f"{b.id} is taking in {a.id} (a merge under way): merge it once that merge is done",
    }
    for (absorbed, survivor), reason in refusals.items():
        refused = await _merge(http, keys, absorbed, survivor)
        assert refused.status_code == 409 and refused.json()["detail"] == reason, refused.text
    assert await pool.fetchval("SELECT done_at FROM merges WHERE absorbed = $1", pair.absorbed) is None

    again = await _merge(http, keys, a.id, b.id)
    assert again.status_code == 200 and again.json()["absorbed"] == [a.id], again.text
    assert await pool.fetchval("SELECT done_at IS NOT NULL FROM merges WHERE absorbed = $1", a.id)
    assert (await _merge(http, keys, b.id, c.id)).status_code == 200
    assert sorted(await _held(client, pool, [a.id, b.id, c.id])) == [(a.id, b.id), (b.id, c.id)]


async def test_a_claim_unanswered_stays_and_one_refused_by_the_run_is_withdrawn(
    pool: asyncpg.Pool, settings: Settings, http: httpx.AsyncClient, keys: dict
) -> None:
    """The register alone (no runs): T-1 into T-2 unanswered (T-1's run not
    started yet) may be done, so its claim stays and the API, the console and
    the command line say why the merges it touches wait; refused by the run
    (T-4's is over), nothing was done and the claim goes, as it does when the
    same merge posted again no longer fits."""
    now = datetime.now(UTC)
    jeanne = {"complainant_email": CUSTOMER}
    for reference in ("T-1", "T-2", "T-3"):
        await add_complaint(pool, reference, now, **jeanne)
    await add_complaint(pool, "T-4", now, workflow_started_at=now, **jeanne)

    unanswered = await _merge(http, keys, "T-1", "T-2")
    assert unanswered.status_code == 503, unanswered.text
    refusals = {
        ("T-1", "T-3"): "T-1 is being merged into T-2: post that merge again to complete it",
        ("T-2", "T-3"): "T-2 is taking in T-1 (a merge under way): merge it once that merge is done",
        ("T-3", "T-1"): "T-1 is being merged into T-2: merge into that one once it is done",
    }
    for (absorbed, survivor), reason in refusals.items():
        refused = await _merge(http, keys, absorbed, survivor)
        assert refused.status_code == 409 and refused.json()["detail"] == reason, refused.text
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    looked = await http.get("/console/reclamations/T-2/fusion", params={"vers": "T-3"})
    assert looked.status_code == 422 and "reprend en ce moment une autre réclamation" in shown(looked)
    page = await complaint_page(http, "T-2")
    posted = await http.post("/console/reclamations/T-2/fusion", data={"csrf": hidden(page, "csrf"), "vers": "T-3"})
    assert posted.status_code == 422 and "reprend en ce moment une autre réclamation" in shown(posted)
    told = await complaints(settings, "merge", "T-3", "T-1")
    assert told.returncode == 1 and f"not merged: {refusals[('T-3', 'T-1')]}" in told.stderr, told.stderr

    refused = await _merge(http, keys, "T-4", "T-3")
    assert refused.status_code == 409 and "T-4 is closed" in refused.json()["detail"], refused.text
    claims = await pool.fetch("SELECT absorbed, survivor, done_at FROM merges ORDER BY absorbed")
    assert [tuple(row) for row in claims] == [("T-1", "T-2", None)]

    # T-2 closed meanwhile: T-1 into T-2 posted again no longer fits, and its claim goes with it.
    await pool.execute("UPDATE complaints SET phase = 'closed' WHERE reference = 'T-2'")
    refused = await _merge(http, keys, "T-1", "T-2")
    assert refused.status_code == 409 and "T-2 is closed: merge into an open complaint" in refused.text
    assert await pool.fetchval("SELECT count(*) FROM merges") == 0
    assert (await _merge(http, keys, "T-1", "T-3")).status_code == 503  # T-1 free again (its run not started)


async def test_a_complaint_still_in_intake_is_merged_the_acknowledgement_moves_and_its_breach_is_raised_once(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker: Any, complaint: Make
) -> None:
    """Two letters of a postal complainant, neither acknowledged yet; merged
    with `complaints merge A B`, twice."""
    settings = acpr(settings)
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    a_ref = (
        await submit_complaint(
            pool, client, settings, complaint(channel="letter", sent_at=sent, complainant=POSTAL), actor="t"
        )
    ).reference
    b_ref = (
        await submit_complaint(pool, client, settings, complaint(channel="letter", complainant=POSTAL), actor="t")
    ).reference
    for reference in (a_ref, b_ref):
        await wait_for_phase(client, reference, Phase.INTAKE)
    before = await _status(client, b_ref)

    for _ in range(2):
        done = await complaints(settings, "merge", a_ref, b_ref, "--by", "Alice")
        assert done.returncode == 0 and f"{a_ref} merged into {b_ref}" in done.stdout, done.stderr

    policy = settings.complaint_policy_at(before.received_at)
    acknowledgement_due = policy.acknowledgement_due_for("acpr", sent, before.received_at)
    survivor = await _status(client, b_ref)
    assert survivor.ack_due_at == survivor.deadlines["acknowledgement"].due_at == acknowledgement_due
    assert acknowledgement_due < datetime.now(UTC) < before.ack_due_at
    assert survivor.regulatory_due_at == policy.regulatory_due("acpr", sent, before.received_at)
    # The earlier date has passed: the acknowledgement's breach is raised, once.
    await eventually(lambda: _alerts(pool, b_ref))
    await eventually(lambda: journal_of(pool, b_ref, "merged_to_post"))
    assert await _alerts(pool, b_ref) == [("acknowledgement", "breach")]
    assert (await journal_events(pool, b_ref)).count("merged_to_post") == 1
    absorbed = await _status(client, a_ref)
    assert absorbed.phase is Phase.CLOSED and absorbed.merged_into == b_ref and absorbed.acknowledged_at is None


async def test_each_refusal_says_why_and_changes_nothing(
    pool: asyncpg.Pool, http: httpx.AsyncClient, keys: dict
) -> None:
    now = datetime.now(UTC)
    jeanne = {"complainant_email": CUSTOMER}
    await add_complaint(pool, "T-1", now, **jeanne)
    await add_complaint(pool, "T-2", now, **jeanne)
    await add_complaint(pool, "T-OTHER", now, complainant_email="paul@example.com")
    await add_complaint(pool, "T-CLOSED", now, phase="closed", **jeanne)
    await add_complaint(pool, "T-MERGED", now, phase="closed", merged_into="T-2", **jeanne)
    counts = await table_counts(pool)

    refusals = {
        ("T-1", "T-OTHER"): (409, "are not the same customer's complaints"),
        ("T-1", "T-1"): (409, "cannot be merged into itself"),
        ("T-1", "T-404"): (404, "no complaint T-404 in the register"),
        ("T-CLOSED", "T-1"): (409, "T-CLOSED is closed"),
        ("T-1", "T-CLOSED"): (409, "T-CLOSED is closed: merge into an open complaint"),
        ("T-MERGED", "T-1"): (409, "T-MERGED was merged into T-2 already"),
        ("T-1", "T-MERGED"): (409, "T-MERGED was itself merged into T-2"),
    }
    for (absorbed, survivor), (code, reason) in refusals.items():
        refused = await _merge(http, keys, absorbed, survivor)
        assert refused.status_code == code, (absorbed, survivor, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert reason in refused.json()["detail"], refused.json()
    assert await table_counts(pool) == counts
    merged = await pool.fetch("SELECT reference FROM complaints WHERE merged_into IS NOT NULL")
    assert [row["reference"] for row in merged] == ["T-MERGED"]
    bad = await http.post("/complaints/T-1/merge", json={"into": "pas une référence"}, headers=keys["handler"])
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


def test_the_runs_own_rules_refuse_a_merge_that_does_not_fit() -> None:
    merge = MergeInto(by=ALICE, into="T-2026-000002")
    open_ = status(Phase.HANDLING, reference="T-2026-000001")
    rules.check_merge_into(open_, merge, merges=True)
    for state, reason in (
        (open_, "started before merges"),
        (status(Phase.HANDLING, reference="T-2026-000002"), "cannot be merged into itself"),
        (status(Phase.HANDLING, responding=True), "while the response is being sent"),
        (status(Phase.HANDLING, merged_into="T-2026-000003"), "was merged into T-2026-000003"),
        (status(Phase.HANDLING, absorbed=["T-2026-000002"]), "cannot take it in turn"),
    ):
        try:
            rules.check_merge_into(state, merge, merges=state is not open_)
        except ValueError as error:
            assert reason in str(error), (reason, error)
        else:
            raise AssertionError(f"not refused: {reason}")
    again = status(Phase.CLOSED, merged_into="T-2026-000002")
    rules.check_merge_into(again, merge, merges=True)  # the same merge asked again: answered as the first
    absorption = Absorption(by=ALICE, absorbed="T-2026-000009", absorbed_sent_at=datetime(2026, 3, 2, tzinfo=UTC))
    rules.check_absorb(status(Phase.SURVEY), absorption, merges=True)
    rules.check_absorb(status(Phase.SURVEY, absorbed=["T-2026-000009"]), absorption, merges=False)


def test_an_earlier_sending_date_moves_the_clocks_and_keeps_the_alerts_already_raised() -> None:
    own, earlier = RECEIVED - timedelta(days=1), RECEIVED - timedelta(days=20)
    state = status(Phase.HANDLING, sent_at=own, regime="acpr", acknowledged_at=None)
    state.regulatory_due_at = POLICY.regulatory_due("acpr", own, RECEIVED)
    state.deadlines = {
        "acknowledgement": deadline("acknowledgement", timedelta(days=10), breached=True, warn=False),
        "regulatory": deadline("regulatory", timedelta(days=60), warned=True, generation=2),
        "response": deadline("response", timedelta(days=90), cap=state.regulatory_due_at, pausable=True),
    }
    deadlines.earlier_sending(state, POLICY, earlier)

    due = POLICY.regulatory_due("acpr", earlier, RECEIVED)
    regulatory, acknowledgement = state.deadlines["regulatory"], state.deadlines["acknowledgement"]
    assert (state.sent_at, state.regulatory_due_at, regulatory.due_at, regulatory.started_at) == (
        earlier,
        due,
        due,
        earlier,
    )
    assert state.ack_due_at == acknowledgement.due_at == POLICY.acknowledgement_due_for("acpr", earlier, RECEIVED)
    assert state.deadlines["response"].cap == due
    # Raised once, never again: the flags and generations stay.
    assert (regulatory.warned, regulatory.generation, acknowledgement.breached, acknowledgement.generation) == (
        True,
        2,
        True,
        0,
    )


@pytest_asyncio.fixture
async def inbound(client: Client, pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[Settings]:
    settings = inbound_settings(settings)
    async with InboundServer(pool, client, settings):
        yield settings


async def test_a_reply_quoting_the_absorbed_reference_reaches_the_survivor(
    client: Client,
    pool: asyncpg.Pool,
    inbound: Settings,
    mailbox: Mailbox,
    worker: Any,
    complaint: Make,
    http: httpx.AsyncClient,
    keys: dict,
) -> None:
    a = await start(client, pool, inbound, complaint())
    b = await start(client, pool, inbound, complaint(subject="Toujours ce vase"))
    assert (await _merge(http, keys, a.id, b.id)).status_code == 200

    reply = authenticated(email(f"Re: votre réclamation {a.id}", "Le transporteur ne répond pas."))
    code, answer = await send(inbound, reply)
    assert code == 250 and b.id in answer, answer
    [entry] = await journal_of(pool, b.id, "customer_email")
    assert entry["details"]["text"] == "Le transporteur ne répond pas."

    async def filed() -> list[tuple[str, str]] | None:
        return [message for message in await _copied_messages(pool, b.id) if message[0] is None] or None

    assert await eventually(filed) == [(None, "Le transporteur ne répond pas.")]
    assert await journal_of(pool, a.id, "customer_email") == []


async def test_the_console_merge_needs_its_form_token_and_words_refusals_in_french(
    pool: asyncpg.Pool, http: httpx.AsyncClient, keys: dict
) -> None:
    now = datetime.now(UTC)
    await add_complaint(pool, "T-1", now, complainant_email=CUSTOMER)
    await add_complaint(pool, "T-OTHER", now, complainant_email="paul@example.com")
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    counts = await table_counts(pool)

    forged = await http.post("/console/reclamations/T-1/fusion", data={"vers": "T-OTHER"})
    assert forged.status_code == 403 and "Ce formulaire a expiré" in shown(forged)
    page = await complaint_page(http, "T-1")
    refused = await http.post(
        "/console/reclamations/T-1/fusion", data={"csrf": hidden(page, "csrf"), "vers": "t-other"}
    )
    assert refused.status_code == 422 and "ne sont pas celles du même client" in shown(refused)
    looked = await http.get("/console/reclamations/T-1/fusion", params={"vers": "T-1"})
    assert looked.status_code == 422 and "ne peut pas être fusionnée dans elle-même" in shown(looked)
    assert await table_counts(pool) == counts


async def test_the_register_export_shows_the_absorbed_complaint_merged_into_the_survivor(pool: asyncpg.Pool) -> None:
    received = datetime(2026, 3, 2, 9, tzinfo=UTC)
    await add_complaint(pool, "T-2", received + timedelta(days=1), sent_at=received, category="livraison")
    await add_complaint(pool, "T-1", received, phase="closed", merged_into="T-2", category="livraison")
    period = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))

    rows = {row.reference: row for row in await register_rows(pool, *period)}
    assert (rows["T-1"].outcome, rows["T-1"].merged_into) == ("merged", "T-2")
    assert (rows["T-2"].outcome, rows["T-2"].merged_into, rows["T-2"].sent_at) == (None, None, received)
    exported = list(csv.DictReader(io.StringIO(as_csv(list(rows.values()), "Europe/Paris"))))
    assert [(row["reference"], row["outcome"], row["merged_into"]) for row in exported] == [
        ("T-1", "merged", "T-2"),
        ("T-2", "", ""),
    ]
    summary = await register_summary(pool, *period)
    assert [(row.category, row.outcome, row.complaints) for row in summary] == [
        ("livraison", "merged", 1),
        ("livraison", None, 1),
    ]

"""Attacks on the inbound mailbox, through its real SMTP server on the real
stack (issue 14, findings 5, 7 and 10): mail that is not the complainant's
authenticated mail never reaches a run, a MIME bomb is refused for good, and
acknowledgements do not relay an attacker's text to anyone without bound."""

import asyncio
import json
import smtplib
import time
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client

from activities.outbox import Outbox
from complaints.complaint_status import Phase
from complaints.intake import submit_complaint
from complaints.operator_commands import ConfirmAssessment, InformationRequest, Operator
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from inbound.server import InboundServer
from tests.helpers.complaint_workflow import execute_update, wait_for_acknowledgement, wait_for_phase
from tests.helpers.history import wait_until_idle
from tests.helpers.inbound_mail import (
    COMPLAINTS_ADDRESS,
    JEANNE,
    OUR_MX,
    authenticated,
    complaints_of,
    email,
    inbound_settings,
    journal_of,
    send,
    send_raw,
)
from tests.helpers.mailbox import Mailbox, body_of
from tests.helpers.polling import eventually
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]
ALICE = Operator(name="Alice")
KEPT = "Message kept for review"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with the inbound server's, and three acknowledgements per address a day."""
    return inbound_settings(settings, acknowledgements_per_address_per_day=3)


@pytest_asyncio.fixture
async def inbound(client: Client, pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[Settings]:
    async with InboundServer(pool, client, settings):
        yield settings


async def awaiting_answer(client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make) -> str:
    """A complaint whose handler asked Jeanne for information: its run waits for her answer."""
    reference = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
    await wait_for_acknowledgement(client, reference)
    handle = client.get_workflow_handle(reference)
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    request = InformationRequest(by=ALICE, questions="Une photo du colis ?")
    await execute_update(handle, ComplaintWorkflow.request_information, request)
    await wait_for_phase(client, reference, Phase.AWAITING_CUSTOMER)
    return reference


async def triaged(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM inbound_triage ORDER BY received_at")


async def assert_untouched(client: Client, pool: asyncpg.Pool, reference: str) -> None:
    """The run got no signal and still waits for the complainant; nothing was filed as hers."""
    history = await wait_until_idle(client.get_workflow_handle(reference))
    assert history.signals == []
    status = await client.get_workflow_handle(reference).query(ComplaintWorkflow.status)
    assert status.phase is Phase.AWAITING_CUSTOMER
    assert await journal_of(pool, reference, "customer_email") == []
    assert await journal_of(pool, reference, "customer_replied") == []
    assert await pool.fetchval("SELECT count(*) FROM documents WHERE complaint_reference = $1", reference) == 0


# --- finding 5: who may write into a complaint -------------------------------------


async def test_a_third_party_naming_the_reference_is_kept_for_triage_and_never_signalled(
    client: Client, pool: asyncpg.Pool, inbound: Settings, worker, complaint: Make
) -> None:
    reference = await awaiting_answer(client, pool, inbound, complaint)
    # Authenticated, but for its own domain: not the complainant's address.
    forged = authenticated(
        email(f"Re: {reference}", "Voici la réponse.", sender="Roy <roy@example.net>"), domain="example.net"
    )
    forged.add_attachment(b"%PDF-1.4 faux", maintype="application", subtype="pdf", filename="faux.pdf")
    for _ in range(2):  # a redelivery is kept once
        code, answer = await send(inbound, forged, sender="roy@example.net")
        assert code == 250 and KEPT in answer, answer

    await assert_untouched(client, pool, reference)
    [row] = await triaged(pool)
    assert (row["reference"], row["sender"]) == (reference, "roy@example.net")
    assert row["reason"] == "not from the complainant's address"
    assert json.loads(row["documents"]) == [{"filename": "faux.pdf", "content_type": "application/pdf", "size": 13}]
    [entry] = await journal_of(pool, reference, "inbound_triaged")
    assert entry["details"]["summary"] == "message refused to triage: not from the complainant's address"
    assert not entry["visible_to_customer"]


async def test_the_complainants_address_without_our_mxs_authentication_is_kept_for_triage(
    client: Client, pool: asyncpg.Pool, inbound: Settings, worker, complaint: Make
) -> None:
    reference = await awaiting_answer(client, pool, inbound, complaint)
    unsigned = email(f"Re: {reference}", "Voici la photo.")
    # Anyone can write the header: one of another authserv-id counts for nothing.
    forged = authenticated(email(f"Re: {reference}", "Voici la photo."), authserv_id="mx.attacker.example")
    # Our MX's header, but the signature is another domain's: not aligned with From.
    unaligned = authenticated(email(f"Re: {reference}", "Voici la photo."), domain="attacker.example")
    for message in (unsigned, forged, unaligned):
        code, answer = await send(inbound, message)
        assert code == 250 and KEPT in answer, answer
    await assert_untouched(client, pool, reference)
    assert [row["reason"] for row in await triaged(pool)] == [
        "not authenticated by our mail server (dkim or spf aligned with example.com)"
    ] * 3

    # Her mail as our MX authenticated it reaches the run.
    code, answer = await send(inbound, authenticated(email(f"Re: {reference}", "Voici la photo.")))
    assert code == 250 and reference in answer, answer
    await wait_for_phase(client, reference, Phase.HANDLING)
    assert len(await journal_of(pool, reference, "customer_replied")) == 1


async def test_spf_alone_counts_only_when_the_settings_allow_it(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    reference = await awaiting_answer(client, pool, settings, complaint)
    spf = email(f"Re: {reference}", "Voici la photo.")
    spf["Authentication-Results"] = f"{OUR_MX}; spf=pass smtp.mailfrom={JEANNE}; dkim=none"
    dkim_only = inbound_settings(settings, inbound_authentication="dkim")
    async with InboundServer(pool, client, dkim_only):
        code, answer = await send(dkim_only, spf)
    assert code == 250 and KEPT in answer, answer
    await assert_untouched(client, pool, reference)


async def test_an_unknown_reference_is_kept_for_triage_not_made_a_complaint(
    pool: asyncpg.Pool, inbound: Settings
) -> None:
    unknown = f"{inbound.reference_prefix}-2026-999999"
    code, answer = await send(inbound, authenticated(email(f"Re: {unknown}", "Et ma réclamation ?")))
    assert code == 250 and KEPT in answer, answer
    assert await complaints_of(pool) == []
    [row] = await triaged(pool)
    assert row["reference"] is None and row["named_references"] == [unknown]


async def test_an_operator_replying_to_an_alert_email_is_never_taken_for_the_customer(
    client: Client, pool: asyncpg.Pool, inbound: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    reference = await awaiting_answer(client, pool, inbound, complaint)
    # An alert email about the complaint, sent through the outbox as the alert sink sends it.
    await Outbox(pool, inbound).send_once(
        key=f"{reference}:alert:test:email",
        reference=reference,
        kind="alert",
        recipient=inbound.operations_email,
        subject=f"[ALERTE] {reference}",
        body="Le délai de réponse sera bientôt dépassé.",
    )
    [alert] = await mailbox.wait_for(inbound.operations_email)
    assert alert["X-Complaints-Alert"] == "alert"

    reply = email(f"Re: [ALERTE] {reference}", "Je m'en occupe.", sender=inbound.operations_email)
    reply["In-Reply-To"] = alert["Message-ID"]
    # Even written from the complainant's authenticated address, a forwarded alert is ours.
    forwarded = authenticated(email(f"Fwd: [ALERTE] {reference}", "Voir ci-dessous.", X_Complaints_Alert="alert"))
    for message in (reply, forwarded):
        code, answer = await send(inbound, message, sender=inbound.operations_email)
        assert code == 250 and KEPT in answer, answer
    await assert_untouched(client, pool, reference)
    assert [(row["reference"], row["reason"]) for row in await triaged(pool)] == [
        (reference, "answers an operations email")
    ] * 2


# --- finding 7: MIME bombs ---------------------------------------------------------


def nested(levels: int) -> bytes:
    head = (
        f"From: Jeanne Martin <{JEANNE}>\r\nTo: {COMPLAINTS_ADDRESS}\r\nSubject: Bombe\r\n"
        "Message-ID: <bomb@example.com>\r\nMIME-Version: 1.0\r\n"
    )
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(levels))
    closing = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(levels)))
    return (head + opening + "Content-Type: text/plain\r\n\r\nBonjour" + closing).encode()


def many_parts(parts: int) -> bytes:
    head = (
        f"From: Jeanne Martin <{JEANNE}>\r\nTo: {COMPLAINTS_ADDRESS}\r\nSubject: Parties\r\n"
        'Message-ID: <parts@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    )
    body = "".join("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(parts))
    return (head + body + "--b--\r\n").encode()


async def test_deeply_nested_multiparts_are_refused_for_good_and_the_server_goes_on(
    pool: asyncpg.Pool, inbound: Settings
) -> None:
    code, answer = await send_raw(inbound, nested(500))
    assert code == 554 and "MIME parts" in answer, answer
    code, answer = await send_raw(inbound, nested(50))  # under the parts limit, deeper than the nesting one
    assert code == 554 and "levels deep" in answer, answer
    assert await complaints_of(pool) == []
    code, answer = await send(inbound, email("Colis abîmé", "Le colis est arrivé ouvert."))
    assert code == 250, answer
    assert len(await complaints_of(pool)) == 1


async def test_thousands_of_tiny_parts_are_refused_for_good_at_once(pool: asyncpg.Pool, inbound: Settings) -> None:
    started = time.monotonic()
    code, answer = await send_raw(inbound, many_parts(5_000))
    assert code == 554 and "more than 100 MIME parts" in answer, answer
    assert time.monotonic() - started < 5
    assert await complaints_of(pool) == [] and await triaged(pool) == []


async def test_a_large_text_is_journaled_as_an_excerpt_and_kept_whole_as_a_document(
    client: Client, pool: asyncpg.Pool, inbound: Settings, worker, complaint: Make
) -> None:
    reference = await awaiting_answer(client, pool, inbound, complaint)
    text = "Voici tout le détail. " * 50_000  # about 1 MB
    code, answer = await send(inbound, authenticated(email(f"Re: {reference}", text)))
    assert code == 250 and reference in answer, answer
    [entry] = await journal_of(pool, reference, "customer_email")
    assert len(json.dumps(entry["details"])) < 6_000
    assert entry["details"]["text_length"] == len(text.strip())
    [document] = await pool.fetch("SELECT filename, content FROM documents WHERE complaint_reference = $1", reference)
    assert document["filename"] == "message.txt" and document["content"].decode() == text.strip()
    # Mail kept for triage is journaled by name and size only.
    stranger = email(f"Re: {reference}", text, sender="roy@example.net")
    stranger.add_attachment(b"x" * 100_000, maintype="application", subtype="pdf", filename="gros.pdf")
    code, answer = await send(inbound, stranger, sender="roy@example.net")
    assert code == 250 and KEPT in answer, answer
    [kept] = await journal_of(pool, reference, "inbound_triaged")
    assert len(json.dumps(kept["details"])) < 2_000
    assert len((await triaged(pool))[0]["text_excerpt"]) < 4_100


async def test_sessions_beyond_the_limit_are_told_to_come_back_later(
    client: Client, pool: asyncpg.Pool, settings: Settings
) -> None:
    limited = inbound_settings(settings, inbound_max_sessions=2)

    def greeting() -> tuple[smtplib.SMTP, int]:
        smtp = smtplib.SMTP()
        code, _ = smtp.connect(limited.inbound_host, limited.inbound_port)
        return smtp, code

    async def answered(code: int) -> bool:
        smtp, got = await asyncio.to_thread(greeting)
        smtp.close()
        return got == code

    async with InboundServer(pool, client, limited):
        first, second = [await asyncio.to_thread(greeting) for _ in range(2)]
        assert (first[1], second[1]) == (220, 220)
        assert await answered(421)  # the sender retries later
        await asyncio.to_thread(first[0].quit)
        await eventually(lambda: answered(220))
        await asyncio.to_thread(second[0].quit)


# --- finding 10: acknowledgements relay attacker text --------------------------------


async def test_the_fourth_acknowledgement_to_one_address_in_a_day_is_not_emailed(
    client: Client, pool: asyncpg.Pool, inbound: Settings, mailbox: Mailbox, worker
) -> None:
    victim = "victim@example.net"
    for number in range(4):
        message = email(f"Offre {number}", "Cliquez ici : http://attacker.example", sender=f"Victime <{victim}>")
        code, answer = await send(inbound, message, sender=victim)
        assert code == 250, answer
    rows = await complaints_of(pool)
    assert len(rows) == 4  # every complaint is recorded
    last = rows[-1]["reference"]
    [refusal] = await eventually(lambda: journal_of(pool, last, "email_refused"))
    assert refusal["details"]["reason"] == "acknowledgement email not sent: limit of 3 per day for this address"
    await wait_for_phase(client, last, Phase.INTAKE)  # acknowledged by post, confirmed by an operator
    await mailbox.wait_for(victim, count=3)
    await wait_until_idle(client.get_workflow_handle(last))
    assert len(mailbox.messages(victim)) == 3
    statuses = await pool.fetch("SELECT status FROM outbox WHERE recipient = $1 ORDER BY created_at", victim)
    assert [row["status"] for row in statuses] == ["sent", "sent", "sent", "refused"]


async def test_the_acknowledgement_echoes_a_capped_text(
    client: Client, pool: asyncpg.Pool, inbound: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    spam = "Gagnez un iPhone sur http://attacker.example " * 100
    submission = complaint(subject=spam[:200], description=spam, desired_resolution=spam)
    reference = (await submit_complaint(pool, client, inbound, submission, actor="t")).reference
    [ack] = await mailbox.wait_for(JEANNE)
    body = body_of(ack, ("plain",))
    assert reference in body
    assert body.count("attacker.example") <= 3 * 7  # at most 300 characters of each echoed text
    assert len(body) < 3_500
    assert body.count(" […]") >= 2


async def test_a_reply_cannot_take_the_complaint_past_its_total_document_size(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    small = inbound_settings(settings, max_complaint_document_bytes=1_000)
    reference = await awaiting_answer(client, pool, small, complaint)
    reply = authenticated(email(f"Re: {reference}", "Deux photos."))
    for number in (1, 2):
        photo = b"\xff\xd8\xff\xe0" + bytes([number]) * 600
        reply.add_attachment(photo, maintype="image", subtype="jpeg", filename=f"photo{number}.jpg")
    async with InboundServer(pool, client, small):
        code, answer = await send(small, reply)
    assert code == 250 and reference in answer, answer
    stored = await pool.fetch("SELECT filename FROM documents WHERE complaint_reference = $1", reference)
    assert [row["filename"] for row in stored] == ["photo1.jpg"]
    [entry] = await journal_of(pool, reference, "customer_email")
    [refusal] = entry["details"]["documents_refused"]
    assert refusal["filename"] == "photo2.jpg" and "1,000 bytes" in refusal["reason"]

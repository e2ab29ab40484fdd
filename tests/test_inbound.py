"""The inbound mailbox on the real stack: messages sent over SMTP become
complaints or replies, once; automatic messages are ignored; nothing is lost."""

import asyncio
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from email.utils import make_msgid

import asyncpg
import pytest_asyncio
from temporalio.client import Client

from complaints.complaint_status import Phase
from complaints.database import open_pool
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
    PDF,
    authenticated,
    complaints_of,
    email,
    inbound_settings,
    journal_of,
    send,
    send_raw,
)
from tests.helpers.mailbox import Mailbox, body_of
from tests.helpers.network import free_port
from tests.helpers.polling import eventually
from tests.helpers.register import outbox
from tests.helpers.settings import settings_environment
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]


@pytest_asyncio.fixture
async def inbound(client: Client, pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[Settings]:
    """The inbound mailbox listening on a free port; yields its settings."""
    settings = inbound_settings(settings)
    async with InboundServer(pool, client, settings):
        yield settings


async def test_a_new_message_becomes_one_complaint_with_its_attachment_once(
    client: Client, pool: asyncpg.Pool, inbound: Settings, mailbox: Mailbox, worker
) -> None:
    message = email("Colis abîmé", "Le colis est arrivé ouvert.\nLe vase était cassé.\n")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="facture.pdf")

    code, answer = await send(inbound, message)
    assert code == 250, answer
    [row] = await complaints_of(pool)
    reference = row["reference"]
    assert reference in answer
    assert row["channel"] == "email"
    assert (row["complainant_name"], row["complainant_email"]) == ("Jeanne Martin", JEANNE)
    assert row["subject"] == "Colis abîmé"
    assert row["description"] == "Le colis est arrivé ouvert.\nLe vase était cassé."
    [document] = await pool.fetch("SELECT * FROM documents WHERE complaint_reference = $1", reference)
    assert (document["filename"], document["content_type"]) == ("facture.pdf", "application/pdf")
    assert document["content"] == PDF  # byte for byte

    [ack] = await mailbox.wait_for(JEANNE)
    assert reference in str(ack["Subject"]) and "facture.pdf" in body_of(ack)
    await wait_for_acknowledgement(client, reference)

    # The sending server did not get our 250 and delivers the same message again.
    code, answer = await send(inbound, message)
    assert code == 250 and reference in answer
    assert len(await complaints_of(pool)) == 1
    assert await pool.fetchval("SELECT count(*) FROM documents") == 1
    # Nothing more reached the run, which waits idle, its acknowledgement emailed once.
    history = await wait_until_idle(client.get_workflow_handle(reference))
    assert history.scheduled("send_acknowledgement") == 1 and history.signals == []
    assert await outbox(pool) == [(f"{reference}:acknowledgement", "sent", 1)]
    assert len(mailbox.messages(JEANNE)) == 1
    assert (
        await pool.fetchval("SELECT kind FROM inbound_messages WHERE message_id = $1", message["Message-ID"])
        == "complaint"
    )


async def test_another_message_reusing_a_message_id_is_not_taken_for_a_redelivery(
    pool: asyncpg.Pool, inbound: Settings
) -> None:
    first = email("Facture", "La facture est fausse.")
    second = email("Livraison", "Le colis n'est pas arrivé.", sender="Paul Roy <paul@example.net>")
    second.replace_header("Message-ID", first["Message-ID"])  # careless sending software
    for message in (first, second, second):
        code, answer = await send(inbound, message)
        assert code == 250, answer
    rows = await complaints_of(pool)
    assert [(r["complainant_email"], r["subject"]) for r in rows] == [
        (JEANNE, "Facture"),
        ("paul@example.net", "Livraison"),
    ]


async def test_an_html_only_message_gives_its_text_and_an_injected_name_stays_one_line(
    pool: asyncpg.Pool, inbound: Settings
) -> None:
    # The display name decodes to a line break followed by a would-be header.
    raw = (
        "From: =?utf-8?q?Jeanne_Martin=0D=0ABcc:_victim@example.net?= <jeanne@example.com>\r\n"
        f"To: {COMPLAINTS_ADDRESS}\r\n"
        "Subject: Facture\r\n"
        f"Message-ID: {make_msgid(domain='example.com')}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "\r\n"
        "<html><head><style>p {color: red}</style></head><body><p>Bonjour,</p>\r\n"
        "<p>La facture n&deg;118 compte <b>deux fois</b>\r\n la livraison.<br>Merci.</p></body></html>\r\n"
    ).encode()
    code, answer = await send_raw(inbound, raw)
    assert code == 250, answer
    [row] = await complaints_of(pool)
    assert row["description"] == "Bonjour,\n\nLa facture n°118 compte deux fois la livraison.\nMerci."
    assert row["complainant_name"] == "Jeanne Martin Bcc: victim@example.net"  # one line, harmless
    assert row["complainant_email"] == JEANNE


async def test_a_reply_is_added_to_its_complaint_and_signalled_once(
    client: Client, pool: asyncpg.Pool, inbound: Settings, mailbox: Mailbox, worker, complaint: Make
) -> None:
    reference = (await submit_complaint(pool, client, inbound, complaint(), actor="t")).reference
    await wait_for_acknowledgement(client, reference)
    handle = client.get_workflow_handle(reference)
    alice = Operator(name="Alice")
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=alice))
    await execute_update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=alice, questions="Une photo du colis ?")
    )

    # The reference in the subject is enough, from the complainant's address, authenticated by our MX.
    reply = authenticated(email(f"Re: votre réclamation {reference}", "Voici la photo demandée."))
    reply.add_attachment(b"\xff\xd8\xff\xe0 photo", maintype="image", subtype="jpeg", filename="colis.jpg")
    code, answer = await send(inbound, reply)
    assert code == 250 and reference in answer, answer
    await wait_for_phase(client, reference, Phase.HANDLING)

    assert len(await complaints_of(pool)) == 1
    [photo] = await pool.fetch("SELECT id, content, source FROM documents WHERE complaint_reference = $1", reference)
    assert (photo["content"], photo["source"]) == (b"\xff\xd8\xff\xe0 photo", "customer_email")
    [entry] = await journal_of(pool, reference, "customer_email")
    assert entry["visible_to_customer"] and entry["details"]["text"] == "Voici la photo demandée."
    replied = await eventually(lambda: journal_of(pool, reference, "customer_replied"))
    assert replied[0]["details"]["document_ids"] == [photo["id"]]

    # A reply to the message we sent, with no reference in the subject, delivered twice.
    [request] = [m for m in mailbox.messages(JEANNE) if "Une photo du colis ?" in body_of(m)]
    again = authenticated(email("Autre chose", "J'ai aussi le bon de livraison.", In_Reply_To=request["Message-ID"]))
    for _ in range(2):
        code, answer = await send(inbound, again)
        assert code == 250 and reference in answer, answer
    assert len(await complaints_of(pool)) == 1
    entries = await journal_of(pool, reference, "customer_email")
    assert [e["details"]["matched_by"] for e in entries] == ["reference", "our_message"]
    # Outside an information request, the workflow files the message once for the handler.
    filed = await eventually(lambda: journal_of(pool, reference, "customer_message"))
    assert [e["details"]["message"] for e in filed] == ["J'ai aussi le bon de livraison."]
    status = await handle.query(ComplaintWorkflow.status)
    assert status.messages_received == 1


async def test_a_reply_after_closure_is_kept_for_an_operator(
    client: Client, pool: asyncpg.Pool, inbound: Settings, complaint: Make
) -> None:
    reference = (await submit_complaint(pool, client, inbound, complaint(), actor="t")).reference
    await client.get_workflow_handle(reference).terminate("closed for the test")

    code, answer = await send(inbound, authenticated(email(f"Au sujet de {reference}", "Encore une chose.")))
    assert code == 250 and reference in answer, answer
    assert len(await complaints_of(pool)) == 1
    [entry] = await journal_of(pool, reference, "customer_email")
    assert entry["details"]["from"] == JEANNE and entry["details"]["from_complainant"]
    assert await journal_of(pool, reference, "customer_email_after_closure")


async def test_auto_replies_and_bounces_are_ignored(pool: asyncpg.Pool, inbound: Settings, mailbox: Mailbox) -> None:
    out_of_office = email("Absence", "Je suis absente.", Auto_Submitted="auto-replied")
    bulk = email("Newsletter", "Nos offres.", Precedence="bulk")
    autoreply = email("Re: votre message", "Réponse automatique.", X_Autoreply="yes")
    bounce = email("Undelivered Mail Returned to Sender", "Delivery failed.")
    for message, sender in [(out_of_office, JEANNE), (bulk, JEANNE), (autoreply, JEANNE), (bounce, "")]:
        code, answer = await send(inbound, message, sender=sender)
        assert code == 250, answer
    assert await complaints_of(pool) == []
    assert await pool.fetchval("SELECT count(*) FROM inbound_messages") == 0
    assert mailbox.messages() == []


async def test_a_message_with_no_address_to_answer_is_refused_so_its_sender_is_told(
    pool: asyncpg.Pool, inbound: Settings
) -> None:
    message = email("Plainte", "Rien ne va.", sender="Quelqu'un <root@localhost>")
    code, answer = await send(inbound, message, sender="root@localhost")
    assert code == 550 and "no valid sender address" in answer
    assert await complaints_of(pool) == []


async def test_attachments_over_the_limits_are_refused_and_journaled_but_the_complaint_kept(
    client: Client, pool: asyncpg.Pool, settings: Settings
) -> None:
    settings = inbound_settings(settings, max_document_bytes=2_000)
    message = email("Facture erronée", "La facture est fausse, voir pièces jointes.")
    message.add_attachment(b"%PDF-1.4 small", maintype="application", subtype="pdf", filename="facture.pdf")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="scan.pdf")
    message.add_attachment(b"MZ\x90\x00", maintype="application", subtype="x-msdownload", filename="outil.exe")
    async with InboundServer(pool, client, settings):
        code, answer = await send(settings, message)
    assert code == 250, answer
    [row] = await complaints_of(pool)
    names = await pool.fetch("SELECT filename FROM documents WHERE complaint_reference = $1", row["reference"])
    assert [r["filename"] for r in names] == ["facture.pdf"]
    [refusal] = await journal_of(pool, row["reference"], "documents_refused")
    reasons = {d["filename"]: d["reason"] for d in refusal["details"]["documents"]}
    assert set(reasons) == {"scan.pdf", "outil.exe"}
    assert "the limit is 2,000 bytes" in reasons["scan.pdf"]
    assert "is not accepted" in reasons["outil.exe"]
    assert refusal["visible_to_customer"]


async def test_unreachable_register_or_temporal_answers_451_and_the_retry_loses_nothing(
    client: Client, pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, worker
) -> None:
    message = email("Livraison en retard", "Commande 4411 jamais arrivée.")

    closed = await open_pool(settings, migrate=False)
    await closed.close()  # the register is gone
    unreachable = inbound_settings(settings)
    async with InboundServer(closed, client, unreachable):
        code, answer = await send(unreachable, message)
    assert code == 451, answer
    assert await complaints_of(pool) == []

    nowhere = await Client.connect(  # Temporal is down
        f"127.0.0.1:{free_port()}", data_converter=client.data_converter, lazy=True
    )
    slow = inbound_settings(settings, inbound_timeout_seconds=1.5)
    async with InboundServer(pool, nowhere, slow):
        code, answer = await send(slow, message)
    assert code == 451, answer

    # The sending server retries once things are back: one complaint, acknowledged.
    back = inbound_settings(settings)
    async with InboundServer(pool, client, back):
        code, answer = await send(back, message)
    assert code == 250, answer
    [row] = await complaints_of(pool)
    await mailbox.wait_for(JEANNE)
    await wait_for_acknowledgement(client, row["reference"])


async def test_the_inbound_command_serves_until_stopped(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker
) -> None:
    served = inbound_settings(settings)
    environment = {
        **settings_environment(served),
        "COMPLAINTS_INBOUND_HOST": served.inbound_host,
        "COMPLAINTS_INBOUND_PORT": str(served.inbound_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "starter", "inbound"], env=environment, stderr=subprocess.PIPE, text=True
    )
    try:
        await eventually(lambda: _listening(served), timeout=20)
        code, answer = await send(served, email("Remboursement", "Toujours pas remboursé."))
        assert code == 250, answer
        [row] = await complaints_of(pool)
        assert row["reference"] in answer and row["channel"] == "email"
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = await asyncio.to_thread(process.communicate, timeout=20)
    assert process.returncode == 0, errors
    assert f"inbound mailbox listening on {served.inbound_host}:{served.inbound_port}" in errors


def _listening(settings: Settings) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((settings.inbound_host, settings.inbound_port)) == 0

"""What the inbound mailbox does with a message: a new complaint, a reply
added to the complaint it answers, a message kept for triage, or nothing (an
auto-reply or a bounce).

A reply reaches a complaint's run only when it is from the complainant's own
address and our MX authenticated it for that address's domain
(inbound.authentication). Anything else that names a complaint, answers one of
our operations emails, or names an unknown reference is kept for triage
(`inbound_triage`), journaled on the complaint it named, and never signalled.

Each step is idempotent, so a message redelivered at any point (the sender
retries after a 451 or a lost connection) makes one complaint, one set of
documents, one journal entry and one signal."""

import asyncio
import concurrent.futures
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg
from pydantic import EmailStr, TypeAdapter, ValidationError
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import SignalWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from complaints import journal
from complaints.customer_signals import CustomerReply
from complaints.documents import store_document
from complaints.intake import start_workflow, submit_complaint
from complaints.settings import Settings
from complaints.submission import Channel, ComplaintSubmission, Document, field_reasons, validate_submission
from inbound.authentication import authenticated
from inbound.documents import Refusal, sort_attachments
from inbound.limits import TooComplex
from inbound.message import Attachment, InboundEmail, parse_email
from inbound.routing import Answered, Route, route
from workflows.complaint import ComplaintWorkflow

log = logging.getLogger(__name__)

ACTOR = "inbound-mailbox"
SUBJECT_MAX = 200
NAME_MAX = 200
DESCRIPTION_MAX = 20_000
# The reply's text travels in the signal (workflow history): a bounded excerpt;
# the register's journal keeps the whole text.
SIGNAL_TEXT_MAX = 4_000
# What a journal entry keeps of a message's text; a longer text is kept whole as a document.
JOURNAL_TEXT_MAX = 4_000
FILENAME_MAX = 200
# Messages parsed at once: a burst of large messages queues instead of taking every core.
PARSING_THREADS = 2
NO_SUBJECT = "(sans objet)"
NO_TEXT = "(message sans texte ; voir les pièces jointes)"
# Mail servers retry a message for up to five days: a Date header older than
# this, or later than the receipt, is a sender's clock, not a sending date.
SENDING_WINDOW = timedelta(days=7)

Kind = Literal["complaint", "reply", "duplicate", "ignored", "triage"]


class Unacceptable(ValueError):
    """A message no retry can make acceptable; the sender is told why (5xx)."""

    def __init__(self, text: str, code: int = 550) -> None:
        super().__init__(text)
        self.code = code


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    message_id: str
    reference: str | None = None
    note: str | None = None


class InboundMailbox:
    def __init__(self, pool: asyncpg.Pool, client: Client, settings: Settings) -> None:
        self._pool = pool
        self._client = client
        self._settings = settings
        self._parsing = concurrent.futures.ThreadPoolExecutor(PARSING_THREADS, thread_name_prefix="inbound-parse")

    def close(self) -> None:
        self._parsing.shutdown(wait=False, cancel_futures=True)

    async def _parse(self, raw: bytes, envelope_sender: str | None) -> InboundEmail:
        """Off the event loop (a message may be tens of megabytes), on a bounded pool."""
        settings = self._settings
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._parsing, parse_email, raw, envelope_sender, settings.inbound_max_parts, settings.inbound_max_depth
            )
        except TooComplex as error:
            raise Unacceptable(str(error), 554) from error
        except RecursionError as error:  # beyond what the limits foresaw: no retry will parse it
            raise Unacceptable("5.6.0 the message's MIME structure is too deep to read", 554) from error

    async def take_in(self, raw: bytes, envelope_sender: str | None) -> Outcome:
        message = await self._parse(raw, envelope_sender)
        if message.automatic:
            log.info("ignored %s: %s", message.message_id, message.automatic)
            return Outcome("ignored", message.message_id, note=message.automatic)
        async with self._pool.acquire() as conn:
            done = await conn.fetchrow(_SEEN, message.message_id)
            if done and done["fingerprint"] != message.fingerprint:
                # Another message with a Message-ID already seen (a careless
                # sender's software): a message of its own, keyed by its content.
                log.warning("%s reused by a different message", message.message_id)
                message = replace(message, message_id=f"{message.message_id}#{message.fingerprint[:16]}")
                done = await conn.fetchrow(_SEEN, message.message_id)
            routed = None if done else await route(conn, message, self._settings.reference_prefix)
        if done:
            log.info("%s was taken in already (%s)", message.message_id, done["reference"])
            return Outcome("triage" if done["triage"] else "duplicate", message.message_id, done["reference"])
        assert routed is not None
        if routed.operations:
            return await self._triage(message, raw, routed, routed.operations_reference, "answers an operations email")
        if routed.answered:
            refusal = await self._refusal(message, routed.answered.reference)
            if refusal:
                return await self._triage(message, raw, routed, routed.answered.reference, refusal)
            return await self._add_reply(message, routed.answered)
        if routed.named:
            return await self._triage(message, raw, routed, None, "names a reference that is not in the register")
        return await self._open_complaint(message)

    # --- triage: kept, journaled, never signalled ---------------------------------

    async def _refusal(self, message: InboundEmail, reference: str) -> str | None:
        """Why a message routed to `reference` may not reach its run, or None."""
        known = await self._pool.fetchval("SELECT complainant_email FROM complaints WHERE reference = $1", reference)
        sender = message.from_address
        if not sender or not known or sender.lower() != str(known).lower():
            return "not from the complainant's address"
        settings = self._settings
        domain = sender.rsplit("@", 1)[-1]
        trusted, required = settings.inbound_trusted_authserv_ids or [], settings.inbound_authentication
        if not authenticated(message.authentication_results, domain, trusted, required):
            return f"not authenticated by our mail server ({required.replace('_', ' ')} aligned with {domain})"
        return None

    async def _triage(
        self, message: InboundEmail, raw: bytes, routed: Route, reference: str | None, reason: str
    ) -> Outcome:
        documents = [_document_details(a) for a in message.attachments]
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO inbound_triage (message_id, fingerprint, sender, subject, reason, reference,
                                               named_references, text_excerpt, documents, raw)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
                   ON CONFLICT (message_id) DO NOTHING""",
                message.message_id,
                message.fingerprint,
                message.from_address,
                message.subject[:1000],
                reason,
                reference,
                routed.named[:20],
                _capped(message.text),
                json.dumps(documents),
                raw,
            )
            if reference:
                await journal.append(
                    conn,
                    reference,
                    "inbound_triaged",
                    ACTOR,
                    {
                        "summary": f"message refused to triage: {reason}",
                        "message_id": message.message_id,
                        "from": message.from_address,
                        "subject": message.subject[:SUBJECT_MAX],
                        "reason": reason,
                        "documents": documents,
                    },
                    step_key=f"{reference}:triage:{_key('message', message.message_id)}",
                )
        log.info("%s kept for triage (%s): %s", message.message_id, reference or "no complaint", reason)
        return Outcome("triage", message.message_id, reference, reason)

    # --- a new complaint ------------------------------------------------------

    async def _open_complaint(self, message: InboundEmail) -> Outcome:
        limits = self._settings.document_limits
        text, attachments = message.text, message.attachments
        if len(text) > DESCRIPTION_MAX:
            # The description has a size limit; the whole text is kept as a document.
            attachments = [Attachment("message.txt", "text/plain", text.encode()), *attachments]
            text = text[: DESCRIPTION_MAX - 120].rstrip() + "\n[…] (texte complet dans message.txt)"
        documents, refused = sort_attachments(attachments, limits, limits.max_count)
        submission = self._submission(message, text, documents)
        submitted = await submit_complaint(self._pool, self._client, self._settings, submission, actor=ACTOR)
        reference = submitted.reference
        async with self._pool.acquire() as conn:
            if refused:
                await self._journal_refusals(conn, reference, message, refused)
            await _remember(conn, message, reference, "complaint")
        log.info(
            "%s opened complaint %s (%d documents, %d refused)",
            message.message_id,
            reference,
            len(documents),
            len(refused),
        )
        return Outcome("complaint", message.message_id, reference)

    def _submission(self, message: InboundEmail, text: str, documents: list[Document]) -> ComplaintSubmission:
        address = _first_valid_address(message.sender_addresses)
        if address is None:
            raise Unacceptable("5.1.7 no valid sender address to answer the complaint to")
        name = message.sender_name or address.split("@", 1)[0]
        subject = message.subject or NO_SUBJECT
        received_at = datetime.now(UTC)
        try:
            return validate_submission(
                {
                    "channel": Channel.EMAIL,
                    "complainant": {"name": name[:NAME_MAX], "email": address},
                    "subject": subject[:SUBJECT_MAX],
                    "description": text or (NO_TEXT if documents else subject),
                    "received_at": received_at,
                    "sent_at": sending_date(message, received_at),
                    "idempotency_key": _key("email", message.message_id),
                    "documents": documents,
                },
                self._settings.document_limits,
            )
        except ValidationError as error:
            problems = "; ".join(f"{problem.where()}: {problem.reason}" for problem in field_reasons(error))
            raise Unacceptable(f"5.6.0 the complaint cannot be recorded: {problems}") from error

    # --- a reply to an existing complaint ---------------------------------------

    async def _add_reply(self, message: InboundEmail, answered: Answered) -> Outcome:
        reference = answered.reference
        step_key = f"{reference}:email:{_key('message', message.message_id)}"
        async with self._pool.acquire() as conn:
            complaint = await conn.fetchrow(
                "SELECT complainant_email, workflow_started_at FROM complaints WHERE reference = $1",
                reference,
            )
            document_ids = await self._stored_reply(conn, step_key)
            if document_ids is None:
                document_ids = await self._store_reply(conn, message, answered, complaint, step_key)
        if complaint["workflow_started_at"] is None:
            await start_workflow(self._pool, self._client, self._settings, reference)
        excerpt = message.text if len(message.text) <= SIGNAL_TEXT_MAX else message.text[:SIGNAL_TEXT_MAX] + " […]"
        reply = CustomerReply(message=excerpt, document_ids=document_ids, message_id=step_key)
        delivered = await self._signal_once(reference, reply, step_key)
        async with self._pool.acquire() as conn:
            if not delivered:
                await journal.append(
                    conn,
                    reference,
                    "customer_email_after_closure",
                    ACTOR,
                    {"message_id": message.message_id},
                    step_key=f"{step_key}:after_closure",
                )
            await _remember(conn, message, reference, "reply")
        log.info("%s added to %s as a reply (%d documents)", message.message_id, reference, len(document_ids))
        return Outcome("reply", message.message_id, reference, None if delivered else "complaint closed")

    async def _stored_reply(self, conn: asyncpg.Connection, step_key: str) -> list[int] | None:
        """The document ids of an earlier delivery of this reply, if it got as far as the journal."""
        details = await conn.fetchval("SELECT details FROM journal WHERE step_key = $1", step_key)
        if details is None:
            return None
        return list((json.loads(details) if isinstance(details, str) else details)["document_ids"])

    async def _store_reply(
        self,
        conn: asyncpg.Connection,
        message: InboundEmail,
        answered: Answered,
        complaint: asyncpg.Record,
        step_key: str,
    ) -> list[int]:
        """Documents first, then the journal entry, in one transaction."""
        limits = self._settings.document_limits
        sender = message.from_address
        attachments = message.attachments
        if len(message.text) > JOURNAL_TEXT_MAX:  # the journal keeps an excerpt, the whole text a document
            attachments = [Attachment("message.txt", "text/plain", message.text.encode()), *attachments]
        async with conn.transaction():
            held = await conn.fetchrow(
                "SELECT count(*) AS count, coalesce(sum(size_bytes), 0) AS bytes FROM documents"
                " WHERE complaint_reference = $1",
                answered.reference,
            )
            room_bytes = None if limits.max_total_bytes is None else max(0, limits.max_total_bytes - held["bytes"])
            room = max(0, limits.max_count - held["count"])
            documents, refused = sort_attachments(attachments, limits, room, room_bytes)
            document_ids = [await store_document(conn, answered.reference, d, "customer_email") for d in documents]
            await journal.append(
                conn,
                answered.reference,
                "customer_email",
                sender or "unknown sender",
                {
                    "message_id": message.message_id,
                    "from": sender,
                    # Only the complainant's authenticated mail gets here (the rest goes to triage).
                    "from_complainant": True,
                    "matched_by": answered.matched_by,
                    "subject": message.subject[:SUBJECT_MAX],
                    "text": _capped(message.text),
                    "text_length": len(message.text),
                    "document_ids": document_ids,
                    "documents_refused": [r.as_details() for r in refused],
                },
                step_key=step_key,
                visible_to_customer=True,
            )
        return document_ids

    async def _signal_once(self, reference: str, reply: CustomerReply, step_key: str) -> bool:
        """Signal `customer_reply` with a request id derived from the message:
        the server drops a repeated request, so a redelivery signals once.
        False when the complaint's workflow has ended."""
        request = SignalWorkflowExecutionRequest(
            namespace=self._client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=reference),
            signal_name=ComplaintWorkflow.customer_reply.__name__,
            identity=self._client.identity,
            request_id=str(uuid.uuid5(uuid.NAMESPACE_URL, step_key)),
        )
        request.input.payloads.extend(await self._client.data_converter.encode([reply]))
        try:
            await self._client.workflow_service.signal_workflow_execution(request, retry=True)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                log.warning("%s has no running workflow: reply kept in the register only", reference)
                return False
            raise
        return True

    async def _journal_refusals(
        self, conn: asyncpg.Connection, reference: str, message: InboundEmail, refused: list[Refusal]
    ) -> None:
        await journal.append(
            conn,
            reference,
            "documents_refused",
            ACTOR,
            {"message_id": message.message_id, "documents": [r.as_details() for r in refused]},
            step_key=f"{reference}:documents_refused:{_key('message', message.message_id)}",
            visible_to_customer=True,
        )


async def _remember(conn: asyncpg.Connection, message: InboundEmail, reference: str, kind: str) -> None:
    await conn.execute(
        """INSERT INTO inbound_messages (message_id, fingerprint, reference, kind) VALUES ($1, $2, $3, $4)
           ON CONFLICT (message_id) DO NOTHING""",
        message.message_id,
        message.fingerprint,
        reference,
        kind,
    )


_EMAIL = TypeAdapter(EmailStr)
# A Message-ID taken in, or kept for triage.
_SEEN = """SELECT reference, fingerprint, false AS triage FROM inbound_messages WHERE message_id = $1
           UNION ALL
           SELECT reference, fingerprint, true FROM inbound_triage WHERE message_id = $1"""


def _capped(text: str) -> str:
    return text if len(text) <= JOURNAL_TEXT_MAX else text[:JOURNAL_TEXT_MAX] + " […]"


def _document_details(attachment: Attachment) -> dict[str, object]:
    """An attachment by name, type and size: its content stays out of the journal."""
    return {
        "filename": attachment.filename[:FILENAME_MAX],
        "content_type": attachment.content_type[:100],
        "size": len(attachment.content),
    }


def sending_date(message: InboundEmail, received_at: datetime) -> datetime:
    """When the complaint was sent: its Date header, unless absent or out of
    belief (later than the receipt, or older than SENDING_WINDOW); else the receipt."""
    sent_at = message.sent_at
    if sent_at is None:
        return received_at
    if not received_at - SENDING_WINDOW <= sent_at <= received_at:
        log.warning("%s: Date %s taken as the receipt %s", message.message_id, sent_at, received_at)
        return received_at
    return sent_at


def _first_valid_address(addresses: list[str]) -> str | None:
    for address in addresses:
        try:
            return _EMAIL.validate_python(address)
        except ValidationError:
            continue
    return None


def _key(kind: str, message_id: str) -> str:
    """A bounded key from a Message-ID (which has no length limit)."""
    if len(message_id) <= 150:
        return f"{kind}:{message_id}"
    return f"{kind}:sha256:{hashlib.sha256(message_id.encode()).hexdigest()}"

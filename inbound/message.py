"""An email as the inbound mailbox reads it: who sent it, what it says, what
it carries, what it answers, and whether a person or a machine wrote it.

Parsing is the standard library's (`email.policy.default`): headers are
parsed into structured values, so a header with injected line breaks is one
header's value, never a second header."""

import email
import email.policy
import hashlib
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import _header_value_parser as _rfc5322
from email.headerregistry import AddressHeader
from email.message import MIMEPart
from typing import cast

from activities.outbox import OPERATIONS_HEADER
from inbound.html_text import html_to_text
from inbound.limits import check_depth, check_parts

log = logging.getLogger(__name__)

NULL_SENDERS = {"", "<>"}
_BULK_PRECEDENCE = {"bulk", "junk", "list"}
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond")
# Signatures of a signed message are transport artefacts, not supporting documents.
_SIGNATURE_TYPES = {
    "application/pgp-signature",
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
}
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class InboundEmail:
    message_id: str
    # Digest of what the sender wrote (relays add only trace headers): tells a
    # redelivery from another message that reuses the same Message-ID.
    fingerprint: str
    sender_name: str | None
    # The addresses that may be the complainant's, best first: From, Reply-To, envelope sender.
    sender_addresses: list[str]
    subject: str
    text: str
    attachments: list[Attachment]
    # Message-IDs this message answers (In-Reply-To, then References, nearest first).
    answers: list[str]
    # Why a machine wrote it (auto-reply, bounce, bulk), or None for a person's message.
    automatic: str | None
    # When its author sent it: the Date header (None when absent or unreadable).
    sent_at: datetime | None = None
    # The From address alone: who the message claims to be from (what authentication is checked for).
    from_address: str | None = None
    # The Authentication-Results headers' values, unfolded, top first.
    authentication_results: list[str] = field(default_factory=list)
    # It carries OPERATIONS_HEADER: one of our operations emails (forwarded, bounced), never a customer's.
    from_operations: bool = False


def parse_email(raw: bytes, envelope_sender: str | None, max_parts: int = 100, max_depth: int = 10) -> InboundEmail:
    """Raises TooComplex (before parsing, when it can) for a message beyond the limits."""
    check_parts(raw, max_parts)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    check_depth(message, max_depth)
    return _read(message, raw, envelope_sender)


def _read(message: MIMEPart, raw: bytes, envelope_sender: str | None) -> InboundEmail:
    body = _body_part(message)
    text = _text_of(body) if body is not None else ""
    extra_text, attachments = _other_parts(message, body)
    if extra_text:  # some clients split the text around inline images
        text = "\n\n".join(part for part in [text, *extra_text] if part)
    return InboundEmail(
        message_id=_message_id(message, raw),
        fingerprint=_fingerprint(message, raw),
        sender_name=_sender_name(message),
        sender_addresses=_sender_addresses(message, envelope_sender),
        subject=_header(message, "Subject"),
        text=_tidy(text),
        attachments=attachments,
        answers=_answers(message),
        automatic=_automatic(message, envelope_sender),
        sent_at=_sent_at(message),
        from_address=next((address.strip() for _, address in _mailboxes(message, "From") if "@" in address), None),
        authentication_results=_raw_values(message, "Authentication-Results"),
        from_operations=OPERATIONS_HEADER in message,
    )


def _raw_values(message: MIMEPart, name: str) -> list[str]:
    return [re.sub(r"\s+", " ", str(v)).strip() for n, v in message.raw_items() if n.lower() == name.lower()]


def _header(message: MIMEPart, name: str) -> str:
    """A header's decoded value ('' when absent or unreadable)."""
    try:
        value = message.get(name)
    except Exception:  # a malformed header must not cost the message: take it raw
        log.warning("unreadable %s header, read raw", name)
        raw = [v for n, v in message.raw_items() if n.lower() == name.lower()]
        value = raw[0] if raw else ""
    return re.sub(r"\s+", " ", str(value or "")).strip()


def _sent_at(message: MIMEPart) -> datetime | None:
    """The Date header as an aware instant; a date without a zone (-0000) is UTC."""
    try:
        header = message.get("Date")
        value = getattr(header, "datetime", None)
    except Exception:  # a malformed Date must not cost the message
        log.warning("unreadable Date header")
        return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _message_id(message: MIMEPart, raw: bytes) -> str:
    found = _MESSAGE_ID.search(_header(message, "Message-ID"))
    if found:
        return found.group(0)
    return f"<sha256.{_fingerprint(message, raw)}@inbound.invalid>"


def _fingerprint(message: MIMEPart, raw: bytes) -> str:
    digest = hashlib.sha256()
    for name in ("From", "To", "Date", "Subject"):
        digest.update(_header(message, name).encode() + b"\0")
    digest.update(_raw_body(raw))
    return digest.hexdigest()


def _raw_body(raw: bytes) -> bytes:
    for separator in (b"\r\n\r\n", b"\n\n"):
        _, found, body = raw.partition(separator)
        if found:
            return body.replace(b"\r\n", b"\n")
    return b""


def _mailboxes(message: MIMEPart, name: str) -> list[tuple[str, str]]:
    """(display name, address) of an address header."""
    try:
        header = message.get(name)
        return [(a.display_name, a.addr_spec) for a in cast(AddressHeader, header).addresses] if header else []
    except Exception:
        # The structured header refuses a display name that decodes to a line
        # break; the same RFC 5322 parser, without that check, still reads it.
        raw = [v for n, v in message.raw_items() if n.lower() == name.lower()]
        if not raw:
            return []
        addresses, _ = _rfc5322.get_address_list(raw[0])
        return [(box.display_name or "", box.addr_spec or "") for box in addresses.all_mailboxes]


def _sender_name(message: MIMEPart) -> str | None:
    for name, _ in _mailboxes(message, "From"):
        if name.strip():
            return re.sub(r"\s+", " ", name).strip()
    return None


def _sender_addresses(message: MIMEPart, envelope_sender: str | None) -> list[str]:
    found = [address for header in ("From", "Reply-To") for _, address in _mailboxes(message, header)]
    if envelope_sender and envelope_sender not in NULL_SENDERS:
        found.append(envelope_sender.strip("<>"))
    return list(dict.fromkeys(address.strip() for address in found if "@" in address))


def _answers(message: MIMEPart) -> list[str]:
    ids = _MESSAGE_ID.findall(_header(message, "In-Reply-To"))
    ids += reversed(_MESSAGE_ID.findall(_header(message, "References")))
    return list(dict.fromkeys(ids))


def _automatic(message: MIMEPart, envelope_sender: str | None) -> str | None:
    """RFC 3834 and the usual conventions of autoresponders and bounces."""
    if envelope_sender is not None and envelope_sender.strip() in NULL_SENDERS:
        return "null sender <> (a bounce or notification)"
    auto_submitted = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(message, "Precedence").lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _AUTOREPLY_HEADERS:
        if name in message:
            return f"{name} header"
    if message.get_content_type() == "multipart/report":
        return "delivery or read report (multipart/report)"
    return None


def _body_part(message: MIMEPart) -> MIMEPart | None:
    try:
        return message.get_body(preferencelist=("plain", "html"))
    except Exception:
        log.warning("unreadable body structure", exc_info=True)
        return None


def _text_of(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError):  # unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    content = str(content)
    return html_to_text(content) if part.get_content_type() == "text/html" else content


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _other_parts(message: MIMEPart, body: MIMEPart | None) -> tuple[list[str], list[Attachment]]:
    """Every part other than the body: documents, and loose text parts that
    belong to the body."""
    texts: list[str] = []
    attachments: list[Attachment] = []
    for part in _leaves(message):
        if part is body:
            continue
        content_type = part.get_content_type()
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if content_type in _SIGNATURE_TYPES:
            continue
        if not filename and disposition != "attachment" and content_type in ("text/plain", "text/html"):
            if content_type == "text/plain":
                texts.append(_text_of(part))
            continue  # an HTML rendition of the text is not a document
        attachments.append(_attachment(part, filename, len(attachments) + 1))
    return texts, attachments


def _leaves(part: MIMEPart) -> list[MIMEPart]:
    """Leaf parts in order; an attached message is one document, not opened."""
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        return [leaf for sub in part.iter_parts() for leaf in _leaves(sub)]
    return [part]


def _attachment(part: MIMEPart, filename: str | None, number: int) -> Attachment:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        inner = part.get_payload()
        inner_message = cast(MIMEPart, inner[0]) if isinstance(inner, list) and inner else None
        content = inner_message.as_bytes() if inner_message is not None else b""
        if not filename and inner_message is not None:
            filename = f"{_header(inner_message, 'Subject') or 'message'}.eml"
    else:
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
    if content_type == "application/octet-stream" and filename:
        # Many clients send every file as octet-stream: the name says more.
        content_type = mimetypes.guess_type(filename)[0] or content_type
    if not filename:
        filename = f"piece-jointe-{number}{mimetypes.guess_extension(content_type) or ''}"
    return Attachment(filename=filename, content_type=content_type, content=content)

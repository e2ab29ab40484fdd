"""Sending mail to the inbound mailbox as a mail server would, and reading what it recorded."""

import asyncio
import json
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import asyncpg

from complaints.settings import Settings
from tests.helpers.network import free_port

JEANNE = "jeanne@example.com"
COMPLAINTS_ADDRESS = "reclamations@example.org"
# The authserv-id of "our" MX in the tests: its Authentication-Results header is trusted.
OUR_MX = "mx.example.org"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"  # binary, every byte value


def inbound_settings(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(
        update={
            "inbound_host": "127.0.0.1",
            "inbound_port": free_port(),
            "inbound_trusted_authserv_ids": [OUR_MX],
            **changes,
        }
    )


def authenticated(message: EmailMessage, domain: str = "example.com", authserv_id: str = OUR_MX) -> EmailMessage:
    """The message as our MX hands it on after checking its DKIM signature for `domain`."""
    message["Authentication-Results"] = f"{authserv_id}; dkim=pass header.d={domain} header.s=s1"
    return message


async def send(settings: Settings, message: EmailMessage, sender: str = JEANNE) -> tuple[int, str]:
    return await send_raw(settings, message.as_bytes(policy=message.policy.clone(linesep="\r\n")), sender)


async def send_raw(settings: Settings, raw: bytes, sender: str = JEANNE) -> tuple[int, str]:
    """Deliver over SMTP as a mail server would; the answer to DATA."""

    def deliver() -> tuple[int, str]:
        with smtplib.SMTP(settings.inbound_host, settings.inbound_port, timeout=30) as smtp:
            smtp.ehlo()
            smtp.mail(sender)
            smtp.rcpt(COMPLAINTS_ADDRESS)
            code, answer = smtp.data(raw)
            return code, answer.decode()

    return await asyncio.to_thread(deliver)


def email(subject: str, text: str, *, sender: str = f"Jeanne Martin <{JEANNE}>", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = COMPLAINTS_ADDRESS
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


async def complaints_of(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM complaints ORDER BY reference")


async def journal_of(pool: asyncpg.Pool, reference: str, event: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT * FROM journal WHERE complaint_reference = $1 AND event = $2 ORDER BY id", reference, event
    )
    return [{**row, "details": json.loads(row["details"])} for row in rows]

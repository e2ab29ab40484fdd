"""SMTP servers that behave as a test needs: one that holds a message at DATA
until the test lets it through, refuses recipients or content for good, or
refuses a login; one that answers every command slowly."""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.helpers.network import free_port


class ScriptedSmtp:
    """aiosmtpd handler; what it saw is counted, what it accepted kept."""

    def __init__(self) -> None:
        self.mail_reply: str | None = None  # e.g. "553 5.7.1 Sender rejected": refuse the sender
        self.rcpt_reply: str | None = None  # e.g. "550 5.1.1 No such user": refuse every recipient
        self.data_reply: str | None = None  # e.g. "554 5.7.1 Rejected as spam": refuse the content
        self.gate = threading.Event()  # DATA waits until it is set
        self.gate.set()
        self.connections = 0
        self.data_started = 0
        self.delivered: list[bytes] = []

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_started += 1
        while not self.gate.is_set():
            await asyncio.sleep(0.02)
        if self.data_reply:
            return self.data_reply
        self.delivered.append(envelope.original_content or b"")
        return "250 Message accepted"


def _no_login(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object) -> AuthResult:
    assert isinstance(data, LoginPassword)
    return AuthResult(success=False, handled=False)


@contextmanager
def scripted_smtp(*, refuse_logins: bool = False) -> Iterator[tuple[ScriptedSmtp, int]]:
    """A ScriptedSmtp listening on 127.0.0.1; yields it and its port. With
    `refuse_logins`, it offers AUTH (without TLS) and refuses every login (535)."""
    handler, port = ScriptedSmtp(), free_port()
    options: dict[str, object] = {}
    if refuse_logins:
        options = {"authenticator": _no_login, "auth_required": True, "auth_require_tls": False}
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)  # type: ignore[arg-type]
    controller.start()
    try:
        yield handler, port
    finally:
        handler.gate.set()
        controller.stop()


class SlowSmtp:
    """Answers every command, after `delay` seconds each, and accepts the
    message in the end: an exchange much longer than any one reply."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.port = free_port()
        self.accepted = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> "SlowSmtp":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            await asyncio.sleep(self.delay)
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        try:
            await say("220 slow.test ESMTP")
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    await say("250 slow.test")
                elif verb == b"DATA":
                    await say("354 go ahead")
                    while (await reader.readline()) not in (b".\r\n", b""):
                        pass
                    self.accepted += 1
                    await say("250 accepted")
                elif verb == b"QUIT":
                    await say("221 bye")
                    break
                else:
                    await say("250 OK")
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

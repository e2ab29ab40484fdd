"""A local SMTP server that keeps every message it receives as a numbered
.eml file, for `make run`, the benchmark and the tests."""

import email
import email.policy
import threading
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class MailSink:
    """aiosmtpd handler. `refused_recipients` are answered 450 (mailbox
    temporarily unavailable), as a failing real server would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.refused_recipients: set[str] = set()
        self._lock = threading.Lock()
        self._count = len(message_files(folder))

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refused_recipients:
            return "450 4.2.1 Mailbox temporarily unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self._lock:
            self._count += 1
            path = self.folder / f"{self._count:06d}.eml"
            partial = path.with_suffix(".part")
            partial.write_bytes(content)
            partial.rename(path)  # readers never see half a message
        return "250 Message accepted"


def start_sink(folder: Path, host: str, port: int) -> tuple[Controller, MailSink]:
    sink = MailSink(folder)
    controller = Controller(sink, hostname=host, port=port)
    controller.start()
    return controller, sink


def message_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def read_message(path: Path) -> EmailMessage:
    with path.open("rb") as file:
        return email.message_from_binary_file(file, policy=email.policy.default)


def read_messages(folder: Path) -> list[EmailMessage]:
    return [read_message(path) for path in message_files(folder)]

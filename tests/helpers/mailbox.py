"""The test's SMTP server as the tests read it: the messages it received,
their text, the status link a letter carries."""

import re
from email.message import EmailMessage

from devstack.mail_sink import MailSink, read_messages
from tests.helpers.polling import eventually


class Mailbox:
    """The test's SMTP server and what it received. The sink stores a message
    before it answers 250, so whatever a sender counts as sent is here."""

    def __init__(self, sink: MailSink, port: int) -> None:
        self.sink = sink
        self.port = port

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        found = read_messages(self.sink.folder)
        return [m for m in found if to is None or m["To"] == to]

    async def wait_for(self, to: str, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        await eventually(lambda: len(self.messages(to)) >= count, timeout)
        return self.messages(to)


def body_of(message: EmailMessage, preferencelist: tuple[str, ...] = ("related", "html", "plain")) -> str:
    """The text of the message's body (`get_body`'s own preference by default);
    a message without one fails the test."""
    body = message.get_body(preferencelist=preferencelist)
    assert body is not None, f"no {'/'.join(preferencelist)} body in {message['Subject']!r}"
    return body.get_content()


def status_link_in(message: EmailMessage) -> str:
    body = body_of(message, ("plain",))
    found = re.search(r"(https?://\S+/suivi/\S+)", body)
    assert found, f"no status link in:\n{body}"
    return found[1]


def subjects(mailbox: Mailbox, to: str) -> list[str]:
    return [str(m["Subject"]) for m in mailbox.messages(to)]

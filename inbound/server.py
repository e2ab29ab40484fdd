"""The inbound SMTP endpoint of the complaints address (aiosmtpd).

A message is answered 250 only once it is in the register (and its workflow
started or signalled); if the register or Temporal cannot be reached the
answer is 451, so the sending server keeps the message and retries."""

import asyncio
import logging
import socket

import asyncpg
from aiosmtpd.smtp import SMTP, Envelope, Session
from temporalio.client import Client
from temporalio.service import RPCError

from complaints.database import register_pool
from complaints.process import configure_logging, run_until_stopped
from complaints.settings import Settings
from complaints.temporal_client import connect
from inbound.mailbox import InboundMailbox, Unacceptable

log = logging.getLogger(__name__)


class InboundHandler:
    """aiosmtpd handler: every recipient is the complaints address."""

    def __init__(self, mailbox: InboundMailbox, timeout_seconds: float) -> None:
        self._mailbox = mailbox
        self._timeout = timeout_seconds

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            outcome = await asyncio.wait_for(self._mailbox.take_in(raw, envelope.mail_from), self._timeout)
        except Unacceptable as error:
            log.warning("refused a message from %s: %s", envelope.mail_from, error)
            return f"{error.code} {' '.join(str(error).split())}"  # one line, as SMTP requires
        except TimeoutError:
            log.error("a message took more than %ss to take in: answered 451", self._timeout)
            return "451 4.4.7 The complaint could not be recorded in time, please retry later"
        except RPCError:
            log.exception("Temporal unreachable: answered 451")
            return "451 4.4.3 The complaint service is unavailable, please retry later"
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.exception("the register is unreachable: answered 451")
            return "451 4.3.0 The complaint register is unavailable, please retry later"
        except Exception:
            # Unknown trouble: the sender keeps the message and retries, nothing is lost.
            log.exception("could not take a message in: answered 451")
            return "451 4.3.0 Temporary failure, please retry later"
        match outcome.kind:
            case "complaint":
                return f"250 2.0.0 Complaint recorded: {outcome.reference}"
            case "reply" | "duplicate":
                return f"250 2.0.0 Added to complaint {outcome.reference}"
            case "triage":
                return "250 2.0.0 Message kept for review by our staff"
            case _:
                return "250 2.0.0 Automatic message, not taken in"


class Sessions:
    """How many SMTP sessions are open, against the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0


class LimitedSMTP(SMTP):
    """An SMTP session that is answered 421 and closed when `sessions` are all taken."""

    def __init__(self, handler: InboundHandler, sessions: Sessions, **kwargs: object) -> None:
        super().__init__(handler, **kwargs)  # type: ignore[arg-type]
        self._sessions = sessions
        self._counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._sessions.open >= self._sessions.limit:
            log.warning("%d SMTP sessions open: a new one answered 421", self._sessions.open)
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(b"421 4.7.0 Too many connections, please retry later\r\n")
            transport.close()
            return
        self._sessions.open += 1
        self._counted = True
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if not self._counted:
            return
        self._counted = False
        self._sessions.open -= 1
        super().connection_lost(error)


class InboundServer:
    """The SMTP server on the running event loop, next to the pool and client it uses."""

    def __init__(self, pool: asyncpg.Pool, client: Client, settings: Settings) -> None:
        self._settings = settings
        self._mailbox = InboundMailbox(pool, client, settings)
        self._handler = InboundHandler(self._mailbox, settings.inbound_timeout_seconds)
        self._sessions = Sessions(settings.inbound_max_sessions)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        settings = self._settings
        hostname = settings.mail_from.rsplit("@", 1)[-1] or socket.gethostname()
        self._server = await loop.create_server(
            lambda: LimitedSMTP(
                self._handler,
                self._sessions,
                data_size_limit=settings.inbound_max_message_bytes,
                enable_SMTPUTF8=True,
                hostname=hostname,
                ident="complaints inbound",
                loop=loop,
            ),
            host=settings.inbound_host,
            port=settings.inbound_port,
        )

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._mailbox.close()

    async def __aenter__(self) -> "InboundServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve_inbound(settings: Settings) -> None:
    """`complaints inbound`: serve until cancelled (Ctrl-C, SIGTERM)."""
    client = await connect(settings)
    async with register_pool(settings) as pool, InboundServer(pool, client, settings) as server:
        log.info("inbound mailbox listening on %s", server.address)
        await asyncio.Event().wait()


def main(settings: Settings | None = None) -> None:
    configure_logging(quiet=["mail.log"])  # aiosmtpd logs every connection
    run_until_stopped(serve_inbound(settings or Settings()))

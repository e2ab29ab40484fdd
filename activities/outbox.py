"""Email through the register's outbox: one row per business step, so a
retried or restarted send delivers a message once.

An attempt claims its row (a row lock held while it sends): a second attempt
at the same message while the first is still sending (a retry that overtook
an attempt past its timeout) does not send it again, it fails and is retried.
A whole SMTP exchange is bounded by `smtp_timeout_seconds`, so an attempt ends
within its activity's timeout. A refusal for good (a 5xx reply to the
recipient, the sender or the content) is kept on the row: the message is
never sent again, and every later attempt is told so."""

import asyncio
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib
import asyncpg
from temporalio.exceptions import ApplicationError

from activities.letters import Letters
from complaints.settings import Settings

# The type of the failure of an activity whose message was refused for good: a
# workflow matches it (ActivityError.cause.type) to take another way.
EMAIL_REFUSED = "EmailRefused"
# Emails to operations (alerts, the daily digest, the quality report) carry this
# header: the inbound mailbox never takes one of them, or a reply to one, for customer mail.
OPERATIONS_KINDS = ("alert", "sla_digest", "quality_report")
OPERATIONS_HEADER = "X-Complaints-Alert"
# last_error of a message kept from sending by a per-recipient daily limit (no server refused it).
OVER_LIMIT = "not sent: limit of {limit} per day for this address"


class EmailInFlight(RuntimeError):
    """Another attempt is sending this message now: retry later (it will have
    been sent, or failed)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the email {key} is being sent by another attempt: retried later")
        self.key = key


class EmailRefused(ApplicationError):
    """The receiving server refused the message for good: it will never be
    sent. Non-retryable: an activity it escapes from fails at once, of type
    EMAIL_REFUSED. Its message and details name no address."""

    def __init__(self, key: str, reply: str, code: int | None = None, why: str | None = None) -> None:
        refused = f"the email {key} was refused for good by the receiving server ({code or 'a 5xx reply'})"
        super().__init__(
            why or f"{refused}: not retried",
            {"key": key, "code": code},
            type=EMAIL_REFUSED,
            non_retryable=True,
        )
        self.key = key
        self.code = code
        self.reply = reply  # the server's words: may name the address, kept out of failures


def permanent_refusal(error: BaseException) -> int | None:
    """The 5xx code when `error` refuses the message for good (its recipients,
    its sender or its content), None when a later attempt may go through."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        return codes[0] if codes and all(500 <= code < 600 for code in codes) else None
    refusals = (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPDataError)
    if isinstance(error, refusals) and 500 <= error.code < 600:
        return error.code
    return None


class Outbox:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings

    async def send_once(
        self,
        *,
        key: str,
        reference: str | None,
        kind: str,
        recipient: str,
        subject: str,
        body: str,
        html: str | None = None,
        daily_limit: int | None = None,
    ) -> datetime:
        """Send the message keyed `key` unless it was sent; return when it was sent.

        The first attempt's content is kept, so a retry resends the same
        message with the same Message-ID. An `html` alternative to the text
        body is not kept: the caller gives the same again (a stored report's).
        Raises EmailInFlight while another attempt sends it, EmailRefused once
        it is refused for good. With a `daily_limit`, a new message of this
        kind beyond that many to the recipient in 24 hours is kept as refused,
        never sent (decided once, when its row is made)."""
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                over = daily_limit is not None and await self._over_limit(conn, key, kind, recipient, daily_limit)
                await conn.execute(
                    """INSERT INTO outbox (key, complaint_reference, kind, recipient, subject, body, message_id,
                                           status, last_error, refused_at)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN 'refused' ELSE 'pending' END,
                               CASE WHEN $8 THEN $9 END, CASE WHEN $8 THEN now() END)
                       ON CONFLICT (key) DO NOTHING""",
                    key,
                    reference,
                    kind,
                    recipient,
                    subject,
                    body,
                    make_msgid(idstring=key.replace(":", "."), domain=self._domain),
                    over,
                    OVER_LIMIT.format(limit=daily_limit),
                )
            failure: Exception
            async with conn.transaction():
                row = await conn.fetchrow(
                    """SELECT status, sent_at, kind, recipient, subject, body, message_id, last_error, refusal_code
                         FROM outbox WHERE key = $1 FOR UPDATE SKIP LOCKED""",
                    key,
                )
                if row is None:
                    raise EmailInFlight(key)
                if row["status"] == "sent":
                    return row["sent_at"]
                if row["status"] == "refused":
                    limited = row["refusal_code"] is None and (row["last_error"] or "").startswith("not sent: limit")
                    why = f"{kind} email {row['last_error']}" if limited else None
                    raise EmailRefused(key, row["last_error"] or "", row["refusal_code"], why)
                try:
                    async with asyncio.timeout(self._settings.smtp_timeout_seconds):
                        await self._deliver(row, html)
                except (aiosmtplib.SMTPException, OSError) as error:  # a timeout is an OSError
                    code = permanent_refusal(error)
                    reply = str(error)[:1000] or type(error).__name__
                    await conn.execute(
                        """UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                                  status = CASE WHEN $3 THEN 'refused' ELSE status END,
                                  refused_at = CASE WHEN $3 THEN now() END, refusal_code = $4
                            WHERE key = $1""",
                        key,
                        reply,
                        code is not None,
                        code,
                    )
                    failure = EmailRefused(key, reply, code) if code is not None else error
                else:
                    sent_at: datetime = await conn.fetchval(
                        """UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1
                            WHERE key = $1 RETURNING sent_at""",
                        key,
                    )
                    return sent_at
            raise failure  # its attempt recorded (the transaction committed)

    async def _over_limit(self, conn: asyncpg.Connection, key: str, kind: str, recipient: str, limit: int) -> bool:
        """Whether a new message `key` would pass the recipient's daily limit; one
        recipient's count is taken under a lock, so two sends at once count each other."""
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('outbox-recipient:' || lower($1)))", recipient)
        if await conn.fetchval("SELECT 1 FROM outbox WHERE key = $1", key):
            return False  # decided when it was made
        sent = await conn.fetchval(
            """SELECT count(*) FROM outbox
                WHERE kind = $1 AND lower(recipient) = lower($2) AND status <> 'refused'
                  AND created_at > now() - interval '1 day'""",
            kind,
            recipient,
        )
        return bool(sent >= limit)

    @property
    def _domain(self) -> str:
        return self._settings.mail_from.rsplit("@", 1)[-1]

    def _message(self, row: asyncpg.Record, html: str | None) -> EmailMessage:
        """The row as an email: its text body (and the HTML alternative, if
        any), and the headers every message carries."""
        message = EmailMessage()
        message["From"] = f"{self._settings.organisation_name} <{self._settings.mail_from}>"
        message["To"] = row["recipient"]
        message["Subject"] = row["subject"]
        message["Message-ID"] = row["message_id"]
        message["Date"] = format_datetime(datetime.now().astimezone())
        message["Auto-Submitted"] = "auto-generated"
        if row["kind"] in OPERATIONS_KINDS:
            message[OPERATIONS_HEADER] = row["kind"]
        message.set_content(row["body"])
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    async def _deliver(self, row: asyncpg.Record, html: str | None) -> None:
        settings = self._settings
        await aiosmtplib.send(
            self._message(row, html),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )


class EmailingActivities:
    """What the activities that email work with: the register, the settings,
    and the worker's one outbox and one set of letters."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, outbox: Outbox, letters: Letters) -> None:
        self._pool = pool
        self._settings = settings
        self._outbox = outbox
        self._letters = letters

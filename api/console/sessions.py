"""Console sessions, kept server-side: the cookie holds a random token, the
register its SHA-256 with the operator, the session's CSRF token and when it
was last used. Sign-out and expiry end the row, so a copied cookie is dead too."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from complaints.operator_commands import Role
from complaints.operators import OperatorRecord
from complaints.settings import Settings

COOKIE = "console_session"


@dataclass(frozen=True)
class ConsoleSession:
    token_hash: str
    operator: OperatorRecord
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(pool: asyncpg.Pool, operator: OperatorRecord) -> str:
    """A new session for `operator`; returns the cookie's token (not kept)."""
    token = secrets.token_urlsafe(32)
    await pool.execute(
        "INSERT INTO console_sessions (token_hash, operator_name, csrf_token) VALUES ($1, $2, $3)",
        _hash(token),
        operator.name,
        secrets.token_urlsafe(32),
    )
    return token


async def current_session(pool: asyncpg.Pool, settings: Settings, token: str | None) -> ConsoleSession | None:
    """The live session of `token`, its use recorded; None when it is unknown,
    ended, idle too long, too old, or its operator's key is revoked."""
    if not token:
        return None
    row = await pool.fetchrow(
        """UPDATE console_sessions s SET last_seen_at = now()
             FROM operators o
            WHERE s.token_hash = $1 AND s.ended_at IS NULL
              AND s.last_seen_at > now() - $2::interval AND s.created_at > now() - $3::interval
              AND o.name = s.operator_name AND o.revoked_at IS NULL
        RETURNING s.token_hash, s.csrf_token, o.id, o.name, o.role, o.created_at, o.revoked_at""",
        _hash(token),
        timedelta(minutes=settings.console_idle_minutes),
        timedelta(hours=settings.console_session_hours),
    )
    if row is None:
        return None
    operator = OperatorRecord(row["id"], row["name"], Role(row["role"]), row["created_at"], row["revoked_at"])
    return ConsoleSession(row["token_hash"], operator, row["csrf_token"])


async def end_session(pool: asyncpg.Pool, token_hash: str) -> None:
    await pool.execute("UPDATE console_sessions SET ended_at = now() WHERE token_hash = $1", token_hash)


def csrf_matches(expected: str, sent: object) -> bool:
    return isinstance(sent, str) and secrets.compare_digest(expected.encode(), sent.encode())

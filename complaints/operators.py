"""Operators and their API keys. A key is 32 random bytes shown once; the
register keeps only its SHA-256, so a leaked database discloses no key."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from complaints.operator_commands import Operator, Role

KEY_PREFIX = "cmp_"  # makes a leaked key easy to recognise (secret scanners, logs)
LAST_USE_EVERY = timedelta(minutes=1)  # how stale a key's recorded last use may be
_COLUMNS = "id, name, role, created_at, revoked_at, expires_at, last_used_at"


@dataclass(frozen=True)
class OperatorRecord:
    id: int
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def operator(self) -> Operator:
        """Who acts, as the workflow journals it."""
        return Operator(name=self.name, role=self.role)


class OperatorExists(ValueError):
    pass


class UnknownOperator(LookupError):
    pass


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_operator(
    pool: asyncpg.Pool, name: str, role: Role, expires_at: datetime | None = None
) -> tuple[OperatorRecord, str]:
    """Add an operator whose key works until `expires_at` (None: until revoked);
    returns the record and the key, which is not kept."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("the operator's name is empty")
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise ValueError(f"the expiry {expires_at:%Y-%m-%d %H:%M} is already past")
    key = new_key()
    try:
        row = await pool.fetchrow(
            f"""INSERT INTO operators (name, role, key_hash, expires_at) VALUES ($1, $2, $3, $4)
               RETURNING {_COLUMNS}""",
            name,
            Role(role).value,
            key_hash(key),
            expires_at,
        )
    except asyncpg.UniqueViolationError as error:
        raise OperatorExists(f"{name!r} already has an active key: revoke it first to issue a new one") from error
    return _record(row), key


async def list_operators(pool: asyncpg.Pool, *, include_revoked: bool = True) -> list[OperatorRecord]:
    rows = await pool.fetch(
        f"""SELECT {_COLUMNS} FROM operators
            WHERE $1 OR revoked_at IS NULL ORDER BY name, created_at""",
        include_revoked,
    )
    return [_record(row) for row in rows]


async def revoke_operator(pool: asyncpg.Pool, name: str) -> OperatorRecord:
    """Revoke `name`'s active key; revoking again returns the last revocation."""
    name = " ".join(name.split())
    row = await pool.fetchrow(
        f"""UPDATE operators SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL
           RETURNING {_COLUMNS}""",
        name,
    )
    if row is None:
        row = await pool.fetchrow(
            f"""SELECT {_COLUMNS} FROM operators
                WHERE name = $1 ORDER BY revoked_at DESC LIMIT 1""",
            name,
        )
    if row is None:
        raise UnknownOperator(f"no operator named {name!r}")
    return _record(row)


async def authenticate(pool: asyncpg.Pool, key: str) -> OperatorRecord | None:
    """The active operator holding `key` (not revoked, not expired), or None.
    Its last use is recorded when the one on record is over a minute old."""
    if not key.startswith(KEY_PREFIX):
        return None
    row = await pool.fetchrow(
        f"""SELECT {_COLUMNS} FROM operators
            WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())""",
        key_hash(key),
    )
    if row is None:
        return None
    record = _record(row)
    if record.last_used_at is None or record.last_used_at < datetime.now(UTC) - LAST_USE_EVERY:
        await pool.execute("UPDATE operators SET last_used_at = now() WHERE id = $1", record.id)
    return record


def _record(row: asyncpg.Record) -> OperatorRecord:
    return OperatorRecord(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
    )

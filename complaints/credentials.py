"""Operators' console passwords: hashed with argon2id (argon2-cffi), kept
beside the operator's name; failed sign-ins are counted per account and per
address so that guessing is slowed down whatever name or address is tried."""

from datetime import timedelta

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from complaints.operator_commands import Role
from complaints.operators import OperatorRecord, UnknownOperator

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# verified when the name is unknown, so that a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash("an unknown operator's password")


class WeakPassword(ValueError):
    pass


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")


async def set_password(pool: asyncpg.Pool, name: str, password: str) -> None:
    """Set (or replace) the password of the active operator `name`."""
    name = " ".join(name.split())
    check_password(password)
    if not await pool.fetchval("SELECT 1 FROM operators WHERE name = $1 AND revoked_at IS NULL", name):
        raise UnknownOperator(f"no active operator named {name!r}: add one with `complaints users add`")
    await pool.execute(
        """INSERT INTO operator_credentials (operator_name, password_hash) VALUES ($1, $2)
           ON CONFLICT (operator_name) DO UPDATE SET password_hash = excluded.password_hash, updated_at = now()""",
        name,
        _hasher.hash(password),
    )


async def verify_password(pool: asyncpg.Pool, name: str, password: str) -> OperatorRecord | None:
    """The active operator `name` if `password` is theirs, else None."""
    row = await pool.fetchrow(
        """SELECT o.id, o.name, o.role, o.created_at, o.revoked_at, c.password_hash
             FROM operators o JOIN operator_credentials c ON c.operator_name = o.name
            WHERE o.name = $1 AND o.revoked_at IS NULL""",
        " ".join(name.split()),
    )
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return OperatorRecord(row["id"], row["name"], Role(row["role"]), row["created_at"], row["revoked_at"])


async def record_failure(pool: asyncpg.Pool, name: str, address: str) -> None:
    await pool.execute(
        "INSERT INTO console_sign_in_failures (operator_name, address) VALUES ($1, $2)", name[:200], address
    )


async def failures(pool: asyncpg.Pool, name: str, address: str, window: timedelta) -> tuple[int, int]:
    """Failed sign-ins within `window`: for the account, and from the address."""
    row = await pool.fetchrow(
        """SELECT count(*) FILTER (WHERE operator_name = $1) AS account,
                  count(*) FILTER (WHERE address = $2) AS address
             FROM console_sign_in_failures
            WHERE failed_at > now() - $3::interval AND (operator_name = $1 OR address = $2)""",
        name[:200],
        address,
        window,
    )
    return row["account"], row["address"]

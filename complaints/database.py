"""The register's connection pool and its versioned migrations."""

import logging
import re
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import asyncpg

from complaints.settings import Settings

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")
# Any constant works; it only keeps two processes from migrating at once.
_MIGRATION_LOCK = 0x636F6D70


# What PostgreSQL or the driver raise when the register cannot be reached now:
# the server is down, starting up, shutting down, out of connections, or the
# connection broke. Errors of a query itself (a constraint, a bug) are not.
_UNREACHABLE = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and a connection lost mid-query
    asyncpg.CannotConnectNowError,  # starting up or recovering
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # what a pooled connection raises when the server ended its session while
    # it was idle (a restart, a failover, pg_terminate_backend)
    asyncpg.InternalClientError,
)


# What to catch to ask register_unavailable: the driver's and the network's errors.
REGISTER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)


def register_unavailable(error: BaseException) -> bool:
    """Whether `error` says the register cannot be reached now, so that the
    same request may succeed later: what a caller answers with "retry later"
    (the API's 503, the inbound mailbox's 451) rather than as a failure."""
    if isinstance(error, _UNREACHABLE):
        return True
    if isinstance(error, asyncpg.ObjectNotInPrerequisiteStateError):
        return "not currently accepting connections" in str(error)  # ALLOW_CONNECTIONS false
    if isinstance(error, asyncpg.InterfaceError):
        return "closed" in str(error) or "closing" in str(error)  # the connection or the pool
    if isinstance(error, OSError):  # refused, reset, no route, timed out: only on the way to the register
        return any(
            frame.f_globals.get("__name__", "").startswith("asyncpg")
            for frame, _ in traceback.walk_tb(error.__traceback__)
        )
    return False


class NoDatabaseUrl(RuntimeError):
    """No register to connect to: the settings carry no database URL."""


def database_url(settings: Settings) -> str:
    """The register's URL, as the settings carry it. Deployed processes are
    given DATABASE_URL; on a developer's machine without it, the command line
    hands in the local stack's embedded server (starter/database.py)."""
    if not settings.database_url:
        raise NoDatabaseUrl("no database URL: set DATABASE_URL to the register's PostgreSQL URL")
    return settings.database_url


async def open_pool(settings: Settings, *, migrate: bool = True) -> asyncpg.Pool:
    url = database_url(settings)
    if migrate:
        await apply_migrations(url)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=settings.database_pool_max)
    assert pool is not None
    return pool


@asynccontextmanager
async def register_pool(settings: Settings, *, migrate: bool = True) -> AsyncIterator[asyncpg.Pool]:
    """`async with register_pool(settings) as pool:` the register's pool, closed
    when the block ends however it ends."""
    pool = await open_pool(settings, migrate=migrate)
    try:
        yield pool
    finally:
        await pool.close()


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("complaints") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(Path(entry.name).name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


async def apply_migrations(url: str) -> list[int]:
    """Apply every migration not yet applied, each in its own transaction."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, sql in _migrations():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name)
            log.info("applied migration %04d_%s", version, name)
            applied.append(version)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await conn.close()

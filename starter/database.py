"""The register a command works on: DATABASE_URL, or, on a developer's machine
without it, the local stack's embedded PostgreSQL under the data folder (the
`pgserver` wheel of the `local` extra, which `make run` and `make test` install
and the Docker image does not)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import asyncpg

from complaints.database import register_pool
from complaints.settings import Settings

if TYPE_CHECKING:
    from pgserver import PostgresServer


T = TypeVar("T")


class NoLocalDatabase(RuntimeError):
    """DATABASE_URL is unset and the embedded PostgreSQL is not installed."""


def start_local_database(settings: Settings) -> "PostgresServer":
    """Start (or attach to) the embedded server under the data folder; it stops
    when the last process holding it exits."""
    try:
        from devstack.postgres import start_embedded_postgres
    except ModuleNotFoundError as error:
        if error.name != "pgserver":
            raise
        raise NoLocalDatabase(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "set DATABASE_URL to the register's PostgreSQL URL (or install the local extra: pip install '.[local]')"
        ) from None
    return start_embedded_postgres(settings.postgres_dir)


def with_database(settings: Settings) -> Settings:
    """`settings` with a database URL: the configured one, or the embedded server's."""
    if settings.database_url:
        return settings
    return settings.model_copy(update={"database_url": start_local_database(settings).get_uri()})


def on_register(settings: Settings, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """Run `work` on the register's pool, from a command (no event loop yet)."""

    async def run() -> T:
        async with register_pool(with_database(settings)) as pool:
            return await work(pool)

    return asyncio.run(run())

"""A PostgreSQL of the test's own, which the test stops and starts again: an
outage of the register for real (the server gone, its socket with it), which
the session's shared server cannot have without failing every other test."""

from pathlib import Path

import asyncpg
from pgserver._commands import create_command_function

from complaints.database import apply_migrations
from devstack.postgres import start_embedded_postgres

pg_ctl = create_command_function("pg_ctl")  # pgserver's own runner of its pg_ctl (as its user)


class StoppablePostgres:
    def __init__(self, folder: Path) -> None:
        self._server = start_embedded_postgres(folder)
        self.admin_url = self._server.get_uri()

    async def new_database(self, name: str) -> str:
        """A migrated register database on this server; returns its URL."""
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()
        url = self._server.get_uri(name)
        await apply_migrations(url)
        return url

    def stop(self) -> None:
        """Stop the server now: its sessions are ended, new connections find no socket."""
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self._server.pgdata, user=self._server.system_user)

    def start(self) -> None:
        """Start it again, on the same socket (same URLs)."""
        with self._server._lock:
            self._server.ensure_postgres_running()

    def cleanup(self) -> None:
        self._server.cleanup()

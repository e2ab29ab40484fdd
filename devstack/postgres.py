"""Embedded PostgreSQL (the `pgserver` wheel); data kept under the data folder."""

import logging
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # pgserver keeps its lock file in the runtime dir; /tmp is fine when XDG_RUNTIME_DIR is unset.
    warnings.simplefilter("ignore")
    import pgserver

logging.getLogger("pgserver").setLevel(logging.WARNING)


def start_embedded_postgres(pgdata: Path) -> pgserver.PostgresServer:
    """Start (or attach to) the server on `pgdata`; it stops when the last
    process holding it exits."""
    pgdata.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(pgdata.resolve(), cleanup_mode="stop")

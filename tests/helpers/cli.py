"""The `complaints` command line, run as an operator runs it."""

import asyncio
import subprocess
import sys

from complaints.settings import Settings
from tests.helpers.settings import settings_environment

# Who complains and about what, as `complaints submit` is told.
IDENTITY = ["--name", "Jeanne Martin", "--subject", "Facture erronée"]


async def complaints(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`stdin`: what the command reads from standard input (none: it reads nothing)."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "starter", *args],
        env=settings_environment(settings),
        capture_output=True,
        input=stdin if stdin is not None else "",
        text=True,
        timeout=60,
    )

"""The `complaints` command line, run as an operator runs it."""

import asyncio
import subprocess
import sys

from complaints.settings import Settings
from tests.helpers.settings import settings_environment

# Who complains and about what, as `complaints submit` is told.
IDENTITY = ["--name", "Jeanne Martin", "--subject", "Facture erronée"]


async def complaints(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "starter", *args],
        env=settings_environment(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )

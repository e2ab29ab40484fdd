"""Files only their owner may read (the local stack's secrets), private from
the moment they exist: the mode is given when the file is created, never set
after the secret is written."""

import os
from pathlib import Path

PRIVATE_MODE = 0o600


def create_private(path: Path, text: str) -> bool:
    """Write `text` to a new file at `path`, readable by its owner only.
    False, and nothing written, when the file already exists."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    return True

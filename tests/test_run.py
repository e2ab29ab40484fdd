"""`complaints run` keeps the parts apart — the worker, the HTTP API, the inbound
mailbox and the codec server each in its own process — and Ctrl-C (or one part
dying) stops everything, leaving no process behind."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil
import pytest_asyncio

from tests.helpers.network import free_port
from tests.helpers.polling import eventually

PARTS = 4  # one worker, the API, the inbound mailbox, the codec server


class Run:
    def __init__(self, process: subprocess.Popen[str], api_port: int) -> None:
        self.process = process
        self.api_port = api_port

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def parts(self) -> list[psutil.Process]:
        return [p for p in self.descendants() if "starter" in p.cmdline()]

    async def ready(self) -> None:
        async def api_answers() -> bool:
            try:
                async with httpx.AsyncClient(timeout=2) as http:
                    return (await http.get(f"http://127.0.0.1:{self.api_port}/health/live")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(api_answers, 90)
        await eventually(lambda: len(self.parts()) == PARTS, 30)


@pytest_asyncio.fixture
async def run(database_url: str, tmp_path: Path) -> AsyncIterator[Run]:
    api_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "COMPLAINTS_DATA_DIR": str(tmp_path / "data"),
        "COMPLAINTS_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "COMPLAINTS_TEMPORAL_UI_URL": f"http://localhost:{free_port()}",
        "COMPLAINTS_CODEC_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "COMPLAINTS_SMTP_HOST": "127.0.0.1",
        "COMPLAINTS_SMTP_PORT": str(free_port()),
        "COMPLAINTS_INBOUND_HOST": "127.0.0.1",
        "COMPLAINTS_INBOUND_PORT": str(free_port()),
        "COMPLAINTS_API_HOST": "127.0.0.1",
        "COMPLAINTS_API_PORT": str(api_port),
        "COMPLAINTS_METRICS_ADDRESS": f"127.0.0.1:{free_port()}",
        "COMPLAINTS_WORKER_SHUTDOWN_GRACE_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "starter", "run"],
        cwd=tmp_path,  # no .env of the project's
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = Run(process, api_port)
    try:
        yield started
    finally:
        for child in started.descendants() if process.poll() is None else []:
            child.kill()
        process.kill()
        process.wait()


def _all_gone(processes: list[psutil.Process]) -> bool:
    return not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes)


async def test_ctrl_c_stops_every_process_of_the_run(run: Run) -> None:
    await run.ready()
    descendants = run.descendants()
    assert len({p.pid for p in run.parts()}) == PARTS  # the worker apart from the HTTP API
    run.process.send_signal(signal.SIGINT)
    out, err = await asyncio.to_thread(run.process.communicate, timeout=60)
    assert run.process.returncode == 0, err
    assert "Stopped: worker, HTTP API" in out
    assert _all_gone(descendants), [p.cmdline() for p in descendants if p.is_running()]


async def test_a_part_that_dies_stops_the_run_with_a_clear_message(run: Run) -> None:
    await run.ready()
    descendants = run.descendants()
    api = next(p for p in run.parts() if p.cmdline()[-1] == "api")
    api.kill()
    _, err = await asyncio.to_thread(run.process.communicate, timeout=60)
    assert run.process.returncode == 1
    assert f"the api process (pid {api.pid}) exited with code -9: stopping everything" in err
    assert _all_gone(descendants), [p.cmdline() for p in descendants if p.is_running()]

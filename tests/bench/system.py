"""The system started as `make run` starts it, for the benchmarks and the soak:
a fresh data folder, free ports, the settings handed to every process by the
environment (this process reads the same ones), and the figures of the
processes (CPU, memory) read while it runs."""

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from complaints.settings import Settings
from starter.database import start_local_database
from tests.helpers.network import free_port

PART_PORTS = ("temporal", "ui", "codec", "smtp", "inbound", "api", "metrics")


@dataclass
class System:
    api: str
    settings: Settings
    metrics: list[str]
    processes: list[psutil.Process] = field(default_factory=list)
    log: Path | None = None  # the started system's output


def fresh_data(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def fresh_ports() -> dict[str, int]:
    return {name: free_port() for name in PART_PORTS}


def system_env(code: Path, data: Path, database_url: str, ports: dict[str, int], workers: int) -> dict[str, str]:
    """The environment of every process of the system: its code, data, register and ports."""
    return {
        **os.environ,
        "PYTHONPATH": str(code),
        "DATABASE_URL": database_url,
        "COMPLAINTS_DATA_DIR": str(data),
        "COMPLAINTS_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "COMPLAINTS_TEMPORAL_UI_URL": f"http://localhost:{ports['ui']}",
        "COMPLAINTS_CODEC_SERVER_ADDRESS": f"127.0.0.1:{ports['codec']}",
        "COMPLAINTS_SMTP_HOST": "127.0.0.1",
        "COMPLAINTS_SMTP_PORT": str(ports["smtp"]),
        "COMPLAINTS_INBOUND_PORT": str(ports["inbound"]),
        "COMPLAINTS_API_HOST": "127.0.0.1",
        "COMPLAINTS_API_PORT": str(ports["api"]),
        "COMPLAINTS_METRICS_ADDRESS": f"127.0.0.1:{ports['metrics']}",
        "COMPLAINTS_WORKER_PROCESSES": str(workers),
    }


def adopt(env: dict[str, str]) -> Settings:
    """This process takes the system's settings, to reach its register and Temporal."""
    for name, value in env.items():
        if name.startswith("COMPLAINTS_") or name == "DATABASE_URL":
            os.environ[name] = value
    return Settings(_env_file=None)


def metrics_urls(ports: dict[str, int], workers: int) -> list[str]:
    """Each worker process serves its metrics on the next port."""
    return [f"http://127.0.0.1:{ports['metrics'] + i}/metrics" for i in range(workers)]


@contextlib.asynccontextmanager
async def started_system(code: Path, workers: int) -> AsyncIterator[System]:
    """`complaints run` on a fresh data folder and free ports (its PostgreSQL held here)."""
    data = fresh_data("overload-")
    postgres = await asyncio.to_thread(start_local_database, Settings(_env_file=None, data_dir=data))
    ports = fresh_ports()
    env = system_env(code, data, postgres.get_uri(), ports, workers)
    settings = adopt(env)
    log = (data / "run.log").open("w")
    run = subprocess.Popen([sys.executable, "-m", "starter", "run"], cwd=data, env=env, stdout=log, stderr=log)
    system = System(f"http://127.0.0.1:{ports['api']}", settings, metrics_urls(ports, workers), log=data / "run.log")
    try:
        await wait_for_http(system.api + "/openapi.json", run)
        await asyncio.sleep(3)  # the worker connects and ensures its schedules
        root = psutil.Process(run.pid)
        system.processes = [root, *root.children(recursive=True)]
        print(f"system started from {code} (data {data}, log {data / 'run.log'})")
        yield system
    finally:
        run.send_signal(2)
        try:
            run.wait(60)
        except subprocess.TimeoutExpired:
            run.kill()
        postgres.cleanup()


async def wait_for_http(url: str, process: subprocess.Popen[bytes], attempts: int = 240) -> None:
    """Until `url` answers 200; fails at once if `process` (the one serving it) exits."""
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(attempts):
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.5)
    raise TimeoutError(f"{url} did not answer")


def name_of(process: psutil.Process) -> str:
    return f"{process.pid} {' '.join(process.cmdline()[-2:])}"


def cpu_seconds(processes: list[psutil.Process]) -> dict[str, float]:
    seconds = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            seconds[name_of(process)] = times.user + times.system
    return seconds


def rss_mib(processes: list[psutil.Process]) -> dict[str, float]:
    found = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            found[name_of(process)] = process.memory_info().rss / 2**20
    return found

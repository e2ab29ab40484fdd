"""The worker's probes (worker/health.py) through real parts: `run_worker` on the
session's dev server and a register of its own. Ready once it polls and reaches
both; the register gone, not ready but still live (a restart would not bring
the register back); the register back, ready again; the worker stopped, nothing
answers."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest_asyncio

from complaints.settings import Settings
from starter.run import _worker_env
from tests.helpers.network import free_port
from worker.main import run_worker


@pytest_asyncio.fixture
async def health_url(settings: Settings) -> AsyncIterator[str]:
    address = f"127.0.0.1:{free_port()}"
    running = asyncio.create_task(
        run_worker(settings.model_copy(update={"worker_health_address": address, "metrics_address": None}))
    )
    yield f"http://{address}/health"
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running


async def _until(http: httpx.AsyncClient, url: str, status: int) -> httpx.Response:
    """The probe's answer once it is `status` (within 60 s)."""
    for _ in range(240):
        with contextlib.suppress(httpx.TransportError):
            response = await http.get(url)
            if response.status_code == status:
                return response
        await asyncio.sleep(0.25)
    raise AssertionError(f"{url} never answered {status}")


async def _rename_database(admin_url: str, old: str, new: str) -> None:
    """Cut the register off the worker: its connections ended, its name gone."""
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", old)
        await conn.execute(f'ALTER DATABASE "{old}" RENAME TO "{new}"')
    finally:
        await conn.close()


async def test_ready_when_polling_and_reaching_the_register(health_url: str, settings: Settings, postgres: str) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        ready = await _until(http, f"{health_url}/ready", 200)
        assert ready.json() == {"polling": True, "register": True, "temporal": True}
        assert (await http.get(f"{health_url}/live")).json() == {"polling": True}
        assert (await http.get(f"{health_url}/elsewhere")).status_code == 404

        name = urlsplit(settings.database_url or "").path.lstrip("/")
        await _rename_database(postgres, name, f"{name}_away")
        try:
            gone = await _until(http, f"{health_url}/ready", 503)
            assert gone.json() == {"polling": True, "register": False, "temporal": True}
            assert gone.headers["Retry-After"]
            assert (await http.get(f"{health_url}/live")).status_code == 200
        finally:
            await _rename_database(postgres, f"{name}_away", name)
        assert (await _until(http, f"{health_url}/ready", 200)).json()["register"] is True


async def test_nothing_answers_once_the_worker_stops(settings: Settings) -> None:
    address = f"127.0.0.1:{free_port()}"
    running = asyncio.create_task(
        run_worker(settings.model_copy(update={"worker_health_address": address, "metrics_address": None}))
    )
    async with httpx.AsyncClient(timeout=5) as http:
        await _until(http, f"http://{address}/health/live", 200)
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        try:
            await http.get(f"http://{address}/health/live")
        except httpx.ConnectError:
            return
        raise AssertionError("the probe answered after the worker stopped")


def test_each_worker_process_of_complaints_run_has_ports_of_its_own() -> None:
    settings = Settings(_env_file=None, metrics_address="127.0.0.1:9464", worker_health_address="0.0.0.0:8081")
    assert _worker_env({"A": "1"}, settings, 0) == {"A": "1"}
    second = _worker_env({"A": "1"}, settings, 1)
    assert second["COMPLAINTS_METRICS_ADDRESS"] == "127.0.0.1:9465"
    assert second["COMPLAINTS_WORKER_HEALTH_ADDRESS"] == "0.0.0.0:8082"
    without = Settings(_env_file=None, metrics_address="127.0.0.1:9464")
    assert "COMPLAINTS_WORKER_HEALTH_ADDRESS" not in _worker_env({}, without, 1)

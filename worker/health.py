"""The worker's health endpoint (COMPLAINTS_WORKER_HEALTH_ADDRESS), for an
orchestrator's probes: a worker listens nowhere else.

- GET /health/live: 200 while the worker runs (its pollers are up) and this
  event loop answers; a loop blocked by a runaway task does not answer, and the
  probe restarts the process. A Temporal service or register down is not a
  reason to restart: the worker waits for them.
- GET /health/ready: 200 when it is live and both the register (SELECT 1) and
  the Temporal service (its health check) answer within CHECK_SECONDS; else 503
  with what is missing, so a rollout waits and the operator sees why.

Plain asyncio, HTTP/1.0, one request per connection: nothing to install."""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0  # a probe's own timeout is a few seconds: answer inside it
REQUEST_SECONDS = 5.0  # a client that sends no request line in this time is dropped


class WorkerHealth:
    """What the probes report about one worker process."""

    def __init__(self, worker: Worker, pool: asyncpg.Pool, client: Client) -> None:
        self.worker, self.pool, self.client = worker, pool, client

    def live(self) -> dict[str, object]:
        return {"polling": self.worker.is_running and not self.worker.is_shutdown}

    async def ready(self) -> dict[str, object]:
        register, temporal = await asyncio.gather(self._register(), self._temporal())
        return {**self.live(), "register": register, "temporal": temporal}

    async def _register(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                await self.pool.fetchval("SELECT 1")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True

    async def _temporal(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                return bool(await self.client.service_client.check_health())
        except Exception:  # any failure to answer is "not reachable": the probe says so, never raises
            return False


async def answer(health: WorkerHealth, path: str) -> tuple[int, dict[str, object]]:
    """The status and body for a probe's path."""
    if path == "/health/live":
        checks = health.live()
    elif path == "/health/ready":
        checks = await health.ready()
    else:
        return 404, {"detail": "not found: /health/live or /health/ready"}
    return (200 if all(checks.values()) else 503), checks


def _response(status: int, body: dict[str, object]) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 503: "Service Unavailable"}[status]
    content = json.dumps(body).encode()
    head = f"HTTP/1.0 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(content)}\r\n"
    if status == 503:
        head += "Retry-After: 5\r\n"
    return (head + "Connection: close\r\n\r\n").encode() + content


async def _serve_one(health: WorkerHealth, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        async with asyncio.timeout(REQUEST_SECONDS):
            request_line = (await reader.readline()).decode("latin-1").split()
        if len(request_line) < 2 or request_line[0] not in ("GET", "HEAD"):
            writer.write(_response(400, {"detail": "GET /health/live or /health/ready"}))
        else:
            writer.write(_response(*await answer(health, request_line[1].split("?")[0])))
        await writer.drain()
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def serving_health(address: str | None, health: WorkerHealth) -> AsyncIterator[None]:
    """Serve the probes on host:port while the block runs; None or empty: not at all."""
    if not address:
        yield
        return
    host, _, port = address.rpartition(":")
    server = await asyncio.start_server(lambda r, w: _serve_one(health, r, w), host or "0.0.0.0", int(port))
    log.info("worker health on http://%s/health/live and /health/ready", address)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()

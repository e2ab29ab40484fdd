"""`complaints run`: the whole system in the foreground, on the local stack's
embedded parts (devstack/) where nothing else is configured. Ctrl-C stops every part.

The parts run apart, as compose runs them: the worker (one process or
COMPLAINTS_WORKER_PROCESSES), the HTTP API, the inbound mailbox and the codec
server each in a process of its own, so HTTP load never starves workflow tasks
of the event loop. This process supervises them: when one stops, the run stops
them all and says which one stopped."""

import asyncio
import contextlib
import logging
import os
import sys
from dataclasses import dataclass

from complaints.payload_codec import local_key
from complaints.process import configure_logging, run_until_stopped
from complaints.settings import Settings
from devstack.mail_sink import start_sink
from devstack.temporal_server import start_dev_server
from starter.database import start_local_database

log = logging.getLogger(__name__)

FRONT_PARTS = ("api", "inbound", "codec-server")  # `complaints <command>`, one process each
KILL_AFTER_SECONDS = 10.0  # beyond the worker's own grace, a part that has not stopped is killed


class PartStopped(RuntimeError):
    """A part of the run stopped on its own: the run stops them all."""


@dataclass
class Part:
    name: str
    process: asyncio.subprocess.Process


async def run_stack(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    postgres = None
    if not settings.database_url:
        postgres = await asyncio.to_thread(start_local_database, settings)
        settings = settings.model_copy(update={"database_url": postgres.get_uri()})
    if not settings.payload_keys:
        local_key(settings.data_dir)  # made once here, not raced by the parts
    temporal_log = settings.data_dir / "temporal.log"
    temporal = await start_dev_server(settings, temporal_log)
    smtp, _ = start_sink(settings.mail_dir, settings.smtp_host, settings.smtp_port)
    parts: list[Part] = []
    try:
        parts = await start_parts(settings)
        _print_banner(settings, postgres.get_uri() if postgres else "DATABASE_URL", temporal_log, parts)
        await supervise(parts)
    except PartStopped as stopped:
        print(f"\n{stopped}: stopping everything", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    finally:
        await stop_parts(parts, settings.worker_shutdown_grace_seconds + KILL_AFTER_SECONDS)
        smtp.stop()
        with contextlib.suppress(ProcessLookupError):
            temporal.terminate()
        await temporal.wait()
        if postgres:
            postgres.cleanup()
        print(
            "Stopped: worker, HTTP API, inbound mailbox, codec server, SMTP sink, Temporal dev server"
            + (", PostgreSQL" if postgres else "")
        )


async def start_parts(settings: Settings) -> list[Part]:
    """The worker process(es) and the front parts, with the register's URL handed in.
    Each in its own session: Ctrl-C reaches this process, which stops them in order."""
    env = {**os.environ, "DATABASE_URL": settings.database_url or ""}
    commands = [(f"worker {i + 1}", "worker", _worker_env(env, settings, i)) for i in range(settings.worker_processes)]
    commands += [(name, name, env) for name in FRONT_PARTS]
    parts = []
    for name, command, part_env in commands:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "starter", command, env=part_env, start_new_session=True
        )
        parts.append(Part(name, process))
    return parts


def _worker_env(env: dict[str, str], settings: Settings, index: int) -> dict[str, str]:
    """Each worker process serves its metrics (9464, 9465, ...) and its probes, when
    set, on the next port."""
    shifted = {
        name: f"{host}:{int(port) + index}"
        for name, address in (
            ("COMPLAINTS_METRICS_ADDRESS", settings.metrics_address),
            ("COMPLAINTS_WORKER_HEALTH_ADDRESS", settings.worker_health_address),
        )
        if address and index
        for host, _, port in [address.rpartition(":")]
    }
    return {**env, **shifted}


async def supervise(parts: list[Part]) -> None:
    """Return never: raise PartStopped as soon as one part's process ends."""
    waits = {asyncio.create_task(part.process.wait()): part for part in parts}
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    part = waits[next(iter(done))]
    raise PartStopped(f"the {part.name} process (pid {part.process.pid}) exited with code {part.process.returncode}")


async def stop_parts(parts: list[Part], kill_after: float) -> None:
    """SIGTERM to every part still running, then SIGKILL to any left after `kill_after` s."""
    running = [part for part in parts if part.process.returncode is None]
    for part in running:
        with contextlib.suppress(ProcessLookupError):
            part.process.terminate()
    try:
        await asyncio.wait_for(asyncio.gather(*(part.process.wait() for part in running)), kill_after)
    except TimeoutError:
        for part in running:
            if part.process.returncode is None:
                log.warning("the %s process did not stop in %.0f s: killed", part.name, kill_after)
                with contextlib.suppress(ProcessLookupError):
                    part.process.kill()
        await asyncio.gather(*(part.process.wait() for part in running))


def _print_banner(settings: Settings, database: str, temporal_log: object, parts: list[Part]) -> None:
    inbound = f"{settings.inbound_host}:{settings.inbound_port}"
    api = f"http://{settings.api_host}:{settings.api_port}"
    pids = ", ".join(f"{part.name} {part.process.pid}" for part in parts)
    print(
        f"""
Complaint handling is running. Ctrl-C stops everything.
  Temporal       {settings.temporal_address} (namespace {settings.temporal_namespace}, log {temporal_log})
  Temporal UI    {settings.temporal_ui_url} (payloads decoded by the codec server)
  Codec server   http://{settings.codec_server_address}
  PostgreSQL     {database}
  SMTP sink      {settings.smtp_host}:{settings.smtp_port}, messages kept in {settings.mail_dir}/
  Inbound mail   {inbound} (SMTP): complaints and replies to the complaints address
  Worker         task queue {settings.task_queue!r}, {settings.worker_processes} process(es)
  HTTP API       {api} (OpenAPI: /docs; keys: complaints users add)
  Complaint form {api}/reclamation (links in emails: {settings.public_base_url})
  Console        {api}/console (operators sign in with a password)
  Processes      {pids}
Try, in another terminal:
  .venv/bin/complaints users add "Alice Martin" --role admin   # the first operator: asks for a password
  .venv/bin/complaints submit --name "Jeanne Martin" --email jeanne@example.com \\
      --subject "Colis abîmé" --description "Le colis est arrivé ouvert." \\
      --desired-resolution "Un remplacement"
  .venv/bin/complaints mail list
""",
        flush=True,
    )


def main() -> None:
    configure_logging(quiet=["mail.log"])  # aiosmtpd logs every connection
    run_until_stopped(run_stack(Settings()))

"""`complaints run`: the whole system in the foreground, on the local stack's
embedded parts (devstack/) where nothing else is configured. Ctrl-C stops every part."""

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from api.app import create_app as api_app
from codec.server import create_app as codec_app
from complaints.process import configure_logging, run_until_stopped
from complaints.settings import Settings
from devstack.mail_sink import start_sink
from devstack.temporal_server import start_dev_server
from inbound.server import serve_inbound
from starter.database import start_local_database
from worker.main import run_worker

log = logging.getLogger(__name__)


async def run_stack(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    postgres = None
    if not settings.database_url:
        postgres = await asyncio.to_thread(start_local_database, settings)
        settings = settings.model_copy(update={"database_url": postgres.get_uri()})
    temporal_log = settings.data_dir / "temporal.log"
    temporal = await start_dev_server(settings, temporal_log)
    smtp, _ = start_sink(settings.mail_dir, settings.smtp_host, settings.smtp_port)
    try:
        _print_banner(settings, postgres.get_uri() if postgres else "DATABASE_URL", temporal_log)
        # Every long-running part of the stack; the first to fail stops them all.
        await asyncio.gather(
            run_worker(settings),
            serve_http(codec_app(settings), settings.codec_server_address),
            serve_inbound(settings),
            serve_http(api_app(settings), f"{settings.api_host}:{settings.api_port}"),
        )
    finally:
        smtp.stop()
        with contextlib.suppress(ProcessLookupError):
            temporal.terminate()
        await temporal.wait()
        if postgres:
            postgres.cleanup()
        print(
            "Stopped: worker, HTTP API, inbound mailbox, SMTP sink, Temporal dev server"
            + (", PostgreSQL" if postgres else "")
        )


class _HttpServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the stack handles Ctrl-C and SIGTERM for every part


async def serve_http(app: FastAPI, address: str) -> None:
    """Serve `app` until cancelled, then shut it down gracefully."""
    host, _, port = address.rpartition(":")
    server = _HttpServer(uvicorn.Config(app, host=host, port=int(port), log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True
        await serving
        raise


def _print_banner(settings: Settings, database: str, temporal_log: object) -> None:
    inbound = f"{settings.inbound_host}:{settings.inbound_port}"
    api = f"http://{settings.api_host}:{settings.api_port}"
    print(
        f"""
Complaint handling is running. Ctrl-C stops everything.
  Temporal       {settings.temporal_address} (namespace {settings.temporal_namespace}, log {temporal_log})
  Temporal UI    {settings.temporal_ui_url} (payloads decoded by the codec server)
  Codec server   http://{settings.codec_server_address}
  PostgreSQL     {database}
  SMTP sink      {settings.smtp_host}:{settings.smtp_port}, messages kept in {settings.mail_dir}/
  Inbound mail   {inbound} (SMTP): complaints and replies to the complaints address
  Worker         task queue {settings.task_queue!r}
  HTTP API       {api} (OpenAPI: /docs; keys: complaints users add)
  Complaint form {api}/reclamation (links in emails: {settings.public_base_url})
  Console        {api}/console (operators sign in with a password)
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

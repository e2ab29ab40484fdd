"""The parts of the system the soak starts one by one, so that it can kill or
stop each on its own: the Temporal dev server (a SQLite file), the embedded
PostgreSQL, the SMTP sink and the alert webhook (both in this process), the
HTTP API and the worker processes. A part that stops is started again the same
way (same port, same files); `complaints run` would stop everything instead."""

import asyncio
import contextlib
import secrets
import signal
import subprocess
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from complaints.payload_codec import local_key
from complaints.settings import Settings
from devstack.mail_sink import MailSink
from devstack.temporal_server import dev_server_args, temporal_cli
from tests.bench.system import adopt, fresh_ports, metrics_urls, system_env, wait_for_http
from tests.helpers.stoppable_postgres import StoppablePostgres
from tests.helpers.webhooks import WebhookReceiver


class IndexedSink(MailSink):
    """The SMTP sink, which also keeps each recipient's messages in memory: the
    soak's customers read their emails without scanning the folder."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.by_recipient: dict[str, list[Message]] = defaultdict(list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        message = message_from_bytes(envelope.original_content or b"")
        for recipient in envelope.rcpt_tos:
            self.by_recipient[recipient.lower()].append(message)
        return answer


@dataclass
class Restarts:
    """How often each part was killed or stopped, and started again."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class SoakSystem:
    def __init__(self, code: Path, data: Path, workers: int, overrides: dict[str, str]) -> None:
        self.code, self.data, self.workers = code, data, workers
        self.ports = fresh_ports()
        self.postgres = StoppablePostgres(data / "postgres")
        self.webhook = WebhookReceiver()
        self.sink = IndexedSink(data / "mail")
        self._smtp: Controller | None = None
        self.env: dict[str, str] = {}
        self.overrides = overrides
        self.temporal: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.worker_processes: list[subprocess.Popen[bytes] | None] = [None] * workers
        self.restarts = Restarts()
        self.exits: list[str] = []  # parts that stopped without the soak stopping them
        self._watching = True

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def metrics(self) -> list[str]:
        return metrics_urls(self.ports, self.workers)

    async def start(self) -> Settings:
        url = await self.postgres.new_database("soak")
        self.env = {
            **system_env(self.code, self.data, url, self.ports, self.workers),
            "COMPLAINTS_ALERT_SINKS": "email,webhook,log",
            "COMPLAINTS_ALERT_WEBHOOK_URL": self.webhook.url,
            "COMPLAINTS_LINK_SECRET": secrets.token_urlsafe(32),
            **self.overrides,
        }
        settings = adopt(self.env)
        local_key(self.data)  # made once here, not raced by the parts
        self._serve_webhook()
        self.start_smtp()
        await self.start_temporal()
        for index in range(self.workers):
            self.start_worker(index)
        self.api = self._spawn("api", self.env)
        await wait_for_http(self.api_url + "/health/live", self.api)
        return settings

    def _spawn(self, name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.data / f"{name.replace(' ', '-')}.log").open("ab")
        command = name.split()[0]
        return subprocess.Popen(
            [sys.executable, "-m", "starter", command], cwd=self.data, env=env, stdout=log, stderr=log
        )

    def _serve_webhook(self) -> None:
        threading.Thread(target=self.webhook.server.serve_forever, daemon=True).start()

    # --- SMTP sink ---

    def start_smtp(self) -> None:
        self._smtp = Controller(self.sink, hostname="127.0.0.1", port=self.ports["smtp"])
        self._smtp.start()

    def stop_smtp(self) -> None:
        if self._smtp:
            self._smtp.stop()
            self._smtp = None
            self.restarts.counts["smtp stopped"] += 1

    # --- Temporal ---

    async def start_temporal(self) -> None:
        settings = Settings(_env_file=None)
        log = (self.data / "temporal.log").open("ab")
        self.temporal = subprocess.Popen([temporal_cli(), *dev_server_args(settings)], stdout=log, stderr=log)
        for _ in range(600):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.ports["temporal"])
                writer.close()
                return
            if self.temporal.poll() is not None:
                raise RuntimeError(f"the Temporal dev server exited; see {self.data / 'temporal.log'}")
            await asyncio.sleep(0.1)
        raise TimeoutError("the Temporal dev server did not open its port")

    async def kill_temporal(self, down_seconds: float = 2.0) -> None:
        """SIGKILL, then the same server again on the same SQLite file and port."""
        assert self.temporal
        self.temporal.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.temporal.wait)
        self.restarts.counts["temporal killed"] += 1
        await asyncio.sleep(down_seconds)
        await self.start_temporal()

    # --- workers ---

    def start_worker(self, index: int) -> None:
        host, _, port = self.env["COMPLAINTS_METRICS_ADDRESS"].rpartition(":")
        env = {**self.env, "COMPLAINTS_METRICS_ADDRESS": f"{host}:{int(port) + index}"}
        self.worker_processes[index] = self._spawn(f"worker {index + 1}", env)

    def kill_worker(self, index: int) -> None:
        process = self.worker_processes[index]
        if process and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            self.restarts.counts["worker killed"] += 1
        self.start_worker(index)

    async def watch(self) -> None:
        """Start again any worker or API that stopped on its own (a worker whose
        Temporal was down at its start exits): counted, since none should."""
        while self._watching:
            for index, process in enumerate(self.worker_processes):
                if process and process.poll() is not None:
                    self.exits.append(f"worker {index + 1} exited with {process.returncode}")
                    self.start_worker(index)
            if self.api and self.api.poll() is not None:
                self.exits.append(f"api exited with {self.api.returncode}")
                self.api = self._spawn("api", self.env)
            await asyncio.sleep(1)

    # --- PostgreSQL ---

    async def stop_postgres(self) -> None:
        await asyncio.to_thread(self.postgres.stop)
        self.restarts.counts["postgres stopped"] += 1

    async def start_postgres(self) -> None:
        await asyncio.to_thread(self.postgres.start)

    # --- all ---

    async def stop(self) -> None:
        self._watching = False
        for process in [self.api, *self.worker_processes]:
            if process and process.poll() is None:
                process.terminate()
        for process in [self.api, *self.worker_processes]:
            if process:
                try:
                    await asyncio.to_thread(process.wait, 30)
                except subprocess.TimeoutExpired:
                    process.kill()
        if self.temporal and self.temporal.poll() is None:
            self.temporal.terminate()
            await asyncio.to_thread(self.temporal.wait)
        if self._smtp:
            self._smtp.stop()
        self.webhook.server.shutdown()
        self.postgres.cleanup()

"""An incoming webhook, as a chat tool has: records what it is sent and
answers with the statuses the test lines up (then 200)."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.helpers.network import free_port


class AlertWebhook:
    def __init__(self) -> None:
        self.port = free_port()
        self.answers: list[int] = []  # the next requests' statuses, in order; then 200
        self.requests = 0
        self.accepted: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                status = receiver.answers.pop(0) if receiver.answers else 200
                if status < 300:
                    receiver.accepted.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/sla"


@contextmanager
def alert_webhook() -> Iterator[AlertWebhook]:
    webhook = AlertWebhook()
    thread = threading.Thread(target=webhook.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield webhook
    finally:
        webhook.server.shutdown()
        webhook.server.server_close()

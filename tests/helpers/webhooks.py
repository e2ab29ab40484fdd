"""A chat tool's incoming webhook, served on this machine for the alert tests:
it answers with the statuses a test lines up (then 200) and keeps what it
accepted."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.helpers.network import free_port


class WebhookReceiver:
    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])  # the next requests' statuses, in order; then 200
        self.failing_with: int | None = None  # while set, every request is answered this status
        self.requests = 0
        self.received: list[tuple[dict[str, str], bytes]] = []  # accepted: headers (lower-cased), body
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                if len(body) < length:  # the sender gave up (its timeout) before the body came: no request
                    self.close_connection = True
                    return
                receiver.requests += 1
                status = receiver.answers.pop(0) if receiver.answers else 200
                status = receiver.failing_with or status
                if status < 300:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/sla"

    def events(self) -> list[dict[str, Any]]:
        """The accepted alerts' JSON bodies."""
        return [json.loads(body) for _, body in self.received]


@contextmanager
def serving_webhook(answers: list[int] | None = None) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(answers)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()

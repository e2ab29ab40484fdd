"""A chat tool's incoming webhook, served on this machine for the alert tests."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers.network import free_port


class WebhookReceiver:
    """A chat tool's incoming webhook: records what it receives; can fail first."""

    def __init__(self, failures: int = 0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures:
                    receiver.failures -= 1
                    self.send_response(503)
                else:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/sla"

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]

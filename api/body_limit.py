"""A cap on request bodies, enforced before they are read: a declared
Content-Length above it is refused at once, and a body streamed without one
is cut off when it passes the cap. Either way: 413, and nothing is stored."""

import json
import math
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MEDIA_TYPE
from complaints.settings import Settings

OVERHEAD = 1024 * 1024  # the complaint's text fields and the multipart framing


def request_body_limit(settings: Settings) -> int:
    """The largest body a valid request can have: its documents at their
    largest (each one's, and the complaint's total), base64-encoded (JSON
    carries documents in base64)."""
    documents = min(settings.max_documents * settings.max_document_bytes, settings.max_complaint_document_bytes)
    return math.ceil(documents * 4 / 3) + OVERHEAD


_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Envoi trop volumineux</title></head>
<body><h1>Envoi trop volumineux</h1><p>Vos documents dépassent {megabytes} Mo au total : rien n'a été enregistré.
Revenez au formulaire et joignez des fichiers plus petits ou moins nombreux.</p></body></html>"""


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    return f"the request is larger than the {limit:,} bytes accepted: send fewer or smaller documents"


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, send)
            return
        received = 0
        responded = False

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal responded
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, tracking_send)
        except BodyTooLarge:
            if responded:
                raise
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if b"text/html" in dict(scope["headers"]).get(b"accept", b""):  # a browser: the complaint form
            media_type, body = "text/html; charset=utf-8", _PAGE.format(megabytes=self.limit // 2**20).encode()
        else:
            media_type = MEDIA_TYPE
            body = json.dumps(
                {
                    "type": "about:blank",
                    "title": HTTPStatus(413).phrase,
                    "status": 413,
                    "detail": too_large(self.limit),
                    "instance": scope.get("path"),
                }
            ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),  # the rest of the body is not read
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

"""Strict-Transport-Security on every answer to a request that came over
HTTPS — directly, or through a trusted proxy's X-Forwarded-Proto (the scheme
ProxyHeadersMiddleware set): browsers then never reach the site over plain
HTTP again. Never over HTTP, where it means nothing (and `make run` serves HTTP)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = b"max-age=31536000; includeSubDomains"


class StrictTransportSecurity:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"strict-transport-security", HSTS)]
            await send(message)

        await self.app(scope, receive, with_hsts)

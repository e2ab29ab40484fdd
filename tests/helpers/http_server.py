"""An ASGI app served over real HTTP inside the test's event loop."""

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI


class _HttpServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the test runner keeps its own signal handling


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

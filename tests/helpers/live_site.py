"""The app served on a real port by the test's event loop (for a browser
driven from a thread), and a browser on a fresh profile."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from tests.helpers.http_server import serve_http
from tests.helpers.polling import eventually


@asynccontextmanager
async def served(app: FastAPI, port: int) -> AsyncIterator[str]:
    serving = asyncio.create_task(serve_http(app, f"127.0.0.1:{port}"))

    async def listening() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    await eventually(listening, timeout=10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serving.cancel()
        with suppress(asyncio.CancelledError):
            await serving

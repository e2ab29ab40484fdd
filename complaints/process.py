"""What every complaint process does on start: its log lines in one format, and
Ctrl-C or SIGTERM stopping it cleanly (every `finally` runs)."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Iterable
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(*, quiet: Iterable[str] = ()) -> None:
    """INFO and above on stderr; the loggers named in `quiet` only from WARNING
    (aiosmtpd's "mail.log" logs every connection)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)


def stop_on_signals() -> None:
    """Ctrl-C or SIGTERM cancels the running main task, so every `finally`
    shuts its part down (also where a shell started us with SIGINT ignored)."""
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main_task.cancel)


def run_until_stopped(main: Coroutine[Any, Any, object]) -> None:
    """Run `main` until it returns or Ctrl-C / SIGTERM stops it, quietly."""

    async def serve() -> None:
        stop_on_signals()
        await main

    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(serve())

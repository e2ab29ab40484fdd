"""Access log lines without the signed links' tokens: a token in a log is a
key to a complainant's status page and actions, for whoever reads the logs."""

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_TOKEN = re.compile(r"(?i)(\btoken=)[^&\s\"]*")
REDACTED = "[redacted]"


def without_tokens(text: str) -> str:
    return _TOKEN.sub(lambda match: match.group(1) + REDACTED, text)


class DropTokens(logging.Filter):
    """Rewrites an access record's arguments (uvicorn logs the path with its
    query string as an argument) so that no `token=` value reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(without_tokens(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = without_tokens(record.msg)
        return True


def install() -> None:
    """Put the filter on uvicorn's access logger, once, whoever configured it."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, DropTokens) for existing in logger.filters):
        logger.addFilter(DropTokens())

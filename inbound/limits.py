"""How complex a message may be, checked before and right after parsing: a
message with too many MIME parts, or nested too deep, would hold a thread for
long or exhaust the parser's recursion, on every retry. It can never be taken,
so it is refused for good (554), never answered 451."""

import re
from email.message import Message

# Every MIME part has a Content-Type header at the start of a line: counting
# them bounds the parts (and so the nesting) before the parser sees the message.
_PART_HEADER = re.compile(rb"^content-type[ \t]*:", re.IGNORECASE | re.MULTILINE)


class TooComplex(ValueError):
    """A message beyond the limits: refused for good."""


def check_parts(raw: bytes, max_parts: int) -> None:
    """Before parsing: at most `max_parts` Content-Type headers (an upper bound on the parts)."""
    for found, _ in enumerate(_PART_HEADER.finditer(raw), start=1):
        if found > max_parts:
            raise TooComplex(f"5.6.0 the message has more than {max_parts} MIME parts")


def check_depth(message: Message, max_depth: int) -> None:
    """After parsing, before anything walks the tree recursively: nesting of at most `max_depth`."""
    stack: list[tuple[Message, int]] = [(message, 1)]
    while stack:
        part, depth = stack.pop()
        if depth > max_depth:
            raise TooComplex(f"5.6.0 the message nests MIME parts more than {max_depth} levels deep")
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((sub, depth + 1) for sub in payload if isinstance(sub, Message))

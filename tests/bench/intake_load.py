"""One complaint POSTed as a well-behaved client does under load: with an
Idempotency-Key, so that a retry never makes a second complaint, again after
the Retry-After of a 503 (a dependency slow or down) or a 429, and no sooner
than the Retry-After of a 201 says (the API is behind: its backlog of
complaints not yet started or acknowledged is over COMPLAINTS_BACKLOG_THRESHOLD)."""

import asyncio

import httpx

RETRIED = (429, 503)
MAX_WAIT_SECONDS = 10.0


async def post_complaint(http: httpx.AsyncClient, body: dict[str, object], headers: dict[str, str], key: str) -> str:
    """The complaint's reference, once the API has taken it."""
    while True:
        answer = await http.post("/complaints", json=body, headers={**headers, "Idempotency-Key": key})
        wait = min(float(answer.headers.get("Retry-After", 1)), MAX_WAIT_SECONDS)
        if answer.status_code not in RETRIED:
            answer.raise_for_status()
            if "Retry-After" in answer.headers:
                await asyncio.sleep(wait)
            reference: str = answer.json()["reference"]
            return reference
        await asyncio.sleep(wait)

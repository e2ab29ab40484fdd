"""Admission: the API says when the system is behind. Intake keeps accepting
(the register write is the promise); past COMPLAINTS_BACKLOG_THRESHOLD the
readiness probe answers 503 and POST /complaints carries `Retry-After` and the
backlog, so that a bulk sender slows down. /health/live is always 200."""

import time
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request, Response
from temporalio.service import RPCError

from api.problems import ProblemError, responses
from api.services import Services, services
from complaints.backlog import Backlog, count_backlog

router = APIRouter(prefix="/health", tags=["health"])
BACKLOG_HEADER = "Complaints-Backlog"
FRESH_FOR_SECONDS = 2.0  # under load, one count of the register serves many requests


@dataclass
class _Reading:
    backlog: Backlog
    at: float


async def current_backlog(request: Request, svc: Services) -> Backlog:
    """The backlog, counted at most every FRESH_FOR_SECONDS per app."""
    reading: _Reading | None = getattr(request.app.state, "backlog_reading", None)
    now = time.monotonic()
    if reading is None or now - reading.at > FRESH_FOR_SECONDS:
        reading = _Reading(Backlog(await count_backlog(svc.pool), svc.settings.backlog_threshold), now)
        request.app.state.backlog_reading = reading
    return reading.backlog


async def advise(request: Request, response: Response, svc: Services) -> None:
    """On a non-urgent endpoint's answer: past the threshold, when to send more."""
    backlog = await current_backlog(request, svc)
    if backlog.over:
        response.headers["Retry-After"] = str(svc.settings.backlog_retry_after_seconds)
        response.headers[BACKLOG_HEADER] = str(backlog.count)


@router.get("/live", summary="The API process answers")
async def live() -> dict[str, str]:
    return {"status": "live"}


@router.get(
    "/ready",
    summary="Ready for more work: the register and Temporal answer, the backlog is under its threshold",
    responses=responses(503),
)
async def ready(request: Request, svc: Services = Depends(services)) -> dict[str, object]:
    retry_after = {"Retry-After": str(svc.settings.backlog_retry_after_seconds)}
    backlog = await current_backlog(request, svc)  # the register down: 503 from the problem handlers
    try:
        await svc.client.service_client.check_health()
    except RPCError as error:
        raise ProblemError(503, "the workflow service is unavailable", headers=retry_after) from error
    if backlog.over:
        raise ProblemError(
            503,
            f"behind: {backlog.count} complaints wait to be started or acknowledged "
            f"(threshold {backlog.threshold}); new complaints are still recorded",
            headers={**retry_after, BACKLOG_HEADER: str(backlog.count)},
        )
    return {"status": "ready", "backlog": backlog.count, "threshold": backlog.threshold}

"""Errors as RFC 9457 problem details (application/problem+json): a title, the
status, and a detail a person can act on; invalid input lists each field."""

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from complaints.database import REGISTER_ERRORS, register_unavailable
from complaints.submission import field_reasons

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
# The register (PostgreSQL) down: what a client is told, and when to retry.
REGISTER_RETRY_AFTER = "10"
REGISTER_UNAVAILABLE = (
    "the complaint register cannot be reached at the moment: retry in a few seconds "
    "(a complaint sent with an Idempotency-Key is taken in once however often it is sent)"
)


class FieldProblem(BaseModel):
    field: str  # dotted path in the request, e.g. "complainant.email"
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class ProblemError(Exception):
    """Raise to answer with a problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers


def problem_response(
    request: Request | None,
    status: int,
    detail: str,
    errors: list[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path if request else None,
        errors=errors,
    )
    return JSONResponse(problem.model_dump(exclude_none=True), status, headers=headers, media_type=MEDIA_TYPE)


def field_problems(
    errors: ValidationError | Iterable[Mapping[str, Any]], drop: tuple[str, ...] = ("body",)
) -> list[FieldProblem]:
    """pydantic's errors as (field, message) pairs a person can read."""
    found = []
    for problem in field_reasons(errors):
        loc = problem.loc[1:] if problem.loc and problem.loc[0] in drop else problem.loc
        found.append(FieldProblem(field=".".join(loc) or "body", message=problem.reason))
    return found


def invalid_input(errors: list[FieldProblem]) -> ProblemError:
    summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return ProblemError(422, f"the request is not valid — {summary}{more}", errors=errors)


def install(app: FastAPI) -> None:
    """Answer every error of `app` with a problem."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, error: ProblemError) -> JSONResponse:
        return problem_response(request, error.status, error.detail, error.errors, error.headers)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problem = invalid_input(field_problems(list(error.errors())))
        return problem_response(request, 422, problem.detail, problem.errors)

    @app.exception_handler(ValidationError)
    async def _model_invalid(request: Request, error: ValidationError) -> JSONResponse:
        problem = invalid_input(field_problems(error.errors()))
        return problem_response(request, 422, problem.detail, problem.errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        if error.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {request.url.path}: see /docs for the endpoints"
        return problem_response(request, error.status_code, detail, headers=error.headers)

    async def _register(request: Request, error: Exception) -> JSONResponse:
        if not register_unavailable(error):
            raise error  # a failure of its own: the 500 below
        log.warning("the register is unavailable on %s %s: %s", request.method, request.url.path, error)
        return register_down(request)

    for kind in REGISTER_ERRORS:
        app.add_exception_handler(kind, _register)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "an unexpected error occurred: retry later, or tell the operations team")


def register_down(request: Request | None) -> JSONResponse:
    """503: the register is unreachable; the client retries after `Retry-After`."""
    return problem_response(request, 503, REGISTER_UNAVAILABLE, headers={"Retry-After": REGISTER_RETRY_AFTER})


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: the problems an endpoint may answer with."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }

"""Errors as RFC 9457 problem details (``application/problem+json``).

One place turns what goes wrong into a response: :class:`Problem` (raised by routes),
every :class:`~spine.core.errors.SpineError` (mapped by type to a status), FastAPI's
request validation errors (422, each error an entry of ``errors``) and Starlette's
HTTP errors (404, 405 …). A problem has ``type``, ``title``, ``status``, ``detail`` and,
where it helps, extension members (``findings`` for an invalid group, ``errors`` for a
malformed request, ``active`` for a refused run). Nothing internal leaks: an unexpected
exception is a 500 whose detail says only that it was logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict

_log = logging.getLogger("spine.api")

#: The media type of every error response.
PROBLEM_JSON = "application/problem+json"
#: Where problem types are named (a stable URI per kind; not fetched by anything).
TYPE_BASE = "https://spine.dev/problems/"


class ProblemModel(BaseModel):
    """The OpenAPI schema of an error response (extension members are allowed)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class Problem(Exception):
    """An error a route raises; becomes a problem-details response."""

    def __init__(self, status: int, detail: str, *, kind: str | None = None, title: str | None = None,
                 headers: Mapping[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or _slug(HTTPStatus(status).phrase)
        self.title = title or HTTPStatus(status).phrase
        self.headers = dict(headers or {})
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": TYPE_BASE + self.kind, "title": self.title, "status": self.status, "detail": self.detail}
        if instance is not None:
            out["instance"] = instance
        out.update(self.extensions)
        return out


def _slug(text: str) -> str:
    return "-".join(text.lower().replace("'", "").split())


def problem_for(exc: BaseException) -> Problem:
    """The problem a library error stands for (see the module docstring)."""
    from spine.core.errors import GroupError, GroupNotFoundError, SpineError
    from spine.store.errors import (
        ActiveRunError,
        DeadLetterNotFoundError,
        RunNotFoundError,
        RunNotResumableError,
        RunStateError,
        StoreUnavailableError,
        UnknownPoolError,
    )
    from spine.store.tokens import TokenNotFoundError

    if isinstance(exc, Problem):
        return exc
    text = str(exc)
    if isinstance(exc, (RunNotFoundError, DeadLetterNotFoundError, TokenNotFoundError, GroupNotFoundError)):
        return Problem(404, text, kind="not-found")
    if isinstance(exc, ActiveRunError):
        return Problem(409, text, kind="active-run", active=list(getattr(exc, "active", [])))
    if isinstance(exc, (RunNotResumableError, RunStateError)):
        return Problem(409, text, kind="run-state")
    if isinstance(exc, GroupError):
        return Problem(422, f"the group is invalid: {len(exc.findings)} problem(s); see findings", kind="invalid-group",
                       findings=[f.to_dict() for f in exc.findings])
    if isinstance(exc, UnknownPoolError):
        return Problem(422, text, kind="unknown-pool")
    if isinstance(exc, StoreUnavailableError):
        return Problem(503, "the database is unreachable; try again later", kind="store-unavailable")
    if isinstance(exc, SpineError):
        return Problem(400, text, kind="bad-request")
    _log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
    return Problem(500, "an unexpected error; it was logged on the server", kind="internal")


def install(app: Any) -> None:
    """Register the exception handlers on a FastAPI app."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import Request

    from spine.core.errors import SpineError

    def respond(request: Request, problem: Problem) -> JSONResponse:
        return JSONResponse(problem.body(request.url.path), status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        return respond(request, problem_for(exc))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}; see /docs"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return respond(request, Problem(exc.status_code, detail, headers=getattr(exc, "headers", None) or {}))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"location": [str(p) for p in e.get("loc", ())], "message": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        where = ".".join(errors[0]["location"]) if errors else ""
        message = str(errors[0]["message"]) if errors else "invalid request"
        return respond(request, Problem(422, f"{where}: {message}" if where else message, kind="invalid-request", errors=errors))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(SpineError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_problem)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses (problem+json)."""
    return {code: {"model": ProblemModel, "description": HTTPStatus(code).phrase, "content": {PROBLEM_JSON: {}}} for code in codes}


__all__ = ["PROBLEM_JSON", "Problem", "ProblemModel", "install", "problem_for", "responses"]

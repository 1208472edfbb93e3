"""Errors as ``application/problem+json`` (RFC 9457).

Every error the server answers, from a malformed body to an unknown path, has
the same shape: ``type``, ``title``, ``status``, ``detail`` and, for invalid
input, ``errors`` naming each offending field. Internal details (tracebacks,
SQL) never reach the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from qdframe.network.schemas import FieldError, Problem

__all__ = ["PROBLEM_MEDIA_TYPE", "ProblemError", "install_problem_handlers", "problem_response"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_BASE = "https://qdframe.readthedocs.io/en/latest/network/#"

_log = logging.getLogger("qdframe.network.server")


class ProblemError(Exception):
    """Raise from an endpoint to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    detail: str | None,
    *,
    slug: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    instance: str | None = None,
) -> Response:
    """A problem document with the right media type."""
    problem = Problem(
        type=_TYPE_BASE + slug if slug else "about:blank",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=list(errors) if errors is not None else None,
    )
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    found = []
    for error in exc.errors():
        # Never echo the rejected input: it may be large, and it is the
        # client's own data anyway.
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        found.append(FieldError(loc=loc, msg=str(error.get("msg", "")), type=error.get("type")))
    return found


def _summary(errors: Sequence[FieldError]) -> str:
    shown = [f"{'.'.join(str(p) for p in e.loc)}: {e.msg}" for e in errors[:3]]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(shown) + more


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error through :func:`problem_response`."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem_response(
            exc.status,
            exc.detail,
            slug=exc.slug,
            errors=exc.errors,
            headers=exc.headers,
            instance=request.url.path,
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = _field_errors(exc)
        return problem_response(
            422,
            _summary(errors),
            slug="invalid-request",
            errors=errors,
            instance=request.url.path,
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail: Any = exc.detail
        return problem_response(
            exc.status_code,
            detail if isinstance(detail, str) else None,
            headers=exc.headers,
            instance=request.url.path,
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        _log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(500, "The server could not complete the request.")

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)

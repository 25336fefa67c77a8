"""How refusals become HTTP answers: JSON problems for the API, pages for browsers.

Every refusal names the field, the value and what is accepted (the same
:class:`mastcds.case.Problem` the command line prints). Unexpected errors are
caught by :class:`mastcds.web.middleware.SecurityMiddleware`.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mastcds.case import CaseError, Problem, printable_text
from mastcds.store.errors import (
    DatabaseUnavailable,
    EvaluationNotFound,
    PatientExists,
    PatientNotFound,
    RecordNotFound,
    StoreError,
)
from mastcds.web.auth import Forbidden, NotAuthenticated
from mastcds.web.csrf import CsrfError
from mastcds.web.openapi import API_PREFIX
from mastcds.web.problems import InputError, NotFoundError

_STATUS = (
    ((PatientNotFound, RecordNotFound, EvaluationNotFound), 404),
    ((PatientExists,), 409),
    ((DatabaseUnavailable,), 503),
)


def _sendable(value: Any) -> Any:
    """``value`` as JSON can carry it: a refused NaN or lone surrogate is quoted, not re-sent (that would be a 500)."""
    if isinstance(value, str):
        return printable_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {_sendable(str(key)): _sendable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_sendable(item) for item in value]
    return value


def problem_json(problem: Problem) -> dict[str, Any]:
    try:
        value = jsonable_encoder(problem.value)
    except (TypeError, ValueError):
        value = str(problem.value)
    return {"path": printable_text(problem.path), "value": _sendable(value), "message": problem.message}


def problems_response(status: int, detail: str, problems: list[Problem]) -> JSONResponse:
    body = {"detail": detail, "problems": [problem_json(p) for p in problems]}
    return JSONResponse(body, status_code=status)


def store_status(error: StoreError) -> int:
    for kinds, status in _STATUS:
        if isinstance(error, kinds):
            return status
    return 422


def _from_validation(error: RequestValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
        problems.append(Problem(".".join(location), item.get("input"), item.get("msg", "invalid")))
    return problems


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX + "/")


def _is_page(request: Request) -> bool:
    """A browser asking for a page; other clients (the CDS Hooks service's EHRs) keep FastAPI's JSON errors."""
    return not _is_api(request) and "text/html" in request.headers.get("accept", "")


def install_error_handlers(app: FastAPI, render_error: Any) -> None:
    """Register the handlers; ``render_error(request, status, title, problems)`` draws the page version."""

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, _: NotAuthenticated) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "authentication required: send an API token as 'Authorization: Bearer <token>'"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(error)}, status_code=403)
        return render_error(request, 403, "Not allowed for your role", [str(error)])

    @app.exception_handler(CsrfError)
    async def csrf(request: Request, _: CsrfError) -> Response:  # only page forms check CSRF
        return render_error(
            request, 403, "The form expired", ["Reload the page and submit the form again (CSRF check failed)."]
        )

    @app.exception_handler(StoreError)
    async def store_error(request: Request, error: StoreError) -> Response:
        status = store_status(error)
        if _is_api(request):
            return problems_response(status, "refused", error.problems)
        return render_error(request, status, "Refused", [str(p) for p in error.problems])

    @app.exception_handler(CaseError)
    async def case_error(request: Request, error: CaseError) -> Response:
        if _is_api(request):
            return problems_response(422, "not a valid mastcds-case/1 case", error.problems)
        return render_error(request, 422, "Not a valid case", [str(p) for p in error.problems])

    @app.exception_handler(InputError)
    async def input_error(request: Request, error: InputError) -> Response:
        status = 404 if isinstance(error, NotFoundError) else 422
        if _is_api(request):
            return problems_response(status, "refused", error.problems)
        return render_error(request, status, "Refused", [str(p) for p in error.problems])

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, error: RequestValidationError) -> Response:
        problems = _from_validation(error)
        if _is_api(request):
            return problems_response(422, "invalid request", problems)
        if _is_page(request):
            return render_error(request, 422, "Invalid request", [str(p) for p in problems])
        return await request_validation_exception_handler(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _is_page(request):
            return render_error(request, error.status_code, str(error.detail), [])
        return await http_exception_handler(request, error)

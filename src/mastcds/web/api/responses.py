"""The refusals each kind of route documents in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from mastcds.web.api.models import DetailOut, ProblemsOut

UNAUTHENTICATED: dict[int | str, dict[str, Any]] = {401: {"model": DetailOut, "description": "no valid API token"}}
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {"model": DetailOut, "description": "the token's user lacks the role"}}
INVALID: dict[int | str, dict[str, Any]] = {422: {"model": ProblemsOut, "description": "refused input, field by field"}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ProblemsOut, "description": "no such patient, record or evaluation"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ProblemsOut, "description": "the key is taken"}}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: {"model": ProblemsOut, "description": "the database cannot be reached"}}

TOOL_ERRORS = {**UNAUTHENTICATED, **FORBIDDEN, **INVALID}
READ_ERRORS = {**TOOL_ERRORS, **NOT_FOUND, **UNAVAILABLE}
WRITE_ERRORS = {**READ_ERRORS, **CONFLICT}

"""JSON request bodies of the API, read strictly (:func:`mastcds.json_input.parse_json`).

FastAPI reads bodies with ``json.loads``: ``NaN``, ``1e309`` and lone surrogates
got through to the handlers (and a 422 quoting them could not be encoded: a 500),
and a body nested 100,000 deep was a bare 400. Here each is a 422 naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from mastcds.json_input import JsonInputError, parse_json
from mastcds.web.problems import InputError


def _is_json(request: Request) -> bool:
    # FastAPI's rule: no content type, application/json or application/*+json
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return not kind or kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


class StrictJsonRoute(APIRoute):
    """An API route whose JSON body is parsed strictly before FastAPI sees it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH") and _is_json(request):
                body = await request.body()
                if body:
                    try:
                        request._json = parse_json(body)  # Starlette's Request.json() returns what is cached here
                    except JsonInputError as error:
                        raise InputError(error.problems) from None
            return await handler(request)

        return strict

"""What every response gets: security headers, the CSRF cookie, and an access log line without patient data.

The access log names the route *template* (``/patients/{key}``), never the
path or the query: those carry patient keys, search words and lab values.
uvicorn's own access log is switched off by ``mastcds serve`` for that reason.
An unexpected error is answered with a bare 500 here and logged by type and
code location only: its message could quote patient data, and letting it
travel on would have the server print it with the traceback.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mastcds.web.csrf import CSRF_COOKIE

access_log = logging.getLogger("mastcds.web.access")
error_log = logging.getLogger("mastcds.web")
INTERNAL_ERROR = "internal error; the server log names where it happened"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# One year, as the HSTS preload list asks for (https://hstspreload.org).
HSTS_MAX_AGE_SECONDS = 31_536_000

# The headers every response gets unless its route set them itself, encoded once.
_EVERY_RESPONSE = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_NO_STORE = ((b"cache-control", b"no-store"),)  # patient data must not stay in shared or browser caches
_HSTS = ((b"strict-transport-security", f"max-age={HSTS_MAX_AGE_SECONDS}".encode()),)


def is_https(scope: Scope) -> bool:
    return scope.get("scheme") == "https"


def cookie_header(name: str, value: str, *, secure: bool, max_age: int | None = None, same_site: str = "Lax") -> bytes:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", f"SameSite={same_site}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode("latin-1")


class SecurityMiddleware:
    """Adds the headers and the CSRF cookie, and writes one access log line per request."""

    def __init__(self, app: ASGIApp, *, force_secure_cookies: bool = False) -> None:
        self.app = app
        self.force_secure = force_secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {}
        https = is_https(scope)
        secure = self.force_secure or https
        static = scope.get("path", "").startswith("/static/")
        wanted = _EVERY_RESPONSE + (() if static else _NO_STORE) + (_HSTS if https else ())

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [header for header in wanted if header[0] not in names]
                minted = scope.get("state", {}).get("new_csrf_cookie")
                if minted:
                    headers.append((b"set-cookie", cookie_header(CSRF_COOKIE, minted, secure=secure)))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:  # noqa: BLE001 - the last line of defence, see the module docstring
            template = getattr(scope.get("route"), "path", "(no route)")
            frames = "".join(traceback.format_tb(error.__traceback__))
            error_log.error("internal error in %s %s: %s\n%s", scope.get("method"), template, type(error).__name__, frames)
            if "code" not in status:
                await _internal_error(scope, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or ("/static/*" if static else "(no route)")
            access_log.info(
                "%s %s %s %.1f ms",
                scope.get("method"),
                template,
                status.get("code", "-"),
                (time.perf_counter() - started) * 1000,
            )


async def _internal_error(scope: Scope, send: Send) -> None:
    if scope.get("path", "").startswith("/api/"):
        body, kind = json.dumps({"detail": INTERNAL_ERROR}).encode(), b"application/json"
    else:
        body = f"<!doctype html><title>Internal error</title><h1>Internal error</h1><p>{INTERNAL_ERROR}.</p>".encode()
        kind = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", kind)]})
    await send({"type": "http.response.body", "body": body})

"""CSRF protection for every HTML form (OWASP "signed double-submit cookie").

Each browser carries a random ``mastcds_csrf`` cookie; a form carries the
HMAC of that cookie and of the login session under the server's secret key.
A page on another site can make the browser send the cookies but can neither
read them nor compute the HMAC, so it cannot forge the field. Binding the
token to the session makes a token seen before login useless after it.
The JSON API needs none of this: it takes bearer tokens, which browsers never
attach on their own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request

CSRF_COOKIE = "mastcds_csrf"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "mastcds_session"


class CsrfError(Exception):
    """A form arrived without a valid CSRF token."""


def browser_secret(request: Request) -> str:
    """This browser's CSRF cookie value, minted on first use for this response to set."""
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if not value:
        value = secrets.token_urlsafe(32)
        request.state.new_csrf_cookie = value
    return value


def csrf_token(request: Request, secret_key: str, session_token: str | None = None) -> str:
    """The value the hidden ``csrf_token`` field of a form on this page must carry."""
    if session_token is None:
        session_token = request.cookies.get(SESSION_COOKIE, "")
    message = f"{browser_secret(request)}|{session_token}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def check_csrf(request: Request, secret_key: str, submitted: object) -> None:
    if not request.cookies.get(CSRF_COOKIE) or not isinstance(submitted, str):
        raise CsrfError
    if not hmac.compare_digest(submitted, csrf_token(request, secret_key)):
        raise CsrfError

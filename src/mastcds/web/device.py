"""Trusted browsers (OWASP "device cookies"): a browser that logged in as a user before is not held up by strangers.

At each successful login the browser gets a signed cookie naming the user and a
random browser id. A later login for that user from that browser is throttled
by the browser id alone (:mod:`mastcds.web.throttle`), so failures made by
anyone else against the account do not delay it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

DEVICE_COOKIE = "mastcds_device"
DEVICE_LIFETIME = timedelta(days=180)
_SALT = "mastcds-trusted-device"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def new_device_cookie(secret_key: str, username: str) -> str:
    """The cookie value a browser gets when ``username`` logs in with it."""
    return _serializer(secret_key).dumps({"user": username.casefold(), "device": secrets.token_urlsafe(16)})


def trusted_device(request: Request, secret_key: str, username: str) -> str | None:
    """The browser id of a valid device cookie for ``username``, or ``None``."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value:
        return None
    try:
        claims = _serializer(secret_key).loads(value, max_age=DEVICE_LIFETIME.total_seconds())
    except BadSignature:  # also an expired one (SignatureExpired)
        return None
    if not isinstance(claims, dict) or claims.get("user") != username.casefold() or not isinstance(claims.get("device"), str):
        return None
    return claims["device"]

"""Logging in and out."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mastcds.store.audit import MAX_DETAIL_LENGTH, record_access
from mastcds.web import accounts
from mastcds.web.auth import ADMIN, PageUser, get_settings, get_store
from mastcds.web.csrf import SESSION_COOKIE
from mastcds.web.middleware import cookie_header, is_https
from mastcds.web.pages.render import CheckedForm, redirect, render
from mastcds.web.device import DEVICE_COOKIE, DEVICE_LIFETIME, new_device_cookie, trusted_device

router = APIRouter()
security_log = logging.getLogger("mastcds.web.security")
# A user name or password longer than this is no attempt worth hashing.
CREDENTIAL_MAX_LENGTH = 1024


def _local(target: str | None) -> str | None:
    """``target`` when it is a path on this site (an open redirect would help phishing)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# The user name as tried stands for the actor (it may be mistyped, or a guess);
# it is cut short and made printable: the audit log refuses anything else.
AUDITED_NAME_LENGTH = 64


def _audit_failed_login(store: Any, username: str, client: str) -> None:
    tried = "".join(ch if ch.isprintable() else "?" for ch in username[:AUDITED_NAME_LENGTH]).strip() or "(no user name)"
    record_access(store, actor=tried, action="login", detail=f"failed login from {client}"[:MAX_DETAIL_LENGTH])


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _local(next) or "", "error": None, "username": ""})


@router.post("/login", include_in_schema=False)
def login(request: Request, form: CheckedForm) -> Response:
    username = str(form.get("username", ""))[:CREDENTIAL_MAX_LENGTH].strip()
    password = str(form.get("password", ""))[:CREDENTIAL_MAX_LENGTH]
    target = _local(str(form.get("next", "")))
    throttle = request.app.state.throttle
    settings = get_settings(request)
    client = _client(request)
    device = trusted_device(request, settings.secret_key, username)
    context = {"next": target or "", "username": username}
    wait = throttle.retry_after(username, client, device)
    if wait is not None:
        security_log.warning("login refused (throttled) for user name %r from %s", username[:64], _client(request))
        response = render(request, "login.html", {**context, "error": f"Too many failed attempts. Try again in {wait} seconds."}, status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    store = get_store(request)
    account = accounts.authenticate(store, username, password)
    if account is None:
        throttle.failed(username, client, device)
        security_log.warning("login failed for user name %r from %s", username[:64], _client(request))
        _audit_failed_login(store, username, _client(request))
        return render(request, "login.html", {**context, "error": "Wrong user name or password."}, status=401)
    with store.writing() as db:
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:  # logging in again, maybe as someone else: the old session ends here
            accounts.close_session(db, previous)
        accounts.prune_sessions(db, idle=settings.session_idle, absolute=settings.session_absolute)
        token = accounts.open_session(db, account)
    throttle.succeeded(username, client, device)
    security_log.info("login of %s from %s", account.username, _client(request))
    response = redirect(target or ("/admin/users" if account.role in ADMIN else "/patients"))
    secure = settings.force_secure_cookies or is_https(request.scope)
    response.raw_headers.append((b"set-cookie", cookie_header(SESSION_COOKIE, token, secure=secure)))
    device_cookie = new_device_cookie(settings.secret_key, account.username)
    lifetime = int(DEVICE_LIFETIME.total_seconds())
    response.raw_headers.append((b"set-cookie", cookie_header(DEVICE_COOKIE, device_cookie, secure=secure, max_age=lifetime, same_site="Strict")))
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, principal: PageUser, form: CheckedForm) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    with get_store(request).writing() as db:
        accounts.close_session(db, token)
    response = redirect("/login")
    secure = get_settings(request).force_secure_cookies or is_https(request.scope)
    response.raw_headers.append((b"set-cookie", cookie_header(SESSION_COOKIE, "", secure=secure, max_age=0)))
    return response

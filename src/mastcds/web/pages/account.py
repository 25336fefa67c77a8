"""The user's own account: password and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mastcds.store.audit import record_access
from mastcds.web import accounts
from mastcds.web.auth import PageUser, Principal, get_store
from mastcds.web.pages.render import CheckedForm, redirect, render
from mastcds.web.problems import InputError

router = APIRouter(include_in_schema=False)


def _account_page(
    request: Request, principal: Principal, *, new_token: str | None = None, problems: list[str] | None = None,
    message: str | None = None, status: int = 200,
) -> Response:
    with get_store(request).reading() as db:
        user = accounts.existing_user(db, principal.username)
        tokens = [(t.id, t.name, t.created_at, t.last_used_at, t.revoked_at) for t in accounts.list_api_tokens(db, user)]
    context = {"tokens": tokens, "new_token": new_token, "problems": problems or [], "message": message}
    return render(request, "account.html", context, status)


@router.get("/account")
def account_page(request: Request, principal: PageUser) -> Response:
    return _account_page(request, principal)


@router.post("/account/tokens")
def create_token(request: Request, principal: PageUser, form: CheckedForm) -> Response:
    name = str(form.get("name", "")).strip()
    store = get_store(request)
    try:
        with store.writing() as db:
            _, secret = accounts.create_api_token(db, accounts.existing_user(db, principal.username), name)
    except InputError as error:
        return _account_page(request, principal, problems=[str(p) for p in error.problems], status=422)
    record_access(store, actor=principal.actor, action="create", detail=f"API token {name!r} created")
    # shown once, on this response only: it is never stored in the clear
    return _account_page(request, principal, new_token=secret, status=201)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, principal: PageUser, token_id: int, form: CheckedForm) -> Response:
    store = get_store(request)
    with store.writing() as db:
        token = accounts.revoke_api_token(db, accounts.existing_user(db, principal.username), token_id)
        name = token.name
    record_access(store, actor=principal.actor, action="update", detail=f"API token {name!r} revoked")
    return redirect("/account")


@router.post("/account/password")
def change_password(request: Request, principal: PageUser, form: CheckedForm) -> Response:
    store = get_store(request)
    throttle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(principal.username, client)
    if wait is not None:
        return _account_page(request, principal, problems=[f"too many failed attempts; try again in {wait} seconds"], status=429)
    if accounts.authenticate(store, principal.username, str(form.get("current", ""))) is None:
        throttle.failed(principal.username, client)
        return _account_page(request, principal, problems=["current password: wrong password"], status=422)
    if form.get("new") != form.get("repeat"):
        return _account_page(request, principal, problems=["new password: the two entries differ"], status=422)
    try:
        with store.writing() as db:
            accounts.update_user(db, principal.username, password=str(form.get("new", "")), by=principal.username)
    except InputError as error:
        return _account_page(request, principal, problems=[str(p) for p in error.problems], status=422)
    record_access(store, actor=principal.actor, action="update", detail="own password changed")
    # update_user ended every session, this one too: log in again with the new password
    return redirect("/login")

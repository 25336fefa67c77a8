"""Administration pages: users and the audit log (role admin)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mastcds.store.audit import audit_entries, record_access
from mastcds.store.users import ROLES
from mastcds.web import accounts
from mastcds.web.api.admin import AUDIT_EXPORT_MAX, audit_csv, change_summary
from mastcds.web.api.models import AuditOut
from mastcds.web.auth import PageAdmin, get_store
from mastcds.web.pages.render import CheckedForm, redirect, render
from mastcds.web.problems import InputError

router = APIRouter(include_in_schema=False)
AUDIT_PAGE_SIZES = (100, 500, 2000)


def _users_page(request: Request, problems: list[str] | None = None, created: str | None = None, status: int = 200) -> Response:
    with get_store(request).reading() as db:
        users = [(u.username, u.role, u.active, u.created_at) for u in accounts.list_users(db)]
    clinicians = any(role == "clinician" and active for _, role, active, _ in users)
    context = {"users": users, "roles": ROLES, "problems": problems or [], "created": created, "clinicians": clinicians}
    return render(request, "admin_users.html", context, status)


@router.get("/admin/users")
def users_page(request: Request, principal: PageAdmin) -> Response:
    return _users_page(request)


@router.post("/admin/users")
def create_user(request: Request, principal: PageAdmin, form: CheckedForm) -> Response:
    username = str(form.get("username", "")).strip()
    role = str(form.get("role", ""))
    store = get_store(request)
    try:
        with store.writing() as db:
            accounts.create_user(db, username, str(form.get("password", "")), role)
    except InputError as error:
        return _users_page(request, [str(p) for p in error.problems], status=422)
    record_access(store, actor=principal.actor, action="create", detail=f"user {username} created ({role})")
    return redirect("/admin/users")


@router.post("/admin/users/{username}")
def update_user(request: Request, principal: PageAdmin, username: str, form: CheckedForm) -> Response:
    role = str(form.get("role", "")) or None
    active = {"true": True, "false": False}.get(str(form.get("active", "")))
    password = str(form.get("password", "")) or None
    store = get_store(request)
    try:
        with store.writing() as db:
            _, revoked = accounts.update_user(db, username, role=role, active=active, password=password, by=principal.username)
    except InputError as error:
        return _users_page(request, [str(p) for p in error.problems], status=422)
    record_access(store, actor=principal.actor, action="update", detail=change_summary(username, role, active, password, revoked))
    return redirect("/admin/users")


@router.get("/admin/users/{username}/tokens")
def tokens_page(request: Request, principal: PageAdmin, username: str) -> Response:
    store = get_store(request)
    with store.reading() as db:
        user = accounts.existing_user(db, username)
        tokens = [(t.id, t.name, t.created_at, t.last_used_at, t.revoked_at) for t in accounts.list_api_tokens(db, user)]
    record_access(store, actor=principal.actor, action="read", detail=f"API tokens of {username} listed")
    return render(request, "admin_tokens.html", {"username": username, "tokens": tokens})


@router.post("/admin/users/{username}/tokens/{token_id}/revoke")
def revoke_token(request: Request, principal: PageAdmin, username: str, token_id: int, form: CheckedForm) -> Response:
    store = get_store(request)
    with store.writing() as db:
        name = accounts.revoke_api_token(db, accounts.existing_user(db, username), token_id).name
    record_access(store, actor=principal.actor, action="update", detail=f"API token {name!r} of {username} revoked")
    return redirect(f"/admin/users/{username}/tokens")


def _audit_filters(request: Request) -> tuple[str | None, str | None, int]:
    params = request.query_params
    patient_key = (params.get("patient_key") or "").strip()[:64] or None
    actor = (params.get("actor") or "").strip()[:128] or None
    limit_text = params.get("limit", "")
    limit = int(limit_text) if limit_text.isdigit() and int(limit_text) in AUDIT_PAGE_SIZES else AUDIT_PAGE_SIZES[0]
    return patient_key, actor, limit


@router.get("/admin/audit")
def audit_page(request: Request, principal: PageAdmin) -> Response:
    patient_key, actor, limit = _audit_filters(request)
    entries = audit_entries(get_store(request), patient_key=patient_key, actor=actor, limit=limit)
    context = {"entries": entries, "patient_key": patient_key or "", "actor": actor or "", "limit": limit, "sizes": AUDIT_PAGE_SIZES}
    return render(request, "admin_audit.html", context)


@router.get("/admin/audit.csv")
def audit_export(request: Request, principal: PageAdmin) -> Response:
    patient_key, actor, _ = _audit_filters(request)
    entries = audit_entries(get_store(request), patient_key=patient_key, actor=actor, limit=AUDIT_EXPORT_MAX)
    body = audit_csv([AuditOut(**vars(entry)) for entry in entries])
    return Response(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": 'attachment; filename="mastcds-audit.csv"'})

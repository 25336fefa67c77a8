"""Users and the audit log, over JSON (role admin)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from mastcds.store.audit import audit_entries, record_access
from mastcds.web import accounts
from mastcds.web.accounts import USERNAME_PATTERN
from mastcds.web.api.models import AuditOut, TokenOut, UserIn, UserOut, UserPatch
from mastcds.web.api.responses import NOT_FOUND, TOOL_ERRORS
from mastcds.web.auth import ApiAdmin, get_store
from mastcds.web.json_body import StrictJsonRoute
from mastcds.web.openapi import API_PREFIX
from mastcds.web.problems import InputError

router = APIRouter(prefix=API_PREFIX, tags=["admin"], route_class=StrictJsonRoute)

AUDIT_EXPORT_MAX = 1_000_000
# JSON answers stop here (about 200 bytes an entry); the CSV export, made for spreadsheets, goes to AUDIT_EXPORT_MAX.
AUDIT_JSON_MAX = 10_000
AUDIT_COLUMNS = ("id", "at", "actor", "action", "patient_key", "detail")
Username = Annotated[str, Path(pattern=USERNAME_PATTERN.pattern)]


def _user_out(user: accounts.User) -> UserOut:
    return UserOut(username=user.username, role=user.role, active=user.active, created_at=user.created_at)  # type: ignore[arg-type]


def _token_out(token: accounts.ApiToken) -> TokenOut:
    return TokenOut(id=token.id, name=token.name, created_at=token.created_at, last_used_at=token.last_used_at, revoked_at=token.revoked_at)


def change_summary(username: str, role: str | None, active: bool | None, password: str | None, revoked: int) -> str:
    """The audit log's words for a change of a user (never the password itself)."""
    changed = ", ".join(name for name, value in (("role", role), ("active", active), ("password", password)) if value is not None)
    tokens = f"; {revoked} API token(s) revoked" if revoked else ""
    return f"user {username} changed: {changed or 'nothing'}{tokens}"


@router.get("/users", response_model=list[UserOut], responses=TOOL_ERRORS, summary="List users")
def list_users(request: Request, principal: ApiAdmin) -> list[UserOut]:
    with get_store(request).reading() as db:
        return [_user_out(user) for user in accounts.list_users(db)]


@router.post("/users", status_code=201, response_model=UserOut, responses=TOOL_ERRORS, summary="Create a user")
def create_user(request: Request, principal: ApiAdmin, body: UserIn) -> UserOut:
    store = get_store(request)
    with store.writing() as db:
        user = _user_out(accounts.create_user(db, body.username, body.password, body.role))
    record_access(store, actor=principal.actor, action="create", detail=f"user {user.username} created ({user.role})")
    return user


@router.patch(
    "/users/{username}", response_model=UserOut, responses={**TOOL_ERRORS, **NOT_FOUND}, summary="Change a user's role, activity or password"
)
def update_user(request: Request, principal: ApiAdmin, username: Username, body: UserPatch) -> UserOut:
    store = get_store(request)
    with store.writing() as db:
        changed, revoked = accounts.update_user(
            db, username, role=body.role, active=body.active, password=body.password, by=principal.username
        )
        user = _user_out(changed)
    record_access(store, actor=principal.actor, action="update", detail=change_summary(username, body.role, body.active, body.password, revoked))
    return user


@router.get(
    "/users/{username}/tokens", response_model=list[TokenOut], responses={**TOOL_ERRORS, **NOT_FOUND}, summary="A user's API tokens"
)
def list_tokens(request: Request, principal: ApiAdmin, username: Username) -> list[TokenOut]:
    store = get_store(request)
    with store.reading() as db:
        tokens = [_token_out(t) for t in accounts.list_api_tokens(db, accounts.existing_user(db, username))]
    record_access(store, actor=principal.actor, action="read", detail=f"API tokens of {username} listed")
    return tokens


@router.delete(
    "/users/{username}/tokens/{token_id}",
    response_model=TokenOut,
    responses={**TOOL_ERRORS, **NOT_FOUND},
    summary="Revoke one of a user's API tokens",
)
def revoke_token(
    request: Request, principal: ApiAdmin, username: Username, token_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> TokenOut:
    store = get_store(request)
    with store.writing() as db:
        token = _token_out(accounts.revoke_api_token(db, accounts.existing_user(db, username), token_id))
    record_access(store, actor=principal.actor, action="update", detail=f"API token {token.name!r} of {username} revoked")
    return token


@router.get(
    "/audit",
    response_model=list[AuditOut],
    responses={**TOOL_ERRORS, 200: {"content": {"application/json": {}, "text/csv": {}}, "description": "audit entries, newest first"}},
    summary="The audit log: who read or changed which patient, when",
)
def audit(
    request: Request,
    principal: ApiAdmin,
    patient_key: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=AUDIT_EXPORT_MAX)] = 1000,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response | list[AuditOut]:
    if format == "json" and limit > AUDIT_JSON_MAX:
        raise InputError.one("limit", limit, f"at most {AUDIT_JSON_MAX} entries as JSON; ask for format=csv for more")
    entries = audit_entries(get_store(request), patient_key=patient_key, actor=actor, limit=limit)
    rows = [AuditOut(**vars(entry)) for entry in entries]
    if format == "json":
        return rows
    return Response(audit_csv(rows), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": 'attachment; filename="mastcds-audit.csv"'})


def audit_csv(rows: list[AuditOut]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_COLUMNS)
    for row in rows:
        cells = (row.id, row.at.isoformat(), row.actor, row.action, row.patient_key or "", row.detail)
        writer.writerow([_csv_safe(str(cell)) for cell in cells])
    return buffer.getvalue()


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet (OWASP "CSV injection").
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

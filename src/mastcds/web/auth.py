"""Who is asking, and may they: FastAPI dependencies for the API (bearer tokens) and the pages (session cookie).

Roles are separate duties, not ranks: ``admin`` manages users and reads the
audit log but sees no patient; ``clinician`` reads and writes patients;
``viewer`` reads them. A person with two duties holds two accounts, so the
audit log always says in which capacity something was done.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mastcds.store.database import Store
from mastcds.web import accounts
from mastcds.web.csrf import SESSION_COOKIE
from mastcds.web.settings import WebSettings

READ = ("clinician", "viewer")
WRITE = ("clinician",)
ADMIN = ("admin",)


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request."""

    user_id: int
    username: str
    role: str
    token_name: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this request's author."""
        return self.username if self.token_name is None else f"{self.username} (token {self.token_name})"


class NotAuthenticated(Exception):
    """No valid credentials: 401 for the API, a redirect to the login page for pages."""


class Forbidden(Exception):
    """Authenticated, but the role does not allow this."""

    def __init__(self, principal: Principal, roles: tuple[str, ...]) -> None:
        self.principal = principal
        self.roles = roles
        super().__init__(f"needs the role {' or '.join(roles)}; {principal.username} is {principal.role}")


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> WebSettings:
    return request.app.state.settings


_bearer = HTTPBearer(auto_error=False, description="An API token from `mastcds user token` or the account page")


def api_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated
    with get_store(request).writing() as db:
        found = accounts.token_user(db, credentials.credentials)
        if found is None:
            raise NotAuthenticated
        user, token = found
        return Principal(user.id, user.username, user.role, token.name)


def page_principal(request: Request) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated
    settings = get_settings(request)
    with get_store(request).writing() as db:
        user = accounts.session_user(db, token, idle=settings.session_idle, absolute=settings.session_absolute)
        if user is None:
            raise NotAuthenticated
        principal = Principal(user.id, user.username, user.role)
    request.state.principal = principal
    return principal


def _role_check(source, roles: tuple[str, ...]):  # type: ignore[no-untyped-def]
    # Evaluated annotations (no ``from __future__ import annotations`` in this
    # module): FastAPI must see ``Depends(source)`` with the closure's ``source``.
    def dependency(principal: Annotated[Principal, Depends(source)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(principal, roles)
        return principal

    return dependency


def api_role(*roles: str):  # type: ignore[no-untyped-def]
    """A dependency giving the API caller when their role is one of ``roles``."""
    return _role_check(api_principal, roles)


def page_role(*roles: str):  # type: ignore[no-untyped-def]
    """A dependency giving the logged-in user when their role is one of ``roles``."""
    return _role_check(page_principal, roles)


ApiReader = Annotated[Principal, Depends(api_role(*READ))]
ApiWriter = Annotated[Principal, Depends(api_role(*WRITE))]
ApiAdmin = Annotated[Principal, Depends(api_role(*ADMIN))]
PageUser = Annotated[Principal, Depends(page_principal)]
PageReader = Annotated[Principal, Depends(page_role(*READ))]
PageWriter = Annotated[Principal, Depends(page_role(*WRITE))]
PageAdmin = Annotated[Principal, Depends(page_role(*ADMIN))]

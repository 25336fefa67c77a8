"""Users, passwords, login sessions and API tokens (tables in :mod:`mastcds.store.users`).

Every function takes an open SQLAlchemy session and leaves committing to the
caller's transaction (``Store.writing()``), so a refused change writes nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mastcds.store.database import Store
from mastcds.store.models import utc_now
from mastcds.store.settings import USER_NAME_PATTERN as USERNAME_PATTERN
from mastcds.store.settings import USER_NAME_RULE as USERNAME_RULE
from mastcds.store.users import ROLES, ApiToken, User, WebSession
from mastcds.web.password_policy import weak_password
from mastcds.web.problems import InputError, NotFoundError

# NIST SP 800-63B §3.1.1.2 (rev. 4): at least 15 characters when the password
# is the only factor, and accept at least 64; no composition rules, but none of
# the passwords guessed first (mastcds.web.password_policy).
PASSWORD_MIN_LENGTH = 15
PASSWORD_MAX_LENGTH = 1024
TOKEN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,47}$")
TOKEN_NAME_RULE = "1-48 characters: letters, digits, spaces, '.', '_' or '-'"
API_TOKEN_PREFIX = "mcds_"
# A touch of the session at most once a minute: idle timeouts need no finer
# clock, and SQLite is spared a write per page.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)

# argon2id with the RFC 9106 second recommended profile (argon2-cffi default).
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs the
# same time as a wrong password and does not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(InputError):
    """A refused account operation; ``problems`` names the field, the value and the rule."""


class UnknownUser(AccountError, NotFoundError):
    """No user has that name."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def checked_username(username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError.one("username", username, f"must be {USERNAME_RULE}")
    return username


def checked_password(password: str, username: str = "") -> str:
    # never echo a password, not even a rejected one
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise AccountError.one(
            "password",
            f"({len(password)} characters)",
            f"must have {PASSWORD_MIN_LENGTH}-{PASSWORD_MAX_LENGTH} characters",
        )
    if weak_password(password, username):
        raise AccountError.one(
            "password",
            f"({len(password)} characters)",
            "is among the passwords tried first (common passwords, repeated or sequential characters, "
            "the user name): choose a passphrase of unrelated words",
        )
    return password


def checked_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError.one("role", role, f"must be one of {', '.join(ROLES)}")
    return role


def find_user(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def create_user(db: Session, username: str, password: str, role: str) -> User:
    checked_username(username)
    checked_password(password, username)
    checked_role(role)
    if find_user(db, username) is not None:
        raise AccountError.one("username", username, "is taken")
    user = User(username=username, password_hash=_hasher.hash(password), role=role, active=True)
    db.add(user)
    db.flush()
    return user


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))


def existing_user(db: Session, username: str) -> User:
    user = find_user(db, username)
    if user is None:
        raise UnknownUser.one("username", username, "no user has this name")
    return user


def update_user(
    db: Session,
    username: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    by: str | None = None,
) -> tuple[User, int]:
    """Change a user's role, activity or password; returns the user and how many API tokens were revoked.

    Any change ends the user's open sessions. A password set by someone else
    (a reset) and a deactivation also revoke the user's API tokens: whoever
    held the old password may have made them. ``by`` names who acts: nobody
    changes their own role or deactivates themself (separation of duties).
    """
    user = existing_user(db, username)
    if by == username and role is not None and role != user.role:
        raise AccountError.one("role", role, "you cannot change the role of your own account; another administrator can")
    if by == username and active is False:
        raise AccountError.one("active", False, "you cannot deactivate your own account")
    if role is not None:
        user.role = checked_role(role)
    if active is not None:
        user.active = active
    if password is not None:
        user.password_hash = _hasher.hash(checked_password(password, username))
    for web_session in db.scalars(select(WebSession).where(WebSession.user_id == user.id)):
        db.delete(web_session)
    revoked = revoke_all_api_tokens(db, user) if active is False or (password is not None and by != username) else 0
    return user, revoked


@dataclass(frozen=True)
class Account:
    """Who logged in, detached from any database session."""

    id: int
    username: str
    role: str


def authenticate(store: Store, username: str, password: str) -> Account | None:
    """The active user with that name and password, else ``None`` (same cost either way).

    The slow hash is checked outside any transaction: a login must not hold
    SQLite's write lock for the fraction of a second argon2 takes.
    """
    with store.reading() as db:
        user = find_user(db, username) if USERNAME_PATTERN.fullmatch(username) else None
        found = (user.id, user.username, user.role, user.active, user.password_hash) if user else None
    try:
        _hasher.verify(found[4] if found else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if found is None or not found[3]:
        return None
    if _hasher.check_needs_rehash(found[4]):
        with store.writing() as db:
            db.get(User, found[0]).password_hash = _hasher.hash(password)  # type: ignore[union-attr]
    return Account(found[0], found[1], found[2])


def open_session(db: Session, account: Account) -> str:
    """A new login session; the returned token goes in the cookie, its digest in the table."""
    token = secrets.token_urlsafe(32)
    db.add(WebSession(user_id=account.id, token_digest=digest(token)))
    return token


def session_user(
    db: Session, token: str, *, idle: timedelta, absolute: timedelta, now: datetime | None = None
) -> User | None:
    """The active user of a live session, touching it; an expired session is deleted."""
    now = now or utc_now()
    row = db.scalar(select(WebSession).where(WebSession.token_digest == digest(token)))
    if row is None:
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active or now - row.last_seen_at > idle or now - row.created_at > absolute:
        db.delete(row)
        return None
    if now - row.last_seen_at > SESSION_TOUCH_INTERVAL:
        row.last_seen_at = now
    return user


def prune_sessions(db: Session, *, idle: timedelta, absolute: timedelta, now: datetime | None = None) -> int:
    """Delete the sessions that have expired (a browser closed without logging out); how many."""
    now = now or utc_now()
    expired = (WebSession.last_seen_at < now - idle) | (WebSession.created_at < now - absolute)
    return db.execute(delete(WebSession).where(expired)).rowcount


def close_session(db: Session, token: str) -> None:
    row = db.scalar(select(WebSession).where(WebSession.token_digest == digest(token)))
    if row is not None:
        db.delete(row)


def create_api_token(db: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the secret is returned once and never stored."""
    if not TOKEN_NAME_PATTERN.fullmatch(name):
        raise AccountError.one("name", name, f"must be {TOKEN_NAME_RULE}")
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_digest=digest(secret))
    db.add(token)
    db.flush()
    return token, secret


def list_api_tokens(db: Session, user: User) -> list[ApiToken]:
    return list(db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_api_token(db: Session, user: User, token_id: int) -> ApiToken:
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFoundError.one("token", token_id, f"{user.username} has no API token with this id")
    if token.revoked_at is None:
        token.revoked_at = utc_now()
    return token


def revoke_all_api_tokens(db: Session, user: User) -> int:
    """Revoke every live API token of ``user``; how many there were."""
    live = [token for token in list_api_tokens(db, user) if token.revoked_at is None]
    for token in live:
        token.revoked_at = utc_now()
    return len(live)


def token_user(db: Session, secret: str, now: datetime | None = None) -> tuple[User, ApiToken] | None:
    """The active owner of a live API token, noting when it was last used."""
    if not secret.startswith(API_TOKEN_PREFIX):
        return None
    token = db.scalar(select(ApiToken).where(ApiToken.token_digest == digest(secret)))
    if token is None or token.revoked_at is not None:
        return None
    user = db.get(User, token.user_id)
    if user is None or not user.active:
        return None
    now = now or utc_now()
    if token.last_used_at is None or now - token.last_used_at > SESSION_TOUCH_INTERVAL:
        token.last_used_at = now
    return user, token

"""Accounts of the web application: users, their login sessions and their API tokens.

They live in the patient-record database (same ``Base``, same migrations) so
that one backup holds everything, but they hold no patient data. Secrets are
never stored: passwords as argon2 hashes, session and API tokens as SHA-256
digests of high-entropy random strings (a digest is enough for 256 random
bits; a slow hash only matters for guessable secrets like passwords).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from mastcds.store.models import Base, utc_now

ROLES = ("admin", "clinician", "viewer")


class User(Base):
    """A person (or program owner) who logs in; ``role`` is one of :data:`ROLES`."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class WebSession(Base):
    """A logged-in browser; deleting the row logs it out everywhere at once."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)


class ApiToken(Base):
    """A bearer token a program uses to act as its owner; revoked, never deleted (the audit names it)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

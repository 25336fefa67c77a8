"""Everything the web application can be configured with, decided in one place.

The database is chosen as for every other command (:func:`mastcds.store.settings.database_url`).
The secret key signs CSRF tokens; it comes from ``$MASTCDS_SECRET_KEY`` or is
generated once and kept, readable by its owner only, in the user's data
directory, so that restarting the server does not invalidate open forms.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import platformdirs

from mastcds.store.settings import database_url

SECRET_KEY_ENV = "MASTCDS_SECRET_KEY"
SECURE_COOKIES_ENV = "MASTCDS_SECURE_COOKIES"
SECRET_KEY_FILE = "web-secret-key"
SECRET_KEY_MIN_LENGTH = 32

# OWASP Session Management Cheat Sheet: idle timeouts of 15-30 min for
# sensitive data; an absolute limit of a working day.
SESSION_IDLE = timedelta(minutes=30)
SESSION_ABSOLUTE = timedelta(hours=12)
# OWASP Authentication Cheat Sheet ("account lockout"): a handful of failures
# per window slows guessing without locking out a user for long.
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it and what is accepted."""


@dataclass(frozen=True)
class WebSettings:
    database_url: str
    secret_key: str
    # True: always mark cookies Secure (behind a proxy that terminates TLS
    # without forwarding the scheme); otherwise Secure exactly when the
    # request came over https.
    force_secure_cookies: bool = False
    session_idle: timedelta = SESSION_IDLE
    session_absolute: timedelta = SESSION_ABSOLUTE
    login_max_failures: int = LOGIN_MAX_FAILURES
    login_window: timedelta = LOGIN_WINDOW


def secret_key_path() -> Path:
    return Path(platformdirs.user_data_dir("mastcds", appauthor=False)) / SECRET_KEY_FILE


def _stored_secret_key(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        # O_EXCL: two servers starting at once agree on the first key written.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def load_settings(database: str | None = None) -> WebSettings:
    """Settings from the arguments, the environment, and the stored secret key."""
    key = os.environ.get(SECRET_KEY_ENV) or _stored_secret_key(secret_key_path())
    if len(key) < SECRET_KEY_MIN_LENGTH:
        raise SettingsError(
            f"{SECRET_KEY_ENV}: must be at least {SECRET_KEY_MIN_LENGTH} characters (got {len(key)})"
        )
    secure = os.environ.get(SECURE_COOKIES_ENV, "").strip().lower()
    if secure not in {"", "0", "1", "true", "false"}:
        raise SettingsError(f"{SECURE_COOKIES_ENV}: must be 1/true or 0/false (got {secure!r})")
    return WebSettings(
        database_url=database_url(database),
        secret_key=key,
        force_secure_cookies=secure in {"1", "true"},
    )

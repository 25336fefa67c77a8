"""Where the patient-record database lives and who is acting, decided in one place.

The database is the first of: an explicit ``--db`` value, ``$MASTCDS_DATABASE_URL``,
a SQLite file in the user's data directory. A value without ``://`` is a file
path, so ``--db records.db`` works without knowing SQLAlchemy's URL syntax.
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path

import platformdirs
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DATABASE_URL_ENV = "MASTCDS_DATABASE_URL"
USER_ENV = "MASTCDS_USER"
DEFAULT_FILE_NAME = "mastcds.db"

# Who acts: a web account's name, and the only form $MASTCDS_USER / --user may take
# (the audit log names people; free text there could pass for anyone or anything).
USER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
USER_NAME_RULE = "1-64 characters: letters, digits, '.', '_', '@' or '-', starting with a letter or digit"

# A patient key names a file in a registry export, so it is kept file-safe.
PATIENT_KEY_PATTERN = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
PATIENT_KEY_RULE = "1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"


def default_database_path() -> Path:
    """The SQLite file used when nothing else is configured."""
    return Path(platformdirs.user_data_dir("mastcds", appauthor=False)) / DEFAULT_FILE_NAME


def as_database_url(value: str) -> str:
    """A SQLAlchemy URL from a URL or a plain file path (an absolute SQLite URL)."""
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def database_url(explicit: str | None = None) -> str:
    """The database to use: ``explicit``, else the environment, else the per-user default file."""
    if explicit:
        return as_database_url(explicit)
    from_env = os.environ.get(DATABASE_URL_ENV)
    if from_env:
        return as_database_url(from_env)
    return as_database_url(str(default_database_path()))


def shown_url(url: str) -> str:
    """The URL fit for messages: any password is masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL SQLAlchemy can parse: show only what follows any '@'
        return url.split("@")[-1]


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container with an unnamed uid)
        return f"uid-{os.getuid()}"


def acting_user(explicit: str | None = None) -> str:
    """Who is acting, as the audit log records it.

    ``explicit`` (``--user``), else ``$MASTCDS_USER``, else the operating-system
    login name. A name given either way must look like a user name
    (:data:`USER_NAME_RULE`), else :class:`StoreError`; and since anyone can
    type any name, the operating-system user is recorded beside it when the
    two differ: ``carol (os user clinic-pc)``.
    """
    from mastcds.store.errors import StoreError

    system = _system_user()
    for source, candidate in (("--user", explicit), (USER_ENV, os.environ.get(USER_ENV))):
        if candidate is None or not candidate.strip():
            continue
        claimed = candidate.strip()
        if not USER_NAME_PATTERN.fullmatch(claimed):
            raise StoreError.one(source, claimed, f"not a plausible user name; {USER_NAME_RULE}")
        return claimed if claimed == system else f"{claimed} (os user {system})"
    return system

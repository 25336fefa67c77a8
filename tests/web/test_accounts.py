"""Users, passwords, sessions and API tokens (mastcds.web.accounts)."""

from __future__ import annotations

import random
import string

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from mastcds.store.database import Store
from mastcds.store.models import utc_now
from mastcds.store.users import ApiToken, User, WebSession
from mastcds.web import accounts
from mastcds.web.accounts import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, AccountError, UnknownUser
from tests.web.conftest import PASSWORD, USERS, Web

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)


def test_production_hashing_is_argon2id_with_the_rfc_9106_low_memory_profile() -> None:
    # accounts._hasher is swapped for a cheap one in the other tests; this is the module's own choice
    encoded = PasswordHasher().hash(PASSWORD)
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts._DUMMY_HASH.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_passwords_are_stored_as_argon2_hashes_only(web: Web) -> None:
    with web.store.reading() as db:
        stored = db.scalar(select(User.password_hash).where(User.username == USERS["clinician"]))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("length", "accepted"),
    [(PASSWORD_MIN_LENGTH - 1, False), (PASSWORD_MIN_LENGTH, True), (PASSWORD_MAX_LENGTH, True), (PASSWORD_MAX_LENGTH + 1, False)],
)
def test_password_length_boundaries(length: int, accepted: bool) -> None:
    rng = random.Random(length)
    password = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))
    if accepted:
        assert accounts.checked_password(password) == password
    else:
        with pytest.raises(AccountError) as refused:
            accounts.checked_password(password)
        problem = refused.value.problems[0]
        assert problem.path == "password" and password[:5] not in str(problem.value)  # never echoed


@pytest.mark.parametrize(
    ("username", "accepted"),
    [("a", True), ("a" * 64, True), ("a" * 65, False), ("", False), ("-lead", False), ("dr.o'neil", False),
     ("ana.lima@clinic.org", True), ("with space", False)],
)
def test_username_rule(username: str, accepted: bool) -> None:
    if accepted:
        assert accounts.checked_username(username) == username
    else:
        with pytest.raises(AccountError):
            accounts.checked_username(username)


def test_roles_are_the_three_duties(web: Web) -> None:
    with web.store.writing() as db, pytest.raises(AccountError) as refused:
        accounts.create_user(db, "root", PASSWORD, "superuser")
    assert "admin, clinician, viewer" in refused.value.problems[0].message


def test_a_taken_user_name_is_refused(web: Web) -> None:
    with web.store.writing() as db, pytest.raises(AccountError, match="is taken"):
        accounts.create_user(db, USERS["viewer"], PASSWORD, "viewer")


def test_authenticate(web: Web) -> None:
    account = accounts.authenticate(web.store, USERS["clinician"], PASSWORD)
    assert account is not None and account.role == "clinician"
    assert accounts.authenticate(web.store, USERS["clinician"], PASSWORD + "!") is None
    assert accounts.authenticate(web.store, "nobody", PASSWORD) is None
    assert accounts.authenticate(web.store, "not a name", PASSWORD) is None


def test_a_deactivated_user_cannot_log_in_and_loses_sessions_and_tokens(web: Web) -> None:
    with web.store.writing() as db:
        user = accounts.create_user(db, "leaving", PASSWORD, "viewer")
        account = accounts.Account(user.id, user.username, user.role)
        session_token = accounts.open_session(db, account)
        _, api_token = accounts.create_api_token(db, user, "script")
    with web.store.writing() as db:
        accounts.update_user(db, "leaving", active=False)
    assert accounts.authenticate(web.store, "leaving", PASSWORD) is None
    with web.store.writing() as db:
        assert accounts.session_user(db, session_token, idle=IDLE, absolute=ABSOLUTE) is None
        assert accounts.token_user(db, api_token) is None


def test_rehash_when_the_parameters_change(web: Web) -> None:
    with web.store.writing() as db:
        user = accounts.create_user(db, "rehash", PASSWORD, "viewer")
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(PASSWORD)
    assert accounts.authenticate(web.store, "rehash", PASSWORD) is not None
    with web.store.reading() as db:
        assert "m=8,t=1,p=1" in db.scalar(select(User.password_hash).where(User.username == "rehash"))


def _session(store: Store, username: str) -> str:
    with store.writing() as db:
        user = accounts.existing_user(db, username)
        return accounts.open_session(db, accounts.Account(user.id, user.username, user.role))


@pytest.mark.parametrize(
    ("idle_minutes", "age_hours", "alive"),
    [(29, 1, True), (30, 1, True), (31, 1, False), (1, 11.9, True), (1, 12.1, False)],
)
def test_sessions_expire_when_idle_or_old(web: Web, idle_minutes: int, age_hours: float, alive: bool) -> None:
    token = _session(web.store, USERS["viewer"])
    now = utc_now()
    with web.store.writing() as db:
        row = db.scalar(select(WebSession).where(WebSession.token_digest == accounts.digest(token)))
        row.last_seen_at = now - timedelta(minutes=idle_minutes)
        row.created_at = now - timedelta(hours=age_hours)
    with web.store.writing() as db:
        found = accounts.session_user(db, token, idle=IDLE, absolute=ABSOLUTE, now=now)
        assert (found is not None) is alive
    if not alive:  # an expired session is gone for good
        with web.store.reading() as db:
            assert db.scalar(select(WebSession).where(WebSession.token_digest == accounts.digest(token))) is None


def test_sessions_and_tokens_are_stored_as_digests_only(web: Web) -> None:
    token = _session(web.store, USERS["viewer"])
    with web.store.reading() as db:
        digests = set(db.scalars(select(WebSession.token_digest))) | set(db.scalars(select(ApiToken.token_digest)))
    assert accounts.digest(token) in digests and token not in digests
    assert accounts.digest(web.tokens["viewer"]) in digests and web.tokens["viewer"] not in digests


def test_closing_a_session_logs_it_out(web: Web) -> None:
    token = _session(web.store, USERS["viewer"])
    with web.store.writing() as db:
        accounts.close_session(db, token)
    with web.store.writing() as db:
        assert accounts.session_user(db, token, idle=IDLE, absolute=ABSOLUTE) is None


def test_api_tokens_can_be_revoked_by_their_owner_only(web: Web) -> None:
    with web.store.writing() as db:
        owner = accounts.existing_user(db, USERS["clinician"])
        token, secret = accounts.create_api_token(db, owner, "to revoke")
        token_id = token.id
    with web.store.writing() as db:
        assert accounts.token_user(db, secret) is not None
        other = accounts.existing_user(db, USERS["viewer"])
        with pytest.raises(accounts.NotFoundError):
            accounts.revoke_api_token(db, other, token_id)
    with web.store.writing() as db:
        accounts.revoke_api_token(db, accounts.existing_user(db, USERS["clinician"]), token_id)
    with web.store.writing() as db:
        assert accounts.token_user(db, secret) is None
        assert accounts.token_user(db, "no-prefix") is None


@pytest.mark.parametrize(("name", "accepted"), [("n" * 48, True), ("n" * 49, False), ("", False), ("ok name-1.2_3", True), ("bad/name", False)])
def test_token_names(web: Web, name: str, accepted: bool) -> None:
    with web.store.writing() as db:
        owner = accounts.existing_user(db, USERS["viewer"])
        if accepted:
            assert accounts.create_api_token(db, owner, name)[1].startswith(accounts.API_TOKEN_PREFIX)
        else:
            with pytest.raises(AccountError):
                accounts.create_api_token(db, owner, name)


def test_unknown_user_is_not_found(web: Web) -> None:
    with web.store.writing() as db, pytest.raises(UnknownUser):
        accounts.update_user(db, "nobody", role="viewer")


def test_expired_sessions_are_pruned(web: Web) -> None:
    stale, idle, fresh = (_session(web.store, USERS["viewer"]) for _ in range(3))
    now = utc_now()
    with web.store.writing() as db:
        rows = {t: db.scalar(select(WebSession).where(WebSession.token_digest == accounts.digest(t))) for t in (stale, idle)}
        rows[stale].created_at = now - ABSOLUTE - timedelta(seconds=1)
        rows[idle].last_seen_at = now - IDLE - timedelta(seconds=1)
    with web.store.writing() as db:
        assert accounts.prune_sessions(db, idle=IDLE, absolute=ABSOLUTE, now=now) >= 2
    with web.store.reading() as db:
        left = set(db.scalars(select(WebSession.token_digest)))
    assert accounts.digest(fresh) in left and not {accounts.digest(stale), accounts.digest(idle)} & left


def test_account_lifecycle_on_every_database(store: Store, cheap_hashing: None) -> None:
    """The same queries on SQLite and PostgreSQL (the ``store`` fixture runs on both)."""
    with store.writing() as db:
        user = accounts.create_user(db, "pg-user", PASSWORD, "clinician")
        _, secret = accounts.create_api_token(db, user, "pg token")
    account = accounts.authenticate(store, "pg-user", PASSWORD)
    assert account is not None and account.role == "clinician"
    with store.writing() as db:
        token = accounts.open_session(db, account)
    with store.writing() as db:
        assert accounts.session_user(db, token, idle=IDLE, absolute=ABSOLUTE).username == "pg-user"  # type: ignore[union-attr]
        assert accounts.token_user(db, secret)[0].username == "pg-user"  # type: ignore[index]
        assert accounts.prune_sessions(db, idle=IDLE, absolute=ABSOLUTE, now=utc_now() + ABSOLUTE * 2) == 1
    with store.writing() as db:
        accounts.update_user(db, "pg-user", active=False)
    assert accounts.authenticate(store, "pg-user", PASSWORD) is None

"""Fixtures of the web application: one migrated database per test session, a user and an API token per role.

Passwords are hashed with argon2 parameters cut to the minimum for these
fixtures (the production parameters cost ~0.7 s per hash on a CI machine);
``test_accounts.py`` checks the production parameters themselves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from mastcds.store.database import Store
from mastcds.web import accounts
from mastcds.web.app import create_app
from mastcds.web.cds_auth import CdsSettings
from mastcds.web.settings import WebSettings

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "violet anchor 1871 tundra"
SECRET_KEY = "test-secret-key-" + "x" * 32
USERS = {"admin": "ada", "clinician": "carol", "viewer": "victor"}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def seed_case() -> dict[str, Any]:
    return json.loads((ROOT / "examples" / "seed-case.json").read_text(encoding="utf-8"))


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@dataclass
class Web:
    """The application under test and a way in for every role."""

    app: Any
    store: Store
    settings: WebSettings
    tokens: dict[str, str]

    def api(self, role: str | None) -> TestClient:
        """A client of the JSON API with the token of ``role`` (``None``: anonymous)."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return TestClient(self.app, headers=headers)

    def browser(self, role: str | None, base_url: str = "http://testserver") -> TestClient:
        """A client logged in through the login page as ``role`` (``None``: anonymous)."""
        client = TestClient(self.app, base_url=base_url, follow_redirects=False)
        if role is not None:
            token = csrf_from(client.get("/login").text)
            response = client.post("/login", data={"csrf_token": token, "username": USERS[role], "password": PASSWORD})
            assert response.status_code == 303, response.text
        return client


@pytest.fixture(scope="session")
def cheap_hashing() -> Iterator[None]:
    production = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        yield
    finally:
        accounts._hasher = production


def make_web(directory: Path) -> Web:
    store = Store(f"sqlite:///{directory / 'web.db'}")
    settings = WebSettings(database_url=store.url, secret_key=SECRET_KEY)
    app = create_app(settings, store, CdsSettings())
    tokens = {}
    with store.writing() as db:
        for role, username in USERS.items():
            user = accounts.create_user(db, username, PASSWORD, role)
            tokens[role] = accounts.create_api_token(db, user, f"{role} tests")[1]
    return Web(app, store, settings, tokens)


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory, cheap_hashing: None) -> Iterator[Web]:
    made = make_web(tmp_path_factory.mktemp("web"))
    try:
        yield made
    finally:
        made.store.close()


@pytest.fixture
def fresh_app(web: Web) -> Any:
    """Another application on the same database: its own login throttle, untouched by other tests."""
    return create_app(web.settings, web.store, CdsSettings())


_counter = iter(range(1, 10**9))


@pytest.fixture
def patient_key(web: Web) -> str:
    """A new patient holding the seed case, under a key of its own."""
    key = f"t-{next(_counter)}"
    response = web.api("clinician").post("/api/v1/patients", params={"key": key}, json=seed_case())
    assert response.status_code == 201, response.text
    return key

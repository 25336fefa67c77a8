"""Accounts under attack (issue 16, items 9, 12, 14, 15): tokens, one's own role, weak passwords, lockouts, who acts."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from mastcds.cli import app as cli
from mastcds.store.audit import audit_entries
from mastcds.store.settings import acting_user
from mastcds.web import accounts
from mastcds.web.device import DEVICE_COOKIE
from mastcds.web.throttle import MAX_DELAY_SECONDS, LoginThrottle
from tests.web.conftest import PASSWORD, USERS, Web, csrf_from

STRONG = "amber 61 walrus gazette"
_numbers = itertools.count(1)


def new_user(web: Web, role: str = "viewer", tokens: int = 2) -> tuple[str, list[str]]:
    """A user of its own (the fixture users are shared) with ``tokens`` API tokens."""
    username = f"sec-{next(_numbers)}"
    with web.store.writing() as db:
        user = accounts.create_user(db, username, PASSWORD, role)
        secrets = [accounts.create_api_token(db, user, f"t{n}")[1] for n in range(tokens)]
    return username, secrets


def works(web: Web, secret: str) -> bool:
    return TestClient(web.app).get("/api/v1/calculators/rema", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def details(web: Web) -> list[str]:
    return [entry.detail for entry in audit_entries(web.store, limit=50)]


# ------------------------------------------------------------------ item 9: tokens


@pytest.mark.parametrize("change", [{"password": STRONG}, {"active": False}])
def test_a_password_reset_or_a_deactivation_revokes_every_api_token(web: Web, change: dict[str, Any]) -> None:
    username, secrets = new_user(web)
    assert all(works(web, secret) for secret in secrets)
    response = web.api("admin").patch(f"/api/v1/users/{username}", json=change)
    assert response.status_code == 200, response.text
    assert not any(works(web, secret) for secret in secrets)
    assert f"user {username} changed: {next(iter(change))}; 2 API token(s) revoked" in details(web)
    if change == {"active": False}:  # reactivating the account does not bring the tokens back
        web.api("admin").patch(f"/api/v1/users/{username}", json={"active": True})
        assert not any(works(web, secret) for secret in secrets)


def test_a_role_change_keeps_the_tokens(web: Web) -> None:
    username, secrets = new_user(web)
    web.api("admin").patch(f"/api/v1/users/{username}", json={"role": "clinician"})
    assert all(works(web, secret) for secret in secrets)


def test_an_admin_lists_and_revokes_a_users_tokens_over_the_api_audited(web: Web) -> None:
    username, secrets = new_user(web)
    admin = web.api("admin")
    listed = admin.get(f"/api/v1/users/{username}/tokens").json()
    assert [(t["name"], t["revoked_at"]) for t in listed] == [("t0", None), ("t1", None)]
    assert not any("mcds_" in str(value) for token in listed for value in token.values())  # never the secret
    revoked = admin.delete(f"/api/v1/users/{username}/tokens/{listed[0]['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert not works(web, secrets[0]) and works(web, secrets[1])
    assert f"API tokens of {username} listed" in details(web) and f"API token 't0' of {username} revoked" in details(web)
    other, _ = new_user(web)
    assert admin.delete(f"/api/v1/users/{other}/tokens/{listed[1]['id']}").status_code == 404  # not that user's token
    assert admin.get("/api/v1/users/no-such-user/tokens").status_code == 404


def test_an_admin_lists_and_revokes_a_users_tokens_on_the_page(web: Web) -> None:
    username, secrets = new_user(web)
    browser = web.browser("admin")
    assert f'href="/admin/users/{username}/tokens"' in browser.get("/admin/users").text
    page = browser.get(f"/admin/users/{username}/tokens")
    assert page.status_code == 200 and "t0" in page.text and "t1" in page.text
    with web.store.reading() as db:
        first = accounts.list_api_tokens(db, accounts.existing_user(db, username))[0].id
    assert f'action="/admin/users/{username}/tokens/{first}/revoke"' in page.text
    response = browser.post(f"/admin/users/{username}/tokens/{first}/revoke", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    assert not works(web, secrets[0]) and works(web, secrets[1])
    assert f"API token 't0' of {username} revoked" in details(web)


def test_the_command_line_lists_and_revokes_tokens_audited(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    username, secrets = new_user(web)
    monkeypatch.setenv("MASTCDS_USER", "it-desk")
    runner = CliRunner()
    listed = runner.invoke(cli, ["user", "tokens", username, "--db", web.store.url])
    assert listed.exit_code == 0 and "t0" in listed.output and "mcds_" not in listed.output
    with web.store.reading() as db:
        first = accounts.list_api_tokens(db, accounts.existing_user(db, username))[0].id
    assert runner.invoke(cli, ["user", "revoke", username, str(first), "--db", web.store.url]).exit_code == 0
    assert not works(web, secrets[0]) and works(web, secrets[1])
    assert runner.invoke(cli, ["user", "revoke", username, "--all", "--db", web.store.url]).exit_code == 0
    assert not works(web, secrets[1])
    entries = audit_entries(web.store, actor=acting_user("it-desk"), limit=10)
    assert [e.detail for e in entries][:3] == [
        f"1 API token(s) of {username} revoked", f"API token 't0' of {username} revoked", f"API tokens of {username} listed",
    ]
    missing = runner.invoke(cli, ["user", "revoke", username, "999999", "--db", web.store.url])
    assert missing.exit_code == 2 and "has no API token with this id" in missing.stderr and "Traceback" not in missing.output


# ------------------------------------------------------------------ item 12: one's own role


def test_an_admin_cannot_change_their_own_role(web: Web) -> None:
    admin_name, _ = new_user(web, role="admin", tokens=0)
    with web.store.writing() as db:
        _, secret = accounts.create_api_token(db, accounts.existing_user(db, admin_name), "self")
    api = TestClient(web.app, headers={"Authorization": f"Bearer {secret}"})
    for role in ("clinician", "viewer"):
        refused = api.patch(f"/api/v1/users/{admin_name}", json={"role": role})
        assert refused.status_code == 422 and refused.json()["problems"][0]["path"] == "role"
    assert api.patch(f"/api/v1/users/{admin_name}", json={"role": "admin"}).status_code == 200  # no change is no change
    assert api.patch(f"/api/v1/users/{admin_name}", json={"active": False}).status_code == 422
    # on the page too, and another administrator may
    browser = TestClient(web.app, follow_redirects=False)
    token = csrf_from(browser.get("/login").text)
    browser.post("/login", data={"csrf_token": token, "username": admin_name, "password": PASSWORD})
    token = csrf_from(browser.get("/admin/users").text)
    page = browser.post(f"/admin/users/{admin_name}", data={"csrf_token": token, "role": "clinician"})
    assert page.status_code == 422 and "your own account" in page.text
    with web.store.reading() as db:
        assert accounts.existing_user(db, admin_name).role == "admin"
    assert web.api("admin").patch(f"/api/v1/users/{admin_name}", json={"role": "viewer"}).status_code == 200


def test_the_routes_open_to_an_admin_show_no_patient(web: Web) -> None:
    """Separation of duties: the tables of test_api_access and test_pages (which must name every route) give the admin these only."""
    from tests.web import test_api_access, test_pages

    api = {f"{method.upper()} {path}" for (method, path), call in test_api_access.CALLS.items() if "admin" in call.roles}
    pages = {f"GET {path}" for path, roles in test_pages.GET_PAGES.items() if "admin" in roles}
    pages |= {f"POST {path}" for path, roles in test_pages.POST_FORMS.items() if "admin" in roles}
    assert api == {
        "GET /api/v1/users", "POST /api/v1/users", "PATCH /api/v1/users/{username}", "GET /api/v1/audit",
        "GET /api/v1/users/{username}/tokens", "DELETE /api/v1/users/{username}/tokens/{token_id}",
    }
    assert pages == {
        "GET /", "GET /account", "GET /admin/users", "GET /admin/audit", "GET /admin/audit.csv", "GET /admin/users/{username}/tokens",
        "POST /logout", "POST /admin/users", "POST /admin/users/{username}", "POST /admin/users/{username}/tokens/{token_id}/revoke",
        "POST /account/tokens", "POST /account/tokens/{token_id}/revoke", "POST /account/password",
    }


# ------------------------------------------------------------------ item 14: weak passwords, lockouts


@pytest.mark.parametrize(
    "password",
    [" " * 20, "x" * 15, "passwordpassword", "qwertyuiopasdfgh", "123456789012345", "iloveyouiloveyou", "abcabcabcabcabcabc",
     "correct horse battery staple", "Password12345678!", "mastcds mastcds 2026"],
)
def test_passwords_tried_first_are_refused_everywhere(web: Web, password: str) -> None:
    response = web.api("admin").post("/api/v1/users", json={"username": "weak-pw", "password": password, "role": "viewer"})
    assert response.status_code == 422 and response.json()["problems"][0]["path"] == "password"
    assert password not in response.text
    username, _ = new_user(web, tokens=0)
    assert web.api("admin").patch(f"/api/v1/users/{username}", json={"password": password}).status_code == 422
    with pytest.raises(accounts.AccountError):
        accounts.checked_password(f"{username}{username}{username}", username)


def test_a_strong_passphrase_is_taken() -> None:
    assert accounts.checked_password(STRONG) == STRONG


def _login(client: TestClient, username: str, password: str, **headers: str) -> Any:
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password}, headers=headers)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _controlled_throttle(app: Any) -> Clock:
    clock = Clock()
    settings = app.state.settings
    app.state.throttle = LoginThrottle(settings.login_max_failures, settings.login_window.total_seconds(), clock)
    return clock


def test_a_stranger_cannot_lock_a_user_out_of_their_own_browser(fresh_app: Any) -> None:
    _controlled_throttle(fresh_app)
    owner = TestClient(fresh_app, follow_redirects=False)
    assert _login(owner, USERS["viewer"], PASSWORD).status_code == 303
    assert DEVICE_COOKIE in owner.cookies
    owner.cookies.delete("mastcds_session")
    stranger = TestClient(ProxyHeadersMiddleware(fresh_app, trusted_hosts="testclient"), follow_redirects=False)
    for n in range(30):  # from many addresses, as fast as the server lets them
        _login(stranger, USERS["viewer"], "guess", **{"X-Forwarded-For": f"203.0.113.{n}"})
    elsewhere = _login(TestClient(fresh_app, follow_redirects=False), USERS["viewer"], PASSWORD)
    assert elsewhere.status_code == 429  # an untrusted browser waits the growing delay, not the window
    assert int(elsewhere.headers["retry-after"]) <= MAX_DELAY_SECONDS
    assert _login(owner, USERS["viewer"], PASSWORD).status_code == 303  # the owner's trusted browser is not held up


def test_per_address_limits_follow_the_configured_proxy(fresh_app: Any) -> None:
    """Behind a proxy trusted with --forwarded-allow-ips (uvicorn's ProxyHeadersMiddleware), each client is its own address."""
    clock = _controlled_throttle(fresh_app)
    behind_proxy = TestClient(ProxyHeadersMiddleware(fresh_app, trusted_hosts="testclient"), follow_redirects=False)
    for _ in range(fresh_app.state.settings.login_max_failures):
        _login(behind_proxy, USERS["clinician"], "guess", **{"X-Forwarded-For": "198.51.100.7"})
    clock.now += MAX_DELAY_SECONDS  # past the account's growing delay: only the address limit is left
    locked = _login(behind_proxy, USERS["clinician"], PASSWORD, **{"X-Forwarded-For": "198.51.100.7"})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > MAX_DELAY_SECONDS
    assert _login(behind_proxy, USERS["clinician"], PASSWORD, **{"X-Forwarded-For": "198.51.100.8"}).status_code == 303


# ------------------------------------------------------------------ item 15: who acts on the command line


def test_an_implausible_mastcds_user_is_refused_and_a_plausible_one_recorded_beside_the_os_user(web: Web) -> None:
    runner = CliRunner()
    refused = runner.invoke(cli, ["user", "tokens", USERS["viewer"], "--db", web.store.url], env={"MASTCDS_USER": "=cmd|' /C calc'!A0"})
    assert refused.exit_code == 2 and "MASTCDS_USER: not a plausible user name" in refused.stderr
    taken = runner.invoke(cli, ["user", "tokens", USERS["viewer"], "--db", web.store.url], env={"MASTCDS_USER": "dr.who"})
    assert taken.exit_code == 0
    assert audit_entries(web.store, limit=1)[0].actor == acting_user("dr.who")

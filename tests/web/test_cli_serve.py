"""``mastcds user`` and ``mastcds serve``: accounts from the command line, a server with no other set-up."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mastcds.cli import app
from mastcds.store.audit import audit_entries
from mastcds.store.database import Store
from mastcds.store.settings import acting_user

runner = CliRunner()
PASSWORD = "a long enough passphrase"


@pytest.fixture
def db(tmp_path: Path, cheap_hashing: None) -> str:
    return str(tmp_path / "cli.db")


def _run(*args: str, stdin: str | None = None) -> object:
    return runner.invoke(app, list(args), input=stdin, env={"MASTCDS_USER": "installer"})


def test_add_list_and_token(db: str) -> None:
    added = _run("user", "add", "ada", "--role", "admin", "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output  # type: ignore[attr-defined]
    assert "user ada created with role admin" in added.output  # type: ignore[attr-defined]
    listed = _run("user", "list", "--db", db)
    assert "ada" in listed.output and "admin" in listed.output and "active" in listed.output  # type: ignore[attr-defined]
    token = _run("user", "token", "ada", "--name", "registry export", "--db", db)
    assert token.exit_code == 0 and token.stdout.strip().startswith("mcds_")  # type: ignore[attr-defined]
    details = [e.detail for e in audit_entries(Store(db), actor=acting_user("installer"))]
    assert "user ada created (admin)" in details and "API token 'registry export' created for ada" in details


def test_the_password_is_asked_twice_on_a_terminal(db: str) -> None:
    same = _run("user", "add", "carol", "--role", "clinician", "--db", db, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert same.exit_code == 0, same.output  # type: ignore[attr-defined]
    differ = _run("user", "add", "dan", "--role", "viewer", "--db", db, stdin=f"{PASSWORD}\n{PASSWORD}x\n")
    assert differ.exit_code == 2 and "the two entries differ" in differ.output  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "add", "x y", "--role", "viewer"), PASSWORD, "username: must be 1-64 characters"),
        (("user", "add", "eve", "--role", "viewer"), "too short", "password: must have 15-1024 characters"),
        (("user", "add", "eve", "--role", "root"), PASSWORD, "Invalid value for '--role'"),
        (("user", "token", "nobody", "--name", "t"), None, "username: no user has this name"),
    ],
)
def test_refusals_exit_2_naming_the_field(db: str, args: tuple[str, ...], stdin: str | None, message: str) -> None:
    extra = ("--password-stdin",) if stdin is not None else ()
    result = _run(*args, *extra, "--db", db, stdin=(stdin + "\n") if stdin else None)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert message in result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output and "too short" not in result.output  # type: ignore[attr-defined]


def test_a_taken_name_is_refused(db: str) -> None:
    _run("user", "add", "ada", "--role", "admin", "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    again = _run("user", "add", "ada", "--role", "viewer", "--password-stdin", "--db", db, stdin=PASSWORD + "\n")
    assert again.exit_code == 2 and "username: is taken" in again.output  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_starts_on_sqlite_with_no_other_set_up(tmp_path: Path) -> None:
    """A fresh machine: no database, no secret key, no configuration; the server comes up and serves."""
    port = _free_port()
    environment = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    for name in ("MASTCDS_DATABASE_URL", "MASTCDS_SECRET_KEY", "MASTCDS_SECURE_COOKIES"):
        environment.pop(name, None)
    server = subprocess.Popen(
        [sys.executable, "-m", "mastcds", "serve", "--port", str(port)],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        started = time.monotonic()
        while True:
            assert server.poll() is None, server.stdout.read()  # type: ignore[union-attr]
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/login?next=/patients/private-key", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() - started < 60, "the server did not answer within 60 s"
                time.sleep(0.2)
        assert response.status_code == 200 and "Log in" in response.text
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/patients").status_code == 401
        data = tmp_path / "data" / "mastcds"
        assert (data / "mastcds.db").exists()
        key = data / "web-secret-key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text()) >= 32
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert "No administrator yet: create one with `mastcds user add NAME --role admin`." in output
    assert "GET /login 200" in output  # the application's access line: the route only
    assert "private-key" not in output and 'HTTP/1.1"' not in output  # uvicorn's access log (paths, queries) is off


def test_serve_refuses_a_short_secret_key(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--db", str(tmp_path / "x.db")], env={"MASTCDS_SECRET_KEY": "short"})
    assert result.exit_code == 2 and "MASTCDS_SECRET_KEY: must be at least 32 characters" in result.output

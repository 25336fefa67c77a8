"""Two ``mastcds serve`` worker processes on one database: a JWT used on one is refused by the other, and a card
link made by one opens on the other (issue 16 item 6: both lived in one process's memory)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mastcds.fhir import codes
from mastcds.store.database import Store
from mastcds.web import accounts
from tests.web.conftest import PASSWORD, csrf_from
from tests.web.test_cds_hooks import patient_view, prefetched, seed_resources
from tests.web.test_cds_hooks_auth import ISSUER, KEY, public_jwk, token

PUBLIC_URL = "http://cds.mastcds.test"  # the address in front of both workers (what the EHR calls)
VIEW = "/cds-services/mastcds-patient-view"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(port: int, server: subprocess.Popen[str]) -> None:
    started = time.monotonic()
    while True:
        assert server.poll() is None, server.communicate()[0]
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except httpx.TransportError:
            assert time.monotonic() - started < 60, "the worker did not answer within 60 s"
            time.sleep(0.2)


@pytest.fixture
def workers(db_url: str, tmp_path: Path, cheap_hashing: None) -> Iterator[list[str]]:
    """Two worker processes on ``db_url`` (SQLite, then PostgreSQL), their base URLs; a viewer account exists."""
    store = Store(db_url)
    with store.writing() as session:
        accounts.create_user(session, "victor", PASSWORD, "viewer")
    store.close()
    environment = {**os.environ, "MASTCDS_DATABASE_URL": db_url, "MASTCDS_SECRET_KEY": "s" * 48,
                   "MASTCDS_CDS_ISSUERS": json.dumps({ISSUER: {"keys": [public_jwk(KEY)]}}),
                   "MASTCDS_CDS_PUBLIC_URL": PUBLIC_URL, "MASTCDS_CDS_ALLOW_HTTP": "1", "HOME": str(tmp_path)}
    ports = [_free_port(), _free_port()]
    servers = [subprocess.Popen([sys.executable, "-m", "mastcds", "serve", "--port", str(port)], env=environment,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for port in ports]
    try:
        for port, server in zip(ports, servers):
            _wait(port, server)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for server in servers:
            server.terminate()
            server.communicate(timeout=20)


def test_a_token_replayed_to_another_worker_is_refused_and_a_link_opens_on_either(workers: list[str]) -> None:
    first, second = workers
    body = patient_view(prefetched(seed_resources(drop=(codes.VARIANT_ASSESSMENT.code,))))
    once = {"Authorization": f"Bearer {token(VIEW, aud=PUBLIC_URL + VIEW)}"}
    answered = httpx.post(first + VIEW, json=body, headers=once)
    assert answered.status_code == 200, answered.text
    replayed = httpx.post(second + VIEW, json=body, headers=once)
    assert replayed.status_code == 401 and "replayed" in replayed.json()["detail"]

    link = answered.json()["cards"][0]["links"][0]["url"]
    assert link.startswith(PUBLIC_URL + "/cds-evaluations/")
    with httpx.Client(base_url=second) as browser:  # the other worker, through its login page
        page = browser.get(link.removeprefix(PUBLIC_URL))
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
        form = browser.get(page.headers["location"])
        login = browser.post("/login", data={"csrf_token": csrf_from(form.text), "username": "victor",
                                             "password": PASSWORD, "next": link.removeprefix(PUBLIC_URL)})
        assert login.status_code == 303 and login.headers["location"] == link.removeprefix(PUBLIC_URL)
        evaluation = browser.get(login.headers["location"])
    assert evaluation.status_code == 200 and "Evaluation behind a CDS Hooks card" in evaluation.text

"""``GET /health``: anonymous, no database, no patient data, outside the JSON API's OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from mastcds import __version__
from mastcds.store.database import Store
from mastcds.web.app import create_app
from mastcds.web.cds_auth import CdsSettings
from tests.web.conftest import Web


def test_health_answers_anyone_with_the_version(web: Web) -> None:
    answer = TestClient(web.app).get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "version": __version__}
    assert answer.headers["cache-control"] == "no-store"  # the security middleware applies to it as to every route


def test_health_is_not_an_api_operation(web: Web) -> None:
    assert "/health" not in web.app.openapi()["paths"]


def test_health_reads_no_database(web: Web, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'gone.db'}")
    app = create_app(web.settings, store, CdsSettings())
    store.engine.dispose()
    (tmp_path / "gone.db").unlink()
    (tmp_path / "gone.db").mkdir()  # a database that cannot be opened any more
    assert TestClient(app).get("/health").status_code == 200

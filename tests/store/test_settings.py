"""Where the database is and who is acting: explicit value, then environment, then the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from mastcds.store import settings


def test_explicit_url_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTCDS_DATABASE_URL", "postgresql+psycopg://env/db")
    assert settings.database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_environment_wins_over_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTCDS_DATABASE_URL", "postgresql+psycopg://env/db")
    assert settings.database_url(None) == "postgresql+psycopg://env/db"


def test_default_is_a_file_in_the_user_data_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MASTCDS_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert settings.default_database_path() == tmp_path / "mastcds" / "mastcds.db"
    assert settings.database_url() == f"sqlite:///{tmp_path}/mastcds/mastcds.db"


def test_a_plain_path_becomes_an_absolute_sqlite_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert settings.as_database_url("records.db") == f"sqlite:///{tmp_path}/records.db"


def test_shown_url_masks_the_password() -> None:
    shown = settings.shown_url("postgresql+psycopg://alice:s3cret@db.example/mastcds")
    assert "s3cret" not in shown
    assert "alice" in shown and "db.example" in shown


def test_acting_user_order_with_the_os_user_beside_a_given_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings.getpass, "getuser", lambda: "login-name")
    monkeypatch.setenv("MASTCDS_USER", "from-env")
    assert settings.acting_user("dr-who") == "dr-who (os user login-name)"
    assert settings.acting_user(None) == "from-env (os user login-name)"
    monkeypatch.setenv("MASTCDS_USER", "login-name")
    assert settings.acting_user(None) == "login-name"
    monkeypatch.delenv("MASTCDS_USER")
    assert settings.acting_user(" ") == "login-name"


@pytest.mark.parametrize("claimed", ["=cmd|' /C calc'!A0", "root\nforged line", "a b", "-rf", "x" * 65, "é", "admin (os user root)"])
def test_implausible_user_names_are_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch, claimed: str) -> None:
    from mastcds.store.errors import StoreError

    monkeypatch.setenv("MASTCDS_USER", claimed)
    with pytest.raises(StoreError) as caught:
        settings.acting_user(None)
    assert caught.value.problems[0].path == "MASTCDS_USER" and "not a plausible user name" in caught.value.problems[0].message
    with pytest.raises(StoreError) as caught:
        settings.acting_user(claimed)
    assert caught.value.problems[0].path == "--user"


@pytest.mark.parametrize("claimed", ["carol", "c.smith@hospital.example", "x" * 64, "A_1-b"])
def test_plausible_user_names_are_taken(monkeypatch: pytest.MonkeyPatch, claimed: str) -> None:
    monkeypatch.setattr(settings.getpass, "getuser", lambda: "svc")
    assert settings.acting_user(claimed) == f"{claimed} (os user svc)"


@pytest.mark.parametrize("key", ["P-1", "seed-omalizumab-ism", "a", "A.b_c-9", "x" * 64])
def test_usable_patient_keys(key: str) -> None:
    assert settings.PATIENT_KEY_PATTERN.match(key)


@pytest.mark.parametrize("key", ["", "-leading-dash", "_private", "has space", "slash/es", "x" * 65, "é", "trailing-newline\n"])
def test_unusable_patient_keys(key: str) -> None:
    assert not settings.PATIENT_KEY_PATTERN.match(key)

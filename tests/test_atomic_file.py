"""Files are written whole or not at all, owner-readable only, and devices are left devices."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mastcds import atomic_file
from mastcds.atomic_file import write_atomically


def test_writes_text_and_bytes_readable_by_the_owner_only(tmp_path: Path) -> None:
    write_atomically(tmp_path / "a.txt", "ISM ✓")
    write_atomically(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "ISM ✓"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o600


def test_failed_write_keeps_the_old_file_and_leaves_no_partial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_file.os, "fsync", disk_full)
    with pytest.raises(OSError):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_a_device_stays_a_device() -> None:
    write_atomically(os.devnull, "discarded")
    assert Path(os.devnull).is_char_device()

"""The user guide's command pages are the commands' own help: a changed option without a regenerated page fails here."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from mastcds.cli.guide import PAGES, pages

current_pages = cache(pages)  # one rendering for every page's test

COMMANDS_DIR = Path(__file__).resolve().parents[2] / "docs" / "user-guide" / "commands"


@pytest.mark.parametrize("name", [name for name, *_ in PAGES])
def test_each_command_page_is_current(name: str) -> None:
    current = current_pages()[name]
    stored = (COMMANDS_DIR / name).read_text(encoding="utf-8")
    assert stored == current, f"docs/user-guide/commands/{name} is stale: run python -m mastcds.cli.guide docs/user-guide/commands"


def test_every_command_is_on_a_page() -> None:
    from typer.main import get_command

    from mastcds.cli import app

    shown = {path[0] for *_, groups in PAGES for path in groups}
    assert shown == set(get_command(app).commands)  # type: ignore[attr-defined]

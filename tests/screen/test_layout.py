"""Dependencies in the screening run one way: pipeline -> engines -> types (issue 19, Layout)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SCREEN = Path(__file__).resolve().parents[2] / "src" / "mastcds" / "screen"


def _imports(module: str) -> set[str]:
    tree = ast.parse((SCREEN / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_types_import_nothing_of_the_project():
    assert not {m for m in _imports("types") if m.startswith("mastcds")}


@pytest.mark.parametrize("module", sorted(p.stem for p in SCREEN.glob("*.py") if p.stem != "pipeline"))
def test_nothing_below_the_pipeline_imports_it_or_an_adapter(module):
    imported = _imports(module)
    assert "mastcds.screen.pipeline" not in imported
    assert not {m for m in imported if m.startswith(("mastcds.cli", "mastcds.web"))}


def test_the_engines_return_the_types_module_s_types():
    for engine in ("duckdb_engine", "spark_engine"):
        assert "mastcds.screen.types" in _imports(engine)

"""Runs the episode scenarios in tests/scenarios (anaphylaxis*, tryptase*, rema*, mcas*.yaml).

Each scenario is a partial case (findings in) and values expected at paths of
the episode sections (verdicts out), e.g. ``episodes[0].anaphylaxis_wao2020: met``.
A missing ``patient`` is added empty; ``sm_who2022`` (default unknown) is the
WHO 2022 SM verdict the MCAS variant depends on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mastcds.case import load_case
from mastcds.evaluation import episodes as glue

FOLDER = Path(__file__).parent / "scenarios"
FILES = sorted(p for pattern in ("anaphylaxis*.yaml", "tryptase*.yaml", "rema*.yaml", "mcas*.yaml") for p in FOLDER.glob(pattern))
STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _scenarios() -> list[Any]:
    params = []
    for path in FILES:
        for scenario in yaml.safe_load(path.read_text(encoding="utf-8"))["scenarios"]:
            params.append(pytest.param(scenario, id=f"{path.stem}: {scenario['name']}"))
    return params


def evaluate_sections(document: dict[str, Any], sm_who2022: str) -> dict[str, Any]:
    case = load_case({"patient": {}, **document})
    warnings: list[str] = []
    return {
        "tryptase": glue.tryptase(case, warnings),
        "episodes": glue.episodes(case, warnings),
        "rema": glue.rema(case, warnings),
        "mcas": glue.mcas(case, sm_who2022, warnings),
        "warnings": warnings,
    }


def value_at(result: Any, path: str) -> Any:
    for name, index in STEP.findall(path):
        result = result[int(index)] if index else result[name]
    return result


def test_there_are_scenarios_in_every_file() -> None:
    assert {p.name.split("_")[0].split(".")[0] for p in FILES} >= {"anaphylaxis", "tryptase", "rema", "mcas"}


@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(scenario: dict[str, Any]) -> None:
    assert scenario.get("why"), "every scenario says why, for the clinician reading it"
    result = evaluate_sections(scenario["case"], scenario.get("sm_who2022", "unknown"))
    for path, expected in scenario["expect"].items():
        actual = value_at(result, path)
        if isinstance(expected, float):
            assert actual == pytest.approx(expected), (path, actual, expected)
        else:
            assert actual == expected, (path, actual, expected)
    for words in scenario.get("warnings_mention", []):
        assert any(words in warning for warning in result["warnings"]), (words, result["warnings"])

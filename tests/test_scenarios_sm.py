"""Clinical scenarios in YAML: a partial case in, expected verdicts out.

Each file in tests/scenarios/ named ``sm_*.yaml`` or ``cutaneous*.yaml`` holds a
list of scenarios::

    - name: what the patient shows, in a clinician's words
      base: seed                  # optional: start from examples/seed-case.json
      case: {...}                 # a partial mastcds-case/1 document, merged onto the base
      expect:
        guidelines.who2022.category: ISM
        guidelines.icc2022.b_findings[id=b1_mast_cell_burden].status: not_met
        guidelines.who2022.next_tests[*].test: {contains: "Bone marrow aspirate smear: mast cell count and morphology"}

A path is dotted keys; ``list[key=value]`` picks the element whose ``key`` is
``value``; ``list[*]`` maps the rest of the path over every element. An
expected value is compared for equality, unless it is a one-key mapping:
``{contains: x}`` (x is in the list, or a substring of the text),
``{excludes: x}``, or ``{set: [...]}`` (same elements, any order).

The runner is generic: copy it with another glob for other topics.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mastcds import evaluate

HERE = Path(__file__).resolve().parent
SEED = json.loads((HERE.parent / "examples" / "seed-case.json").read_text(encoding="utf-8"))
FILES = sorted([*HERE.glob("scenarios/sm_*.yaml"), *HERE.glob("scenarios/cutaneous*.yaml")])
_SELECT = re.compile(r"^(?P<key>[^\[]+)(?:\[(?P<selector>[^\]]+)\])?$")


def merged(base: Any, changes: Any) -> Any:
    """``changes`` laid over ``base``: mappings merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(changes, dict):
        return {**base, **{key: merged(base.get(key), value) for key, value in changes.items()}}
    return changes


def resolve(value: Any, path: str) -> Any:
    if not path:
        return value
    head, _, rest = path.partition(".")
    match = _SELECT.match(head)
    if match is None:
        raise ValueError(f"bad path segment {head!r}")
    value = value[match["key"]]
    selector = match["selector"]
    if selector is None:
        return resolve(value, rest)
    if selector == "*":
        return [resolve(item, rest) for item in value]
    if "=" in selector:
        key, wanted = selector.split("=", 1)
        found = [item for item in value if str(item.get(key)) == wanted]
        if len(found) != 1:
            raise KeyError(f"{len(found)} elements with {key}={wanted}")
        return resolve(found[0], rest)
    return resolve(value[int(selector)], rest)


def check(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict) and len(expected) == 1:
        ((operator, operand),) = expected.items()
        if operator == "contains":
            return operand in actual
        if operator == "excludes":
            return operand not in actual
        if operator == "set":
            return sorted(map(json.dumps, actual)) == sorted(map(json.dumps, operand))
    return actual == expected


def scenarios() -> list[Any]:
    found = []
    for path in FILES:
        for scenario in yaml.safe_load(path.read_text(encoding="utf-8")):
            found.append(pytest.param(scenario, id=f"{path.stem}: {scenario['name']}"))
    return found


@pytest.mark.parametrize("scenario", scenarios())
def test_scenario(scenario: dict[str, Any]) -> None:
    base = json.loads(json.dumps(SEED)) if scenario.get("base") == "seed" else {"patient": {}}
    result = evaluate(merged(base, scenario.get("case", {})))
    failures = []
    for path, expected in scenario["expect"].items():
        actual = resolve(result, path)
        if not check(actual, expected):
            failures.append(f"{path}: expected {expected!r}, got {actual!r}")
    assert not failures, "\n".join(failures)


def test_the_runner_finds_scenarios_and_fails_on_a_wrong_expectation() -> None:
    assert FILES and scenarios()
    result = {"guidelines": {"who2022": {"b_findings": [{"id": "b1", "status": "met"}], "possible_categories": ["ISM"]}}}
    assert resolve(result, "guidelines.who2022.b_findings[id=b1].status") == "met"
    assert resolve(result, "guidelines.who2022.b_findings[*].id") == ["b1"]
    assert check(["ISM", "MCL"], {"set": ["MCL", "ISM"]}) and not check(["ISM"], {"set": ["MCL"]})
    assert check("a smear", {"contains": "smear"}) and check(["x"], {"excludes": "y"})
    assert not check("ISM", "MCL")
    assert merged({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}

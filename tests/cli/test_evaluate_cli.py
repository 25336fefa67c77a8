"""``mastcds evaluate`` as a clinician reads it: one screen by default, every criterion with --details."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mastcds.cli import app
from mastcds.engine import evaluate

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-case.json"
SCREEN_LINES = 40


def run(*args: str, columns: int = 80) -> Any:
    return CliRunner().invoke(app, ["evaluate", *args], env={"COLUMNS": str(columns)})


def seed_evaluation() -> dict[str, Any]:
    return evaluate(json.loads(SEED.read_text(encoding="utf-8")))


def flat(text: str) -> str:
    """The output with its line wrapping undone (a long value wraps under itself)."""
    return re.sub(r"\s+", " ", text)


def test_the_seed_case_fits_one_screen_and_starts_with_the_bottom_line() -> None:
    done = run(str(SEED))
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert len(lines) <= SCREEN_LINES, done.output
    assert all(len(line) <= 80 for line in lines)
    result = seed_evaluation()
    who2022 = result["guidelines"]["who2022"]
    first = result.get("summary") or who2022.get("summary") or "undetermined: " + " or ".join(who2022["possible_categories"])
    assert lines[0].strip() and flat(" ".join(lines[:6])).startswith(flat(first)[:40]) and flat(first) in flat(" ".join(lines[:16]))
    # the separating test right under the bottom lines
    separating = next(i for i, line in enumerate(lines) if line.startswith("Separating test"))
    assert separating <= 16 and who2022["next_tests"][0]["test"] in flat(" ".join(lines[separating:separating + 2]))
    assert "KEY FINDINGS" in lines[separating + 1]


def test_the_default_output_names_the_key_findings_and_cites_by_number() -> None:
    output = flat(run(str(SEED)).output)
    for label in ("Skin", "MCAS", "Tryptase", "Episodes", "REMA", "Omalizumab", "Adrenaline", "Treatment"):
        assert f" {label} " in f" {output}", label
    cited = set(re.findall(r"\[(\d+)\]", output.split("SOURCES")[0]))
    listed = set(re.findall(r"\[(\d+)\] ", output.split("SOURCES")[1]))
    assert cited and cited == listed
    assert "http" not in output.split("SOURCES")[0], "a source's text in the body instead of its number"


def test_rema_s_caveat_stands_beside_the_score() -> None:
    output = run(str(SEED)).output
    rema_row = flat(output.split("REMA", 1)[1].split("Omalizumab", 1)[0])
    assert "7" in rema_row and "without skin lesions" in rema_row.lower()


def test_the_treatment_escalation_is_in_the_text() -> None:
    result = seed_evaluation()
    output = flat(run(str(SEED)).output)
    assert result["treatment"]["anti_mediator"]["next_options"][0]["name"] in output
    details = flat(run("--details", str(SEED), columns=400).output)
    for step in result["treatment"]["anti_mediator"]["steps"]:
        for option in step["options"]:
            assert option["name"] in details


def test_details_show_every_criterion_and_every_warning() -> None:
    result = seed_evaluation()
    output = flat(run("--details", str(SEED), columns=400).output)
    for guideline in result["guidelines"].values():
        for key in ("criteria", "b_findings", "c_findings", "variant_criteria"):
            for item in guideline.get(key) or []:
                assert item["id"].replace("_", " ") in output, item["id"]
    for warning in result["warnings"]:
        assert flat(warning) in output, warning
    short = run(str(SEED)).output
    assert "warnings" in short and "--details" in short


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_no_line_is_wider_than_the_terminal(columns: int) -> None:
    done = run("--details", str(SEED), columns=columns)
    assert done.exit_code == 0
    assert max(len(line) for line in done.output.splitlines()) <= columns


def test_no_argument_says_what_to_give() -> None:
    done = run()
    assert done.exit_code == 2
    assert "CASE.json" in done.stderr and "--patient ID" in done.stderr and "not both" not in done.stderr
    both = run(str(SEED), "--patient", "p1")
    assert both.exit_code == 2 and "not both" in both.stderr

"""No mirror, aggregator or repository file in what a clinician sees (issue 15 §4).

Every URL in the evaluation JSON (the seed case and every scenario file), the
CLI text and the HTML report must point to a host of ``tests.sources.ALLOWED_HOSTS``,
and nothing may cite ``docs/…md``, a ``.py`` file, ``/work/`` or a seed file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mastcds import evaluate
from mastcds.case import load_case
from mastcds.report.html import render_report_html
from mastcds.rules.dosing.epinephrine import epinephrine_autoinjector
from mastcds.rules.dosing.omalizumab import omalizumab_csu_dose, omalizumab_dose
from mastcds.rules.prognosis.mars import mars
from tests.sources import findings, problems

ROOT = Path(__file__).resolve().parents[1]
SEED_PATH = ROOT / "examples" / "seed-case.json"
SEED = json.loads(SEED_PATH.read_text(encoding="utf-8"))
SCENARIOS = ROOT / "tests" / "scenarios"


def _merged(base: Any, changes: Any) -> Any:
    if isinstance(base, dict) and isinstance(changes, dict):
        return {**base, **{key: _merged(base.get(key), value) for key, value in changes.items()}}
    return changes


def _case_outputs() -> list[Any]:
    """(id, evaluation JSON) for the seed case and every case of every scenario file."""
    outputs = [pytest.param(evaluate(SEED), id="seed case")]
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.name == "dosing.yaml":
            continue
        scenarios = data["scenarios"] if isinstance(data, dict) else data
        for scenario in scenarios:
            base = json.loads(json.dumps(SEED)) if scenario.get("base") == "seed" else {"patient": {}}
            document = _merged(base, scenario.get("case", {}))
            outputs.append(pytest.param(evaluate(document), id=f"{path.stem}: {scenario['name']}"))
    return outputs


def _dosing_outputs() -> list[Any]:
    """The JSON of every dosing.yaml scenario (omalizumab, adrenaline, MARS), as the API and the CLI print it."""
    data = yaml.safe_load((SCENARIOS / "dosing.yaml").read_text(encoding="utf-8"))
    outputs = []
    for s in data["omalizumab"]:
        dose = omalizumab_dose(s["ige_iu_ml"], s["weight_kg"], s["table"], indication_off_label=s.get("off_label", False))
        outputs.append(pytest.param(dose.as_dict(), id=f"omalizumab: {s['name']}"))
    for s in data["epinephrine"]:
        device = epinephrine_autoinjector(s.get("weight_kg"), s.get("age_years"), s["jurisdiction"])
        outputs.append(pytest.param(device.as_dict(), id=f"epinephrine: {s['name']}"))
    for s in data["mars"]:
        score = mars(s["age_years"], s["hemoglobin_g_dl"], s["platelets_10e9_l"], s["hmr_mutated"], s.get("hmr_mutated_genes"))
        outputs.append(pytest.param(score.as_dict(), id=f"mars: {s['name']}"))
    for label in ("eu", "us"):
        outputs.append(pytest.param(omalizumab_csu_dose(label).as_dict(), id=f"omalizumab csu: {label}"))
    return outputs


CASE_OUTPUTS = _case_outputs()


def test_every_scenario_file_is_read() -> None:
    files = {path.stem for path in SCENARIOS.glob("*.yaml")}
    ids = {param.id.split(":")[0] for param in CASE_OUTPUTS}
    assert files and files - {"dosing"} <= ids and len(CASE_OUTPUTS) > 50


@pytest.mark.parametrize("evaluation", CASE_OUTPUTS)
def test_evaluation_json_cites_no_mirror(evaluation: dict[str, Any]) -> None:
    assert not findings(evaluation)


@pytest.mark.parametrize("output", _dosing_outputs())
def test_dose_and_score_json_cites_no_mirror(output: dict[str, Any]) -> None:
    assert findings(output) == []
    assert output["references"] and all(ref["url"] is None or ref["url"].startswith("https://") for ref in output["references"])


def test_the_seed_evaluation_gives_links_a_clinician_can_follow() -> None:
    evaluation = evaluate(SEED)
    wao = evaluation["episodes"][0]["wao2020_criteria"][0]
    assert wao["references"][0]["url"] == "https://doi.org/10.1016/j.waojou.2020.100472"
    assert wao["references"][0]["secondary"] and "secondary source" in wao["source"]
    assert evaluation["omalizumab"]["references"][0]["key"] == "xolair_eu_smpc"
    assert evaluation["rema"]["cutoff"]["references"][0]["key"] == "mcmurray2024"
    assert evaluation["cutaneous"]["criteria"][0]["references"][0]["key"] == "hartmann2016"


def _cli_text(*args: str) -> str:
    """``mastcds evaluate`` of the seed case as a user runs it, wide enough that no URL is wrapped."""
    done = subprocess.run(
        [sys.executable, "-m", "mastcds", "evaluate", str(SEED_PATH), *args],
        env={**os.environ, "COLUMNS": "4000"}, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_text_shows_nothing_off_the_list() -> None:
    assert not problems(_cli_text())


def _report() -> str:
    return render_report_html(load_case(SEED), evaluate(SEED))


def test_report_shows_nothing_off_the_list() -> None:
    html = _report()
    assert not problems(html)
    assert '<a href="https://doi.org/10.1016/j.jaci.2015.08.034">' in html  # a source printed with its link


def test_the_checks_fail_on_what_they_look_for() -> None:
    assert problems("see https://www.rarediseaseadvisor.com/x and docs/criteria-reference.md 7.1")
    assert problems("read in /work/shared/design/ecosystem.md") and problems("rules/who2022.py")
    assert not problems("Khoury JD et al. Leukemia 2022;36:1703-19. https://doi.org/10.1038/s41375-022-01613-1")
    assert findings({"rema": {"items": [{"source": "http://ash-sap.org/view-large/1"}]}})
    assert findings({"guidelines": {"who2022": {"source": "http://ash-sap.org/view-large/1"}}})
    assert not findings({"guidelines": {"who2022": {"source": "Khoury JD et al. https://doi.org/10.1038/x"}}})

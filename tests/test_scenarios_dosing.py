"""Runs tests/scenarios/dosing.yaml: omalizumab, adrenaline and MARS scenarios a clinician can read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mastcds.rules.dosing.epinephrine import epinephrine_autoinjector
from mastcds.rules.dosing.omalizumab import omalizumab_dose
from mastcds.rules.prognosis.mars import mars

SCENARIOS = yaml.safe_load((Path(__file__).parent / "scenarios" / "dosing.yaml").read_text(encoding="utf-8"))


def check(result: dict[str, Any], expect: dict[str, Any]) -> None:
    for key, value in expect.items():
        if key == "warnings_mention":
            for words in value:
                assert any(words in warning for warning in result["warnings"]), (words, result["warnings"])
        else:
            assert result[key] == value, (key, result[key], value)


def cases(section: str) -> list[Any]:
    return [pytest.param(scenario, id=scenario["name"]) for scenario in SCENARIOS[section]]


def test_every_scenario_says_why() -> None:
    for section in ("omalizumab", "epinephrine", "mars"):
        assert SCENARIOS[section], section
        for scenario in SCENARIOS[section]:
            assert scenario.get("why"), scenario["name"]


@pytest.mark.parametrize("scenario", cases("omalizumab"))
def test_omalizumab(scenario: dict[str, Any]) -> None:
    dose = omalizumab_dose(
        scenario["ige_iu_ml"], scenario["weight_kg"], scenario["table"], indication_off_label=scenario.get("off_label", False)
    )
    check(dose.as_dict(), scenario["expect"])


@pytest.mark.parametrize("scenario", cases("epinephrine"))
def test_epinephrine(scenario: dict[str, Any]) -> None:
    device = epinephrine_autoinjector(scenario.get("weight_kg"), scenario.get("age_years"), scenario["jurisdiction"])
    check(device.as_dict(), scenario["expect"])


@pytest.mark.parametrize("scenario", cases("mars"))
def test_mars(scenario: dict[str, Any]) -> None:
    result = mars(
        scenario["age_years"],
        scenario["hemoglobin_g_dl"],
        scenario["platelets_10e9_l"],
        scenario["hmr_mutated"],
        scenario.get("hmr_mutated_genes"),
    )
    check(result.as_dict(), scenario["expect"])

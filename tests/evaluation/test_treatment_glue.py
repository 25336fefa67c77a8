"""The glue from a Case to the omalizumab, adrenaline, prognosis and treatment sections."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastcds.case import load_case
from mastcds.evaluation import treatment
from tests.schema_strategy import valid_cases

SEED = json.loads((Path(__file__).resolve().parents[2] / "examples" / "seed-case.json").read_text(encoding="utf-8"))


def case(**changes: Any):
    document = copy.deepcopy(SEED)
    for path, value in changes.items():
        node = document
        *parents, leaf = path.split("__")
        for key in parents:
            node = node[key]
        if value is ...:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return load_case(document)


def test_seed_omalizumab_is_the_contract_dose_with_the_us_alternative() -> None:
    warnings: list[str] = []
    dose = treatment.omalizumab(case(), warnings)
    assert dose["within_table"] is False and dose["dose_mg"] is None
    assert dose["nearest_cell"] == {"dose_mg": 300, "interval_weeks": 4}
    assert dose["injections"] == [{"syringe_mg": 150, "count": 2}]
    assert any("off-label" in w for w in dose["warnings"]) and any("below" in w for w in dose["warnings"])
    [us] = dose["alternatives"]
    assert us["table"] == "us-pi-asthma" and us["nearest_cell"] == {"dose_mg": 300, "interval_weeks": 4}
    assert any(w.startswith("omalizumab (eu-smpc-asthma): off-label") for w in warnings)
    json.dumps(dose)


def test_ige_and_weight_from_dated_results_in_canonical_units() -> None:
    seeded = case(labs__ige_total_iu_ml=..., patient__weight_kg=...)
    seeded.lab_results.clear()
    document = seeded.to_document()
    document["lab_results"] = [
        {"test": "ige_total", "value": 0.3, "unit": "kIU/mL", "date": "2010-01"},  # 300 IU/mL
        {"test": "ige_total", "value": 150, "unit": "kU/L", "date": "2011-06"},
        {"test": "weight", "value": 143.3, "unit": "lb", "date": "2011-05"},  # 65.0 kg
    ]
    dose = treatment.omalizumab(load_case(document), [])
    assert dose["within_table"] is True and (dose["dose_mg"], dose["interval_weeks"]) == (300, 4)
    assert dose["cell"] == {"ige_band": ">100-200", "weight_band": ">60-70"}


def test_ige_measured_only_after_omalizumab_started_gives_no_dose() -> None:
    document = copy.deepcopy(SEED)
    del document["labs"]["ige_total_iu_ml"]
    document["lab_results"] = [r for r in document["lab_results"] if r["test"] != "ige_total"]
    document["lab_results"].append({"test": "ige_total", "value": 400, "unit": "IU/mL", "date": "2012-06"})
    warnings: list[str] = []
    assert treatment.omalizumab(load_case(document), warnings) is None
    assert any("after omalizumab started" in w for w in warnings)
    document["lab_results"].append({"test": "ige_total", "value": 25, "unit": "IU/mL", "date": "2011-09"})
    assert treatment.omalizumab(load_case(document), [])["nearest_cell"]["dose_mg"] == 300


def test_missing_weight_gives_no_dose() -> None:
    seeded = case(patient__weight_kg=...)
    document = seeded.to_document()
    document["lab_results"] = [r for r in document["lab_results"] if r["test"] != "weight"]
    assert treatment.omalizumab(load_case(document), []) is None


def test_asthma_indication_is_not_off_label() -> None:
    document = copy.deepcopy(SEED)
    for item in document["treatments"]:
        if item["drug"] == "omalizumab":
            item["indication"] = "severe allergic asthma"
    dose = treatment.omalizumab(load_case(document), [])
    assert not any("off-label" in w for w in dose["warnings"])


def test_epinephrine_for_the_seed_and_a_warning_when_no_device_fits() -> None:
    assert treatment.epinephrine_autoinjector_mg(case(), []) == 0.3
    warnings: list[str] = []
    assert treatment.epinephrine_autoinjector_mg(case(patient__weight_kg=7), warnings) is None
    assert warnings and "specialist decision" in warnings[0]


@pytest.mark.parametrize(
    ("categories", "mars_shown", "applies"),
    [
        ({"who2022": "ISM", "icc2022": "ISM", "who2016": "ISM"}, False, None),
        ({"who2022": "ASM", "icc2022": "ASM", "who2016": "ASM"}, True, "yes"),
        ({"who2022": None, "icc2022": "SM-AMN", "who2016": None}, True, "yes"),
        ({"who2022": ["ISM", "MCL"], "icc2022": None, "who2016": None}, True, "only if"),
        ({"who2022": None, "icc2022": None, "who2016": None}, False, None),
    ],
)
def test_mars_only_when_advanced_sm_is_certain_or_possible(categories, mars_shown: bool, applies: str | None) -> None:
    warnings: list[str] = []
    result = treatment.prognosis(case(), categories, warnings)
    assert result["ipsm"] is None and result["not_computed"]["ipsm"].startswith("IPSM (Sperr WR et al.")
    assert result["not_computed"]["maps"].startswith("MAPS (Pardanani A")
    assert (result["mars"] is not None) is mars_shown
    if mars_shown:
        assert result["mars"]["applies"].startswith(applies)
        assert result["mars"]["items"][0]["status"] == "not_met"  # age 31
        assert (applies == "only if") == bool(warnings)
    else:
        assert "advanced SM" in result["not_computed"]["mars"]


def test_mars_reads_blood_counts_from_labs_or_dated_results() -> None:
    document = copy.deepcopy(SEED)
    document["patient"]["age_years"] = 70
    document["labs"]["hemoglobin_g_dl"] = 9
    del document["bone_marrow"]["cytopenia_or_cytosis"]  # the seed's "no cytopenia" reading stands for missing counts
    document["lab_results"].append({"test": "platelets", "value": 50, "unit": "10^9/L", "date": "2011-09"})
    document["molecular"]["srsf2_asxl1_runx1_mutated"] = False
    result = treatment.prognosis(load_case(document), {"who2022": "ASM"}, [])["mars"]
    assert (result["score"], result["risk_group"]) == (3, "high")


def test_treatment_plan_at_the_evaluation_date() -> None:
    warnings: list[str] = []
    plan = treatment.treatment_plan(case(), None, warnings)
    assert plan["as_of"] == "2011-09" and plan["label"] == "usual escalation (not a guideline)"
    assert plan["anti_mediator"]["current_step"] == 4
    assert plan["epinephrine_autoinjector"]["dose_mg"] == 0.3
    assert plan["venom_immunotherapy"] is None and warnings == []
    later = treatment.treatment_plan(case(evaluation_date="2013"), None, [])
    assert later["anti_mediator"]["current_step"] == 4  # omalizumab still running, the others ended in 2012
    steps = {option["drug"]: option["status"] for step in later["anti_mediator"]["steps"] for option in step["options"]}
    assert steps["glucocorticoid"] == "ended" and steps["h1_antihistamine"] == "current"
    undated = treatment.treatment_plan(case(evaluation_date=...), None, [])
    assert undated["as_of"] is None and undated["anti_mediator"]["current_step"] == 4


def test_treatment_warnings_reach_the_shared_list() -> None:
    document = copy.deepcopy(SEED)
    document["treatments"].append({"drug": "midostaurin", "dose_mg": 100, "interval": "bid", "start_date": "2011-01"})
    warnings: list[str] = []
    treatment.treatment_plan(load_case(document), "ISM", warnings)
    assert warnings and warnings[0].startswith("treatment: dose/indication mismatch")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_cases(), st.sampled_from([None, "ISM", "ASM", ["ISM", "MCL"], ["none", "CM"]]))
def test_a_valid_case_never_makes_the_glue_raise(document: dict, category) -> None:
    checked = load_case(document)
    warnings: list[str] = []
    dose = treatment.omalizumab(checked, warnings)
    assert dose is None or dose["within_table"] in (True, False)
    treatment.epinephrine_autoinjector_mg(checked, warnings)
    result = treatment.prognosis(checked, {"who2022": category, "icc2022": None}, warnings)
    assert result["ipsm"] is None
    json.dumps(treatment.treatment_plan(checked, category, warnings))
    assert all(isinstance(w, str) and w for w in warnings)

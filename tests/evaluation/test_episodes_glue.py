"""The episode sections from whole cases: seed acceptance, value sources, ids, ages, warnings, robustness."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from mastcds.case import load_case
from mastcds.evaluation import episodes as glue
from tests.schema_strategy import valid_cases

SEED = json.loads((Path(__file__).resolve().parents[2] / "examples" / "seed-case.json").read_text(encoding="utf-8"))


def seed(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(SEED)
    document.update(changes)
    return document


def sections(document: dict[str, Any], sm: str = "unknown") -> tuple[dict[str, Any], list[str]]:
    case = load_case(document)
    warnings: list[str] = []
    out = {
        "tryptase": glue.tryptase(case, warnings),
        "episodes": glue.episodes(case, warnings),
        "rema": glue.rema(case, warnings),
        "mcas": glue.mcas(case, sm, warnings),
    }
    return out, warnings


# ---------------------------------------------------------------- seed acceptance


def test_seed_episodes() -> None:
    out, _ = sections(SEED, "met")
    by_id = {e["episode_id"]: e for e in out["episodes"]}
    assert list(by_id) == ["e1", "e2", "e3", "e4"]
    for ident in ("e1", "e2", "e3"):
        assert (by_id[ident]["anaphylaxis_wao2020"], by_id[ident]["anaphylaxis_niaid2006"], by_id[ident]["severity_brown"]) == (
            "met",
            "met",
            "severe",
        )
        assert [c["status"] for c in by_id[ident]["wao2020_criteria"]] == ["met", "not_met"]
    e4 = by_id["e4"]
    assert (e4["anaphylaxis_wao2020"], e4["anaphylaxis_niaid2006"], e4["severity_brown"]) == ("unknown", "unknown", None)
    assert e4["date"] == "2011-09" and e4["trigger"] == "none_identified"


def test_seed_tryptase_and_rema() -> None:
    out, warnings = sections(SEED)
    tryptase = out["tryptase"]
    assert tryptase["baseline_ng_ml"] == 50.9 and tryptase["hat_adjusted_baseline_ng_ml"] is None
    assert [(r["episode_id"], r["threshold_ng_ml"], r["status"]) for r in tryptase["episodes"]] == [
        (ident, 63.08, "unknown") for ident in ("e1", "e2", "e3", "e4")
    ]
    rema = out["rema"]
    assert (rema["score"], rema["min"], rema["max"], rema["clonal_likely"]) == (7, 7, 7, True)
    assert len(rema["items"]) == 4 and rema["applicable"] is False
    assert any("WITHOUT skin lesions" in w for w in warnings)


def test_seed_mcas_is_open_for_want_of_an_event_tryptase() -> None:
    out, _ = sections(SEED, "met")
    mcas = out["mcas"]
    assert mcas["status"] == "unknown" and mcas["variant"] is None
    assert [c["status"] for c in mcas["criteria"]] == ["met", "unknown", "met"]
    assert mcas["possible_variants"] == ["primary"] and mcas["monoclonal"] is False


def test_seed_with_an_acute_tryptase_meets_mcas_as_primary() -> None:
    document = seed()
    document["lab_results"].append({"test": "tryptase", "value": 80, "unit": "ug/L", "date": "2011-09", "context": "acute", "episode_id": "e4"})
    out, warnings = sections(document, "met")
    row = out["tryptase"]["episodes"][3]
    assert (row["acute_ng_ml"], row["status"], row["acute_source"]) == (80.0, "met", "lab_results")
    assert out["mcas"]["status"] == "met" and out["mcas"]["variant"] == "primary"
    assert any("no sampling time" in w for w in warnings)


# ---------------------------------------------------------------- where values come from


def test_baseline_precedence() -> None:
    document = seed(labs={"ige_total_iu_ml": 25})
    case = load_case(document)
    assert glue.baseline_tryptase(case) == 74.1  # latest baseline lab result (2012), not the 2011 one
    out, _ = sections(document)
    assert out["tryptase"]["baseline_source"].startswith("lab_results[1]")
    assert out["tryptase"]["episodes"][0]["threshold_ng_ml"] == pytest.approx(90.92)
    assert glue.baseline_tryptase(load_case(seed(labs={}, lab_results=[]))) is None


def test_acute_and_baseline_only_from_tryptase_with_the_right_context() -> None:
    document = seed(labs={}, lab_results=[
        {"test": "tryptase", "value": 9, "unit": "ng/mL", "date": "2013", "context": "unknown"},
        {"test": "tryptase", "value": 8, "unit": "ng/mL", "date": "2013", "context": "acute", "episode_id": "e1"},
        {"test": "ige_total", "value": 30, "unit": "IU/mL", "date": "2014", "context": "baseline"},
    ])
    out, warnings = sections(document)
    assert out["tryptase"]["baseline_ng_ml"] is None
    assert out["tryptase"]["episodes"][0]["acute_ng_ml"] == 8 and out["tryptase"]["episodes"][0]["threshold_ng_ml"] is None
    assert any("no baseline" in w for w in warnings)


def test_episode_field_wins_over_lab_results_with_a_warning() -> None:
    document = seed()
    document["episodes"][0].update(acute_tryptase_ng_ml=70, acute_tryptase_minutes_after_onset=90)
    document["lab_results"].append({"test": "tryptase", "value": 60, "unit": "ng/mL", "date": "2010", "context": "acute", "episode_id": "e1"})
    out, warnings = sections(document)
    row = out["tryptase"]["episodes"][0]
    assert (row["acute_ng_ml"], row["minutes_after_onset"], row["status"]) == (70, 90, "met")
    assert row["nih_ratio"] == pytest.approx(70 / 50.9) and row["nih_ratio_above_1_685"] is False
    assert any("both on the episode and in lab_results" in w for w in warnings)


def test_highest_linked_acute_value_is_used() -> None:
    document = seed()
    for value in (50, 65, 55):
        document["lab_results"].append({"test": "tryptase", "value": value, "unit": "ng/mL", "date": "2010", "context": "acute", "episode_id": "e1"})
    out, _ = sections(document)
    assert out["tryptase"]["episodes"][0]["acute_ng_ml"] == 65 and out["tryptase"]["episodes"][0]["status"] == "met"


def test_late_negative_sample_is_unknown() -> None:
    document = seed()
    document["episodes"][0].update(acute_tryptase_ng_ml=60, acute_tryptase_minutes_after_onset=300)
    out, _ = sections(document)
    assert out["tryptase"]["episodes"][0]["status"] == "unknown"


def test_baseline_drawn_the_day_after_an_episode_is_questioned() -> None:
    document = seed(labs={})
    document["episodes"][0]["date"] = "2011-09-01"
    document["lab_results"] = [{"test": "tryptase", "value": 50.9, "unit": "ug/L", "date": "2011-09-02", "context": "baseline"}]
    _, warnings = sections(document)
    assert any("within a day of episode e1" in w for w in warnings)


# ---------------------------------------------------------------- ids, ages


def test_episodes_without_id_get_positional_ids_everywhere() -> None:
    document = seed()
    for episode in document["episodes"]:
        episode.pop("id")
    document["episodes"][0]["id"] = "e2"  # the second episode must not also be called e2
    out, _ = sections(document)
    ids = [e["episode_id"] for e in out["episodes"]]
    assert ids == ["e2", "e2-2", "e3", "e4"]
    assert [r["episode_id"] for r in out["tryptase"]["episodes"]] == ids
    assert glue.episode_ids(load_case(document)) == ids


@pytest.mark.parametrize(
    ("patient", "evaluated", "date", "sbp", "expected"),
    [
        ({"birth_date": "2005-06-15"}, None, "2010-06-14", 77, "met"),  # the day before the 5th birthday: limit 78
        ({"birth_date": "2005-06-15"}, None, "2010-06-14", 78, "not_met"),
        ({"birth_date": "2005-06-15"}, None, "2010-06-15", 79, "met"),  # 5 years old: limit 80
        ({"birth_date": "2005-06-15"}, None, "2010-06-15", 80, "not_met"),
        ({"birth_date": "2005"}, None, "2010", 79, "unknown"),  # 4 or 5: limit 78 or 80
        ({"age_years": 40}, "2020", "2019", 89, "met"),
        ({"age_years": 12}, "2020-01", "2015-06", 85, "unknown"),  # 7 or 8 years at the episode: limit 84 or 86
        ({"age_years": 12}, "2020-01", "2015-06", 83, "met"),
        ({"age_years": 12}, "2020-01", "2015-06", 86, "not_met"),
        ({"age_years": 40}, None, "2019", 89, "unknown"),  # no evaluation date: age at the episode unknown
    ],
)
def test_age_at_the_episode_sets_the_bp_limit(patient, evaluated, date, sbp, expected) -> None:
    document: dict[str, Any] = {
        "patient": patient,
        "episodes": [{"id": "x", "date": date, "trigger": "food", "systolic_bp_mmhg": sbp, "baseline_systolic_bp_mmhg": sbp}],
    }
    if evaluated:
        document["evaluation_date"] = evaluated
    out, warnings = sections(document)
    assert out["episodes"][0]["niaid2006_criteria"][2]["status"] == expected
    assert any("depends on the age at the episode" in w for w in warnings) == (expected == "unknown")


def test_age_bounds() -> None:
    case = load_case({"patient": {"birth_date": "2000-02-29"}, "episodes": [{"date": "2001-02-27"}, {"date": "2001-02-28"}]})
    below, at = (glue.age_at_episode(case, e) for e in case.episodes)
    assert below[0] < 1 <= at[0]
    case = load_case({"patient": {"age_years": 31}, "evaluation_date": "2011-09", "episodes": [{"date": "2010"}, {}]})
    low, high = glue.age_at_episode(case, case.episodes[0])
    assert 29 < low < 30 and 31 < high < 32
    assert glue.age_at_episode(case, case.episodes[1]) == (None, None)


def test_episode_before_birth_is_reported_not_graded_as_a_newborn() -> None:
    document = {"patient": {"birth_date": "2010-05"}, "episodes": [{"date": "2009", "systolic_bp_mmhg": 60}]}
    case = load_case(document)
    assert glue.age_at_episode(case, case.episodes[0]) == (None, None)
    _, warnings = sections(document)
    assert any("before the birth date" in w for w in warnings)


# ---------------------------------------------------------------- REMA and MCAS from the record


@pytest.mark.parametrize(
    ("episodes", "skin", "syncope"),
    [
        ([{"urticaria": False, "angioedema": False, "presyncope": True}], False, True),
        ([{"urticaria": False, "angioedema": False}, {"urticaria": True}], True, None),
        ([{"urticaria": False, "angioedema": None, "loss_of_consciousness": False, "presyncope": False}], None, False),
        ([{"urticaria": False, "angioedema": False}, {}], None, None),
        ([], None, None),
    ],
)
def test_rema_items_from_the_worst_episode(episodes, skin, syncope) -> None:
    case = load_case({"patient": {}, "episodes": episodes})
    assert glue.rema_items(case) == (skin, syncope)


def test_rema_range_and_warnings() -> None:
    document = {
        "patient": {"sex": "female"},
        "skin": {"lesions": "none"},
        "molecular": {"tpsab1_extra_alpha_copies": 2},
        "labs": {"baseline_tryptase_ng_ml": 30},
        "episodes": [{"urticaria": False, "angioedema": False}],
    }
    out, warnings = sections(document)
    assert (out["rema"]["score"], out["rema"]["min"], out["rema"]["max"], out["rema"]["clonal_likely"]) == (None, 2, 5, True)
    assert out["rema"]["applicable"] is True
    assert any("HαT-adjusted value is 10 ng/mL" in w for w in warnings)
    assert not any("WITHOUT skin lesions" in w for w in warnings)
    _, warnings = sections({"patient": {}})
    assert any("skin examination is not recorded" in w for w in warnings)


def test_mcas_monoclonal_without_skin_lesions_or_sm() -> None:
    document = {
        "patient": {},
        "skin": {"lesions": "none"},
        "molecular": {"kit_d816v": "detected", "kit_d816v_sample": "peripheral_blood"},
        "labs": {"baseline_tryptase_ng_ml": 10},
        "mediator_symptoms": {"skin": True, "cardiovascular": True, "responds_to_mediator_therapy": True},
        "episodes": [{"id": "a", "acute_tryptase_ng_ml": 20, "acute_tryptase_minutes_after_onset": 60}],
    }
    out, _ = sections(document, "not_met")
    assert (out["mcas"]["status"], out["mcas"]["variant"], out["mcas"]["monoclonal"]) == ("met", "primary", True)
    out, warnings = sections({**document, "molecular": {"kit_d816v": "not_detected", "kit_d816v_sample": "bone_marrow"}, "bone_marrow": {"cd25": False}}, "not_met")
    assert (out["mcas"]["status"], out["mcas"]["variant"], out["mcas"]["monoclonal"]) == ("met", None, False)
    assert out["mcas"]["possible_variants"] == ["secondary", "idiopathic"]
    assert any("IgE allergy" in w for w in warnings)


# ---------------------------------------------------------------- any valid case


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_cases())
def test_any_valid_case_gives_well_formed_sections(document: dict[str, Any]) -> None:
    out, warnings = sections(document, "unknown")
    ids = [e["episode_id"] for e in out["episodes"]]
    assert len(set(ids)) == len(ids) == len(document.get("episodes", []))
    assert [r["episode_id"] for r in out["tryptase"]["episodes"]] == ids
    statuses = {"met", "not_met", "unknown"}
    for episode in out["episodes"]:
        assert {episode["anaphylaxis_wao2020"], episode["anaphylaxis_niaid2006"]} <= statuses
        assert episode["severity_brown"] in (None, "mild", "moderate", "severe")
    rema = out["rema"]
    assert rema["min"] <= rema["max"] and (rema["score"] is None) == (rema["min"] < rema["max"])
    assert out["mcas"]["status"] in statuses and out["mcas"]["variant"] in (None, "primary", "secondary", "idiopathic")
    assert all(isinstance(w, str) and w for w in warnings)
    json.dumps(out)


# ---------------------------------------------------------------- pinned details of the sections


@pytest.mark.parametrize(
    ("episodes", "skin", "syncope"),
    [
        ([{}, {"angioedema": True}], True, None),  # present in a later episode outweighs an unknown earlier one
        ([{"urticaria": True, "angioedema": None, "presyncope": None, "loss_of_consciousness": True}], True, True),
        ([{"presyncope": False}], None, None),
        ([{"urticaria": None, "angioedema": False, "presyncope": False, "loss_of_consciousness": False}] * 2, None, False),
        ([{"urticaria": False, "angioedema": False}] * 3, False, None),
    ],
)
def test_rema_items_kleene_details(episodes, skin, syncope) -> None:
    case = load_case({"patient": {}, "episodes": episodes})
    assert glue.rema_items(case) == (skin, syncope)


def test_linked_acute_values_are_sorted_out_per_episode() -> None:
    document = seed(lab_results=[
        {"test": "tryptase", "value": 70, "unit": "ng/mL", "date": "2010", "context": "acute", "episode_id": "e2"},
        {"test": "tryptase", "value": 90, "unit": "ng/mL", "date": "2010", "context": "acute", "episode_id": "e2"},
        {"test": "tryptase", "value": 99, "unit": "ng/mL", "date": "2010", "context": "baseline", "episode_id": "e1"},
        {"test": "tryptase", "value": 98, "unit": "ng/mL", "date": "2010", "context": "acute"},
        {"test": "tryptase", "value": 40, "unit": "ug/L", "date": "2010", "context": "acute", "episode_id": "e3"},
        {"test": "ige_total", "value": 97, "unit": "IU/mL", "date": "2010", "context": "acute", "episode_id": "e1"},
    ])
    document["episodes"][2].update(acute_tryptase_ng_ml=66, acute_tryptase_minutes_after_onset=45)
    document["lab_results"].append(
        {"test": "tryptase", "value": 64, "unit": "ng/mL", "date": "2011", "context": "acute", "episode_id": "e4"}
    )
    out, warnings = sections(document)
    rows = [(r["episode_id"], r["acute_ng_ml"], r["acute_source"], r["minutes_after_onset"], r["status"]) for r in out["tryptase"]["episodes"]]
    assert rows == [
        ("e1", None, None, None, "unknown"),
        ("e2", 90, "lab_results", None, "met"),
        ("e3", 66, "episode field", 45, "met"),
        ("e4", 64, "lab_results", None, "met"),
    ]
    assert warnings == [
        "Episode e2: the acute tryptase has no sampling time; a rise counts, but without a rise the 20% + 2 rule stays "
        "open until the time after onset (consensus window 1 to 4 h) is recorded.",
        "Episode e3 has an acute tryptase both on the episode and in lab_results; the episode's value was used.",
        "Episode e4: the acute tryptase has no sampling time; a rise counts, but without a rise the 20% + 2 rule stays "
        "open until the time after onset (consensus window 1 to 4 h) is recorded.",
        "REMA was derived in patients WITHOUT skin lesions of mastocytosis; this patient has skin lesions "
        "(maculopapular unspecified), so the score is shown for information only.",
    ]
    assert [r["threshold_ng_ml"] for r in out["tryptase"]["episodes"]] == [63.08] * 4


def test_an_unchecked_negative_baseline_is_refused_only_when_an_episode_needs_the_threshold() -> None:
    from mastcds.case import Case

    lab = {"test": "tryptase", "value": -5, "unit": "ng/mL", "date": "2010", "context": "baseline"}
    case = Case.model_validate({"patient": {}, "lab_results": [lab]})  # load_case would refuse the value
    assert glue.tryptase(case, [])["baseline_ng_ml"] == -5
    case = Case.model_validate({"patient": {}, "lab_results": [lab], "episodes": [{}]})
    with pytest.raises(ValueError, match="baseline tryptase must be >= 0"):
        glue.tryptase(case, [])


@pytest.mark.parametrize(
    ("episode", "joined"),
    [
        ({"dyspnoea": True}, True),
        ({"wheeze_bronchospasm": True}, True),
        ({"dyspnoea": False, "wheeze_bronchospasm": False}, False),
        ({"dyspnoea": False}, None),
        ({}, None),
        ({"dyspnoea_wheeze_bronchospasm": True, "dyspnoea": True, "wheeze_bronchospasm": False}, True),
    ],
)
def test_the_respiratory_signs_are_read_from_the_fields_recorded_apart(episode: dict, joined) -> None:
    from mastcds.case import Episode
    from mastcds.evaluation.episodes import respiratory_signs

    assert respiratory_signs(Episode(**episode)) is joined

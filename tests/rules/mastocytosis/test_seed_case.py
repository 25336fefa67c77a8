"""The seed patient through the glue (evaluation/sm.py): the acceptance criteria of the SM section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mastcds.case import load_case
from mastcds.evaluation.sm import cutaneous, guidelines, sm_findings_from_case

SEED = json.loads((Path(__file__).resolve().parents[3] / "examples" / "seed-case.json").read_text(encoding="utf-8"))
EDITIONS = ("who2022", "icc2022", "who2016")
CONTRACT_KEYS = {"sm_criteria", "category", "possible_categories", "criteria", "b_findings", "c_findings", "next_tests"}


def evaluate_seed(**bone_marrow):
    document = json.loads(json.dumps(SEED))
    document["bone_marrow"].update(bone_marrow)
    warnings: list[str] = []
    case = load_case(document)
    return guidelines(case, warnings), cutaneous(case, warnings), warnings


def by_id(items):
    return {item["id"]: item for item in items}


@pytest.mark.parametrize("edition", EDITIONS)
def test_seed_case_sm_met_ism_or_mcl_pending_the_smear(edition) -> None:
    result, _, warnings = evaluate_seed()
    guideline = result[edition]
    assert CONTRACT_KEYS <= set(guideline)
    assert guideline["sm_criteria"] == "met"
    assert guideline["possible_categories"] == ["ISM", "MCL"]
    assert guideline["category"] is None
    assert [t["test"] for t in guideline["next_tests"]] == ["Bone marrow aspirate smear: mast cell count and morphology"]
    criteria = by_id(guideline["criteria"])
    assert criteria["major"]["status"] == "met" and criteria["minor_kit"]["status"] == "met"
    assert criteria["minor_tryptase"]["status"] == "met"
    assert {item["status"] for item in guideline["c_findings"]} == {"not_met"}
    assert warnings == []


@pytest.mark.parametrize("edition", EDITIONS)
def test_seed_case_is_ism_with_a_smear_below_20_percent(edition) -> None:
    result, _, _ = evaluate_seed(aspirate_mast_cells_percent=5)
    assert result[edition]["category"] == "ISM"
    assert result[edition]["possible_categories"] == ["ISM"]
    assert result[edition]["next_tests"] == []


def test_seed_case_b_findings() -> None:
    result, _, _ = evaluate_seed()
    who2022 = by_id(result["who2022"]["b_findings"])
    assert who2022["b3_organomegaly"]["status"] == "met"  # inguinal node 2.1 cm > 2 cm (and a spleen without hypersplenism)
    assert "2.1 cm" in who2022["b3_organomegaly"]["reason"]
    assert who2022["b1_mast_cell_burden"]["status"] == "not_met"  # 10%, 50.9 ng/mL, VAF 0.5%
    assert who2022["b2_other_lineages"]["status"] == "not_met"
    for edition in ("icc2022", "who2016"):
        assert by_id(result[edition]["b_findings"])["b3_organomegaly"]["status"] == "met"


def test_seed_case_skin_is_mpcm_with_systemic_disease() -> None:
    _, skin, _ = evaluate_seed()
    assert skin["status"] == "met" and skin["subtype"] == "MPCM"
    assert skin["diagnosis"] == "SM with skin involvement"
    assert [c["id"] for c in skin["criteria"]] == [
        "cm_major_typical_lesions_darier",
        "cm_minor_skin_infiltrates",
        "cm_minor_kit_in_lesional_skin",
    ]


def test_findings_from_the_case() -> None:
    f = sm_findings_from_case(load_case(SEED))
    assert f.baseline_tryptase_ng_ml == 50.9 and f.lymphadenopathy_max_cm == 2.1
    assert f.other_organ_biopsied is False and f.destructive_sarcoma is None
    document = json.loads(json.dumps(SEED))
    document["other_extracutaneous_organ"] = {"organ": "gut", "destructive_sarcoma": False}
    g = sm_findings_from_case(load_case(document))
    assert g.other_organ_biopsied is True and g.other_organ == "gut" and g.destructive_sarcoma is False


@pytest.mark.parametrize(
    ("bone_marrow", "diagnosis"),
    [
        ({"multifocal_dense_infiltrates": False, "atypical_morphology_over_25_percent": False, "cd25": False, "cd2": False, "cd30": False}, "CM"),
        ({"multifocal_dense_infiltrates": None}, "MIS (provisional: SM not excluded)"),  # marrow histology pending
    ],
)
def test_cutaneous_diagnosis_follows_the_who2022_sm_verdict(bone_marrow, diagnosis) -> None:
    """Without KIT and with a normal tryptase, the skin is CM only once the marrow excludes SM."""
    document = json.loads(json.dumps(SEED))
    document["bone_marrow"].update(bone_marrow)
    document["molecular"]["kit_d816v"] = "not_detected"
    document["molecular"]["kit_d816v_vaf_percent"] = None
    document["molecular"]["other_activating_kit_mutation"] = "none"
    document["labs"]["baseline_tryptase_ng_ml"] = 9
    skin = cutaneous(load_case(document), [])
    assert skin["diagnosis"] == diagnosis

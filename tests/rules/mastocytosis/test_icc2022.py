"""ICC 2022 SM rules: every limit just below, at and just above, and where ICC departs from WHO 2022."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mastcds.rules.mastocytosis import icc2022 as sm_icc2022
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN
from tests.rules.mastocytosis.recorded_ism import ISM, criterion_status


def verdict(**changes):
    return sm_icc2022.evaluate(replace(ISM, **changes))


def status(criterion: str, **changes):
    return criterion_status(verdict(**changes), criterion)



def test_the_baseline_patient_is_ism() -> None:
    result = verdict()
    assert result.sm_criteria is MET and result.category == "ISM" and result.next_tests == ()


NO_MINOR = {
    "atypical_morphology_over_25_percent": False,
    "cd25": False,
    "kit_d816v": "not_detected",
    "kit_d816v_vaf_percent": None,
    "baseline_tryptase_ng_ml": 10,
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (NO_MINOR, MET),  # ICC: the major criterion alone suffices
        ({**NO_MINOR, "multifocal_dense_infiltrates": None}, UNKNOWN),
        ({**NO_MINOR, "multifocal_dense_infiltrates": False}, NOT_MET),
        ({**NO_MINOR, "multifocal_dense_infiltrates": False, "cd25": True, "atypical_morphology_over_25_percent": True}, NOT_MET),
        (
            {**NO_MINOR, "multifocal_dense_infiltrates": False, "cd25": True, "atypical_morphology_over_25_percent": True,
             "baseline_tryptase_ng_ml": 20.1},
            MET,
        ),
    ],
)
def test_sm_rule_major_alone_or_three_minor(changes: dict, expected) -> None:
    assert verdict(**changes).sm_criteria is expected


def test_major_criterion_reason_names_the_immunohistochemistry_requirement() -> None:
    (major,) = [c for c in verdict().criteria if c.id == "major"]
    assert "immunohistochemistry" in major.reason


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"baseline_tryptase_ng_ml": 20}, NOT_MET),
        ({"baseline_tryptase_ng_ml": 20.1}, MET),
        ({"baseline_tryptase_ng_ml": 19.9}, NOT_MET),
        # ICC adoption of the HaT adjustment is unverified: the raw value is compared
        ({"baseline_tryptase_ng_ml": 50, "tpsab1_extra_alpha_copies": 2}, MET),
        ({"associated_hematologic_neoplasm": "MDS"}, NOT_MET),
        ({"associated_hematologic_neoplasm": "CLL"}, MET),
    ],
)
def test_tryptase_minor_criterion(changes: dict, expected) -> None:
    assert status("minor_tryptase", **changes) is expected


def test_hat_note() -> None:
    assert any("HaT" in note for note in verdict(tpsab1_extra_alpha_copies=2).notes)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"infiltration_percent": 30, "baseline_tryptase_ng_ml": 250}, NOT_MET),
        ({"infiltration_percent": 30.1, "baseline_tryptase_ng_ml": 250}, MET),
        ({"infiltration_percent": 29.9, "baseline_tryptase_ng_ml": 250}, NOT_MET),
        ({"infiltration_percent": 50, "baseline_tryptase_ng_ml": 200}, NOT_MET),
        ({"infiltration_percent": 50, "baseline_tryptase_ng_ml": 200.1}, MET),
        ({"infiltration_percent": 50, "baseline_tryptase_ng_ml": 199.9}, NOT_MET),
        ({"infiltration_percent": 50, "baseline_tryptase_ng_ml": 100}, NOT_MET),  # both are required
        ({"infiltration_percent": 10, "baseline_tryptase_ng_ml": 250}, NOT_MET),
        ({"kit_d816v_vaf_percent": 40}, NOT_MET),  # no VAF route in ICC
        ({"infiltration_percent": None, "baseline_tryptase_ng_ml": 250}, UNKNOWN),
        ({"infiltration_percent": None}, NOT_MET),  # tryptase 50 already fails the AND
    ],
)
def test_b1_needs_infiltration_and_tryptase(changes: dict, expected) -> None:
    assert status("b1_mast_cell_burden", **changes) is expected


@pytest.mark.parametrize(("node", "expected"), [(0.9, NOT_MET), (1, NOT_MET), (1.1, MET), (None, UNKNOWN)])
def test_b3_lymph_node_over_1_cm(node, expected) -> None:
    assert status("b3_organomegaly", lymphadenopathy_max_cm=node) is expected


@pytest.mark.parametrize(
    ("smear", "immature", "expected"),
    [
        (19.9, True, NOT_MET),
        (20, True, MET),
        (20.1, True, MET),
        (20, False, NOT_MET),  # ICC counts only immature/atypical mast cells
        (20, None, UNKNOWN),
        (None, True, UNKNOWN),
        (5, None, NOT_MET),
    ],
)
def test_mcl_counts_immature_mast_cells_only(smear, immature, expected) -> None:
    assert status("mcl_smear", aspirate_mast_cells_percent=smear, immature_atypical_morphology=immature) is expected


def test_mcl_pending_on_morphology_asks_for_the_smear() -> None:
    result = verdict(aspirate_mast_cells_percent=30, immature_atypical_morphology=None)
    assert result.possible_categories == ("ISM", "MCL")
    assert [t.test for t in result.next_tests] == ["Bone marrow aspirate smear: mast cell count and morphology"]


@pytest.mark.parametrize(
    ("osteolysis", "fracture", "large", "expected"),
    [
        (0, False, None, NOT_MET),
        (0, None, None, NOT_MET),
        (0, True, None, NOT_MET),  # contradictory record: no osteolysis
        # ICC (as WHO 2016): a large osteolysis "with or without a pathological fracture"; no size: a judgement
        (3, True, None, UNKNOWN),
        (0.5, True, None, UNKNOWN),
        (None, True, None, UNKNOWN),
        (3, False, None, UNKNOWN),
        (3, None, None, UNKNOWN),
        (None, None, None, UNKNOWN),
        (3, None, True, MET),
        (3, False, True, MET),
        (None, None, True, MET),
        (3, True, False, NOT_MET),
    ],
)
def test_c4_large_osteolysis_is_a_judgement(osteolysis, fracture, large, expected) -> None:
    changes = dict(osteolysis_max_cm=osteolysis, pathologic_fracture=fracture, large_osteolysis=large)
    assert status("c4_bone", **changes) is expected


def test_an_open_osteolysis_judgement_is_named_as_the_next_step() -> None:
    """A fully recorded case must be determinate: when ASM rests on the judgement, next_tests names it."""
    result = verdict(osteolysis_max_cm=3, pathologic_fracture=False)
    assert result.possible_categories == ("ISM", "ASM")
    assert [t.test for t in result.next_tests] == ["Clinician's judgement whether the osteolysis is large"]
    assert verdict(osteolysis_max_cm=3, pathologic_fracture=False, large_osteolysis=True).category == "ASM"
    assert verdict(osteolysis_max_cm=3, pathologic_fracture=False, large_osteolysis=False).category == "ISM"


@pytest.mark.parametrize(
    ("changes", "category"),
    [
        ({"associated_hematologic_neoplasm": "CMML"}, "SM-AMN"),
        ({"associated_hematologic_neoplasm": "AML"}, "SM-AMN"),
        ({"associated_hematologic_neoplasm": "CLL"}, "ISM"),  # ICC: a lymphoid neoplasm is not SM-AMN
        ({"associated_hematologic_neoplasm": "diffuse large B-cell lymphoma"}, "ISM"),
        ({"lymphadenopathy_max_cm": 1.5, "hemoglobin_g_dl": 11, "cytopenia_or_cytosis_reactive_cause_excluded": True}, "SSM"),
        ({"lymphadenopathy_max_cm": 1.5, "dysplasia_or_myeloproliferation": True}, "ISM"),  # not ICC's B2
        ({"lymphadenopathy_max_cm": 1.5}, "ISM"),
        ({"cytopenia_caused_by_mast_cells": True, "hemoglobin_g_dl": 8}, "ASM"),
        ({"aspirate_mast_cells_percent": 25, "immature_atypical_morphology": True}, "MCL"),
        ({"aspirate_mast_cells_percent": 25, "immature_atypical_morphology": False}, "ISM"),
    ],
)
def test_precedence_of_variants(changes: dict, category: str) -> None:
    assert verdict(**changes).category == category


def test_unclassified_associated_neoplasm_keeps_sm_amn_open() -> None:
    result = verdict(associated_hematologic_neoplasm="MCL")
    assert result.possible_categories == ("ISM", "SM-AMN")


def test_no_bmm_category_but_a_note() -> None:
    result = verdict(lesions="none", darier_sign=None, biopsy_mast_cell_infiltrates=None, kit_mutation_in_lesional_skin=None)
    assert result.category == "ISM"
    assert any("BMM" in note for note in result.notes)


# ICC B-finding 2: cytopenia (not meeting the C-finding limits) or -cytosis, reactive causes excluded
EXCLUDED = {"cytopenia_or_cytosis_reactive_cause_excluded": True}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"hemoglobin_g_dl": 13.1, "sex": "male"}, NOT_MET),
        ({"hemoglobin_g_dl": 13, "sex": "male"}, NOT_MET),
        ({"hemoglobin_g_dl": 12.9, "sex": "male"}, MET),
        ({"hemoglobin_g_dl": 12.1, "sex": "female"}, NOT_MET),
        ({"hemoglobin_g_dl": 12, "sex": "female"}, NOT_MET),
        ({"hemoglobin_g_dl": 11.9, "sex": "female"}, MET),
        ({"hemoglobin_g_dl": 12.5, "sex": None}, UNKNOWN),  # anaemic for a man, not for a woman
        ({"hemoglobin_g_dl": 11.9, "sex": None}, MET),
        ({"hemoglobin_g_dl": 13, "sex": None}, NOT_MET),
        ({"hemoglobin_g_dl": 9, "sex": "male"}, MET),  # at the C-finding level, but C1 is judged not mast-cell caused
        ({"platelets_10e9_l": 150.1}, NOT_MET),
        ({"platelets_10e9_l": 150}, NOT_MET),
        ({"platelets_10e9_l": 149.9}, MET),
        ({"platelets_10e9_l": 449.9}, NOT_MET),
        ({"platelets_10e9_l": 450}, MET),
        ({"platelets_10e9_l": 450.1}, MET),
        ({"neutrophils_10e9_l": 1.81}, NOT_MET),
        ({"neutrophils_10e9_l": 1.8}, NOT_MET),
        ({"neutrophils_10e9_l": 1.79}, MET),
        ({"leukocytes_10e9_l": 12.9}, NOT_MET),
        ({"leukocytes_10e9_l": 13}, MET),
        ({"leukocytes_10e9_l": 13.1}, MET),
        ({"eosinophils_10e9_l": 1.49}, NOT_MET),
        ({"eosinophils_10e9_l": 1.5}, MET),
        ({"eosinophils_10e9_l": 1.51}, MET),
        ({"monocytes_10e9_l": 0.49, "leukocytes_10e9_l": 4}, NOT_MET),
        ({"monocytes_10e9_l": 0.5, "leukocytes_10e9_l": 5}, MET),  # 0.5 x10^9/L and 10%
        ({"monocytes_10e9_l": 0.5, "leukocytes_10e9_l": 5.1}, NOT_MET),  # 9.8%
        ({"monocytes_10e9_l": 0.51, "leukocytes_10e9_l": 5}, MET),
        ({"monocytes_10e9_l": 0.6, "leukocytes_10e9_l": None}, UNKNOWN),
        ({"hemoglobin_g_dl": None}, UNKNOWN),
        # the haematologist's reading stands in for counts that are missing (load_case refuses one they contradict)
        ({"hemoglobin_g_dl": None, "cytopenia_or_cytosis": False}, NOT_MET),
        ({"hemoglobin_g_dl": None, "cytopenia_or_cytosis": True}, MET),
    ],
)
def test_b2_cytopenia_or_cytosis_at_every_limit(changes: dict, expected) -> None:
    assert status("b2_other_lineages", **EXCLUDED, **changes) is expected


@pytest.mark.parametrize(("excluded", "expected"), [(True, MET), (None, UNKNOWN), (False, NOT_MET)])
def test_b2_needs_reactive_causes_excluded(excluded, expected) -> None:
    changes = {"hemoglobin_g_dl": 11, "cytopenia_or_cytosis_reactive_cause_excluded": excluded}
    assert status("b2_other_lineages", **changes) is expected


def test_b2_without_an_abnormal_count_is_not_met_whatever_the_work_up() -> None:
    assert status("b2_other_lineages", cytopenia_or_cytosis_reactive_cause_excluded=None) is NOT_MET


def test_regression_icc_b2_reads_the_blood_counts() -> None:
    """Issue 15 §1.1: marrow 40%, tryptase 250 and Hb 10.5 g/dL gave ICC ISM; B1 is met and B2 (a cytopenia not
    meeting C1) is open until reactive causes are excluded, so SSM is possible, and met once they are."""
    high_burden = dict(infiltration_percent=40, baseline_tryptase_ng_ml=250, hemoglobin_g_dl=10.5)
    open_b2 = verdict(**high_burden)
    assert open_b2.possible_categories == ("ISM", "SSM")
    assert "Haematologist's work-up for reactive causes of the cytopenia or cytosis" in [t.test for t in open_b2.next_tests]
    assert verdict(**high_burden, **EXCLUDED).category == "SSM"
    assert verdict(**high_burden, cytopenia_or_cytosis_reactive_cause_excluded=False).category == "ISM"

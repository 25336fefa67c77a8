"""WHO 2022 SM rules: every limit just below, at and just above, each from a fully recorded ISM patient."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mastcds.rules.mastocytosis import who2022 as sm_who2022
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN
from tests.rules.mastocytosis.recorded_ism import ISM, criterion_status


def verdict(**changes):
    return sm_who2022.evaluate(replace(ISM, **changes))


def status(criterion: str, **changes):
    return criterion_status(verdict(**changes), criterion)


def test_the_baseline_patient_is_ism() -> None:
    result = verdict()
    assert result.sm_criteria is MET and result.category == "ISM" and result.next_tests == ()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"baseline_tryptase_ng_ml": 19.9}, NOT_MET),
        ({"baseline_tryptase_ng_ml": 20}, NOT_MET),
        ({"baseline_tryptase_ng_ml": 20.1}, MET),
        # HaT: the limit applies to BST / (1 + extra alpha copies)
        ({"baseline_tryptase_ng_ml": 39.9, "tpsab1_extra_alpha_copies": 1}, NOT_MET),
        ({"baseline_tryptase_ng_ml": 40, "tpsab1_extra_alpha_copies": 1}, NOT_MET),
        ({"baseline_tryptase_ng_ml": 40.1, "tpsab1_extra_alpha_copies": 1}, MET),
        ({"baseline_tryptase_ng_ml": 60, "tpsab1_extra_alpha_copies": 2}, NOT_MET),
        ({"baseline_tryptase_ng_ml": 60.1, "tpsab1_extra_alpha_copies": 2}, MET),
        ({"baseline_tryptase_ng_ml": 220, "tpsab1_extra_alpha_copies": 10}, NOT_MET),
        ({"baseline_tryptase_ng_ml": 220.1, "tpsab1_extra_alpha_copies": 10}, MET),
        # genotype unknown: the raw value
        ({"baseline_tryptase_ng_ml": 50.9, "tpsab1_extra_alpha_copies": None}, MET),
        ({"baseline_tryptase_ng_ml": None}, UNKNOWN),
        # an associated myeloid neoplasm voids the criterion; a lymphoid one does not
        ({"associated_hematologic_neoplasm": "MDS"}, NOT_MET),
        ({"associated_hematologic_neoplasm": "CMML"}, NOT_MET),
        ({"associated_hematologic_neoplasm": "CLL"}, MET),
        ({"associated_hematologic_neoplasm": None}, UNKNOWN),
        ({"associated_hematologic_neoplasm": "MCL"}, UNKNOWN),  # mantle cell lymphoma or mast cell leukaemia?
        ({"associated_hematologic_neoplasm": None, "baseline_tryptase_ng_ml": 10}, NOT_MET),
    ],
)
def test_tryptase_minor_criterion(changes: dict, expected) -> None:
    assert status("minor_tryptase", **changes) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"kit_d816v": "not_detected", "kit_d816v_vaf_percent": None}, NOT_MET),
        ({"kit_d816v": "not_detected", "kit_d816v_vaf_percent": None, "other_activating_kit_mutation": None}, UNKNOWN),
        ({"kit_d816v": "not_detected", "kit_d816v_vaf_percent": None, "other_activating_kit_mutation": "K509I"}, MET),
        ({"kit_d816v": "not_detected", "kit_d816v_vaf_percent": None, "other_activating_kit_mutation": "D816H"}, MET),
        ({"kit_d816v_sample": "skin"}, UNKNOWN),  # skin does not count for SM
        ({"kit_d816v_sample": None}, UNKNOWN),
        ({"kit_d816v_sample": "peripheral_blood"}, MET),
        ({"kit_d816v_sample": "other_extracutaneous"}, MET),
        ({"kit_d816v": "not_detected", "kit_d816v_sample": "peripheral_blood", "kit_d816v_vaf_percent": None}, UNKNOWN),
        ({"kit_d816v": None, "kit_d816v_vaf_percent": None, "other_activating_kit_mutation": None}, UNKNOWN),
    ],
)
def test_kit_minor_criterion(changes: dict, expected) -> None:
    assert status("minor_kit", **changes) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"cd25": False}, NOT_MET),
        ({"cd25": False, "cd30": True}, MET),  # CD30 counts since WHO 2022
        ({"cd25": False, "cd2": True}, MET),
        ({"cd25": None}, UNKNOWN),
        ({"cd25": False, "other_organ_biopsied": True, "other_organ_cd25_cd2_cd30": True}, MET),
        ({"cd25": False, "other_organ_biopsied": False, "other_organ_cd25_cd2_cd30": True}, NOT_MET),
    ],
)
def test_immunophenotype_minor_criterion(changes: dict, expected) -> None:
    assert status("minor_immunophenotype", **changes) is expected


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
        (NO_MINOR, NOT_MET),  # the major criterion alone is not enough in WHO 2022
        ({**NO_MINOR, "cd25": True}, MET),  # major + 1 minor
        ({**NO_MINOR, "multifocal_dense_infiltrates": False, "cd25": True, "atypical_morphology_over_25_percent": True}, NOT_MET),
        (
            {**NO_MINOR, "multifocal_dense_infiltrates": False, "cd25": True, "atypical_morphology_over_25_percent": True,
             "baseline_tryptase_ng_ml": 25},
            MET,
        ),  # 3 minor
        ({**NO_MINOR, "cd25": None}, UNKNOWN),
        ({**NO_MINOR, "multifocal_dense_infiltrates": False, "other_organ_biopsied": True,
          "other_organ_multifocal_dense_infiltrates": True, "cd25": True}, MET),
    ],
)
def test_sm_rule_major_plus_one_minor_or_three_minor(changes: dict, expected) -> None:
    assert verdict(**changes).sm_criteria is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"infiltration_percent": 29.9}, NOT_MET),
        ({"infiltration_percent": 30}, MET),
        ({"infiltration_percent": 30.1}, MET),
        ({"baseline_tryptase_ng_ml": 199.9}, NOT_MET),
        ({"baseline_tryptase_ng_ml": 200}, MET),
        ({"baseline_tryptase_ng_ml": 200.1}, MET),
        ({"baseline_tryptase_ng_ml": 399.9, "tpsab1_extra_alpha_copies": 1}, NOT_MET),
        ({"baseline_tryptase_ng_ml": 400, "tpsab1_extra_alpha_copies": 1}, MET),
        ({"kit_d816v_vaf_percent": 9.9}, NOT_MET),
        ({"kit_d816v_vaf_percent": 10}, MET),
        ({"kit_d816v_vaf_percent": 10.1}, MET),
        ({"kit_d816v_vaf_percent": 15, "kit_d816v_sample": "peripheral_blood"}, MET),
        ({"kit_d816v_vaf_percent": 5, "kit_d816v_sample": "peripheral_blood"}, UNKNOWN),  # the marrow may carry more
        ({"kit_d816v_vaf_percent": 15, "kit_d816v_sample": "skin"}, UNKNOWN),
        ({"kit_d816v_vaf_percent": None}, UNKNOWN),
        ({"infiltration_percent": None}, UNKNOWN),
        ({"infiltration_percent": None, "baseline_tryptase_ng_ml": 250}, MET),
    ],
)
def test_b1_any_of_infiltration_tryptase_or_vaf(changes: dict, expected) -> None:
    assert status("b1_mast_cell_burden", **changes) is expected


@pytest.mark.parametrize(
    ("changes", "b3", "c2", "c3"),
    [
        ({"lymphadenopathy_max_cm": 1.9}, NOT_MET, NOT_MET, NOT_MET),
        ({"lymphadenopathy_max_cm": 2}, NOT_MET, NOT_MET, NOT_MET),
        ({"lymphadenopathy_max_cm": 2.1}, MET, NOT_MET, NOT_MET),
        ({"lymphadenopathy_max_cm": None}, UNKNOWN, NOT_MET, NOT_MET),
        ({"hepatomegaly": True}, MET, NOT_MET, NOT_MET),
        ({"hepatomegaly": True, "liver_dysfunction": True}, NOT_MET, MET, NOT_MET),
        ({"hepatomegaly": True, "liver_dysfunction": None}, UNKNOWN, UNKNOWN, NOT_MET),
        ({"splenomegaly": True}, MET, NOT_MET, NOT_MET),
        ({"splenomegaly": True, "hypersplenism": True}, NOT_MET, NOT_MET, MET),
        ({"splenomegaly": None}, UNKNOWN, NOT_MET, NOT_MET),
        ({"liver_dysfunction": True}, NOT_MET, NOT_MET, NOT_MET),
    ],
)
def test_b3_organomegaly_against_c2_c3_organ_damage(changes: dict, b3, c2, c3) -> None:
    assert (status("b3_organomegaly", **changes), status("c2_liver", **changes), status("c3_spleen", **changes)) == (b3, c2, c3)


def test_b2_follows_the_recorded_finding() -> None:
    assert status("b2_other_lineages", dysplasia_or_myeloproliferation=True) is MET
    assert status("b2_other_lineages", dysplasia_or_myeloproliferation=None) is UNKNOWN


UNJUDGED = {"cytopenia_caused_by_mast_cells": None}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (UNJUDGED, NOT_MET),  # all counts normal
        ({**UNJUDGED, "hemoglobin_g_dl": 9.9}, UNKNOWN),  # low, cause not judged
        ({**UNJUDGED, "hemoglobin_g_dl": 10}, NOT_MET),
        ({**UNJUDGED, "hemoglobin_g_dl": 10.1}, NOT_MET),
        ({**UNJUDGED, "platelets_10e9_l": 99.9}, UNKNOWN),
        ({**UNJUDGED, "platelets_10e9_l": 100}, NOT_MET),
        ({**UNJUDGED, "neutrophils_10e9_l": 0.99}, UNKNOWN),
        ({**UNJUDGED, "neutrophils_10e9_l": 1}, NOT_MET),
        ({**UNJUDGED, "neutrophils_10e9_l": None}, UNKNOWN),
        ({"cytopenia_caused_by_mast_cells": True, "hemoglobin_g_dl": 8}, MET),
        ({"cytopenia_caused_by_mast_cells": False, "hemoglobin_g_dl": 8}, NOT_MET),
    ],
)
def test_c1_cytopenia(changes: dict, expected) -> None:
    assert status("c1_cytopenia", **changes) is expected


@pytest.mark.parametrize(
    ("osteolysis", "fracture", "expected"),
    [
        (1.9, True, NOT_MET),
        (2, True, MET),
        (2.1, True, MET),
        (2, False, NOT_MET),
        (2, None, UNKNOWN),
        (None, True, UNKNOWN),
        (0, None, NOT_MET),
        (5, False, NOT_MET),
    ],
)
def test_c4_osteolysis_of_2_cm_with_pathological_fracture(osteolysis, fracture, expected) -> None:
    assert status("c4_bone", osteolysis_max_cm=osteolysis, pathologic_fracture=fracture) is expected


def test_c5_malabsorption() -> None:
    assert status("c5_malabsorption", malabsorption_with_weight_loss=True) is MET
    assert verdict(malabsorption_with_weight_loss=True).category == "ASM"


@pytest.mark.parametrize(
    ("smear", "category"),
    [(19.9, "ISM"), (20, "MCL"), (20.1, "MCL")],
)
def test_mcl_at_20_percent_mast_cells_in_smears_whatever_their_maturity(smear, category) -> None:
    assert verdict(aspirate_mast_cells_percent=smear).category == category
    assert verdict(aspirate_mast_cells_percent=smear, immature_atypical_morphology=None).category == category


NO_SKIN = {"lesions": "none", "darier_sign": None, "biopsy_mast_cell_infiltrates": None, "kit_mutation_in_lesional_skin": None}


@pytest.mark.parametrize(
    ("changes", "category"),
    [
        ({**NO_SKIN, "baseline_tryptase_ng_ml": 124.9}, "BMM"),
        ({**NO_SKIN, "baseline_tryptase_ng_ml": 125}, "ISM"),
        ({**NO_SKIN, "baseline_tryptase_ng_ml": 125.1}, "ISM"),
        ({**NO_SKIN, "lymphadenopathy_max_cm": 3}, "ISM"),  # one B-finding
        ({"baseline_tryptase_ng_ml": 50}, "ISM"),  # skin lesions
        # the BMM limit is compared with the raw value (adjustment not verified)
        ({**NO_SKIN, "baseline_tryptase_ng_ml": 130, "tpsab1_extra_alpha_copies": 1}, "ISM"),
    ],
)
def test_bmm_needs_no_skin_lesions_no_b_finding_and_tryptase_below_125(changes: dict, category: str) -> None:
    assert verdict(**changes).category == category


# SM proven in the colon (aggregates, atypical CD25+ mast cells, KIT D816V there) with a marrow negative on
# every count: the criteria are met, but not in the marrow
COLON_ONLY = {
    **NO_SKIN,
    "other_organ_biopsied": True,
    "other_organ": "colon",
    "other_organ_multifocal_dense_infiltrates": True,
    "other_organ_atypical_morphology_over_25_percent": True,
    "other_organ_cd25_cd2_cd30": True,
    "destructive_sarcoma": False,
    "kit_other_organ": "detected",
    "multifocal_dense_infiltrates": False,
    "atypical_morphology_over_25_percent": False,
    "cd25": False,
    "cd2": False,
    "cd30": False,
    "kit_d816v": "not_detected",
    "kit_d816v_vaf_percent": None,
    "baseline_tryptase_ng_ml": 15,
}


def test_regression_bmm_needs_the_bone_marrow_involved() -> None:
    """Issue 15 §1.2: SM shown only in an extramedullary organ, with a negative marrow, is not BMM."""
    result = verdict(**COLON_ONLY)
    assert result.sm_criteria is MET
    assert result.category == "ISM"
    assert criterion_status(result, "bmm_conditions") is NOT_MET
    (bmm,) = [c for c in result.variant_criteria if c.id == "bmm_conditions"]
    assert "not BMM" in bmm.reason


@pytest.mark.parametrize(
    ("marrow", "category"),
    [
        ({"multifocal_dense_infiltrates": True}, "BMM"),
        ({"atypical_morphology_over_25_percent": True}, "BMM"),
        ({"spindle_atypical_mast_cells_percent": 30, "atypical_morphology_over_25_percent": None}, "BMM"),
        ({"cd25": True}, "BMM"),
        ({"kit_marrow": "detected", "kit_marrow_vaf_percent": 0.3}, "BMM"),
        ({"largest_aggregate_mast_cells": 14}, "ISM"),
    ],
)
def test_any_sm_finding_in_the_marrow_makes_it_involved(marrow: dict, category: str) -> None:
    assert verdict(**{**COLON_ONLY, **marrow}).category == category


def test_an_unexamined_marrow_keeps_bmm_and_ism_open_and_asks_for_it() -> None:
    unexamined = {
        **COLON_ONLY,
        "multifocal_dense_infiltrates": None,
        "atypical_morphology_over_25_percent": None,
        "cd25": None,
        "cd2": None,
        "cd30": None,
        "kit_d816v": None,
    }
    result = verdict(**unexamined)
    assert result.possible_categories == ("BMM", "ISM")
    assert any(t.test.startswith("KIT D816V in bone marrow") for t in result.next_tests)
    # with the marrow KIT negative, its histology or immunophenotype decides
    negative_kit = verdict(**unexamined, kit_marrow="not_detected")
    assert negative_kit.possible_categories == ("BMM", "ISM")
    tests = [t.test for t in negative_kit.next_tests]
    assert any(t.startswith("Bone marrow biopsy") for t in tests) and any(t.startswith("CD25, CD2 and CD30") for t in tests)


def test_bmm_raw_tryptase_decision_is_noted() -> None:
    notes = verdict(**NO_SKIN, baseline_tryptase_ng_ml=130, tpsab1_extra_alpha_copies=1).notes
    assert any("raw tryptase" in note for note in notes)


def test_an_unknown_b_finding_keeps_bmm_and_ism_open() -> None:
    result = verdict(**NO_SKIN, dysplasia_or_myeloproliferation=None)
    assert result.possible_categories == ("BMM", "ISM") and result.category is None
    assert [t.test for t in result.next_tests] == [
        "Work-up for an associated haematological neoplasm (blood film, marrow morphology, cytogenetics, myeloid NGS)"
    ]


def test_unknown_skin_keeps_bmm_open_and_asks_for_skin_examination() -> None:
    result = verdict(lesions=None, baseline_tryptase_ng_ml=50)
    assert result.possible_categories == ("BMM", "ISM")
    assert any(t.test.startswith("Skin examination") for t in result.next_tests)


@pytest.mark.parametrize(
    ("changes", "category"),
    [
        ({"lymphadenopathy_max_cm": 3, "dysplasia_or_myeloproliferation": True}, "SSM"),
        ({"lymphadenopathy_max_cm": 3, "infiltration_percent": 40}, "SSM"),
        ({"lymphadenopathy_max_cm": 3}, "ISM"),
        ({"cytopenia_caused_by_mast_cells": True, "platelets_10e9_l": 60}, "ASM"),
        ({"hepatomegaly": True, "liver_dysfunction": True}, "ASM"),
        ({"associated_hematologic_neoplasm": "CMML"}, "SM-AHN"),
        ({"associated_hematologic_neoplasm": "CLL"}, "SM-AHN"),  # WHO 2022 counts lymphoid neoplasms
        ({"associated_hematologic_neoplasm": "CMML", "aspirate_mast_cells_percent": 25}, "MCL"),  # MCL first
        ({"hepatomegaly": True, "liver_dysfunction": True, "aspirate_mast_cells_percent": 25}, "MCL"),  # acute MCL
    ],
)
def test_precedence_of_variants(changes: dict, category: str) -> None:
    assert verdict(**changes).category == category


def test_kit_in_blood_with_high_vaf_is_b1_and_makes_ssm_with_another_b_finding() -> None:
    result = verdict(kit_d816v_sample="peripheral_blood", kit_d816v_vaf_percent=15, lymphadenopathy_max_cm=2.5)
    assert result.category == "SSM"


def test_once_sm_is_settled_the_kit_vaf_still_matters_for_b1() -> None:
    result = verdict(kit_d816v=None, kit_d816v_sample=None, kit_d816v_vaf_percent=None, lymphadenopathy_max_cm=2.5)
    assert result.sm_criteria is MET and result.possible_categories == ("ISM", "SSM")
    tests = [t.test for t in result.next_tests]
    assert any(test.startswith("KIT D816V in bone marrow") for test in tests)
    assert any(test.startswith("KIT D816V in peripheral blood") for test in tests)


@pytest.mark.parametrize("blood_vaf", [9.9, 10, 15])
def test_a_marrow_kit_test_cannot_undo_a_blood_vaf(blood_vaf: float) -> None:
    # B1 reads the VAF in marrow or blood, and each sample keeps its own result: a marrow result never replaces
    # the blood's. Regression (found by hypothesis): a marrow VAF of 0 replacing a blood VAF of 10% turned ISM
    # into BMM.
    from mastcds.rules.mastocytosis.next_tests import INVESTIGATIONS

    marrow = next(i for i in INVESTIGATIONS if i.test.startswith("KIT D816V in bone marrow"))
    f = replace(ISM, lesions="none", kit_d816v_sample="peripheral_blood", kit_d816v_vaf_percent=blood_vaf)
    outcomes = marrow.outcomes(f, sm_who2022.RULES)
    assert outcomes and all(set(o) == {"kit_marrow", "kit_marrow_vaf_percent"} for o in outcomes)
    b1 = {criterion_status(sm_who2022.evaluate(replace(f, **o)), "b1_mast_cell_burden") for o in outcomes}
    assert b1 == ({MET} if blood_vaf >= 10 else {MET, NOT_MET})


def test_genotyping_is_suggested_when_it_could_change_the_category() -> None:
    # 3 minor criteria without the major one: with >= 2 extra alpha copies 50 ng/mL is no longer > 20 adjusted
    three_minor = {"multifocal_dense_infiltrates": False, "atypical_morphology_over_25_percent": False}
    result = verdict(**three_minor, tpsab1_extra_alpha_copies=None)
    assert result.sm_criteria is MET and result.category == "ISM"
    (genotyping,) = result.next_tests
    assert genotyping.test.startswith("TPSAB1")
    assert "rule out ISM" in genotyping.why and "make CM possible" in genotyping.why
    assert verdict(**three_minor, tpsab1_extra_alpha_copies=2).category == "CM"
    assert verdict(**three_minor, tpsab1_extra_alpha_copies=1).category == "ISM"

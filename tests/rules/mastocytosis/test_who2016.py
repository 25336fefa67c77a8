"""WHO 2016 SM rules: every limit just below, at and just above, and where WHO 2016 departs from WHO 2022."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mastcds.rules.mastocytosis import who2016 as sm_who2016
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN
from tests.rules.mastocytosis.recorded_ism import ISM, criterion_status


def verdict(**changes):
    return sm_who2016.evaluate(replace(ISM, **changes))


def status(criterion: str, **changes):
    return criterion_status(verdict(**changes), criterion)



def test_the_baseline_patient_is_ism() -> None:
    result = verdict()
    assert result.sm_criteria is MET and result.category == "ISM" and result.next_tests == ()


def and_or(**changes):
    return sm_who2016.evaluate(replace(ISM, **changes), b1_join="and/or")


@pytest.mark.parametrize(
    ("changes", "default_and", "with_and_or"),
    [
        ({"infiltration_percent": 30, "baseline_tryptase_ng_ml": 250}, NOT_MET, MET),
        ({"infiltration_percent": 30.1, "baseline_tryptase_ng_ml": 250}, MET, MET),
        ({"infiltration_percent": 50, "baseline_tryptase_ng_ml": 200}, NOT_MET, MET),
        ({"infiltration_percent": 50, "baseline_tryptase_ng_ml": 200.1}, MET, MET),
        ({"infiltration_percent": 50, "baseline_tryptase_ng_ml": 100}, NOT_MET, MET),
        ({"infiltration_percent": 30, "baseline_tryptase_ng_ml": 200}, NOT_MET, NOT_MET),
        ({"infiltration_percent": 29.9, "baseline_tryptase_ng_ml": 199.9}, NOT_MET, NOT_MET),
        ({"infiltration_percent": 10, "baseline_tryptase_ng_ml": 200.1}, NOT_MET, MET),
        ({"kit_d816v_vaf_percent": 40}, NOT_MET, NOT_MET),  # no VAF route before WHO 2022
    ],
)
def test_b1_and_by_default_and_or_when_configured(changes: dict, default_and, with_and_or) -> None:
    assert status("b1_mast_cell_burden", **changes) is default_and
    result = and_or(**changes)
    assert {c.id: c.status for c in result.b_findings}["b1_mast_cell_burden"] is with_and_or


def test_b1_join_is_checked() -> None:
    with pytest.raises(ValueError, match="b1_join"):
        sm_who2016.rules("or")


@pytest.mark.parametrize(("node", "expected"), [(0, NOT_MET), (0.1, MET), (0.5, MET), (None, UNKNOWN)])
def test_b3_any_lymphadenopathy(node, expected) -> None:
    assert status("b3_organomegaly", lymphadenopathy_max_cm=node) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"cd25": False, "cd30": True}, NOT_MET),  # CD30 is not a WHO 2016 criterion
        ({"cd25": False, "cd2": True}, MET),
        ({"cd25": False, "other_organ_biopsied": True, "other_organ_cd25_cd2_cd30": True}, UNKNOWN),  # may be CD30 alone
        ({"cd25": False, "other_organ_biopsied": True, "other_organ_cd25_cd2_cd30": False}, NOT_MET),
    ],
)
def test_immunophenotype_cd25_or_cd2(changes: dict, expected) -> None:
    assert status("minor_immunophenotype", **changes) is expected


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [("D816H", MET), ("D816Y", MET), ("K509I", NOT_MET), ("none", NOT_MET), (None, UNKNOWN)],
)
def test_kit_only_codon_816_counts(mutation, expected) -> None:
    changes = {"kit_d816v": "not_detected", "kit_d816v_vaf_percent": None, "other_activating_kit_mutation": mutation}
    assert status("minor_kit", **changes) is expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"baseline_tryptase_ng_ml": 20}, NOT_MET),
        ({"baseline_tryptase_ng_ml": 20.1}, MET),
        ({"baseline_tryptase_ng_ml": 50, "tpsab1_extra_alpha_copies": 2}, MET),  # predates HaT: raw value
        ({"associated_hematologic_neoplasm": "MDS"}, NOT_MET),
    ],
)
def test_tryptase_minor_criterion(changes: dict, expected) -> None:
    assert status("minor_tryptase", **changes) is expected


@pytest.mark.parametrize(("smear", "category"), [(19.9, "ISM"), (20, "MCL"), (20.1, "MCL")])
def test_mcl_at_20_percent(smear, category) -> None:
    assert verdict(aspirate_mast_cells_percent=smear).category == category


@pytest.mark.parametrize(
    ("osteolysis", "fracture", "large", "expected"),
    [
        (0, False, None, NOT_MET),
        (4, True, None, UNKNOWN),  # "large osteolytic lesions with or without pathological fracture": no size
        (4, False, None, UNKNOWN),
        (None, None, None, UNKNOWN),
        (None, True, None, UNKNOWN),
        (4, False, True, MET),
        (4, True, False, NOT_MET),
    ],
)
def test_c4_large_osteolysis_is_a_judgement(osteolysis, fracture, large, expected) -> None:
    changes = dict(osteolysis_max_cm=osteolysis, pathologic_fracture=fracture, large_osteolysis=large)
    assert status("c4_bone", **changes) is expected


@pytest.mark.parametrize(
    ("changes", "noted"),
    [
        ({"cd25": False, "cd2": True}, True),  # CD2 alone decides
        ({"cd25": None, "cd2": True}, True),
        ({"cd25": True, "cd2": True}, False),
        ({"cd25": True, "cd2": False}, False),
        ({"cd25": False, "cd2": False}, False),
    ],
)
def test_the_reading_of_cd2_alone_is_said_where_it_decides(changes: dict, noted: bool) -> None:
    (criterion,) = [c for c in verdict(**changes).criteria if c.id == "minor_immunophenotype"]
    assert ("with or without CD2" in criterion.reason) is noted


@pytest.mark.parametrize(
    ("changes", "category"),
    [
        ({"associated_hematologic_neoplasm": "CLL"}, "SM-AHN"),  # lymphoid counts in WHO 2016
        ({"associated_hematologic_neoplasm": "MDS"}, "SM-AHN"),
        ({"lymphadenopathy_max_cm": 0.5, "dysplasia_or_myeloproliferation": True}, "SSM"),
        ({"lymphadenopathy_max_cm": 0.5}, "ISM"),
        ({"splenomegaly": True, "hypersplenism": True}, "ASM"),
    ],
)
def test_precedence_of_variants(changes: dict, category: str) -> None:
    assert verdict(**changes).category == category


def test_isolated_bone_marrow_mastocytosis_is_a_provisional_ism_subvariant() -> None:
    result = verdict(lesions="none", darier_sign=None, biopsy_mast_cell_infiltrates=None, kit_mutation_in_lesional_skin=None)
    assert result.category == "ISM"
    assert any("isolated bone marrow mastocytosis" in note for note in result.notes)


def test_immunophenotype_test_cannot_undo_an_organ_record_that_may_be_cd30_alone() -> None:
    """The organ's CD25/CD2/CD30 record keeps the minor criterion open whatever the marrow shows, so marrow
    CD25/CD2 can only confirm SM (ruling out CM), never exclude it."""
    result = verdict(
        atypical_morphology_over_25_percent=False,
        kit_d816v="not_detected",
        kit_d816v_vaf_percent=None,
        baseline_tryptase_ng_ml=10,
        cd25=None,
        cd2=None,
        other_organ_biopsied=True,
        other_organ_multifocal_dense_infiltrates=False,
        other_organ_atypical_morphology_over_25_percent=False,
        other_organ_cd25_cd2_cd30=True,
        destructive_sarcoma=False,
    )
    assert result.possible_categories == ("CM", "ISM")
    (phenotype,) = [t for t in result.next_tests if t.test.startswith("CD25, CD2 and CD30")]
    assert phenotype.why.endswith("Its result could rule out CM.")


def test_b3_names_no_size_limit_rather_than_a_limit_of_zero() -> None:
    # WHO 2016 states no size for lymphadenopathy; "limit > 0 cm" read as a typing error in the report
    from mastcds import evaluate

    result = evaluate({"patient": {}, "organs": {"lymphadenopathy_max_cm": 2.1}})
    b3 = next(c for c in result["guidelines"]["who2016"]["b_findings"] if c["id"].endswith("b3_organomegaly"))
    assert "> 0 cm" not in b3["reason"] and "no limit stated" in b3["reason"]

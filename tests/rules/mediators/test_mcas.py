"""MCAS consensus criteria A-C, clonality, the variant and MMAS."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastcds.rules.mediators import mcas
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, Status
from mastcds.rules.mediators.mcas import ClonalityFindings, EpisodeMediators, MediatorSymptoms

ALL_UNRISEN = (NOT_MET, NOT_MET, NOT_MET)


def evidence(episode_id: str, tryptase: Status, urine: tuple[Status, ...] = (UNKNOWN, UNKNOWN, UNKNOWN)) -> EpisodeMediators:
    return EpisodeMediators(episode_id, tryptase, urine)


@pytest.mark.parametrize(
    ("symptoms", "expected"),
    [
        (MediatorSymptoms(skin=True, gastrointestinal=True), MET),
        (MediatorSymptoms(skin=True, cardiovascular=True, gastrointestinal=False, respiratory=False, nasal_ocular=False), MET),
        (MediatorSymptoms(skin=True, gastrointestinal=False, cardiovascular=False, respiratory=False, nasal_ocular=False), NOT_MET),
        (MediatorSymptoms(skin=True), UNKNOWN),
        (MediatorSymptoms(skin=False, gastrointestinal=False, cardiovascular=False, respiratory=True, nasal_ocular=True), NOT_MET),
        (MediatorSymptoms(skin=True, gastrointestinal=False, cardiovascular=False, respiratory=False, nasal_ocular=True), MET),
        (MediatorSymptoms(), UNKNOWN),
    ],
)
def test_criterion_a_counts_organ_systems(symptoms: MediatorSymptoms, expected: Status) -> None:
    """Naso-ocular symptoms belong to the respiratory system: with it they are one system, not two."""
    result = mcas.criterion_a(symptoms)
    assert result.status is expected and result.reason and result.source


@pytest.mark.parametrize(
    ("episodes", "expected"),
    [
        ([evidence("e1", MET)], MET),
        ([evidence("e1", UNKNOWN), evidence("e2", MET)], MET),
        ([evidence("e1", NOT_MET, ALL_UNRISEN), evidence("e2", NOT_MET, ALL_UNRISEN)], NOT_MET),
        ([evidence("e1", NOT_MET, ALL_UNRISEN), evidence("e2", UNKNOWN, ALL_UNRISEN)], UNKNOWN),
        # issue 15 §1.4: a tryptase without a rise does not exclude B while another mediator was not measured
        ([evidence("e1", NOT_MET), evidence("e2", NOT_MET)], UNKNOWN),
        ([evidence("e1", NOT_MET, (NOT_MET, NOT_MET, UNKNOWN))], UNKNOWN),
        # any mediator's rise settles it
        ([evidence("e1", NOT_MET, (NOT_MET, MET, NOT_MET))], MET),
        ([evidence("e1", UNKNOWN, (UNKNOWN, UNKNOWN, MET))], MET),
        ([], UNKNOWN),
    ],
)
def test_criterion_b_any_documented_rise(episodes: list, expected: Status) -> None:
    result = mcas.criterion_b(episodes)
    assert result.status is expected
    if expected is MET:
        assert "episode" in result.reason
    assert "footnote" in result.source


def test_criterion_b_names_the_mediators_that_could_still_show_the_rise() -> None:
    reason = mcas.criterion_b([evidence("e1", NOT_MET, (NOT_MET, UNKNOWN, UNKNOWN))]).reason
    assert "LTE4" in reason and "11beta-PGF2alpha" in reason and "N-methylhistamine" not in reason.split("urinary")[-1]


@pytest.mark.parametrize(("responds", "expected"), [(True, MET), (False, NOT_MET), (None, UNKNOWN)])
def test_criterion_c(responds: bool | None, expected: Status) -> None:
    assert mcas.criterion_c(responds).status is expected


@pytest.mark.parametrize("statuses", list(itertools.product([MET, NOT_MET, UNKNOWN], repeat=3)))
def test_all_three_required(statuses: tuple[Status, ...]) -> None:
    symptoms = {
        MET: MediatorSymptoms(skin=True, gastrointestinal=True),
        NOT_MET: MediatorSymptoms(False, False, False, False, False),
        UNKNOWN: MediatorSymptoms(),
    }
    criteria = [
        mcas.criterion_a(symptoms[statuses[0]]),
        mcas.criterion_b([evidence("e1", statuses[1], ALL_UNRISEN if statuses[1] is NOT_MET else (UNKNOWN,) * 3)]),
        mcas.criterion_c({MET: True, NOT_MET: False, UNKNOWN: None}[statuses[2]]),
    ]
    expected = NOT_MET if NOT_MET in statuses else UNKNOWN if UNKNOWN in statuses else MET
    assert mcas.mcas_status(criteria) is expected


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        (ClonalityFindings(kit_d816v="detected", kit_d816v_sample="peripheral_blood"), MET),
        (ClonalityFindings(kit_d816v="detected"), MET),
        (ClonalityFindings(other_activating_kit_mutation="D816H"), MET),
        (ClonalityFindings(other_activating_kit_mutation="none"), UNKNOWN),
        (ClonalityFindings(bone_marrow_cd25=True), MET),
        (ClonalityFindings(other_organ_cd25_cd2_cd30=True), MET),
        (ClonalityFindings(kit_mutation_in_lesional_skin=True), MET),
        (ClonalityFindings(kit_d816v="not_detected", kit_d816v_sample="bone_marrow", bone_marrow_cd25=False), NOT_MET),
        (ClonalityFindings(kit_d816v="not_detected", kit_d816v_sample="peripheral_blood", bone_marrow_cd25=False), UNKNOWN),
        (ClonalityFindings(kit_d816v="not_detected", kit_d816v_sample="bone_marrow"), UNKNOWN),
        (ClonalityFindings(), UNKNOWN),
        (ClonalityFindings(kit_marrow="not_detected", bone_marrow_cd25=False), NOT_MET),
        (ClonalityFindings(kit_blood="detected"), MET),
        (ClonalityFindings(kit_skin="detected"), MET),
        (ClonalityFindings(kit_blood="not_detected", bone_marrow_cd25=False), UNKNOWN),
    ],
)
def test_clonal_mast_cells(findings: ClonalityFindings, expected: Status) -> None:
    assert mcas.clonal_mast_cells(findings).status is expected


@pytest.mark.parametrize(
    ("status", "sm", "clonal", "lesions", "variant", "monoclonal"),
    [
        (MET, MET, MET, "maculopapular_unspecified", "primary", False),  # MCAS with SM
        (MET, NOT_MET, UNKNOWN, "maculopapular_monomorphic", "primary", False),  # MCAS with CM / MIS
        (MET, NOT_MET, MET, "none", "primary", True),  # MMAS
        (MET, UNKNOWN, MET, "none", "primary", None),  # clonal, SM work-up open
        (MET, NOT_MET, MET, None, "primary", None),  # skin not examined: CM open
        (MET, NOT_MET, NOT_MET, "none", None, False),  # secondary or idiopathic: no allergy work-up recorded
        (MET, UNKNOWN, UNKNOWN, None, None, None),
        (NOT_MET, MET, MET, "none", None, False),
        (UNKNOWN, NOT_MET, MET, "none", None, None),
        (UNKNOWN, MET, MET, "none", None, False),
    ],
)
def test_variant_and_mmas(status, sm, clonal, lesions, variant, monoclonal) -> None:
    result = mcas.variant(status, sm, clonal, lesions)
    assert (result.variant, result.monoclonal) == (variant, monoclonal)
    assert result.reason and result.source
    if variant is not None:
        assert result.possible_variants == [variant]


STATUSES = st.sampled_from([MET, NOT_MET, UNKNOWN])
LESIONS = st.sampled_from([None, "none", "maculopapular_monomorphic", "diffuse", "mastocytoma"])


@given(STATUSES, STATUSES, STATUSES, LESIONS)
def test_a_variant_is_asserted_only_when_met_and_the_only_possibility(status, sm, clonal, lesions) -> None:
    result = mcas.variant(status, sm, clonal, lesions)
    assert set(result.possible_variants) <= set(mcas.VARIANTS) and result.possible_variants
    if result.variant is not None:
        assert status is MET and result.possible_variants == [result.variant]
    if result.monoclonal:
        assert status is MET and clonal is MET and sm is NOT_MET and lesions == "none"
    # without an allergy work-up, secondary and idiopathic stay together
    assert "secondary" not in result.possible_variants or "idiopathic" in result.possible_variants


@given(STATUSES, STATUSES, STATUSES, LESIONS, st.sampled_from([None, False, True]), st.sampled_from([None, False, True]))
def test_learning_the_work_up_only_narrows_the_variants(status, sm, clonal, lesions, allergy, reactive) -> None:
    before = mcas.variant(status, sm, clonal, lesions)
    after = mcas.variant(status, sm, clonal, lesions, allergy, reactive)
    assert set(after.possible_variants) <= set(before.possible_variants) and after.possible_variants


@pytest.mark.parametrize(
    ("clonal", "allergy", "reactive", "variant", "possible"),
    [
        (NOT_MET, True, None, "secondary", ["secondary"]),
        (NOT_MET, None, True, "secondary", ["secondary"]),
        (NOT_MET, False, False, "idiopathic", ["idiopathic"]),
        (NOT_MET, False, None, None, ["secondary", "idiopathic"]),
        (NOT_MET, None, None, None, ["secondary", "idiopathic"]),
        (MET, True, True, "primary", ["primary"]),  # clonal mast cells make it primary whatever else is found
        (UNKNOWN, True, None, None, ["primary", "secondary"]),
        (UNKNOWN, False, False, None, ["primary", "idiopathic"]),
    ],
)
def test_the_allergy_work_up_tells_secondary_from_idiopathic(clonal, allergy, reactive, variant, possible) -> None:
    result = mcas.variant(MET, NOT_MET, clonal, "none", allergy, reactive)
    assert (result.variant, result.possible_variants) == (variant, possible)

"""WAO 2020: age-specific hypotension, the 30% fall, both criteria, the allergen rule, three values."""

from __future__ import annotations

import pytest

from mastcds.rules.anaphylaxis import wao2020 as wao
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN
from tests.rules.anaphylaxis.episodes import quiet, unrecorded


@pytest.mark.parametrize(
    ("age", "limit"),
    [(0, 70), (0.5, 70), (1, 72), (1.9, 72), (5, 80), (9, 88), (9.99, 88), (10, 90), (10.5, 90), (17, 90), (40, 90), (120, 90)],
)
def test_systolic_limit_by_age(age: float, limit: float) -> None:
    assert wao.systolic_limit_mmhg(age) == limit


@pytest.mark.parametrize(("sbp", "expected"), [(89, MET), (89.9, MET), (90, NOT_MET), (91, NOT_MET)])
def test_adult_hypotension_is_strictly_below_90(sbp: float, expected: object) -> None:
    # usual BP 120: a fall to 89-91 is under 30%, so only the absolute limit speaks
    assert wao.hypotension(quiet(systolic_bp_mmhg=sbp))[0] is expected


@pytest.mark.parametrize(("age", "sbp", "expected"), [(5, 79, MET), (5, 80, NOT_MET), (5, 81, NOT_MET), (9, 87, MET), (9, 88, NOT_MET), (0.5, 69, MET), (0.5, 70, NOT_MET)])
def test_child_formula_70_plus_twice_the_age(age: float, sbp: float, expected: object) -> None:
    f = quiet(age_years_low=age, age_years_high=age, systolic_bp_mmhg=sbp, baseline_systolic_bp_mmhg=sbp + 10)
    assert wao.hypotension(f)[0] is expected


def test_ten_years_uses_the_adult_limit() -> None:
    at_nine = quiet(age_years_low=9, age_years_high=9.5, systolic_bp_mmhg=89, baseline_systolic_bp_mmhg=100)
    at_ten = quiet(age_years_low=10, age_years_high=10.5, systolic_bp_mmhg=89, baseline_systolic_bp_mmhg=100)
    assert wao.hypotension(at_nine)[0] is NOT_MET
    assert wao.hypotension(at_ten)[0] is MET
    spanning = quiet(age_years_low=9.5, age_years_high=10.5, systolic_bp_mmhg=89, baseline_systolic_bp_mmhg=100)
    assert wao.hypotension(spanning)[0] is UNKNOWN


@pytest.mark.parametrize(
    ("usual", "sbp", "expected"),
    [(200, 141, NOT_MET), (200, 140, NOT_MET), (200, 139.9, MET), (150, 105.1, NOT_MET), (150, 105, NOT_MET), (150, 104.9, MET), (130, 91, NOT_MET), (130, 90.9, MET)],
)
def test_fall_of_more_than_30_percent(usual: float, sbp: float, expected: object) -> None:
    assert wao.hypotension(quiet(systolic_bp_mmhg=sbp, baseline_systolic_bp_mmhg=usual))[0] is expected


def test_unknown_usual_bp_leaves_a_normal_reading_open() -> None:
    status, words = wao.hypotension(quiet(systolic_bp_mmhg=120, baseline_systolic_bp_mmhg=None))
    assert status is UNKNOWN and "cannot be excluded" in words
    assert wao.hypotension(quiet(systolic_bp_mmhg=85, baseline_systolic_bp_mmhg=None))[0] is MET
    assert wao.hypotension(quiet(systolic_bp_mmhg=None))[0] is UNKNOWN


@pytest.mark.parametrize(("sbp", "expected"), [(69, MET), (70, UNKNOWN), (89, UNKNOWN), (90, NOT_MET)])
def test_unknown_age_decides_only_outside_every_limit(sbp: float, expected: object) -> None:
    f = quiet(age_years_low=None, age_years_high=None, systolic_bp_mmhg=sbp, baseline_systolic_bp_mmhg=sbp)
    assert wao.hypotension(f)[0] is expected


@pytest.mark.parametrize("sign", ["urticaria", "angioedema", "flushing", "pruritus"])
def test_any_skin_or_mucosal_sign_with_collapse_meets_criterion_1(sign: str) -> None:
    result = wao.anaphylaxis(quiet(**{sign: True, "loss_of_consciousness": True}))
    assert result.criteria[0].status is MET and result.status is MET


@pytest.mark.parametrize(
    "organ",
    [
        {"dyspnoea_wheeze_bronchospasm": True},
        {"stridor_or_laryngeal_oedema": True},
        {"hypoxaemia": True},
        {"systolic_bp_mmhg": 80},
        {"loss_of_consciousness": True},
        {"cardiac_arrest": True},
        {"abdominal_pain_vomiting_diarrhoea": True},
    ],
)
def test_flushing_with_each_second_system(organ: dict) -> None:
    assert wao.criterion_1(quiet(flushing=True, **organ)).status is MET


def test_skin_alone_or_organ_alone_is_not_criterion_1() -> None:
    assert wao.criterion_1(quiet(flushing=True)).status is NOT_MET
    assert wao.criterion_1(quiet(systolic_bp_mmhg=70, loss_of_consciousness=True)).status is NOT_MET
    assert wao.criterion_1(quiet(presyncope=True, flushing=True)).status is NOT_MET


@pytest.mark.parametrize("trigger", ["hymenoptera_venom", "drug", "food"])
def test_allergen_with_hypotension_or_larynx_meets_criterion_2_without_skin(trigger: str) -> None:
    assert wao.criterion_2(quiet(trigger=trigger, systolic_bp_mmhg=80)).status is MET
    assert wao.criterion_2(quiet(trigger=trigger, stridor_or_laryngeal_oedema=True)).status is MET
    assert wao.criterion_2(quiet(trigger=trigger)).status is NOT_MET


@pytest.mark.parametrize("trigger", ["heat", "exercise", "alcohol", "infection", "procedure", "other", None])
def test_non_allergen_or_unrecorded_trigger_leaves_criterion_2_open(trigger: str | None) -> None:
    result = wao.criterion_2(quiet(trigger=trigger, systolic_bp_mmhg=80))
    assert result.status is UNKNOWN
    assert wao.criterion_2(quiet(trigger=trigger)).status is NOT_MET  # no organ feature: settled anyway


def test_no_trigger_identified_excludes_criterion_2() -> None:
    result = wao.criterion_2(quiet(trigger="none_identified", systolic_bp_mmhg=60, stridor_or_laryngeal_oedema=True))
    assert result.status is NOT_MET and "no trigger identified" in result.reason


def test_dyspnoea_field_does_not_prove_bronchospasm() -> None:
    result = wao.criterion_2(quiet(trigger="food", dyspnoea_wheeze_bronchospasm=True, wheeze_bronchospasm=None))
    assert result.status is UNKNOWN and "joins dyspnoea" in result.reason


@pytest.mark.parametrize(
    ("joined", "apart", "expected"),
    [
        (True, True, MET),  # wheeze/bronchospasm recorded apart: WAO criterion 2 names it
        (True, False, NOT_MET),  # dyspnoea alone is not bronchospasm
        (None, True, MET),
        (None, False, NOT_MET),
        (False, None, NOT_MET),
        (True, None, UNKNOWN),
        (None, None, UNKNOWN),
    ],
)
def test_bronchospasm_recorded_apart_decides_criterion_2(joined, apart, expected) -> None:
    f = quiet(trigger="food", dyspnoea_wheeze_bronchospasm=joined, wheeze_bronchospasm=apart)
    assert wao.criterion_2(f).status is expected


def test_three_values_overall() -> None:
    assert wao.anaphylaxis(quiet()).status is NOT_MET
    assert wao.anaphylaxis(unrecorded()).status is UNKNOWN
    seed_like = unrecorded(
        age_years_low=29.2, age_years_high=31.4, trigger="none_identified", systolic_bp_mmhg=75, loss_of_consciousness=True,
        presyncope=True, urticaria=False, angioedema=False, flushing=True, abdominal_pain_vomiting_diarrhoea=True,
    )
    result = wao.anaphylaxis(seed_like)
    assert result.status is MET
    assert [c.status for c in result.criteria] == [MET, NOT_MET]
    sparse = unrecorded(trigger="none_identified", urticaria=False, angioedema=False)
    assert wao.anaphylaxis(sparse).status is UNKNOWN


def test_criteria_have_ids_reasons_and_sources() -> None:
    for criterion in wao.anaphylaxis(unrecorded()).criteria:
        assert criterion.id.startswith("wao2020.") and "WAO" in criterion.source and criterion.reason

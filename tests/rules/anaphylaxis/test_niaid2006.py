"""NIAID/FAAN 2006: the reduced-BP table by age, the three criteria, the trigger footnote."""

from __future__ import annotations

import pytest

from mastcds.rules.anaphylaxis import niaid2006 as niaid
from mastcds.rules.anaphylaxis.findings import TRIGGERS
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN
from tests.rules.anaphylaxis.episodes import quiet, unrecorded


@pytest.mark.parametrize(
    ("age", "limit"),
    [
        (0, None),
        (0.08, None),
        (1 / 12, 70),
        (0.5, 70),
        (0.99, 70),
        (1, 72),
        (5, 80),
        (9, 88),
        (10, 90),
        (10.9, 90),
        (11, 90),
        (17, 90),
        (50, 90),
    ],
)
def test_low_systolic_by_age(age: float, limit: float | None) -> None:
    assert niaid.systolic_limit_mmhg(age) == limit


@pytest.mark.parametrize(("sbp", "expected"), [(89, MET), (90, NOT_MET), (91, NOT_MET)])
def test_adult_reduced_bp(sbp: float, expected: object) -> None:
    assert niaid.reduced_bp(quiet(systolic_bp_mmhg=sbp))[0] is expected


@pytest.mark.parametrize(("age", "sbp", "expected"), [(3, 75, MET), (3, 76, NOT_MET), (3, 77, NOT_MET), (0.5, 69, MET), (0.5, 70, NOT_MET)])
def test_child_reduced_bp(age: float, sbp: float, expected: object) -> None:
    f = quiet(age_years_low=age, age_years_high=age, systolic_bp_mmhg=sbp, baseline_systolic_bp_mmhg=sbp + 5)
    assert niaid.reduced_bp(f)[0] is expected


def test_under_one_month_only_the_fall_decides() -> None:
    newborn = dict(age_years_low=0.01, age_years_high=0.02)
    assert niaid.reduced_bp(quiet(**newborn, systolic_bp_mmhg=40, baseline_systolic_bp_mmhg=60))[0] is MET  # 33% fall
    assert niaid.reduced_bp(quiet(**newborn, systolic_bp_mmhg=50, baseline_systolic_bp_mmhg=60))[0] is UNKNOWN


@pytest.mark.parametrize(("usual", "sbp", "expected"), [(150, 105.1, NOT_MET), (150, 105, NOT_MET), (150, 104.9, MET)])
def test_fall_of_more_than_30_percent(usual: float, sbp: float, expected: object) -> None:
    assert niaid.reduced_bp(quiet(systolic_bp_mmhg=sbp, baseline_systolic_bp_mmhg=usual))[0] is expected


def test_criterion_1_excludes_gastrointestinal_involvement() -> None:
    f = quiet(flushing=True, abdominal_pain_vomiting_diarrhoea=True)
    assert niaid.criterion_1(f).status is NOT_MET
    assert niaid.criterion_1(quiet(flushing=True, hypoxaemia=True)).status is MET
    assert niaid.criterion_1(quiet(urticaria=True, systolic_bp_mmhg=85)).status is MET
    assert niaid.criterion_1(quiet(pruritus=True, cardiac_arrest=True)).status is MET


@pytest.mark.parametrize(
    ("organs", "expected"),
    [
        ({"flushing": True, "abdominal_pain_vomiting_diarrhoea": True}, MET),
        ({"hypoxaemia": True, "abdominal_pain_vomiting_diarrhoea": True}, MET),
        ({"systolic_bp_mmhg": 80, "abdominal_pain_vomiting_diarrhoea": True}, MET),
        ({"loss_of_consciousness": True, "urticaria": True}, MET),
        ({"abdominal_pain_vomiting_diarrhoea": True}, NOT_MET),
        ({"abdominal_pain_vomiting_diarrhoea": True, "flushing": None}, UNKNOWN),
        ({}, NOT_MET),
    ],
)
def test_criterion_2_needs_two_of_four_systems(organs: dict, expected: object) -> None:
    assert niaid.criterion_2(quiet(trigger="food", **organs)).status is expected


@pytest.mark.parametrize("trigger", [t for t in TRIGGERS if t != "none_identified"])
def test_footnote_every_recorded_trigger_counts(trigger: str) -> None:
    f = quiet(trigger=trigger, flushing=True, abdominal_pain_vomiting_diarrhoea=True)
    assert niaid.criterion_2(f).status is MET
    assert niaid.criterion_3(quiet(trigger=trigger, systolic_bp_mmhg=80)).status is MET


def test_no_trigger_and_unrecorded_trigger() -> None:
    gi_and_skin = dict(flushing=True, abdominal_pain_vomiting_diarrhoea=True)
    assert niaid.criterion_2(quiet(trigger="none_identified", **gi_and_skin)).status is NOT_MET
    assert niaid.criterion_2(quiet(trigger=None, **gi_and_skin)).status is UNKNOWN
    assert niaid.criterion_3(quiet(trigger="none_identified", systolic_bp_mmhg=60)).status is NOT_MET
    assert niaid.criterion_3(quiet(trigger=None, systolic_bp_mmhg=60)).status is UNKNOWN


def test_criterion_3_is_reduced_bp_itself_not_syncope() -> None:
    assert niaid.criterion_3(quiet(trigger="drug", loss_of_consciousness=True)).status is NOT_MET
    assert niaid.criterion_3(quiet(trigger="drug", systolic_bp_mmhg=None, loss_of_consciousness=True)).status is UNKNOWN


def test_three_values_overall() -> None:
    assert niaid.anaphylaxis(quiet()).status is NOT_MET
    assert niaid.anaphylaxis(unrecorded()).status is UNKNOWN
    sparse = unrecorded(trigger="none_identified", urticaria=False, angioedema=False)
    result = niaid.anaphylaxis(sparse)
    assert result.status is UNKNOWN
    assert [c.status for c in result.criteria] == [UNKNOWN, NOT_MET, NOT_MET]
    for criterion in result.criteria:
        assert criterion.id.startswith("niaid2006.") and "NIAID" in criterion.source and criterion.reason

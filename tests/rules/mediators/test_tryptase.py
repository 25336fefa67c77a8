"""The 20% + 2 rule: threshold, strict comparator, timing asymmetry, NIH ratio (secondary)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastcds.rules.logic import MET, NOT_MET, UNKNOWN
from mastcds.rules.mediators.tryptase import (
    ACUTE_WINDOW_END_MINUTES,
    ACUTE_WINDOW_START_MINUTES,
    EVENT_ADDEND_NG_ML,
    EVENT_FACTOR,
    NIH_RATIO_THRESHOLD,
    event_threshold_ng_ml,
    nih_ratio,
    rise_meets_20_plus_2,
)


def test_constants_are_the_consensus_formula() -> None:
    assert (EVENT_FACTOR, EVENT_ADDEND_NG_ML) == (1.2, 2.0)
    # "collected 1-4 hours after onset of symptoms" (consensus criterion B, Leuk Lymphoma 2019 Table 2)
    assert (ACUTE_WINDOW_START_MINUTES, ACUTE_WINDOW_END_MINUTES) == (60.0, 240.0)
    assert NIH_RATIO_THRESHOLD == 1.685


@pytest.mark.parametrize(
    ("baseline", "threshold"),
    [(50.9, 63.08), (4, 6.8), (10, 14.0), (0, 2.0), (11.4, 15.68), (20, 26.0), (100000, 120002.0)],
)
def test_threshold_worked_examples(baseline: float, threshold: float) -> None:
    assert event_threshold_ng_ml(baseline) == threshold


@pytest.mark.parametrize(
    ("acute", "expected"),
    [(63.07, NOT_MET), (63.08, NOT_MET), (63.09, MET), (63.0800001, MET), (63.0799999, NOT_MET)],
)
def test_seed_baseline_just_below_at_and_above(acute: float, expected: object) -> None:
    assert rise_meets_20_plus_2(acute, 50.9, 60).status is expected


@pytest.mark.parametrize(("baseline", "at"), [(4, 6.8), (10, 14.0), (0, 2.0), (11.4, 15.68), (33.3, 41.96)])
def test_equality_is_not_met_and_is_flagged(baseline: float, at: float) -> None:
    result = rise_meets_20_plus_2(at, baseline, 90)
    assert result.status is NOT_MET
    assert "exactly at the threshold" in result.reason
    assert rise_meets_20_plus_2(at + 0.01, baseline, 90).status is MET
    assert "exactly" not in rise_meets_20_plus_2(at - 0.01, baseline, 90).reason


def test_it_is_one_combined_threshold_not_two_conditions() -> None:
    # baseline 20: a 20% rise (24) plus 2 is 26; 25 is > 20% and > +2 ng/mL but not above 1.2 x 20 + 2
    assert rise_meets_20_plus_2(25, 20, 60).status is NOT_MET
    assert rise_meets_20_plus_2(26.5, 20, 60).status is MET


@pytest.mark.parametrize(
    ("minutes", "positive", "negative"),
    [
        (0, MET, UNKNOWN),
        (30, MET, UNKNOWN),
        (40, MET, UNKNOWN),  # issue 15 §1.3: a sample at 40 min without a rise no longer excludes MCAS
        (59.99, MET, UNKNOWN),
        (60, MET, NOT_MET),
        (60.01, MET, NOT_MET),
        (120, MET, NOT_MET),
        (239.99, MET, NOT_MET),
        (240, MET, NOT_MET),
        (240.01, MET, UNKNOWN),
        (241, MET, UNKNOWN),
        (10080, MET, UNKNOWN),
        (None, MET, UNKNOWN),  # drawn at an unrecorded time: only a rise counts
    ],
)
def test_timing_asymmetry(minutes: float | None, positive: object, negative: object) -> None:
    assert rise_meets_20_plus_2(20, 10, minutes).status is positive
    assert rise_meets_20_plus_2(12, 10, minutes).status is negative


def test_equality_outside_the_window_is_unknown() -> None:
    assert rise_meets_20_plus_2(14, 10, 300).status is UNKNOWN


def test_reasons_name_the_timing() -> None:
    assert "after the consensus window of 1 to 4 h" in rise_meets_20_plus_2(12, 10, 241).reason
    assert "before the consensus window of 1 to 4 h" in rise_meets_20_plus_2(12, 10, 59).reason
    assert "not recorded" in rise_meets_20_plus_2(12, 10).reason
    assert "within the consensus window of 1 to 4 h" in rise_meets_20_plus_2(12, 10, 60).reason


@pytest.mark.parametrize(("acute", "baseline"), [(None, 10), (10, None), (None, None)])
def test_missing_values_are_unknown(acute: float | None, baseline: float | None) -> None:
    result = rise_meets_20_plus_2(acute, baseline, 60)
    assert result.status is UNKNOWN
    assert result.source and result.reason


def test_negative_values_are_refused() -> None:
    with pytest.raises(ValueError, match="baseline"):
        event_threshold_ng_ml(-1)
    with pytest.raises(ValueError, match="acute"):
        rise_meets_20_plus_2(-1, 10)


def test_nih_ratio_is_secondary() -> None:
    assert nih_ratio(20, 10) == 2.0
    assert nih_ratio(None, 10) is None and nih_ratio(10, None) is None and nih_ratio(10, 0) is None
    # the two rules agree at baseline 4 (1.685 x 4 = 6.74 vs 6.8) and differ higher up
    assert rise_meets_20_plus_2(70, 50.9, 60).status is MET
    assert nih_ratio(70, 50.9) < NIH_RATIO_THRESHOLD


DECIMALS = st.decimals(min_value=0, max_value=10000, places=2, allow_nan=False, allow_infinity=False)


@given(DECIMALS, DECIMALS, st.floats(min_value=ACUTE_WINDOW_START_MINUTES, max_value=ACUTE_WINDOW_END_MINUTES))
def test_in_window_verdict_is_exactly_the_formula_on_decimal_numbers(acute, baseline, minutes) -> None:
    expected = Fraction(str(acute)) > Fraction(6, 5) * Fraction(str(baseline)) + 2
    assert rise_meets_20_plus_2(float(acute), float(baseline), minutes).status is (MET if expected else NOT_MET)


@given(
    st.floats(min_value=0, max_value=1e5),
    st.floats(min_value=0, max_value=1e5),
    st.floats(min_value=0, max_value=1e5),
    st.one_of(st.none(), st.floats(min_value=0, max_value=10080)),
)
def test_monotone_in_the_acute_value(a: float, b: float, baseline: float, minutes: float | None) -> None:
    low, high = sorted((a, b))
    rank = {NOT_MET: 0, UNKNOWN: 1, MET: 2}
    assert rank[rise_meets_20_plus_2(low, baseline, minutes).status] <= rank[rise_meets_20_plus_2(high, baseline, minutes).status]


@given(st.floats(min_value=0, max_value=1e5), st.floats(min_value=0, max_value=1e5), st.floats(min_value=0, max_value=10080))
def test_timing_never_turns_a_positive_into_anything_else(acute: float, baseline: float, minutes: float) -> None:
    if rise_meets_20_plus_2(acute, baseline).status is MET:
        assert rise_meets_20_plus_2(acute, baseline, minutes).status is MET
    else:
        assert rise_meets_20_plus_2(acute, baseline, minutes).status in (NOT_MET, UNKNOWN)


@pytest.mark.parametrize(
    ("acute", "baseline", "reason"),
    [
        (None, 10, "No acute tryptase: the rise cannot be assessed."),
        (10, None, "No baseline tryptase: the rise cannot be assessed."),
        (None, None, "No acute and baseline tryptase: the rise cannot be assessed."),
        (None, -1, "No acute tryptase: the rise cannot be assessed."),  # nothing to compare, so nothing is checked
    ],
)
def test_missing_values_reasons_word_for_word(acute: float | None, baseline: float | None, reason: str) -> None:
    for minutes in (None, 60, 300):
        result = rise_meets_20_plus_2(acute, baseline, minutes)
        assert (result.id, result.status, result.reason) == ("tryptase.20_plus_2", UNKNOWN, reason)
        assert result.source.startswith("MCAS consensus criterion B, the 20% + 2 formula")
        assert result.references == ("valent2019_20plus2", "leuk_lymphoma2020")


@pytest.mark.parametrize(
    ("acute", "baseline", "minutes", "status", "reason"),
    [
        (63.08, 50.9, 60, NOT_MET,
         "acute 63.08 ng/mL vs threshold 1.2 x 50.9 + 2 = 63.08 ng/mL: exactly at the threshold; the consensus requires "
         "'>' (not met), the NIH wording '>=' would count it. Drawn 60 min after onset (within the consensus window "
         "of 1 to 4 h)."),
        (80, 50.9, None, MET,
         "acute 80 ng/mL vs threshold 1.2 x 50.9 + 2 = 63.08 ng/mL: above. "
         "Sampling time not recorded: a rise still counts wherever it was drawn."),
        (12, 10, None, UNKNOWN,
         "acute 12 ng/mL vs threshold 1.2 x 10 + 2 = 14 ng/mL: not above. Sampling time not recorded: a sample "
         "without a rise excludes the criterion only when drawn within the window, so it stays open."),
        (12, 10, 241, UNKNOWN,
         "acute 12 ng/mL vs threshold 1.2 x 10 + 2 = 14 ng/mL: not above. Drawn 241 min after onset, after the "
         "consensus window of 1 to 4 h: a sample without a rise excludes the criterion only when drawn within the "
         "window, so it stays open."),
        (0.1, 0, 10, UNKNOWN,
         "acute 0.1 ng/mL vs threshold 1.2 x 0 + 2 = 2 ng/mL: not above. Drawn 10 min after onset, before the "
         "consensus window of 1 to 4 h: a sample without a rise excludes the criterion only when drawn within the "
         "window, so it stays open."),
        (1e22, 1e-7, 300, MET,
         "acute 10000000000000000000000 ng/mL vs threshold 1.2 x 0.0000001 + 2 = 2.00000012 ng/mL: above. "
         "Drawn 300 min after onset, after the consensus window of 1 to 4 h: a rise still counts wherever it was drawn."),
    ],
)
def test_comparison_reasons_word_for_word(acute: float, baseline: float, minutes: float | None, status: object, reason: str) -> None:
    result = rise_meets_20_plus_2(acute, baseline, minutes)
    assert (result.status, result.reason) == (status, reason)


def test_threshold_of_tiny_and_huge_baselines_is_exact() -> None:
    assert event_threshold_ng_ml(1e-7) == 2.00000012
    assert event_threshold_ng_ml(123456.789) == 148150.1468

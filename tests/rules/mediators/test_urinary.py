"""Urinary mediators as evidence of an event-related rise: the ratio at its limit, missing values, units."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastcds.rules.logic import MET, NOT_MET, UNKNOWN
from mastcds.rules.mediators.urinary import MEDIATORS, URINARY_RISE_RATIO, urinary_rise


def test_the_ratio_is_butterfields_lowest_observed() -> None:
    assert URINARY_RISE_RATIO == 1.3


@pytest.mark.parametrize("mediator", sorted(MEDIATORS))
@pytest.mark.parametrize(("acute", "expected"), [(129.9, NOT_MET), (130, MET), (130.1, MET), (100, NOT_MET), (50, NOT_MET)])
def test_a_rise_is_a_ratio_of_at_least_1_3_over_the_baseline(mediator: str, acute: float, expected) -> None:
    result = urinary_rise(mediator, acute, 100)
    assert result.status is expected
    assert "2023" in result.source and result.references == ("leuk_lymphoma2020", "butterfield2023")
    assert "consensus sets no limit" in result.reason


@pytest.mark.parametrize(("acute", "baseline"), [(None, 100), (130, None), (None, None)])
def test_a_missing_value_leaves_it_open(acute, baseline) -> None:
    assert urinary_rise("lte4", acute, baseline).status is UNKNOWN


def test_a_zero_baseline() -> None:
    assert urinary_rise("lte4", 1, 0).status is MET
    assert urinary_rise("lte4", 0, 0).status is NOT_MET


def test_negative_values_are_refused() -> None:
    with pytest.raises(ValueError, match="leukotriene"):
        urinary_rise("lte4", -1, 10)


@given(st.floats(0, 1e5), st.floats(0, 1e5), st.floats(0, 1e5))
def test_monotone_in_the_acute_value(a: float, b: float, baseline: float) -> None:
    low, high = sorted((a, b))
    rank = {NOT_MET: 0, MET: 1}
    assert rank[urinary_rise("n_methylhistamine", low, baseline).status] <= rank[urinary_rise("n_methylhistamine", high, baseline).status]

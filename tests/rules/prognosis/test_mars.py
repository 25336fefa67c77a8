"""MARS (Jawhar et al., J Clin Oncol 2019): each threshold at its edge, every risk group, and sound ranges."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastcds.rules.prognosis.mars import mars, risk_group


def points(**kwargs) -> int:
    inputs = {"age_years": 40, "hemoglobin_g_dl": 13, "platelets_10e9_l": 250, "hmr_mutated": False}
    inputs.update(kwargs)
    result = mars(**inputs).as_dict()
    assert result["score"] is not None
    return result["score"]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("age_years", 60, 0), ("age_years", 60.0001, 1),
        ("hemoglobin_g_dl", 10, 0), ("hemoglobin_g_dl", 9.9999, 1),
        ("platelets_10e9_l", 100, 0), ("platelets_10e9_l", 99.9999, 1),
    ],
)
def test_each_threshold_with_the_comparator_as_published(field: str, value: float, expected: int) -> None:
    assert points(**{field: value}) == expected


@pytest.mark.parametrize(("genes", "expected"), [(0, 0), (1, 1), (2, 2), (3, 2)])
def test_high_molecular_risk_mutations_by_count(genes: int, expected: int) -> None:
    assert points(hmr_mutated=genes > 0, hmr_mutated_genes=genes) == expected


def test_a_yes_without_a_gene_count_is_one_or_two_points() -> None:
    result = mars(40, 13, 250, True).as_dict()
    assert (result["score"], result["min"], result["max"]) == (None, 1, 2)
    assert result["risk_group"] is None and result["possible_risk_groups"] == ["low", "intermediate"]
    item = result["items"][3]
    assert item["status"] == "met" and item["points"] is None


@pytest.mark.parametrize(
    ("score", "group"), [(0, "low"), (1, "low"), (2, "intermediate"), (3, "high"), (4, "high"), (5, "high")]
)
def test_risk_groups(score: int, group: str) -> None:
    assert risk_group(score) == group


def test_risk_group_outside_0_to_5_raises() -> None:
    with pytest.raises(ValueError):
        risk_group(6)


@pytest.mark.parametrize(
    ("group", "training", "validation"),
    [("low", None, 12.2), ("intermediate", 3.9, 4.4), ("high", 1.9, 1.9)],
)
def test_median_overall_survival_per_group(group: str, training: float | None, validation: float) -> None:
    inputs = {"low": (40, 13, 250, False), "intermediate": (70, 9, 250, False), "high": (70, 9, 50, False)}[group]
    result = mars(*inputs).as_dict()
    assert result["risk_group"] == group
    os = result["median_overall_survival"][group]
    assert [entry["years"] for entry in os] == [training, validation]
    assert os[0]["text"] == ("not reached" if training is None else f"{training:g} years")


def test_maximum_score() -> None:
    result = mars(70, 9, 50, True, 2).as_dict()
    assert result["score"] == 5 and result["risk_group"] == "high"


def test_everything_unknown_is_the_full_range() -> None:
    result = mars(None, None, None, None).as_dict()
    assert (result["score"], result["min"], result["max"], result["risk_group"]) == (None, 0, 5, None)
    assert result["possible_risk_groups"] == ["low", "intermediate", "high"]
    assert all(item["status"] == "unknown" and item["source"] for item in result["items"])
    assert "advanced SM" in result["population"]


def test_an_unknown_that_cannot_change_the_group_leaves_it_determinate() -> None:
    result = mars(70, 9, 50, None).as_dict()
    assert (result["min"], result["max"], result["score"]) == (3, 5, None)
    assert result["risk_group"] == "high"


def maybe_number(low: float, high: float) -> st.SearchStrategy[float | None]:
    return st.none() | st.floats(min_value=low, max_value=high, allow_nan=False)


@given(maybe_number(0, 120), maybe_number(0, 30), maybe_number(0, 2000), st.none() | st.booleans())
def test_the_range_is_sound_for_every_completion_of_the_unknowns(age, hb, plt, mutated) -> None:
    result = mars(age, hb, plt, mutated).as_dict()
    assert result["min"] <= result["max"]
    assert (result["score"] is not None) == (result["min"] == result["max"])
    assert (result["risk_group"] is not None) == (len(result["possible_risk_groups"]) == 1)
    completions = itertools.product(
        [age] if age is not None else [40, 70],
        [hb] if hb is not None else [13, 9],
        [plt] if plt is not None else [250, 50],
        ([0] if mutated is False else [1, 2] if mutated else [0, 1, 2]),
    )
    for a, h, p, genes in completions:
        filled = mars(a, h, p, genes > 0, genes).as_dict()
        assert result["min"] <= filled["score"] <= result["max"]
        assert filled["risk_group"] in result["possible_risk_groups"]

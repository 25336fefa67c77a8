"""Adrenaline auto-injector strength: every band edge in each jurisdiction (docs/anaphylaxis-treatment-reference.md §6.2)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastcds.rules.dosing.inputs import DoseInputError
from mastcds.rules.dosing.epinephrine import epinephrine_autoinjector


@pytest.mark.parametrize(
    ("jurisdiction", "weight", "dose"),
    [
        ("eu", 7.4999, None), ("eu", 7.5, 0.15), ("eu", 25, 0.15), ("eu", 25.0001, 0.3), ("eu", 106, 0.3),
        ("us", 7.4999, None), ("us", 7.5, 0.1), ("us", 14.9999, 0.1), ("us", 15, 0.15), ("us", 29.9999, 0.15),
        ("us", 30, 0.3),
        ("au", 7.4999, None), ("au", 7.5, 0.15), ("au", 20, 0.15), ("au", 20.0001, 0.3),
    ],
)
def test_weight_band_edges(jurisdiction: str, weight: float, dose: float | None) -> None:
    device = epinephrine_autoinjector(weight, None, jurisdiction)
    assert device.dose_mg == dose
    assert device.jurisdiction == jurisdiction
    if dose is None:
        assert any("specialist decision" in w for w in device.warnings)
        assert device.as_dict()["devices"] is None
    else:
        assert "prescribe two" in device.reason
        assert device.as_dict()["devices"] == 2


@pytest.mark.parametrize(("jurisdiction", "weight", "noted"), [("eu", 60, False), ("eu", 60.0001, True), ("au", 50, False), ("au", 50.0001, True)])
def test_the_half_milligram_device_is_a_note_not_the_default(jurisdiction: str, weight: float, noted: bool) -> None:
    device = epinephrine_autoinjector(weight, 40, jurisdiction)
    assert device.dose_mg == 0.3
    assert any("0.5 mg" in w for w in device.warnings) is noted


def test_eu_25_kg_switch_says_the_sources_differ() -> None:
    assert any("25 and 30 kg" in w for w in epinephrine_autoinjector(20, None).warnings)


@pytest.mark.parametrize(
    ("age", "dose"),
    [(0.9999, None), (1, 0.15), (5.9999, 0.15), (6, 0.3), (12, 0.3), (12.0001, 0.3), (31, 0.3)],
)
def test_eu_age_bands_only_when_weight_is_missing(age: float, dose: float | None) -> None:
    device = epinephrine_autoinjector(None, age)
    assert device.dose_mg == dose
    if dose is not None:
        assert any("record the weight" in w for w in device.warnings)
    assert any("0.5 mg" in w for w in device.warnings) is (age > 12)


def test_weight_wins_over_age() -> None:
    assert epinephrine_autoinjector(20, 40).dose_mg == 0.15
    assert epinephrine_autoinjector(7, 40).dose_mg is None


@pytest.mark.parametrize("jurisdiction", ["us", "au"])
def test_other_jurisdictions_need_the_weight(jurisdiction: str) -> None:
    device = epinephrine_autoinjector(None, 30, jurisdiction)
    assert device.dose_mg is None and "weight only" in device.reason


def test_nothing_recorded() -> None:
    device = epinephrine_autoinjector(None, None)
    assert device.dose_mg is None and device.reason == "weight and age not recorded"


def test_seed_patient() -> None:
    device = epinephrine_autoinjector(106, 31)
    assert device.dose_mg == 0.3 and device.devices == 2
    assert device.source.startswith("UK/EU")


@pytest.mark.parametrize(
    ("weight", "age", "jurisdiction", "field"),
    [(-1, None, "eu", "weight"), (math.nan, None, "eu", "weight"), (401, None, "eu", "weight"), (None, -1, "eu", "age"),
     (None, 121, "eu", "age"), (70, 30, "uk", "jurisdiction")],
)
def test_impossible_inputs_raise(weight, age, jurisdiction: str, field: str) -> None:
    with pytest.raises(DoseInputError) as error:
        epinephrine_autoinjector(weight, age, jurisdiction)
    assert error.value.field == field


STRENGTHS = {"eu": {0.15, 0.3}, "us": {0.1, 0.15, 0.3}, "au": {0.15, 0.3}}


@given(
    st.sampled_from(["eu", "us", "au"]),
    st.floats(min_value=0.5, max_value=400, allow_nan=False),
    st.floats(min_value=0.5, max_value=400, allow_nan=False),
)
def test_strength_never_falls_as_weight_rises(jurisdiction: str, a: float, b: float) -> None:
    light, heavy = sorted((a, b))
    low = epinephrine_autoinjector(light, None, jurisdiction).dose_mg
    high = epinephrine_autoinjector(heavy, None, jurisdiction).dose_mg
    for dose in (low, high):
        assert dose is None or dose in STRENGTHS[jurisdiction]
    if low is not None:
        assert high is not None and high >= low

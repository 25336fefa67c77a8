"""Exact unit conversions, and refusals where a conversion would need a guess."""

from __future__ import annotations

import pytest

from mastcds.units import UnitError, to_canonical


@pytest.mark.parametrize(
    ("test", "value", "unit", "expected"),
    [
        ("tryptase", 50.9, "ug/L", 50.9),
        ("tryptase", 50.9, "µg/L", 50.9),
        ("tryptase", 50.9, "μg/L", 50.9),
        ("tryptase", 50.9, "mcg/L", 50.9),
        ("tryptase", 50.9, "ng/mL", 50.9),
        ("ige_total", 25, "kU/L", 25),
        ("ige_total", 25, "[IU]/mL", 25),
        ("ige_total", 25, "IU/mL", 25),
        ("hemoglobin", 95, "g/L", 9.5),
        ("hemoglobin", 9.5, "g/dL", 9.5),
        ("albumin", 3.5, "g/dL", 35),
        ("platelets", 150, "10*9/L", 150),
        ("platelets", 150, "10^3/µL", 150),
        ("platelets", 150, "x10^9/L", 150),
        ("alkaline_phosphatase", 2, "ukat/L", 120),
        ("beta2_microglobulin", 2.1, "ug/mL", 2.1),
        ("beta2_microglobulin", 0.21, "mg/dL", 2.1),
        ("weight", 220, "[lb_av]", 220 * 0.45359237),
        ("weight", 106000, "g", 106),
    ],
)
def test_exact_conversions(test: str, value: float, unit: str, expected: float) -> None:
    assert to_canonical(test, value, unit) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("test", "unit"),
    [("hemoglobin", "mmol/L"), ("beta2_microglobulin", "nmol/L"), ("tryptase", "U/L"), ("ige_total", "ng/mL"),
     ("weight", "st"), ("ige_total", "ukat/L"), ("platelets", "g/dL"), ("tryptase", "ng/mm"), ("hemoglobin", "mg/kg")],
)
def test_inexact_or_unknown_units_are_refused(test: str, unit: str) -> None:
    with pytest.raises(UnitError) as caught:
        to_canonical(test, 1.0, unit)
    assert unit in str(caught.value) and "accepted" in str(caught.value)


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("ｍｇ/Ｌ", 2.1), (" mg / L ", 2.1), ("MG/DL", 21.0), ("µg/mL", 2.1), ("mcg/mL", 2.1), ("ng/mL", 0.0021)],
)
def test_spelling_variants_of_a_unit_convert_alike_every_time(unit: str, expected: float) -> None:
    """Full-width (NFKC), spaces, case, µ/mcg: the same unit, on the first call and on later ones."""
    for _ in range(2):
        assert to_canonical("beta2_microglobulin", 2.1, unit) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("test", "value", "unit", "expected"),
    [
        # UCUM spellings of accepted units (UCUM is case-sensitive, senders vary)
        ("ige_total", 25, "[iU]/mL", 25),
        ("ige_total", 25, "k[IU]/L", 25),
        ("ige_total", 25, "k[iU]/L", 25),
        ("ige_total", 25000, "[IU]/L", 25),
        # every exact conversion by powers of ten (UCUM prefixes), not only the listed ones
        ("tryptase", 0.0509, "ug/mL", 50.9),
        ("tryptase", 0.0509, "mg/L", 50.9),
        ("tryptase", 5090, "ng/dL", 50.9),
        ("tryptase", 50900, "pg/mL", 50.9),
        ("tryptase", 50900, "ng/L", 50.9),
        ("hemoglobin", 9500, "mg/dL", 9.5),
        ("platelets", 150, "/nL", 150),
        ("platelets", 150, "10*3/mm3", 150),
        ("neutrophils", 1.5, "10*6/mL", 1.5),
        ("alkaline_phosphatase", 2000, "nkat/L", 120),
        ("ldh", 3, "ukat/L", 180),
    ],
)
def test_ucum_spellings_and_exact_conversions(test: str, value: float, unit: str, expected: float) -> None:
    """Regression (issue 17 §2): [iU]/mL refused a whole IgE; tryptase in ug/mL or mg/L (x 1000) was refused."""
    assert to_canonical(test, value, unit) == pytest.approx(expected, rel=1e-12)


def test_powers_of_ten_are_exact() -> None:
    assert to_canonical("tryptase", 1.0, "ug/mL") == 1000.0
    assert to_canonical("tryptase", 1.0, "mg/L") == 1000.0

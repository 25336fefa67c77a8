"""The one unit converter: lab values to the units the criteria are written in.

Only conversions that are exact by definition are made (ng/mL = µg/L,
kU/L = IU/mL, g/L = g/dL × 10, 10^3/µL = 10^9/L, µkat/L = 60 U/L,
lb = 0.45359237 kg, ng/g = pg/mg per creatinine). Anything needing a molar mass or an assay-specific
factor (Hb in mmol/L, β2-microglobulin in nmol/L) is refused, because a
silent approximation in a threshold test is worse than a clear error.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass


class UnitError(ValueError):
    """A unit that cannot be converted exactly to the canonical unit."""

    def __init__(self, test: str, unit: str, accepted: list[str]) -> None:
        self.test = test
        self.unit = unit
        self.accepted = accepted
        super().__init__(
            f"unit {unit!r} is not accepted for {test}; accepted: {', '.join(accepted)}"
        )


@dataclass(frozen=True)
class LabSpec:
    """Canonical unit of a test, the factor from each accepted unit, and the plausible range."""

    canonical: str
    factors: dict[str, float]
    low: float
    high: float
    shown: tuple[str, ...] = ()  # the spellings an error lists, when the accepted ones are many variants of a few


@functools.lru_cache(maxsize=512)
def _norm(unit: str) -> str:
    """Spelling variants of one unit compare equal: µ/μ/u/mcg, ^ and *, case, spaces.

    A pure function of a short unit string, called for every value read (the
    FHIR import, case loading, screening): a bounded cache spares the NFKC
    normalisation and the replacements for the few spellings a source uses.
    """
    text = unicodedata.normalize("NFKC", unit).strip()
    text = text.replace("μ", "u").replace("µ", "u").replace("mcg", "ug")
    text = text.replace(" ", "").replace("^", "*").replace("[iu]", "iu").replace("[IU]", "IU")
    text = text.replace("10E", "10*").replace("10e", "10*").replace("x10", "10")
    return text.lower()


_PER_1E9 = {"10*9/l": 1.0, "g/l": 1.0, "/nl": 1.0, "10*3/ul": 1.0, "10*3/mm3": 1.0}

# Urinary mediators are reported per creatinine; UCUM writes the denominator as an annotation
# (ug/g{creat}), laboratories as a word. A unit without creatinine is taken as per creatinine, as
# these tests are only ever reported that way; a 24-hour amount (ug/24h) is refused.
_CREATININE_SPELLINGS = ("", "{creat}", "{creatinine}", "{cre}", "creatinine", "creat", "cr")


def _per_creatinine(canonical: str, factors: dict[str, float], low: float, high: float) -> LabSpec:
    accepted = {unit + spelling: factor for unit, factor in factors.items() for spelling in _CREATININE_SPELLINGS}
    return LabSpec(canonical, accepted, low, high, tuple(f"{unit}{{creat}}" for unit in factors))


# Ranges bound what is physically possible, not what is normal: they catch
# misplaced decimal points and wrong units, never a sick patient.
LAB_SPECS: dict[str, LabSpec] = {
    "tryptase": LabSpec("ng/mL", {"ng/ml": 1.0, "ug/l": 1.0}, 0, 100000),
    "ige_total": LabSpec(
        "IU/mL", {"iu/ml": 1.0, "ku/l": 1.0, "kiu/l": 1.0, "kiu/ml": 1000.0}, 0, 100000
    ),
    "hemoglobin": LabSpec("g/dL", {"g/dl": 1.0, "g/l": 0.1, "mg/ml": 0.1}, 0, 30),
    "platelets": LabSpec("10^9/L", dict(_PER_1E9), 0, 5000),
    "neutrophils": LabSpec("10^9/L", dict(_PER_1E9), 0, 500),
    "alkaline_phosphatase": LabSpec("U/L", {"u/l": 1.0, "iu/l": 1.0, "ukat/l": 60.0}, 0, 10000),
    "albumin": LabSpec("g/L", {"g/l": 1.0, "g/dl": 10.0, "mg/ml": 1.0}, 0, 100),
    "beta2_microglobulin": LabSpec(
        "mg/L", {"mg/l": 1.0, "ug/ml": 1.0, "mg/dl": 10.0, "ng/ml": 0.001}, 0, 100
    ),
    "kit_d816v_vaf": LabSpec("%", {"%": 1.0}, 0, 100),
    "weight": LabSpec("kg", {"kg": 1.0, "g": 0.001, "[lb_av]": 0.45359237, "lb": 0.45359237}, 0.5, 400),
    "ldh": LabSpec("U/L", {"u/l": 1.0, "iu/l": 1.0, "ukat/l": 60.0}, 0, 100000),
    "leukocytes": LabSpec("10^9/L", dict(_PER_1E9), 0, 1000),
    "eosinophils": LabSpec("10^9/L", dict(_PER_1E9), 0, 500),
    "monocytes": LabSpec("10^9/L", dict(_PER_1E9), 0, 500),
    "urine_n_methylhistamine": _per_creatinine("ug/g creatinine", {"ug/g": 1.0, "ng/mg": 1.0}, 0, 100000),
    "urine_11b_pgf2a": _per_creatinine("ng/g creatinine", {"ng/g": 1.0, "pg/mg": 1.0, "ug/g": 1000.0}, 0, 1000000),
    "urine_lte4": _per_creatinine("pg/mg creatinine", {"pg/mg": 1.0, "ng/g": 1.0, "ug/g": 1000.0}, 0, 1000000),
}

# Each test as a clinician writes it, for pages and reports (the keys are the
# case schema's names, which stay as they are).
LAB_TEST_LABELS: dict[str, str] = {
    "tryptase": "tryptase",
    "ige_total": "total IgE",
    "hemoglobin": "haemoglobin",
    "platelets": "platelets",
    "neutrophils": "neutrophils",
    "alkaline_phosphatase": "alkaline phosphatase",
    "albumin": "albumin",
    "beta2_microglobulin": "β2-microglobulin",
    "kit_d816v_vaf": "KIT D816V VAF",
    "weight": "body weight",
    "ldh": "LDH",
}

# Platelets and neutrophils share "g/l" (giga per litre) with a mass unit; the
# mass reading is never meant for a cell count, so it is kept only for counts.


def accepted_units(test: str) -> list[str]:
    spec = LAB_SPECS[test]
    return list(spec.shown) if spec.shown else sorted(spec.factors)


def to_canonical(test: str, value: float, unit: str) -> float:
    """``value`` in ``unit`` expressed in the test's canonical unit, or :class:`UnitError`."""
    spec = LAB_SPECS[test]
    factor = spec.factors.get(_norm(unit))
    if factor is None:
        raise UnitError(test, unit, accepted_units(test))
    return value * factor

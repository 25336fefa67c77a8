"""The one unit converter: lab values to the units the criteria are written in.

Only conversions that are exact by definition are made (ng/mL = µg/L,
kU/L = IU/mL, g/L = g/dL × 10, 10^3/µL = 10^9/L, µkat/L = 60 U/L,
lb = 0.45359237 kg, ng/g = pg/mg per creatinine), and every one of them: a unit of the same kind as the
canonical unit (mass per volume, units per volume, count per volume) with any
SI prefix (p n u m c d k) is scaled by its powers of ten (UCUM,
https://ucum.org/ucum, §2.3 prefixes; ug/mL and mg/L of tryptase are
1000 ng/mL). Anything needing a molar mass or an assay-specific factor (Hb in
mmol/L, β2-microglobulin in nmol/L) is refused, because a silent
approximation in a threshold test is worse than a clear error.
"""

from __future__ import annotations

import functools
import re
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
    text = text.replace(" ", "").replace("^", "*").lower().replace("[iu]", "iu")
    return text.replace("10e", "10*").replace("x10", "10")


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


# UCUM prefixes as powers of ten (https://ucum.org/ucum §2.3, table 1), lower case as _norm leaves them
_PREFIXES = {"p": -12, "n": -9, "u": -6, "m": -3, "c": -2, "d": -1, "": 0, "k": 3}
# base units by kind: mass, volume, (international) units, katal
_BASES = {"g": "mass", "l": "volume", "iu": "units", "u": "units", "kat": "katal"}
_UNIT_TERM = re.compile(r"(p|n|u|m|c|d|k|)(g|l|iu|u|kat)")
_COUNT = re.compile(r"(?:10\*(\d{1,2})|1|)")
# 1 kat = 1 mol/s = 6e7 µmol/min = 6e7 U (1 µkat/L = 60 U/L), exact by definition
KATAL_TO_UNITS = 6e7


def _term(text: str) -> tuple[str, int] | None:
    """(kind, power of ten) of one prefixed unit (``mg`` -> mass -3, ``mm3`` -> volume -6), or None."""
    if text == "mm3":
        return "volume", -6  # a cubic millimetre is a microlitre
    found = _UNIT_TERM.fullmatch(text)
    if found is None:
        return None
    return _BASES[found.group(2)], _PREFIXES[found.group(1)]


@functools.lru_cache(maxsize=512)
def _per_volume(unit: str) -> tuple[str, int] | None:
    """(kind of the numerator, power of ten) of a normalised "X/volume" unit, or None when it is not one.

    ``ug/ml`` -> ("mass", -3); ``10*9/l`` -> ("count", 9); ``/nl`` -> ("count", 9).
    """
    numerator, slash, denominator = unit.partition("/")
    volume = _term(denominator) if slash else None
    if volume is None or volume[0] != "volume":
        return None
    count = _COUNT.fullmatch(numerator)
    if count is not None:
        return "count", (int(count.group(1)) if count.group(1) else 0) - volume[1]
    term = _term(numerator)
    return None if term is None else (term[0], term[1] - volume[1])


def _exact_factor(spec: LabSpec, unit: str) -> float | None:
    """The exact factor from ``unit`` to the canonical unit when both are amounts per volume of one kind.

    Powers of ten are subtracted as integers, so that ug/mL -> ng/mL is 1000.0, not 1000.0000000000001.
    """
    given, canonical = _per_volume(unit), _per_volume(_norm(spec.canonical))
    if given is None or canonical is None:
        return None
    scale = 1.0
    if given[0] == "katal" and canonical[0] == "units" and any("kat" in u for u in spec.factors):
        given, scale = ("units", given[1]), KATAL_TO_UNITS  # an enzyme activity: only where the table takes µkat
    if given[0] != canonical[0]:
        return None
    return scale * 10.0 ** (given[1] - canonical[1])


def accepted_units(test: str) -> list[str]:
    spec = LAB_SPECS[test]
    return list(spec.shown) if spec.shown else sorted(spec.factors)


def to_canonical(test: str, value: float, unit: str) -> float:
    """``value`` in ``unit`` expressed in the test's canonical unit, or :class:`UnitError`."""
    spec = LAB_SPECS[test]
    norm = _norm(unit)
    factor = spec.factors.get(norm)
    if factor is None:
        factor = _exact_factor(spec, norm)
    if factor is None:
        raise UnitError(test, unit, accepted_units(test))
    return value * factor

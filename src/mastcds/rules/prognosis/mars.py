"""MARS, the mutation-adjusted risk score for advanced systemic mastocytosis (Jawhar et al., J Clin Oncol 2019).

Only for advanced SM (ASM, SM-AHN, MCL): the score was built and validated in
those patients (n = 231 German registry, n = 152 ECNM validation) and says
nothing about ISM or SSM. Points are hazard-ratio weighted and independent of
the WHO subtype. An unknown item is never scored 0: the score becomes a range,
and the risk group is given only when every completion of the unknowns agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, Status, compare, fmt
from mastcds.rules.references import cite, reference_dicts

# The paper itself was not read: its points and risk groups come from clinical summaries,
# so the bibliography entry is marked secondary and the output says so.
CITATION = cite("jawhar2019_mars", where="MARS points and risk groups")
SOURCE = CITATION.text
POPULATION = "advanced SM (ASM, SM-AHN, MCL)"
ADVANCED_CATEGORIES = frozenset({"ASM", "SM-AHN", "SM-AMN", "MCL"})  # SM-AMN: the ICC 2022 name of SM-AHN

AGE_ABOVE_YEARS = 60.0  # age > 60 years: 1 point
HEMOGLOBIN_BELOW_G_DL = 10.0  # haemoglobin < 10 g/dL: 1 point
PLATELETS_BELOW_10E9_L = 100.0  # platelets < 100 x 10^9/L: 1 point
ONE_HMR_POINTS = 1  # one high-molecular-risk mutation (SRSF2, ASXL1 and/or RUNX1)
TWO_OR_MORE_HMR_POINTS = 2  # >= 2 high-molecular-risk mutations (replaces the 1 point)
HMR_GENES = "SRSF2, ASXL1, RUNX1"

# (risk group, lowest score, highest score, median OS training set, median OS validation set);
# None = median not reached.
RISK_GROUPS: tuple[tuple[str, int, int, float | None, float | None], ...] = (
    ("low", 0, 1, None, 12.2),
    ("intermediate", 2, 2, 3.9, 4.4),
    ("high", 3, 5, 1.9, 1.9),
)
TRAINING = "training set (German registry, n = 231)"
VALIDATION = "validation set (ECNM, n = 152)"


@dataclass(frozen=True)
class MarsItem:
    """One MARS variable: its status, the points it can add (a range when unknown), and why."""

    id: str
    status: Status
    points_min: int
    points_max: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "points": self.points_min if self.points_min == self.points_max else None,
            "points_min": self.points_min,
            "points_max": self.points_max,
            "reason": self.reason,
            "source": SOURCE,
            "references": reference_dicts(CITATION.keys),
        }


def _one_point(item_id: str, status: Status, reason: str) -> MarsItem:
    points = {MET: (1, 1), NOT_MET: (0, 0), UNKNOWN: (0, 1)}[status]
    return MarsItem(item_id, status, points[0], points[1], reason)


def _mutations(mutated: bool | None, mutated_genes: int | None) -> MarsItem:
    if mutated_genes is not None:
        points = 0 if mutated_genes == 0 else ONE_HMR_POINTS if mutated_genes == 1 else TWO_OR_MORE_HMR_POINTS
        status = MET if points else NOT_MET
        return MarsItem(
            "mars_hmr_mutations", status, points, points, f"{mutated_genes} of {HMR_GENES} mutated: {points} point(s)"
        )
    if mutated is None:
        return MarsItem(
            "mars_hmr_mutations", UNKNOWN, 0, TWO_OR_MORE_HMR_POINTS, f"{HMR_GENES} not tested: 0 to 2 points"
        )
    if not mutated:
        return MarsItem("mars_hmr_mutations", NOT_MET, 0, 0, f"none of {HMR_GENES} mutated: 0 points")
    return MarsItem(
        "mars_hmr_mutations",
        MET,
        ONE_HMR_POINTS,
        TWO_OR_MORE_HMR_POINTS,
        f"at least one of {HMR_GENES} mutated, number of genes not recorded: 1 point for one gene, 2 for two or more",
    )


def _os(cohort: str, years: float | None) -> dict[str, Any]:
    return {"cohort": cohort, "years": years, "text": "not reached" if years is None else f"{years:g} years"}


def _median_os(group: str) -> list[dict[str, Any]]:
    for name, _, _, training, validation in RISK_GROUPS:
        if name == group:
            return [_os(TRAINING, training), _os(VALIDATION, validation)]
    raise ValueError(group)


def risk_group(score: int) -> str:
    for name, low, high, _, _ in RISK_GROUPS:
        if low <= score <= high:
            return name
    raise ValueError(f"MARS score {score} outside 0-5")


@dataclass(frozen=True)
class Mars:
    items: tuple[MarsItem, ...]

    @property
    def min(self) -> int:
        return sum(item.points_min for item in self.items)

    @property
    def max(self) -> int:
        return sum(item.points_max for item in self.items)

    @property
    def possible_risk_groups(self) -> list[str]:
        return list(dict.fromkeys(risk_group(score) for score in range(self.min, self.max + 1)))

    def as_dict(self) -> dict[str, Any]:
        groups = self.possible_risk_groups
        return {
            "score": self.min if self.min == self.max else None,
            "min": self.min,
            "max": self.max,
            "risk_group": groups[0] if len(groups) == 1 else None,
            "possible_risk_groups": groups,
            "median_overall_survival": {group: _median_os(group) for group in groups},
            "items": [item.as_dict() for item in self.items],
            "population": POPULATION,
            "source": SOURCE,
            "references": reference_dicts(CITATION.keys),
        }


def mars(
    age_years: float | None,
    hemoglobin_g_dl: float | None,
    platelets_10e9_l: float | None,
    hmr_mutated: bool | None,
    hmr_mutated_genes: int | None = None,
) -> Mars:
    """MARS from its five variables; ``hmr_mutated_genes`` (how many of SRSF2/ASXL1/RUNX1) wins over ``hmr_mutated``."""
    return Mars(
        (
            _one_point(
                "mars_age_over_60",
                compare(age_years, ">", AGE_ABOVE_YEARS),
                f"age {fmt(age_years, 'years')} (> 60: 1 point)",
            ),
            _one_point(
                "mars_hemoglobin_below_10",
                compare(hemoglobin_g_dl, "<", HEMOGLOBIN_BELOW_G_DL),
                f"haemoglobin {fmt(hemoglobin_g_dl, 'g/dL')} (< 10 g/dL: 1 point)",
            ),
            _one_point(
                "mars_platelets_below_100",
                compare(platelets_10e9_l, "<", PLATELETS_BELOW_10E9_L),
                f"platelets {fmt(platelets_10e9_l, 'x10^9/L')} (< 100: 1 point)",
            ),
            _mutations(hmr_mutated, hmr_mutated_genes),
        )
    )

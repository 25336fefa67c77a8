"""What one episode showed, as the anaphylaxis criteria and severity grades read it.

WAO 2020, NIAID/FAAN 2006 and Brown 2004 group the same clinical signs into
organ systems; this module does that grouping once, in three values, so the
guideline modules differ only where the guidelines differ. Arithmetic on
clinical numbers is done in decimal (the numbers as written), so that a value
exactly at a limit is recognised as such instead of being decided by binary
rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, Criterion, Status, from_bool

TRIGGERS = (
    "none_identified",
    "hymenoptera_venom",
    "drug",
    "food",
    "heat",
    "exercise",
    "alcohol",
    "infection",
    "procedure",
    "other",
)
NO_TRIGGER = "none_identified"
OLDEST_AGE_YEARS = 130.0  # the open upper end of an unknown age (no one has lived longer)


@dataclass(frozen=True)
class EpisodeFindings:
    """One episode's findings; ``None`` is not recorded, never absent.

    The age is an interval because it is the age *at the episode*, which a
    record with partial dates only bounds; ``None`` ends mean unbounded.
    """

    age_years_low: float | None = None
    age_years_high: float | None = None
    trigger: str | None = None
    systolic_bp_mmhg: float | None = None
    baseline_systolic_bp_mmhg: float | None = None
    loss_of_consciousness: bool | None = None
    presyncope: bool | None = None
    urticaria: bool | None = None
    angioedema: bool | None = None
    flushing: bool | None = None
    pruritus: bool | None = None
    dyspnoea_wheeze_bronchospasm: bool | None = None  # dyspnoea, wheeze or bronchospasm, as one finding
    wheeze_bronchospasm: bool | None = None  # wheeze or bronchospasm, when recorded apart from dyspnoea
    stridor_or_laryngeal_oedema: bool | None = None
    hypoxaemia: bool | None = None
    abdominal_pain_vomiting_diarrhoea: bool | None = None
    cardiac_arrest: bool | None = None

    def __post_init__(self) -> None:
        if self.trigger is not None and self.trigger not in TRIGGERS:
            raise ValueError(f"trigger {self.trigger!r} is not one of {', '.join(TRIGGERS)}")


@lru_cache(maxsize=4096)  # pure; bounded because the numbers come from case documents
def exact(value: float) -> Decimal:
    """The number as written (50.9 is 50.9), for comparisons at a limit."""
    return Decimal(repr(float(value)))


def _any_present(*values: bool | None) -> Status:
    """``any_of(*map(from_bool, values))`` without building the statuses."""
    unknown = False
    for value in values:
        if value is None:
            unknown = True
        elif value:
            return MET
    return UNKNOWN if unknown else NOT_MET


def skin_mucosal(f: EpisodeFindings) -> Status:
    """Generalised hives, itch or flushing, or swollen lips-tongue-uvula (both criteria sets)."""
    return _any_present(f.urticaria, f.angioedema, f.flushing, f.pruritus)


def respiratory_compromise(f: EpisodeFindings) -> Status:
    """Dyspnoea, wheeze-bronchospasm, stridor, hypoxaemia (both criteria sets)."""
    return _any_present(f.dyspnoea_wheeze_bronchospasm, f.stridor_or_laryngeal_oedema, f.hypoxaemia)


def end_organ_dysfunction(f: EpisodeFindings) -> Status:
    """Collapse, syncope: loss of consciousness, or an arrest (which entails collapse)."""
    return _any_present(f.loss_of_consciousness, f.cardiac_arrest)


def gastrointestinal(f: EpisodeFindings) -> Status:
    """Crampy abdominal pain or repetitive vomiting: the schema field uses the guidelines' words."""
    return from_bool(f.abdominal_pain_vomiting_diarrhoea)


def systolic_drop_over(sbp: float | None, baseline: float | None, fraction: Decimal) -> Status:
    """Whether systolic BP fell by more than ``fraction`` of the patient's usual value.

    A missing usual value leaves it unknown: any normal-looking reading may
    still be a large fall for a hypertensive patient.
    """
    if sbp is None or baseline is None:
        return UNKNOWN
    return MET if exact(baseline) - exact(sbp) > fraction * exact(baseline) else NOT_MET


def below_age_limit(
    sbp: float | None,
    age_low: float | None,
    age_high: float | None,
    limit: Callable[[float], float | None],
) -> Status:
    """``sbp < limit(age)`` for every or no age the record allows.

    ``limit`` must be non-decreasing in age (true of every published table),
    so the two ends of the age interval decide; ``None`` from ``limit`` means
    the guideline gives no value at that age.
    """
    if sbp is None:
        return UNKNOWN
    low = limit(0.0 if age_low is None else age_low)
    high = limit(OLDEST_AGE_YEARS if age_high is None else age_high)
    if low is None or high is None:
        return UNKNOWN
    if exact(sbp) < exact(low):
        return MET
    if exact(sbp) >= exact(high):
        return NOT_MET
    return UNKNOWN


def describe_age(f: EpisodeFindings) -> str:
    if f.age_years_low is None and f.age_years_high is None:
        return "age at the episode not known"
    if f.age_years_low is not None and f.age_years_high is not None and math.floor(f.age_years_low) == math.floor(
        f.age_years_high
    ):
        return f"age {math.floor(f.age_years_low)} at the episode"
    low = "?" if f.age_years_low is None else f"{math.floor(f.age_years_low)}"
    high = "?" if f.age_years_high is None else f"{math.floor(f.age_years_high)}"
    return f"age {low} to {high} at the episode"


@dataclass(frozen=True)
class CriteriaResult:
    """A criteria set's verdict and the criteria behind it (any one met suffices)."""

    status: Status
    criteria: list[Criterion]


_SIGN_NAMES = {
    "urticaria": "urticaria",
    "angioedema": "angioedema",
    "flushing": "flushing",
    "pruritus": "generalised itch",
    "dyspnoea_wheeze_bronchospasm": "dyspnoea/wheeze/bronchospasm",
    "wheeze_bronchospasm": "wheeze/bronchospasm",
    "stridor_or_laryngeal_oedema": "stridor/laryngeal oedema",
    "hypoxaemia": "hypoxaemia",
    "loss_of_consciousness": "loss of consciousness",
    "cardiac_arrest": "cardiac/respiratory arrest",
    "abdominal_pain_vomiting_diarrhoea": "crampy abdominal pain/vomiting",
    "presyncope": "presyncope",
}


def signs(f: EpisodeFindings, *fields: str) -> str:
    """Which of the named signs were present, absent, not recorded: the words of a reason."""
    present = []
    unknown = []
    for n in fields:
        value = getattr(f, n)
        if value is True:
            present.append(_SIGN_NAMES[n])
        elif value is None:
            unknown.append(_SIGN_NAMES[n])
    if present:
        return ", ".join(present)
    if unknown:
        return "none recorded present; not recorded: " + ", ".join(unknown)
    return "none"


_PART_WORDS = {MET: "yes", NOT_MET: "no", UNKNOWN: "unknown"}


def part(label: str, status: Status, detail: str) -> str:
    word = _PART_WORDS[status]
    return f"{label}: {word} ({detail})"

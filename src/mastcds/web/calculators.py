"""The quick calculators (no patient needed): omalizumab dose, adrenaline auto-injector, REMA score, tryptase 20% + 2.

Thin wrappers over the rules, shared by the calculator page and the API, so
both refuse the same inputs with the same words. Bounds are the case schema's
(what a patient can physically have), so a calculator never accepts a value
that a case would refuse.
"""

from __future__ import annotations

import math
from typing import Any

from mastcds.rules.dosing.epinephrine import JURISDICTIONS, epinephrine_autoinjector
from mastcds.rules.dosing.inputs import AGE_PLAUSIBLE_YEARS, IGE_PLAUSIBLE_IU_ML, WEIGHT_PLAUSIBLE_KG, DoseInputError
from mastcds.rules.dosing.omalizumab import SYRINGE_CHOICES, SYRINGES_LABEL, TABLES, dose_table, omalizumab_dose
from mastcds.rules.anaphylaxis.rema import rema_score
from mastcds.rules.mediators.tryptase import event_threshold_ng_ml, rise_meets_20_plus_2
from mastcds.web.problems import InputError

# case schema (mastcds-case/1): labs.baseline_tryptase_ng_ml, episodes[].acute_tryptase_*
TRYPTASE_BOUNDS_NG_ML = (0.0, 100000.0)
MINUTES_BOUNDS = (0.0, 10080.0)
BOUNDS = {
    "ige_iu_ml": (IGE_PLAUSIBLE_IU_ML, "IU/mL"),
    "weight_kg": (WEIGHT_PLAUSIBLE_KG, "kg"),
    "age_years": (AGE_PLAUSIBLE_YEARS, "years"),
    "baseline_tryptase_ng_ml": (TRYPTASE_BOUNDS_NG_ML, "ng/mL"),
    "acute_tryptase_ng_ml": (TRYPTASE_BOUNDS_NG_ML, "ng/mL"),
    "minutes_after_onset": (MINUTES_BOUNDS, "min"),
}


def _problems_of(*fields: tuple[str, float | None]) -> list[Any]:
    """Every field's problem at once (not only the first), for one refusal naming them all."""
    problems = []
    for field, value in fields:
        try:
            checked(field, value)
        except InputError as error:
            problems += error.problems
    return problems


def checked(field: str, value: float | None) -> float | None:
    """``value`` when it is a finite number within the field's bounds, else :class:`InputError`."""
    if value is None:
        return None
    (low, high), unit = BOUNDS[field]
    if not math.isfinite(value) or not low <= value <= high:
        raise InputError.one(field, value, f"must lie in {low:g}-{high:g} {unit}")
    return value


def table_titles() -> dict[str, str]:
    return {table: dose_table(table).title for table in TABLES}


def omalizumab(
    ige_iu_ml: float,
    weight_kg: float,
    table: str,
    *,
    age_years: float | None = None,
    syringes: str = SYRINGES_LABEL,
    off_label: bool = False,
) -> dict[str, Any]:
    """The DOSE object of the evaluation contract for these inputs.

    ``off_label``: for mastocytosis, anaphylaxis or MCAS, where omalizumab has
    no label indication: the dose then carries the off-label warning.
    """
    problems = _problems_of(("ige_iu_ml", ige_iu_ml), ("weight_kg", weight_kg), ("age_years", age_years))
    if table not in TABLES:
        problems += InputError.one("table", table, f"must be one of {', '.join(TABLES)}").problems
    if syringes not in SYRINGE_CHOICES:
        problems += InputError.one("syringes", syringes, f"must be one of {', '.join(SYRINGE_CHOICES)}").problems
    if problems:
        raise InputError(problems)
    try:
        dose = omalizumab_dose(
            ige_iu_ml, weight_kg, table, age_years=age_years, syringes=syringes, indication_off_label=off_label
        )
    except DoseInputError as error:
        raise InputError.one(error.field, error.value, f"accepted: {error.accepted}") from None
    return dose.as_dict()  # type: ignore[union-attr]  # None only when an input is missing


def epinephrine(weight_kg: float | None, age_years: float | None, jurisdiction: str = "eu") -> dict[str, Any]:
    """The adrenaline auto-injector strength (always two devices) by weight, else by age (UK/EU bands)."""
    problems = _problems_of(("weight_kg", weight_kg), ("age_years", age_years))
    if jurisdiction not in JURISDICTIONS:
        problems += InputError.one("jurisdiction", jurisdiction, f"must be one of {', '.join(JURISDICTIONS)}").problems
    if problems:
        raise InputError(problems)
    return epinephrine_autoinjector(weight_kg, age_years, jurisdiction).as_dict()


def rema(
    sex: str | None,
    urticaria_or_angioedema: bool | None,
    presyncope_or_syncope: bool | None,
    baseline_tryptase_ng_ml: float | None,
) -> dict[str, Any]:
    """The REMA score (or its range while items are unknown) with each item's reason and source."""
    if sex not in (None, "male", "female"):
        raise InputError.one("sex", sex, "must be male, female or unknown")
    result = rema_score(sex, urticaria_or_angioedema, presyncope_or_syncope, checked("baseline_tryptase_ng_ml", baseline_tryptase_ng_ml))
    return {
        "score": result.score,
        "min": result.min,
        "max": result.max,
        "clonal_likely": result.clonal_likely,
        "items": [item.as_dict() for item in result.items],
    }


def tryptase_rise(
    baseline_tryptase_ng_ml: float, acute_tryptase_ng_ml: float | None = None, minutes_after_onset: float | None = None
) -> dict[str, Any]:
    """The 20% + 2 threshold for a baseline, and whether an acute value exceeds it."""
    checked("baseline_tryptase_ng_ml", baseline_tryptase_ng_ml)
    checked("acute_tryptase_ng_ml", acute_tryptase_ng_ml)
    checked("minutes_after_onset", minutes_after_onset)
    return {
        "baseline_ng_ml": baseline_tryptase_ng_ml,
        "threshold_ng_ml": event_threshold_ng_ml(baseline_tryptase_ng_ml),
        "acute_ng_ml": acute_tryptase_ng_ml,
        "rise": rise_meets_20_plus_2(acute_tryptase_ng_ml, baseline_tryptase_ng_ml, minutes_after_onset).as_dict(),
    }

"""Glue from a Case to the dosing, prognosis and treatment sections of the evaluation.

The rules take plain numbers; this module decides which recorded value feeds
them (an explicit lab field first, else the latest dated result in canonical
units) and which treatments run at the evaluation date. Human-readable
warnings go to the shared ``warnings`` list, prefixed with their topic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from mastcds.case import Case, LabResult, date_key, date_key_latest
from mastcds.rules.dosing.epinephrine import epinephrine_autoinjector
from mastcds.rules.dosing.omalizumab import EU_ASTHMA, US_ASTHMA, omalizumab_dose
from mastcds.rules.prognosis import ipsm, maps
from mastcds.rules.prognosis.mars import ADVANCED_CATEGORIES, POPULATION, mars
from mastcds.rules.treatment.ladder import CURRENT, ENDED, NOT_STARTED, TreatmentRecord, drug_class
from mastcds.rules.treatment.ladder import treatment_plan as ladder_plan

Categories = str | Sequence[str] | None


def _latest(results: Sequence[LabResult]) -> LabResult | None:
    if not results:
        return None
    return max(enumerate(results), key=lambda item: (date_key(item[1].date), date_key_latest(item[1].date), item[0]))[1]


def _latest_value(case: Case, test: str) -> float | None:
    result = _latest([r for r in case.lab_results if r.test == test])
    return None if result is None else result.canonical_value


def _weight(case: Case) -> float | None:
    return case.patient.weight_kg if case.patient.weight_kg is not None else _latest_value(case, "weight")


def _omalizumab_treatments(case: Case) -> list[Any]:
    return [t for t in case.treatments if drug_class(t.drug) == "omalizumab"]


def _baseline_ige(case: Case, warnings: list[str]) -> float | None:
    """Total IgE before omalizumab: the label doses from it, and IgE stays raised up to a year on treatment."""
    if case.labs.ige_total_iu_ml is not None:
        return case.labs.ige_total_iu_ml
    results = [r for r in case.lab_results if r.test == "ige_total"]
    starts = [t.start_date for t in _omalizumab_treatments(case)]
    if results and starts:
        first_start = min(starts, key=date_key)
        before = [r for r in results if date_key(r.date) <= date_key_latest(first_start)]
        if not before:
            warnings.append(
                "omalizumab: every recorded total IgE was measured after omalizumab started; the label doses from "
                "the IgE measured before treatment (IgE stays raised up to one year), so no dose is computed"
            )
            return None
        results = before
    latest = _latest(results)
    return None if latest is None else latest.canonical_value


def omalizumab(case: Case, warnings: list[str]) -> dict[str, Any] | None:
    """The contract's DOSE by the EU SmPC asthma table (off-label in mastcds), with the US table as an alternative."""
    ige = _baseline_ige(case, warnings)
    weight = _weight(case)
    indications = " ".join((t.indication or "") for t in _omalizumab_treatments(case)).lower()
    off_label = "asthma" not in indications
    age = case.patient.age_years
    eu = omalizumab_dose(ige, weight, EU_ASTHMA, indication_off_label=off_label, age_years=age)
    if eu is None:
        return None
    us = omalizumab_dose(ige, weight, US_ASTHMA, indication_off_label=off_label, age_years=age)
    warnings.extend(f"omalizumab ({eu.table}): {warning}" for warning in eu.warnings)
    result = eu.as_dict()
    result["alternatives"] = [us.as_dict()] if us is not None else []
    return result


def epinephrine_autoinjector_mg(case: Case, warnings: list[str]) -> float | None:
    """The auto-injector strength (UK/EU practice); a warning says why when no strength can be given."""
    device = epinephrine_autoinjector(_weight(case), case.patient.age_years)
    if device.dose_mg is None:
        warnings.append(f"adrenaline auto-injector: {device.reason}; {'; '.join(device.warnings)}")
    return device.dose_mg


def _as_list(value: Categories) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _lab(case: Case, field: str, test: str) -> float | None:
    value = getattr(case.labs, field)
    return value if value is not None else _latest_value(case, test)


def prognosis(case: Case, categories: Mapping[str, Categories], warnings: list[str]) -> dict[str, Any]:
    """``{"ipsm": null, "mars": {...} | null, "not_computed": {...}}``; MARS only for a (possible) advanced SM.

    ``categories`` maps edition to its category, or to the list of categories
    still possible; ``None`` when unknown. IPSM and MAPS are never computed
    (their tables could not be verified, see their rule modules); ``not_computed``
    says so, and why MARS is absent when it is.
    """
    possible: dict[str, list[str]] = {
        edition: value for edition, value in ((e, _as_list(v)) for e, v in categories.items()) if value is not None
    }
    certain = sorted({c[0] for c in possible.values() if len(c) == 1 and c[0] in ADVANCED_CATEGORIES})
    maybe = sorted({c for cats in possible.values() for c in cats if c in ADVANCED_CATEGORIES})
    not_computed = {"ipsm": ipsm.NOT_COMPUTED, "maps": maps.NOT_COMPUTED}
    mars_result: dict[str, Any] | None = None
    if certain or maybe:
        score = mars(
            case.patient.age_years,
            _lab(case, "hemoglobin_g_dl", "hemoglobin"),
            _lab(case, "platelets_10e9_l", "platelets"),
            case.molecular.srsf2_asxl1_runx1_mutated,
        )
        mars_result = score.as_dict()
        if certain:
            mars_result["applies"] = f"yes: advanced SM ({', '.join(certain)})"
        else:
            mars_result["applies"] = f"only if advanced SM is confirmed (possible: {', '.join(maybe)})"
            warnings.append(f"MARS shown because {', '.join(maybe)} is still possible; it applies only to {POPULATION}")
    elif not possible:
        not_computed["mars"] = f"MARS applies only to {POPULATION}; the SM category is not determined"
    else:
        shown = sorted({c for cats in possible.values() for c in cats})
        not_computed["mars"] = f"MARS applies only to {POPULATION}; category {', '.join(shown)}"
    return {"ipsm": None, "mars": mars_result, "not_computed": not_computed}


@lru_cache(maxsize=4096)  # pure; bounded because the arguments come from case documents
def _status(start: str, end: str | None, on: str | None) -> str:
    if on is None:
        return CURRENT if end is None else ENDED
    if date_key(start) > date_key_latest(on):
        return NOT_STARTED
    if end is not None and date_key_latest(end) < date_key(on):
        return ENDED
    return CURRENT


def treatment_plan(case: Case, category: Categories, warnings: list[str]) -> dict[str, Any]:
    """The usual escalation (not a guideline) for this case, at its evaluation date, with the auto-injector."""
    records = [
        TreatmentRecord(
            drug=t.drug,
            status=_status(t.start_date, t.end_date, case.evaluation_date),  # type: ignore[arg-type]
            dose_mg=t.dose_mg,
            interval=t.interval,
            start_date=t.start_date,
            end_date=t.end_date,
        )
        for t in case.treatments
    ]
    plan = ladder_plan(_as_list(category), [e.trigger for e in case.episodes], records)
    plan["epinephrine_autoinjector"] = epinephrine_autoinjector(_weight(case), case.patient.age_years).as_dict()
    plan["as_of"] = case.evaluation_date
    warnings.extend(f"treatment: {warning}" for warning in plan["warnings"])
    return plan

"""Where a patient stands on the usual treatment escalation in mastocytosis, and the next options.

The ladder (tables/treatment_ladder.json, each option citing its bibliography
keys and the place in the work, resolved at load into the contract's "source"
text and "references" list) is the
common order of the reviews read, not a guideline: no ECNM or AAAAI numbered
steps were found. Anti-mediator drugs are added, not substituted, so the
patient's step is the highest step with a current drug. Cytoreductive options
depend on the SM variant, so they are listed only for the variants still
possible. Two rules are safety checks, not suggestions: a KIT inhibitor at an
advanced-SM dose in ISM, and venom immunotherapy stopped in SM (deaths after
stopping are reported).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal

from mastcds.rules.logic import fmt
from mastcds.rules.references import cite, reference_dicts

CURRENT = "current"
ENDED = "ended"
NOT_STARTED = "not_started"
TreatmentStatus = Literal["current", "ended", "not_started"]

SM_CATEGORIES = frozenset({"BMM", "ISM", "SSM", "ASM", "SM-AHN", "SM-AMN", "MCL"})
HYMENOPTERA = "hymenoptera_venom"


@dataclass(frozen=True)
class TreatmentRecord:
    """A recorded treatment and whether it runs at the evaluation date (the glue decides that from dates)."""

    drug: str
    status: TreatmentStatus
    dose_mg: float | None = None
    interval: str | None = None
    start_date: str | None = None
    end_date: str | None = None


@cache
def ladder() -> dict[str, Any]:
    """The ladder as data: steps, options, cytoreduction by variant, VIT, each with its source."""
    text = resources.files("mastcds.rules.treatment").joinpath("tables", "treatment_ladder.json").read_text(encoding="utf-8")
    return _with_citations(json.loads(text))


def _with_citations(value: Any) -> Any:
    """Every ``"source": {"refs": [...], "where": "..."}`` becomes the citation text plus its ``references``.

    An empty ``refs`` says no primary source was verified: the text says so and the list stays empty.
    """
    if isinstance(value, list):
        return [_with_citations(item) for item in value]
    if not isinstance(value, dict):
        return value
    result = {key: _with_citations(item) for key, item in value.items() if key != "source"}
    spec = value.get("source")
    if isinstance(spec, dict):
        keys = tuple(spec["refs"])
        result["source"] = cite(*keys, where=spec["where"]).text if keys else spec["where"]
        result["references"] = reference_dicts(keys)
    elif "source" in value:
        result["source"] = spec
    return result


@lru_cache(maxsize=4096)  # bounded: names come from case documents
def drug_class(drug: str) -> str:
    """The schema's drug class for a recorded drug name (generic names such as cetirizine map to their class)."""
    name = normalised_drug_name(drug)
    return ladder()["aliases"].get(name, name)


@cache
def known_drug_names() -> frozenset[str]:
    """Every drug name the ladder reads: its classes and options, and the generic and brand names mapped to them."""
    data = ladder()
    names = set(data["aliases"]) | set(data["aliases"].values())
    names |= {option["drug"] for step in data["anti_mediator_steps"] for option in step["options"]}
    names |= {option["drug"] for option in data["cytoreduction"]}
    names.add(data["venom_immunotherapy"]["drug"])
    return frozenset(names)


def normalised_drug_name(drug: str) -> str:
    """A drug name as the ladder spells it: lower case, words joined by underscores."""
    return drug.strip().lower().replace(" ", "_").replace("-", "_")


def _copy_json(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts and lists copied, other values shared as immutable)."""
    kind = type(value)
    if kind is str or value is None or kind is int or kind is float or kind is bool:
        return value
    if kind is dict:
        return {key: _copy_json(item) for key, item in value.items()}
    if kind is list:
        return [_copy_json(item) for item in value]
    return copy.deepcopy(value)


def _status_of(drug: str, records: Sequence[TreatmentRecord]) -> str:
    statuses = {record.status for record in records if drug_class(record.drug) == drug}
    if CURRENT in statuses:
        return CURRENT
    if ENDED in statuses:
        return ENDED
    return "not_recorded"


def _anti_mediator(records: Sequence[TreatmentRecord]) -> dict[str, Any]:
    data = ladder()
    steps = []
    current_step: int | None = None
    for step in data["anti_mediator_steps"]:
        options = [{**_copy_json(option), "status": _status_of(option["drug"], records)} for option in step["options"]]
        if any(option["status"] == CURRENT for option in options):
            current_step = step["step"]
        steps.append({"step": step["step"], "name": _copy_json(step["name"]), "options": options})

    reach = 1 if current_step is None else current_step + 1
    next_options: list[dict[str, Any]] = []
    for step in steps:
        if step["step"] > reach:
            continue
        for option in step["options"]:
            if option["status"] == CURRENT:
                continue
            why = "not recorded" if option["status"] == "not_recorded" else "used before and stopped: reconsider"
            next_options.append(
                {"step": step["step"], "drug": option["drug"], "name": option["name"], "dose": option["dose"],
                 "why": why, "source": option["source"], "references": option["references"]}
            )
    if _status_of("h1_antihistamine", records) == CURRENT:
        updose = data["h1_updose"]
        next_options.append(
            {"step": 1, "drug": "h1_antihistamine", "name": _copy_json(updose["name"]), "dose": None,
             "why": "H1 antihistamine current", "source": _copy_json(updose["source"]),
             "references": _copy_json(updose["references"])}
        )
    next_options.sort(key=lambda option: option["step"])
    return {
        "current_step": current_step,
        "current_step_name": next((s["name"] for s in steps if s["step"] == current_step), None),
        "steps": steps,
        "next_options": next_options,
    }


def _cytoreduction(categories: Sequence[str] | None, records: Sequence[TreatmentRecord]) -> dict[str, Any]:
    data = ladder()
    current = sorted(
        {drug_class(r.drug) for r in records if r.status == CURRENT}
        & {option["drug"] for option in data["cytoreduction"]}
    )
    if categories is None:
        options: list[dict[str, Any]] = []
        note = "SM variant undetermined: cytoreductive options depend on it. " + data["cytoreduction_note"]
    else:
        wanted = set(categories)
        options = [
            {**_copy_json(option), "for_possible_categories": [c for c in option["for"] if c in wanted]}
            for option in data["cytoreduction"]
            if wanted & set(option["for"])
        ]
        note = _copy_json(data["cytoreduction_note"])
    return {"current": current, "options": options, "note": note}


def _mismatch_warnings(categories: Sequence[str] | None, records: Sequence[TreatmentRecord]) -> list[str]:
    data = ladder()
    mismatch_in = set(data["mismatch_categories"])
    if not categories or not set(categories) <= mismatch_in:
        return []
    category = "/".join(categories)
    ism_max = data["avapritinib_ism_max_mg"]
    advanced_from = data["advanced_dose_from_mg"]
    warnings = []
    for record in records:
        if record.status != CURRENT:
            continue
        drug = drug_class(record.drug)
        dose = f" {fmt(record.dose_mg, 'mg')}" if record.dose_mg is not None else ""
        if drug == "midostaurin":
            warnings.append(
                f"dose/indication mismatch: midostaurin{dose} is labelled for advanced SM, the patient is classified "
                f"{category} ({data['mismatch_source']})"
            )
        elif drug == "avapritinib" and record.dose_mg is not None and record.dose_mg >= advanced_from:
            warnings.append(
                f"dose/indication mismatch: avapritinib{dose} is an advanced-SM dose, the patient is classified "
                f"{category}, where the dose is {ism_max} mg once daily ({data['mismatch_source']})"
            )
        elif drug == "avapritinib" and record.dose_mg is not None and record.dose_mg > ism_max:
            warnings.append(
                f"avapritinib{dose} exceeds the ISM label maximum of {ism_max} mg once daily "
                f"({data['mismatch_source']})"
            )
    return warnings


def _venom(
    categories: Sequence[str] | None, triggers: Sequence[str | None], records: Sequence[TreatmentRecord]
) -> tuple[dict[str, Any] | None, list[str]]:
    if HYMENOPTERA not in triggers:
        return None, []
    data = ladder()["venom_immunotherapy"]
    sm_certain = bool(categories) and set(categories) <= SM_CATEGORIES
    sm_possible = categories is None or bool(set(categories) & SM_CATEGORIES)
    status = _status_of(data["drug"], records)
    warnings = []
    if status == ENDED and sm_possible:
        ended = [r.end_date for r in records if drug_class(r.drug) == data["drug"] and r.end_date]
        when = f" (ended {', '.join(ended)})" if ended else ""
        qualifier = "" if sm_certain else " if SM is confirmed"
        warnings.append(
            f"venom immunotherapy stopped{when} in a patient with Hymenoptera venom anaphylaxis: in mastocytosis VIT "
            f"should be lifelong{qualifier}; deaths after stopping are reported ({data['source']})"
        )
    if sm_certain:
        advice = "evaluate for venom immunotherapy (venom sensitisation); if given, lifelong"
    elif sm_possible:
        advice = "evaluate for venom immunotherapy (venom sensitisation); lifelong if SM is confirmed"
    else:
        advice = "evaluate for venom immunotherapy (venom sensitisation); duration per the venom guideline"
    section = {
        "status": status,
        "advice": "continue lifelong" if status == CURRENT and sm_certain else advice,
        "lifelong": True if sm_certain else None if sm_possible else False,
        "indication": _copy_json(data["indication"]),
        "duration": _copy_json(data["duration"]),
        "dose": _copy_json(data["dose"]),
        "source": _copy_json(data["source"]),
        "references": _copy_json(data["references"]),
    }
    return section, warnings


def treatment_plan(
    categories: Sequence[str] | None,
    triggers: Sequence[str | None],
    treatments: Sequence[TreatmentRecord],
) -> dict[str, Any]:
    """The usual escalation for this patient: current step, next options, cytoreduction by variant, VIT, warnings.

    ``categories`` are the SM categories still possible (one when determinate),
    or ``None`` when unknown; ``triggers`` are the episodes' trigger fields.
    """
    data = ladder()
    warnings = _mismatch_warnings(categories, treatments)
    venom, venom_warnings = _venom(categories, triggers, treatments)
    warnings.extend(venom_warnings)
    plan = {
        "label": _copy_json(data["label"]),
        "note": _copy_json(data["note"]),
        "categories": list(categories) if categories is not None else None,
        "anti_mediator": _anti_mediator(treatments),
        "cytoreduction": _cytoreduction(categories, treatments),
        "venom_immunotherapy": venom,
        "warnings": warnings,
    }
    # The caller may edit the plan; the cached ladder data must stay as read, so every value taken from it is
    # copied where it is taken (_copy_json) and everything else here is built fresh.
    return plan

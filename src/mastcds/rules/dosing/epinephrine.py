"""Adrenaline (epinephrine) auto-injector strength for self-treatment of anaphylaxis.

Why a jurisdiction: device strengths and weight cut-offs differ between UK/EU
prescribing practice, the US device labels and ASCIA, and sources disagree on
the comparator at the 25 kg switch. Every patient prescribed an auto-injector
should carry two. Adults with mastocytosis have a raised risk of severe
anaphylaxis, so an emergency set with adrenaline is recommended for them
(Brockow 2008, bibliography key ``brockow2008``). Each jurisdiction's bands cite
their bibliography entries; the UK, Australian and Resuscitation Council
documents were read only as quoted by NHS and patient-organisation pages, so
the output marks them "secondary source".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mastcds.rules.dosing.inputs import (
    AGE_PLAUSIBLE_YEARS,
    WEIGHT_PLAUSIBLE_KG,
    DoseInputError,
    checked_number,
)
from mastcds.rules.logic import fmt
from mastcds.rules.references import Citation, cite, reference_dicts

JURISDICTIONS = ("eu", "us", "au")

# Below 7.5 kg no auto-injector is licensed in any of the three jurisdictions
# (smallest devices: 0.15 mg from 7.5 kg, ASCIA; 0.1 mg for 7.5-15 kg, US label).
MIN_WEIGHT_KG = 7.5

DEVICES_TO_PRESCRIBE = 2
CARRY_TWO = (
    "prescribe two auto-injectors and carry both at all times; use the second after 5-15 min if there is no "
    "improvement (MHRA/UK Department of Health advice)"
)
SPECIALIST = "specialist decision: no auto-injector is licensed below 7.5 kg"
RECORD_WEIGHT = "record the weight to choose the device"

# UK/EU prescribing practice: 0.15 mg for 7.5-25 kg, 0.3 mg above 25 kg; a 0.5 mg
# device exists where licensed for heavier patients (>60 kg; many centres from >45 kg).
EU_015_MAX_KG = 25.0
EU_05_DEVICE_ABOVE_KG = 60.0
EU_CITATION = cite(
    "uk_aai_practice", "mhra_aai",
    where="UK/EU prescribing practice (MHRA/BSACI): 0.15 mg 7.5-25 kg, 0.3 mg >25 kg, 0.5 mg device >60 kg where "
          "licensed; two devices",
)
# Resuscitation Council UK age bands, used only when the weight is not recorded:
# <6 years 0.15 mg, 6-12 years 0.3 mg, >12 years 0.3 mg (or 0.5 mg).
EU_AGE_015_BELOW_YEARS = 6.0
EU_AGE_ADULT_ABOVE_YEARS = 12.0
EU_AGE_CITATION = cite(
    "resus_uk2021", "mhra_aai",
    where="Resuscitation Council UK age bands for auto-injectors: <6 years 0.15 mg, 6-12 years 0.3 mg, >12 years "
          "0.3 or 0.5 mg; two devices",
)
# Project convention, not a guideline cut-off: under 1 year the weight may be
# below 7.5 kg, so an age alone does not choose a device.
AGE_NEEDS_WEIGHT_BELOW_YEARS = 1.0

# US device labels (Auvi-Q): 0.1 mg 7.5 to 15 kg, 0.15 mg 15 to 30 kg, 0.3 mg >=30 kg.
US_01_BELOW_KG = 15.0
US_015_BELOW_KG = 30.0
US_CITATION = cite(
    "auvi_q_us_pi", "mhra_aai",
    where="US device label (AUVI-Q): 0.3 mg >=30 kg, 0.15 mg 15 to 30 kg, 0.1 mg 7.5 to 15 kg (EpiPen 0.3/0.15 mg "
          "labels switch at 30 kg, label not read); two devices",
)
# ASCIA: 0.15 mg 7.5-20 kg (from 7.5 kg since 2021), 0.3 mg >20 kg; >50 kg 0.3 or 0.5 mg.
AU_015_MAX_KG = 20.0
AU_05_DEVICE_ABOVE_KG = 50.0
AU_CITATION = cite(
    "ascia_aai", "mhra_aai", where="ASCIA: 0.15 mg 7.5-20 kg, 0.3 mg >20 kg, 0.3 or 0.5 mg >50 kg; two devices"
)


@dataclass(frozen=True)
class AutoInjector:
    """The device strength (mg) with why, where from, and what to watch; ``dose_mg`` None when no device fits."""

    dose_mg: float | None
    reason: str
    citation: Citation
    warnings: tuple[str, ...]
    jurisdiction: str
    devices: int = DEVICES_TO_PRESCRIBE

    @property
    def source(self) -> str:
        return self.citation.text

    def as_dict(self) -> dict[str, Any]:
        return {
            "dose_mg": self.dose_mg,
            "devices": self.devices if self.dose_mg is not None else None,
            "jurisdiction": self.jurisdiction,
            "reason": self.reason,
            "source": self.source,
            "references": reference_dicts(self.citation.keys),
            "warnings": list(self.warnings),
        }


def _by_weight(weight: float, jurisdiction: str) -> tuple[float, str, Citation, list[str]]:
    notes: list[str] = []
    if jurisdiction == "us":
        if weight < US_01_BELOW_KG:
            return 0.1, f"weight {fmt(weight, 'kg')}: 7.5 to <15 kg", US_CITATION, notes
        if weight < US_015_BELOW_KG:
            return 0.15, f"weight {fmt(weight, 'kg')}: 15 to <30 kg", US_CITATION, notes
        return 0.3, f"weight {fmt(weight, 'kg')}: >=30 kg", US_CITATION, notes
    if jurisdiction == "au":
        if weight <= AU_015_MAX_KG:
            return 0.15, f"weight {fmt(weight, 'kg')}: 7.5-20 kg", AU_CITATION, notes
        if weight > AU_05_DEVICE_ABOVE_KG:
            notes.append(f"weight {fmt(weight, 'kg')} >50 kg: ASCIA allows a 0.3 or a 0.5 mg device")
        return 0.3, f"weight {fmt(weight, 'kg')}: >20 kg", AU_CITATION, notes
    if weight <= EU_015_MAX_KG:
        notes.append("sources differ on the switch between 25 and 30 kg depending on the device")
        return 0.15, f"weight {fmt(weight, 'kg')}: 7.5-25 kg", EU_CITATION, notes
    if weight > EU_05_DEVICE_ABOVE_KG:
        notes.append(
            f"weight {fmt(weight, 'kg')} >60 kg: a 0.5 mg device exists where licensed "
            "(UK/EU; many centres from >45 kg)"
        )
    return 0.3, f"weight {fmt(weight, 'kg')}: >25 kg", EU_CITATION, notes


def epinephrine_autoinjector(
    weight_kg: float | None, age_years: float | None, jurisdiction: str = "eu"
) -> AutoInjector:
    """The auto-injector strength by weight; by age only when the weight is missing (UK/EU age bands)."""
    if jurisdiction not in JURISDICTIONS:
        raise DoseInputError("jurisdiction", jurisdiction, ", ".join(JURISDICTIONS))
    weight = None if weight_kg is None else checked_number("weight", weight_kg, WEIGHT_PLAUSIBLE_KG, "kg")
    age = None if age_years is None else checked_number("age", age_years, AGE_PLAUSIBLE_YEARS, "years")

    if weight is not None:
        if weight < MIN_WEIGHT_KG:
            return AutoInjector(
                None, f"weight {fmt(weight, 'kg')} < 7.5 kg", _source(jurisdiction), (SPECIALIST,), jurisdiction
            )
        dose, why, citation, notes = _by_weight(weight, jurisdiction)
        return AutoInjector(dose, f"{why}: {dose:g} mg; {CARRY_TWO}", citation, tuple(notes), jurisdiction)

    if age is None:
        return AutoInjector(
            None, "weight and age not recorded", _source(jurisdiction), (RECORD_WEIGHT,), jurisdiction
        )
    if jurisdiction != "eu":
        return AutoInjector(
            None,
            f"weight not recorded; the {jurisdiction.upper()} device bands are by weight only",
            _source(jurisdiction),
            (RECORD_WEIGHT,),
            jurisdiction,
        )
    if age < AGE_NEEDS_WEIGHT_BELOW_YEARS:
        return AutoInjector(
            None,
            f"age {fmt(age, 'years')} and no weight: an infant may weigh <7.5 kg",
            EU_AGE_CITATION,
            ("weigh the infant: " + SPECIALIST,),
            jurisdiction,
        )
    notes = ["weight not recorded: device chosen by age; record the weight"]
    if age < EU_AGE_015_BELOW_YEARS:
        dose, why = 0.15, "<6 years"
    elif age <= EU_AGE_ADULT_ABOVE_YEARS:
        dose, why = 0.3, "6-12 years"
    else:
        dose, why = 0.3, ">12 years"
        notes.append("over 12 years: a 0.5 mg device exists where licensed (UK/EU)")
    return AutoInjector(
        dose, f"age {fmt(age, 'years')} ({why}): {dose:g} mg; {CARRY_TWO}", EU_AGE_CITATION, tuple(notes), jurisdiction
    )


def _source(jurisdiction: str) -> Citation:
    return {"eu": EU_CITATION, "us": US_CITATION, "au": AU_CITATION}[jurisdiction]

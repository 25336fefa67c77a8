"""Mast cell activation syndrome by the EU/US consensus ("Vienna" 2012, restated 2019-2021), and its variant.

Criteria (all three required): A, typical signs of severe, recurrent,
systemic mast cell activation in >= 2 organ systems; B, an event-related
rise of serum tryptase by the 20% + 2 formula; C, response to drugs that
stabilise mast cells or block their mediators.
Valent et al., consensus table reproduced at
https://pmc.ncbi.nlm.nih.gov/articles/PMC7115828/table/T2 ; variants at
https://pmc.ncbi.nlm.nih.gov/articles/PMC7115828/table/T3/ and
https://pmc.ncbi.nlm.nih.gov/articles/PMC3224511/table/T4 .

Variants. Primary (clonal) MCAS has clonal mast cells: with SM, with CM, or
monoclonal (MMAS, clonal markers with neither SM nor CM). Secondary MCAS has
an IgE allergy or another reactive disorder; idiopathic MCAS has neither,
after a full work-up. mastcds-case/1 records no allergy work-up, so a
non-clonal MCAS is never assigned secondary or idiopathic: the variant stays
``None`` and both remain possible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mastcds.rules.logic import (
    MET,
    NOT_MET,
    UNKNOWN,
    Criterion,
    Status,
    all_of,
    any_of,
    at_least,
    count_range,
    from_bool,
    negate,
)

SOURCE = "EU/US consensus on MCAS (Valent et al.; https://pmc.ncbi.nlm.nih.gov/articles/PMC7115828/table/T2)"
SOURCE_VARIANTS = (
    "MCAS variants (https://pmc.ncbi.nlm.nih.gov/articles/PMC7115828/table/T3/ ; "
    "https://pmc.ncbi.nlm.nih.gov/articles/PMC3224511/table/T4)"
)

# Criterion A: "systemic" means involving at least two organ systems among
# cutaneous, cardiovascular, gastrointestinal and (pulmonary/)respiratory,
# the last including naso-ocular symptoms in the 2019 restatement.
MIN_ORGAN_SYSTEMS = 2

VARIANTS = ("primary", "secondary", "idiopathic")


@dataclass(frozen=True)
class MediatorSymptoms:
    skin: bool | None = None
    gastrointestinal: bool | None = None
    cardiovascular: bool | None = None
    respiratory: bool | None = None
    nasal_ocular: bool | None = None


@dataclass(frozen=True)
class ClonalityFindings:
    kit_d816v: str | None = None  # "detected" | "not_detected"
    kit_d816v_sample: str | None = None
    other_activating_kit_mutation: str | None = None  # "none" = looked for, not found
    bone_marrow_cd25: bool | None = None
    other_organ_cd25_cd2_cd30: bool | None = None
    kit_mutation_in_lesional_skin: bool | None = None


@dataclass(frozen=True)
class McasVariant:
    variant: str | None
    monoclonal: bool | None
    possible_variants: list[str]
    reason: str
    source: str = SOURCE_VARIANTS


def criterion_a(symptoms: MediatorSymptoms) -> Criterion:
    systems = {
        "skin": from_bool(symptoms.skin),
        "gastrointestinal": from_bool(symptoms.gastrointestinal),
        "cardiovascular": from_bool(symptoms.cardiovascular),
        "respiratory/naso-ocular": any_of(from_bool(symptoms.respiratory), from_bool(symptoms.nasal_ocular)),
    }
    status = at_least(MIN_ORGAN_SYSTEMS, systems.values())
    low, high = count_range(systems.values())
    present = [name for name, s in systems.items() if s is MET]
    unknown = [name for name, s in systems.items() if s is UNKNOWN]
    words = f"Recurrent mediator symptoms in {low} organ system(s)"
    if present:
        words += f" ({', '.join(present)})"
    if high > low:
        words += f"; not recorded: {', '.join(unknown)}"
    return Criterion("mcas.a_systemic_symptoms", status, words + f"; at least {MIN_ORGAN_SYSTEMS} needed.", SOURCE + ", criterion A")


def criterion_b(episode_rises: Sequence[tuple[str, Status]]) -> Criterion:
    """Any episode's tryptase rise meeting 20% + 2 settles B."""
    met = [ident for ident, s in episode_rises if s is MET]
    unknown = [ident for ident, s in episode_rises if s is UNKNOWN]
    if met:
        return Criterion("mcas.b_tryptase_rise", MET, f"Tryptase rise above 20% + 2 in episode(s) {', '.join(met)}.", SOURCE + ", criterion B")
    if not episode_rises:
        words = "No episode recorded, so no event tryptase."
    elif unknown:
        words = f"No documented rise; not assessable in episode(s) {', '.join(unknown)} (acute or baseline tryptase missing, or drawn outside the window)."
    else:
        return Criterion(
            "mcas.b_tryptase_rise",
            NOT_MET,
            "Every episode's event tryptase was assessed and none rose above 20% + 2.",
            SOURCE + ", criterion B",
        )
    return Criterion(
        "mcas.b_tryptase_rise",
        UNKNOWN,
        words + " Urinary histamine, PGD2 or LTE4 metabolites may serve when tryptase is unavailable; the case format does not record them.",
        SOURCE + ", criterion B",
    )


def criterion_c(responds_to_mediator_therapy: bool | None) -> Criterion:
    words = {
        True: "Symptoms respond to mediator-targeting therapy.",
        False: "Symptoms do not respond to mediator-targeting therapy.",
        None: "Response to mediator-targeting therapy not recorded.",
    }[responds_to_mediator_therapy]
    return Criterion("mcas.c_treatment_response", from_bool(responds_to_mediator_therapy), words, SOURCE + ", criterion C")


def mcas_status(criteria: Sequence[Criterion]) -> Status:
    """All three criteria are required."""
    return all_of(*(c.status for c in criteria))


def clonal_mast_cells(c: ClonalityFindings) -> Criterion:
    """Clonal mast cells shown (KIT mutation, aberrant CD25/CD2/CD30), or excluded in the marrow."""
    other = c.other_activating_kit_mutation
    shown = []
    if c.kit_d816v == "detected":
        shown.append(f"KIT D816V detected ({(c.kit_d816v_sample or 'sample not recorded').replace('_', ' ')})")
    if other is not None and other.strip().lower() != "none":
        shown.append(f"activating KIT mutation {other}")
    if c.bone_marrow_cd25:
        shown.append("CD25+ marrow mast cells")
    if c.other_organ_cd25_cd2_cd30:
        shown.append("CD25/CD2/CD30+ mast cells in another organ")
    if c.kit_mutation_in_lesional_skin:
        shown.append("KIT mutation in lesional skin")
    if shown:
        return Criterion("mcas.clonal_mast_cells", MET, "Clonal mast cells: " + "; ".join(shown) + ".", SOURCE_VARIANTS)
    excluded = c.kit_d816v == "not_detected" and c.kit_d816v_sample == "bone_marrow" and c.bone_marrow_cd25 is False
    if excluded:
        return Criterion(
            "mcas.clonal_mast_cells",
            NOT_MET,
            "KIT D816V not detected in bone marrow and marrow mast cells CD25-negative.",
            SOURCE_VARIANTS,
        )
    return Criterion(
        "mcas.clonal_mast_cells",
        UNKNOWN,
        "Clonality not shown and not excluded: a bone marrow KIT D816V test and CD25 staining are both needed to exclude it "
        "(a negative blood test does not).",
        SOURCE_VARIANTS,
    )


def variant(status: Status, sm_who2022: Status, clonal: Status, skin_lesions: str | None) -> McasVariant:
    """The MCAS variant when it is determinate, and whether it is monoclonal (MMAS)."""
    lesions_present = skin_lesions is not None and skin_lesions != "none"
    lesions = UNKNOWN if skin_lesions is None else (MET if lesions_present else NOT_MET)
    clonal_disease = any_of(sm_who2022, lesions, clonal)
    # MMAS: clonal mast cells with neither SM nor CM criteria met
    monoclonal_status = all_of(status, clonal, negate(sm_who2022), negate(lesions))
    monoclonal = {MET: True, NOT_MET: False, UNKNOWN: None}[monoclonal_status]
    if clonal_disease is MET:
        possible = ["primary"]
    elif clonal_disease is NOT_MET:
        possible = ["secondary", "idiopathic"]
    else:
        possible = list(VARIANTS)
    if status is not MET:
        return McasVariant(None, monoclonal, possible, "No variant: the MCAS criteria are not met." if status is NOT_MET else "No variant while the MCAS criteria are open.")
    if clonal_disease is MET:
        return McasVariant("primary", monoclonal, possible, "Primary (clonal) MCAS: SM criteria met, skin lesions of mastocytosis, or clonal mast cells.")
    if clonal_disease is NOT_MET:
        return McasVariant(
            None,
            monoclonal,
            possible,
            "Not clonal; secondary (IgE allergy or another reactive disorder) or idiopathic cannot be told apart from the recorded findings.",
        )
    return McasVariant(None, monoclonal, possible, "Clonality open: the variant depends on the SM work-up, the skin examination or clonal markers.")

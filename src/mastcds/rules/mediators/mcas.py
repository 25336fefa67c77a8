"""Mast cell activation syndrome by the EU/US consensus ("Vienna" 2012, restated 2019-2021), and its variant.

Criteria (all three required): A, typical signs of severe, recurrent,
systemic mast cell activation in >= 2 organ systems; B, an event-related
rise of serum tryptase by the 20% + 2 formula, the preferred marker, or of
another mast cell mediator (see ``urinary``); C, response to drugs that
stabilise mast cells or block their mediators.
The EU/US consensus (Valent et al. 2012, ``valent2012``), as tabulated in
Leuk Lymphoma 2020 (``leuk_lymphoma2020``): criteria in Table 2, variants in
Table 3 (and Valent 2012, Table 4).

Variants. Primary (clonal) MCAS has clonal mast cells: with SM, with CM, or
monoclonal (MMAS, clonal markers with neither SM nor CM). Secondary MCAS has
an IgE allergy or another reactive disorder; idiopathic MCAS has neither,
after a full work-up (the case's allergy_workup section records it).
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
from mastcds.rules.references import cite

_CONSENSUS = ("leuk_lymphoma2020", "valent2012")
CRITERION_A = cite(*_CONSENSUS, where="EU/US consensus on MCAS, criterion A (Table 2)")
CRITERION_B = cite(*_CONSENSUS, where="EU/US consensus on MCAS, criterion B and footnote a (Table 2)")
CRITERION_C = cite(*_CONSENSUS, where="EU/US consensus on MCAS, criterion C (Table 2)")
VARIANTS_CITATION = cite(*_CONSENSUS, where="MCAS variants (Table 3; Valent 2012 Table 4)")
SOURCE_VARIANTS = VARIANTS_CITATION.text

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
class EpisodeMediators:
    """One episode's evidence for criterion B: the tryptase rise and the urinary mediators' rises."""

    episode_id: str
    tryptase: Status
    urine: tuple[Status, ...] = (UNKNOWN, UNKNOWN, UNKNOWN)  # N-methylhistamine, 11beta-PGF2alpha, LTE4

    def status(self) -> Status:
        return any_of(self.tryptase, *self.urine)


@dataclass(frozen=True)
class ClonalityFindings:
    kit_d816v: str | None = None  # "detected" | "not_detected": a result whose sample is not recorded
    kit_d816v_sample: str | None = None
    kit_marrow: str | None = None  # KIT D816V per sample
    kit_blood: str | None = None
    kit_other_organ: str | None = None
    kit_skin: str | None = None
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
    references: tuple[str, ...] = VARIANTS_CITATION.keys


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
    return Criterion("mcas.a_systemic_symptoms", status, words + f"; at least {MIN_ORGAN_SYSTEMS} needed.", *CRITERION_A)


_URINE_NAMES = ("N-methylhistamine", "11beta-PGF2alpha", "LTE4")


def criterion_b(episodes: Sequence[EpisodeMediators]) -> Criterion:
    """A rise of tryptase (20% + 2) or of a urinary mediator in any episode settles B; B is excluded only when
    every episode was tested for every mediator and none rose (the consensus accepts the other mediators,
    footnote a of its Table 2, so a tryptase without a rise alone does not exclude it)."""
    tryptase = [e.episode_id for e in episodes if e.tryptase is MET]
    urine = [
        f"{name} in episode {e.episode_id}" for e in episodes for name, s in zip(_URINE_NAMES, e.urine) if s is MET
    ]
    if tryptase or urine:
        shown = ([f"tryptase above 20% + 2 in episode(s) {', '.join(tryptase)}"] if tryptase else []) + urine
        return Criterion("mcas.b_tryptase_rise", MET, "Event-related rise: " + "; ".join(shown) + ".", *CRITERION_B)
    if not episodes:
        return Criterion("mcas.b_tryptase_rise", UNKNOWN, "No episode recorded, so no event-related mediator.", *CRITERION_B)
    if all(e.status() is NOT_MET for e in episodes):
        return Criterion(
            "mcas.b_tryptase_rise",
            NOT_MET,
            "Every episode's tryptase (drawn within 1 to 4 h) and urinary N-methylhistamine, 11beta-PGF2alpha and "
            "LTE4 were assessed, and none rose.",
            *CRITERION_B,
        )
    open_tryptase = [e.episode_id for e in episodes if e.tryptase is UNKNOWN]
    untested = sorted({name for e in episodes for name, s in zip(_URINE_NAMES, e.urine) if s is UNKNOWN})
    parts = ["No documented rise"]
    if open_tryptase:
        parts.append(
            f"tryptase not assessable in episode(s) {', '.join(open_tryptase)} (acute or baseline missing, or "
            "drawn outside the 1 to 4 h window)"
        )
    else:
        parts.append("no tryptase rise")
    if untested:
        parts.append(f"not measured after every episode: urinary {', '.join(untested)}, which may show the rise")
    return Criterion("mcas.b_tryptase_rise", UNKNOWN, "; ".join(parts) + ".", *CRITERION_B)


def criterion_c(responds_to_mediator_therapy: bool | None) -> Criterion:
    words = {
        True: "Symptoms respond to mediator-targeting therapy.",
        False: "Symptoms do not respond to mediator-targeting therapy.",
        None: "Response to mediator-targeting therapy not recorded.",
    }[responds_to_mediator_therapy]
    return Criterion("mcas.c_treatment_response", from_bool(responds_to_mediator_therapy), words, *CRITERION_C)


def mcas_status(criteria: Sequence[Criterion]) -> Status:
    """All three criteria are required."""
    return all_of(*(c.status for c in criteria))


def clonal_mast_cells(c: ClonalityFindings) -> Criterion:
    """Clonal mast cells shown (KIT mutation, aberrant CD25/CD2/CD30), or excluded in the marrow."""
    other = c.other_activating_kit_mutation
    shown = []
    samples = {"bone marrow": c.kit_marrow, "peripheral blood": c.kit_blood, "another organ": c.kit_other_organ, "lesional skin": c.kit_skin}
    for where, result in samples.items():
        if result == "detected":
            shown.append(f"KIT D816V detected ({where})")
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
        return Criterion("mcas.clonal_mast_cells", MET, "Clonal mast cells: " + "; ".join(shown) + ".", *VARIANTS_CITATION)
    marrow_negative = c.kit_marrow == "not_detected" or (c.kit_d816v == "not_detected" and c.kit_d816v_sample == "bone_marrow")
    excluded = marrow_negative and c.bone_marrow_cd25 is False
    if excluded:
        return Criterion(
            "mcas.clonal_mast_cells",
            NOT_MET,
            "KIT D816V not detected in bone marrow and marrow mast cells CD25-negative.",
            *VARIANTS_CITATION,
        )
    return Criterion(
        "mcas.clonal_mast_cells",
        UNKNOWN,
        "Clonality not shown and not excluded: a bone marrow KIT D816V test and CD25 staining are both needed to exclude it "
        "(a negative blood test does not).",
        *VARIANTS_CITATION,
    )


def variant(
    status: Status,
    sm_who2022: Status,
    clonal: Status,
    skin_lesions: str | None,
    ige_mediated_allergy: bool | None = None,
    other_reactive_disorder: bool | None = None,
) -> McasVariant:
    """The MCAS variant when it is determinate, and whether it is monoclonal (MMAS).

    Primary: clonal mast cells (SM, skin lesions of mastocytosis, or clonal markers). Otherwise secondary with an
    IgE-mediated allergy or another reactive disorder, idiopathic with neither after the work-up.
    """
    lesions_present = skin_lesions is not None and skin_lesions != "none"
    lesions = UNKNOWN if skin_lesions is None else (MET if lesions_present else NOT_MET)
    clonal_disease = any_of(sm_who2022, lesions, clonal)
    reactive = any_of(from_bool(ige_mediated_allergy), from_bool(other_reactive_disorder))
    # MMAS: clonal mast cells with neither SM nor CM criteria met
    monoclonal_status = all_of(status, clonal, negate(sm_who2022), negate(lesions))
    monoclonal = {MET: True, NOT_MET: False, UNKNOWN: None}[monoclonal_status]
    possible = []
    if clonal_disease is not NOT_MET:
        possible.append("primary")
    if clonal_disease is not MET:
        if reactive is not NOT_MET:
            possible.append("secondary")
        if reactive is not MET:
            possible.append("idiopathic")
    if status is not MET:
        return McasVariant(None, monoclonal, possible, "No variant: the MCAS criteria are not met." if status is NOT_MET else "No variant while the MCAS criteria are open.")
    if possible == ["primary"]:
        return McasVariant("primary", monoclonal, possible, "Primary (clonal) MCAS: SM criteria met, skin lesions of mastocytosis, or clonal mast cells.")
    if possible == ["secondary"]:
        return McasVariant("secondary", monoclonal, possible, "Secondary MCAS: no clonal mast cells; an IgE-mediated allergy or another reactive disorder explains the activation.")
    if possible == ["idiopathic"]:
        return McasVariant("idiopathic", monoclonal, possible, "Idiopathic MCAS: no clonal mast cells, and the work-up excluded an IgE-mediated allergy and other reactive disorders.")
    if clonal_disease is NOT_MET:
        return McasVariant(None, monoclonal, possible, "Not clonal; the allergy work-up (an IgE-mediated allergy or another reactive disorder, or neither) decides between secondary and idiopathic.")
    return McasVariant(None, monoclonal, possible, "Clonality open: the variant depends on the SM work-up, the skin examination or clonal markers.")


_CRITERION_LABELS = {
    "mcas.a_systemic_symptoms": "A (recurrent symptoms in at least 2 organ systems)",
    "mcas.b_tryptase_rise": "B (an event-related rise of tryptase or another mediator)",
    "mcas.c_treatment_response": "C (response to mediator-targeting therapy)",
}


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def mcas_summary(status: Status, criteria: Sequence[Criterion], kind: McasVariant) -> str:
    """The verdict, the criteria that decide it, and the variant."""
    by_status = {s: [_CRITERION_LABELS.get(c.id, c.id) for c in criteria if c.status is s] for s in (MET, NOT_MET, UNKNOWN)}
    if status is MET:
        text = "Mast cell activation syndrome: criteria A, B and C met"
        if kind.variant is not None:
            text += f"; {kind.variant} MCAS" + (" (monoclonal, MMAS)" if kind.monoclonal else "")
        else:
            text += f"; variant open: {' or '.join(kind.possible_variants)}"
        return text + "."
    if status is NOT_MET:
        return f"Mast cell activation syndrome criteria not met: {_and(by_status[NOT_MET])} not met."
    text = f"Mast cell activation syndrome open: {_and(by_status[UNKNOWN])} not settled"
    if by_status[MET]:
        text += f"; {_and(by_status[MET])} met"
    return text + "."

"""Machinery shared by the three SM editions: criteria in three values and the exact set of possible
categories. (The investigations that could narrow it are in ``next_tests``; the criteria with their
reasons and the result object in ``guideline``.)

An edition (``who2022``, ``icc2022``, ``who2016``) is an
:class:`EditionRules` value: its thresholds as named constants with their
citations, and flags for where the editions differ. Everything here reads
those values; nothing here holds a threshold of its own.

Unknown findings. A category is *possible* when some filling-in of the unknown
findings gives it: an unknown number may take any value in the schema range,
an unknown yes/no either value. Some recorded findings leave a fact open too
(KIT D816V tested only in skin; a negative blood test, which does not exclude
the mutation in the marrow; an associated neoplasm whose lineage is not
recognised; a judgement only a clinician can make, such as whether an
osteolysis is "large"): those facts are free in the same way.

How the set is computed exactly. The category depends on a few derived yes/no
*atoms*. Most depend on findings no other atom reads, so their possible values
are independent. Findings read by several atoms are kept together in *groups*
whose joint options are enumerated over the threshold intervals: basal
tryptase with the associated neoplasm (tryptase minor criterion, B1 tryptase,
BMM tryptase, SM-AHN), KIT (minor criterion and B1 VAF), liver and spleen (B3
and C2/C3), skin (BMM "no lesions" and the CM criteria). :func:`classify`
walks the few group options and reasons over counts for the independent rest.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mastcds.rules.mastocytosis import cutaneous
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, Status, all_of, any_of, fmt, from_bool
from mastcds.rules.mastocytosis.findings import (
    FINDING_RANGES,
    NO_SKIN_LESIONS,
    SMFindings,
)

# ------------------------------------------------------------------ categories

NONE = "none"
CM = "CM"
MCS = "MCS"
BMM = "BMM"
ISM = "ISM"
SSM = "SSM"
ASM = "ASM"
SM_AHN = "SM-AHN"
SM_AMN = "SM-AMN"
MCL = "MCL"
CATEGORY_ORDER = (NONE, CM, MCS, BMM, ISM, SSM, ASM, SM_AHN, SM_AMN, MCL)
_RANK = {code: i for i, code in enumerate(CATEGORY_ORDER)}

MIN_MINOR_CRITERIA_ALONE = 3  # ">= 3 minor criteria" in every edition (docs/criteria-reference.md 1.2)
SSM_MIN_B_FINDINGS = 2  # SSM: ">= 2 B-findings" in every edition (3.2)


def ordered(categories: Iterable[str]) -> tuple[str, ...]:
    """Categories from the least to the most advanced, a stable order for output."""
    return tuple(sorted(set(categories), key=_RANK.__getitem__))


# ------------------------------------------------------------ three values

_VALUES = {MET: (True,), NOT_MET: (False,), UNKNOWN: (False, True)}
_BOTH = (False, True)


def values(status: Status) -> tuple[bool, ...]:
    """The truth values a criterion can still take."""
    return _VALUES[status]


def status_of(possible: Iterable[bool]) -> Status:
    seen = set(possible)
    if seen == {True}:
        return MET
    if seen == {False}:
        return NOT_MET
    return UNKNOWN


_SYMBOL = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


@dataclass(frozen=True)
class Threshold:
    """A limit with the comparator exactly as the source prints it."""

    op: str
    value: float
    unit: str
    _compare: Callable[[float, float], bool] = field(init=False, repr=False, compare=False)
    _text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compare", _COMPARATORS[self.op])
        object.__setattr__(self, "_text", f"{_SYMBOL[self.op]} {fmt(float(self.value), self.unit)}")

    def status(self, x: float | None, scale: float = 1) -> Status:
        """``x op value*scale``; ``scale`` carries the HαT adjustment to the limit, so no division rounds."""
        if x is None:
            return UNKNOWN
        return MET if self._compare(x, self.value * scale) else NOT_MET

    def holds(self, x: float, scale: float = 1) -> bool:
        return self._compare(x, self.value * scale)

    def text(self, scale: float = 1) -> str:
        if scale == 1:
            return self._text
        return f"{_SYMBOL[self.op]} {fmt(float(self.value * scale), self.unit)}"


_COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


# ------------------------------------------------- associated neoplasm lineage

LINEAGE_NONE = "none"
MYELOID = "myeloid"
LYMPHOID = "lymphoid"
UNCLASSIFIED = "unclassified"

# Abbreviations and words naming a myeloid or a lymphoid neoplasm (WHO 2022
# myeloid and lymphoid chapters). A name matching both (e.g. "myeloid/lymphoid
# neoplasm with eosinophilia") or neither (e.g. "MCL": mantle cell lymphoma or
# mast cell leukaemia?) is of unknown lineage: both are kept possible.
_MYELOID_ABBREVIATIONS = frozenset({"CMML", "MDS", "AML", "MPN", "CEL", "CML", "CNL", "JMML", "ACML", "PMF", "PV", "ET"})
_MYELOID_WORDS = (
    "myelodysplas",
    "myeloproliferat",
    "myeloid",
    "myelomonocytic",
    "myelofibrosis",
    "polycyth",
    "thrombocyth",
    "eosinophilic leuk",
    "neutrophilic leuk",
)
_LYMPHOID_ABBREVIATIONS = frozenset({"CLL", "SLL", "ALL", "NHL", "DLBCL", "LPL", "MZL", "HCL", "PCM", "MM"})
_LYMPHOID_WORDS = (
    "lymphoma",
    "lymphocytic",
    "lymphoblastic",
    "lymphoid",
    "myeloma",
    "plasma cell",
    "plasmacytoma",
    "hodgkin",
    "waldenstr",
    "hairy cell",
    "lymphoplasmacytic",
)


def ahn_lineage(name: str | None) -> str | None:
    """None (not known whether one exists), 'none', 'myeloid', 'lymphoid' or 'unclassified'."""
    if name is None or not name.strip():
        return None
    text = name.strip().lower()
    if text == "none":
        return LINEAGE_NONE
    tokens = {token.upper() for token in re.split(r"[^0-9A-Za-z]+", name) if token}
    myeloid = bool(tokens & _MYELOID_ABBREVIATIONS) or any(word in text for word in _MYELOID_WORDS)
    lymphoid = bool(tokens & _LYMPHOID_ABBREVIATIONS) or any(word in text for word in _LYMPHOID_WORDS)
    if myeloid == lymphoid:
        return UNCLASSIFIED
    return MYELOID if myeloid else LYMPHOID


def lineage_options(name: str | None) -> tuple[str, ...]:
    """The lineages an associated neoplasm may have, given what is recorded."""
    lineage = ahn_lineage(name)
    if lineage is None:
        return (LINEAGE_NONE, MYELOID, LYMPHOID)
    if lineage == UNCLASSIFIED:
        return (MYELOID, LYMPHOID)
    return (lineage,)


# ----------------------------------------------------------------- editions


# C1 cytopenias, the same in every edition: Hb < 10 g/dL, platelets < 100 x10^9/L,
# neutrophils < 1 x10^9/L (WHO 2016/2022: https://pmc.ncbi.nlm.nih.gov/articles/PMC10133845/table/T5 ;
# WHO 2008 wording http://bloodref.com/myeloid/mpd/systemic-mastocytosis-diagnosis ; ICC "C-findings
# unchanged", secondary: https://www.rarediseaseadvisor.com/news/sm-news-briefs/new-consensus-classification-published-systemic-mastocytosis-types-diagnosis/).
CYTOPENIA_LIMITS: Mapping[str, Threshold] = {
    "hemoglobin_g_dl": Threshold("<", 10, "g/dL"),
    "platelets_10e9_l": Threshold("<", 100, "x10^9/L"),
    "neutrophils_10e9_l": Threshold("<", 1, "x10^9/L"),
}


@dataclass(frozen=True)
class EditionRules:
    """One edition's criteria as data: thresholds, flags where editions differ, and citations."""

    key: str
    title: str
    source: str
    sources: Mapping[str, str]
    major_alone_suffices: bool
    major_note: str | None
    any_activating_kit: bool  # False: only codon-816 mutations count (WHO 2016)
    immunophenotype_markers: tuple[str, ...]
    tryptase_minor: Threshold
    hat_adjusted: bool  # tryptase limits apply to BST / (1 + extra alpha copies) when the genotype is known
    b1_infiltration: Threshold
    b1_tryptase: Threshold
    b1_vaf: Threshold | None
    b1_all_required: bool  # True: infiltration AND tryptase; False: any route
    b3_lymph_node: Threshold
    c4_osteolysis: Threshold | None  # None: "large osteolysis" is a clinical judgement
    mcl_smear: Threshold
    mcl_immature_only: bool
    bmm_tryptase: Threshold | None  # None: BMM is not a category of its own
    ahn_code: str
    ahn_lineages: frozenset[str]
    unread_fields: frozenset[str]  # findings this edition's rules never read (e.g. CD30 in WHO 2016)
    notes: Callable[[SMFindings, tuple[str, ...]], list[str]] = field(default=lambda f, categories: [])

    def b1_join(self, infiltration: bool, tryptase: bool, vaf: bool) -> bool:
        if self.b1_all_required:
            return infiltration and tryptase
        return infiltration or tryptase or vaf


def hat_scale(f: SMFindings, rules: EditionRules) -> int:
    """1 + extra α copies when this edition adjusts and the genotype is known, else 1 (raw BST)."""
    if rules.hat_adjusted and f.tpsab1_extra_alpha_copies is not None:
        return 1 + f.tpsab1_extra_alpha_copies
    return 1


# ---------------------------------------------------------- single findings


def other_organ_status(f: SMFindings, finding: bool | None) -> Status:
    """A finding in the other extracutaneous organ; no such biopsy means it supports nothing."""
    return from_bool(finding) if f.other_organ_biopsied else NOT_MET


def major_status(f: SMFindings) -> Status:
    return any_of(from_bool(f.multifocal_dense_infiltrates), other_organ_status(f, f.other_organ_multifocal_dense_infiltrates))


def morphology_status(f: SMFindings) -> Status:
    return any_of(
        from_bool(f.atypical_morphology_over_25_percent), other_organ_status(f, f.other_organ_atypical_morphology_over_25_percent)
    )


def immunophenotype_status(f: SMFindings, rules: EditionRules) -> Status:
    marrow = [from_bool(getattr(f, marker.lower())) for marker in rules.immunophenotype_markers]
    other = other_organ_status(f, f.other_organ_cd25_cd2_cd30)
    if "CD30" not in rules.immunophenotype_markers and other is MET:
        other = UNKNOWN  # the organ's record joins CD25/CD2/CD30: it may be CD30 alone
    return any_of(*marrow, other)


_KIT_ALL = ((False, False), (True, False), (True, True))
KIT_EXTRACUTANEOUS_SAMPLES = frozenset({"bone_marrow", "peripheral_blood", "other_extracutaneous"})


def kit_d816v_options(f: SMFindings, vaf_limit: Threshold | None) -> tuple[tuple[bool, bool], ...]:
    """Joint options (D816V present outside the skin, VAF at or above the B1 limit).

    The bone marrow settles both; blood and other organs can only confirm:
    D816V not found in blood leaves the marrow open, and a VAF measured in an
    organ other than marrow or blood is not the B1 VAF.
    """
    result, sample, vaf = f.kit_d816v, f.kit_d816v_sample, f.kit_d816v_vaf_percent
    if result is None or sample not in KIT_EXTRACUTANEOUS_SAMPLES:
        options = _KIT_ALL
    elif sample == "bone_marrow":
        if result == "not_detected":
            options = ((False, False),)
        elif vaf is None or vaf_limit is None:
            options = ((True, False), (True, True))
        else:
            options = ((True, vaf_limit.holds(vaf)),)
    elif result == "not_detected":
        options = _KIT_ALL
    elif sample == "peripheral_blood" and vaf is not None and vaf_limit is not None and vaf_limit.holds(vaf):
        options = ((True, True),)
    else:
        options = ((True, False), (True, True))
    if vaf_limit is None:
        return tuple(sorted({(present, False) for present, _ in options}))
    return options


def other_kit_counts(mutation: str, any_activating: bool) -> bool:
    """Whether a named non-D816V mutation counts: any activating one (2022), or codon 816 only (2016)."""
    return any_activating or "816" in mutation


def other_kit_values(f: SMFindings, rules: EditionRules) -> tuple[bool, ...]:
    """Whether another activating KIT mutation supports the minor criterion.

    The schema records one molecular sample; the other mutation is taken to
    come from it, so it counts only when that sample is extracutaneous.
    """
    mutation = f.other_activating_kit_mutation
    if mutation is None:
        return _BOTH
    if mutation.strip().lower() == "none" or not other_kit_counts(mutation, rules.any_activating_kit):
        return (False,)
    return (True,) if f.kit_d816v_sample in KIT_EXTRACUTANEOUS_SAMPLES else _BOTH


def cytopenia_status(f: SMFindings) -> Status:
    """C1: the haematologist's judgement; without one, normal counts rule it out and a low count leaves it open."""
    if f.cytopenia_caused_by_mast_cells is not None:
        return from_bool(f.cytopenia_caused_by_mast_cells)
    counts = [
        CYTOPENIA_LIMITS["hemoglobin_g_dl"].status(f.hemoglobin_g_dl),
        CYTOPENIA_LIMITS["platelets_10e9_l"].status(f.platelets_10e9_l),
        CYTOPENIA_LIMITS["neutrophils_10e9_l"].status(f.neutrophils_10e9_l),
    ]
    return NOT_MET if all(s is NOT_MET for s in counts) else UNKNOWN


def bone_status(f: SMFindings, rules: EditionRules) -> Status:
    """C4: WHO 2022 measures (osteolysis >= 2 cm with a pathological fracture); the others judge "large"."""
    if rules.c4_osteolysis is not None:
        return all_of(rules.c4_osteolysis.status(f.osteolysis_max_cm), from_bool(f.pathologic_fracture))
    if f.osteolysis_max_cm == 0:
        return NOT_MET
    if f.pathologic_fracture:
        return MET
    return UNKNOWN


def mcl_status(f: SMFindings, rules: EditionRules) -> Status:
    smear = rules.mcl_smear.status(f.aspirate_mast_cells_percent)
    if rules.mcl_immature_only:
        return all_of(smear, from_bool(f.immature_atypical_morphology))
    return smear


# ------------------------------------------------------------------ atoms


class Atoms(NamedTuple):
    """What the category depends on: each entry lists the values (or joint options) still possible."""

    major: tuple[bool, ...]
    morphology: tuple[bool, ...]
    immunophenotype: tuple[bool, ...]
    kit: tuple[tuple[bool, bool], ...]  # (KIT minor criterion, B1 VAF route)
    tryptase: tuple[tuple[bool, bool, bool, bool], ...]  # (tryptase minor, B1 tryptase, BMM tryptase, AHN counts)
    infiltration: tuple[bool, ...]  # B1 histology route
    dysplasia: tuple[bool, ...]  # B2
    lymph_node: tuple[bool, ...]  # B3 lymph node route
    organs: tuple[tuple[bool, bool], ...]  # (B3 liver/spleen route, C2 or C3)
    cytopenia: tuple[bool, ...]  # C1
    bone: tuple[bool, ...]  # C4
    malabsorption: tuple[bool, ...]  # C5
    mcl: tuple[bool, ...]
    sarcoma: tuple[bool, ...]
    skin: tuple[tuple[bool, bool], ...]  # (no skin lesions, MIS criteria met)


def representatives(field_name: str, cuts: Iterable[float]) -> tuple[float, ...]:
    """One value per interval the cuts make in the schema range, and each cut itself (for > versus >=)."""
    low, high = FINDING_RANGES[field_name]
    points = sorted({float(c) for c in cuts if low <= c <= high})
    if not points:
        return (float(low),)
    chosen = [float(low)] if low < points[0] else []
    for before, after in zip(points, points[1:]):
        chosen += [before, (before + after) / 2]
    chosen.append(points[-1])
    if high > points[-1]:
        chosen.append(float(high))
    return tuple(chosen)


def numeric_cuts(f: SMFindings, rules: EditionRules) -> dict[str, tuple[float, ...]]:
    """Every limit each numeric finding is compared with in this edition (HαT-scaled where adjusted)."""
    scale = hat_scale(f, rules)
    tryptase = [rules.tryptase_minor.value * scale, rules.b1_tryptase.value * scale]
    if rules.bmm_tryptase is not None:
        tryptase.append(rules.bmm_tryptase.value)
    return {
        "baseline_tryptase_ng_ml": tuple(tryptase),
        "infiltration_percent": (rules.b1_infiltration.value,),
        "kit_d816v_vaf_percent": () if rules.b1_vaf is None else (rules.b1_vaf.value,),
        "lymphadenopathy_max_cm": (rules.b3_lymph_node.value,),
        "osteolysis_max_cm": (0,) if rules.c4_osteolysis is None else (0, rules.c4_osteolysis.value),
        "aspirate_mast_cells_percent": (rules.mcl_smear.value,),
        **{name: (limit.value,) for name, limit in CYTOPENIA_LIMITS.items()},
    }


def tryptase_options(f: SMFindings, rules: EditionRules) -> tuple[tuple[bool, bool, bool, bool], ...]:
    scale = hat_scale(f, rules)
    if f.baseline_tryptase_ng_ml is None:
        levels = representatives("baseline_tryptase_ng_ml", numeric_cuts(f, rules)["baseline_tryptase_ng_ml"])
    else:
        levels = (f.baseline_tryptase_ng_ml,)
    lineages = lineage_options(f.associated_hematologic_neoplasm)
    options = set()
    for level in levels:
        minor = rules.tryptase_minor.holds(level, scale)
        b1 = rules.b1_tryptase.holds(level, scale)
        bmm = rules.bmm_tryptase is not None and rules.bmm_tryptase.holds(level)
        for lineage in lineages:
            options.add((minor and lineage != MYELOID, b1, bmm, lineage in rules.ahn_lineages))
    return tuple(sorted(options))


def kit_options(f: SMFindings, rules: EditionRules) -> tuple[tuple[bool, bool], ...]:
    other = other_kit_values(f, rules)
    return tuple(
        sorted({(present or o, high) for present, high in kit_d816v_options(f, rules.b1_vaf) for o in other})
    )


def organ_options(f: SMFindings) -> tuple[tuple[bool, bool], ...]:
    options = set()
    for liver, dysfunction, spleen, hypersplenism in itertools.product(
        values(from_bool(f.hepatomegaly)),
        values(from_bool(f.liver_dysfunction)),
        values(from_bool(f.splenomegaly)),
        values(from_bool(f.hypersplenism)),
    ):
        b3 = (liver and not dysfunction) or (spleen and not hypersplenism)
        c = (liver and dysfunction) or (spleen and hypersplenism)
        options.add((b3, c))
    return tuple(sorted(options))


def skin_options(f: SMFindings) -> tuple[tuple[bool, bool], ...]:
    lesions = (NO_SKIN_LESIONS, "maculopapular_unspecified") if f.lesions is None else (f.lesions,)
    options = set()
    for lesion in lesions:
        mis = cutaneous.mis_status(lesion, f.darier_sign, f.biopsy_mast_cell_infiltrates, f.kit_mutation_in_lesional_skin)
        for value in values(mis):
            options.add((lesion == NO_SKIN_LESIONS, value))
    return tuple(sorted(options))


ATOM_FUNCTIONS: dict[str, Callable[[SMFindings, EditionRules], tuple[Any, ...]]] = {
    "major": lambda f, r: values(major_status(f)),
    "morphology": lambda f, r: values(morphology_status(f)),
    "immunophenotype": lambda f, r: values(immunophenotype_status(f, r)),
    "kit": kit_options,
    "tryptase": tryptase_options,
    "infiltration": lambda f, r: values(r.b1_infiltration.status(f.infiltration_percent)),
    "dysplasia": lambda f, r: values(from_bool(f.dysplasia_or_myeloproliferation)),
    "lymph_node": lambda f, r: values(r.b3_lymph_node.status(f.lymphadenopathy_max_cm)),
    "organs": lambda f, r: organ_options(f),
    "cytopenia": lambda f, r: values(cytopenia_status(f)),
    "bone": lambda f, r: values(bone_status(f, r)),
    "malabsorption": lambda f, r: values(from_bool(f.malabsorption_with_weight_loss)),
    "mcl": lambda f, r: values(mcl_status(f, r)),
    "sarcoma": lambda f, r: values(other_organ_status(f, f.destructive_sarcoma)),
    "skin": lambda f, r: skin_options(f),
}

# The findings each atom reads: an investigation can only move atoms whose findings it reveals.
ATOM_FIELDS: dict[str, frozenset[str]] = {
    "major": frozenset({"multifocal_dense_infiltrates", "other_organ_multifocal_dense_infiltrates"}),
    "morphology": frozenset({"atypical_morphology_over_25_percent", "other_organ_atypical_morphology_over_25_percent"}),
    "immunophenotype": frozenset({"cd25", "cd2", "cd30", "other_organ_cd25_cd2_cd30"}),
    "kit": frozenset({"kit_d816v", "kit_d816v_sample", "kit_d816v_vaf_percent", "other_activating_kit_mutation"}),
    "tryptase": frozenset({"baseline_tryptase_ng_ml", "tpsab1_extra_alpha_copies", "associated_hematologic_neoplasm"}),
    "infiltration": frozenset({"infiltration_percent"}),
    "dysplasia": frozenset({"dysplasia_or_myeloproliferation"}),
    "lymph_node": frozenset({"lymphadenopathy_max_cm"}),
    "organs": frozenset({"hepatomegaly", "liver_dysfunction", "splenomegaly", "hypersplenism"}),
    "cytopenia": frozenset({"cytopenia_caused_by_mast_cells", "hemoglobin_g_dl", "platelets_10e9_l", "neutrophils_10e9_l"}),
    "bone": frozenset({"osteolysis_max_cm", "pathologic_fracture"}),
    "malabsorption": frozenset({"malabsorption_with_weight_loss"}),
    "mcl": frozenset({"aspirate_mast_cells_percent", "immature_atypical_morphology"}),
    "sarcoma": frozenset({"destructive_sarcoma"}),
    "skin": frozenset({"lesions", "darier_sign", "biopsy_mast_cell_infiltrates", "kit_mutation_in_lesional_skin"}),
}


# Atoms no edition reads differently: computed once when several editions are evaluated.
SHARED_ATOMS = frozenset({"major", "morphology", "dysplasia", "organs", "cytopenia", "malabsorption", "sarcoma", "skin"})


def atoms(f: SMFindings, rules: EditionRules, shared: Mapping[str, Any] | None = None) -> Atoms:
    if shared is None:
        return Atoms(*[ATOM_FUNCTIONS[name](f, rules) for name in Atoms._fields])
    return Atoms(*[shared[name] if name in shared else ATOM_FUNCTIONS[name](f, rules) for name in Atoms._fields])


def shared_atoms(f: SMFindings) -> dict[str, Any]:
    """The atoms every edition computes alike (their functions ignore the edition)."""
    return {name: ATOM_FUNCTIONS[name](f, None) for name in SHARED_ATOMS}  # type: ignore[arg-type]


_ATOM_INDEX = {name: i for i, name in enumerate(Atoms._fields)}


def with_atoms(a: Atoms, changes: Iterable[tuple[str, Any]]) -> Atoms:
    """``a._replace`` without its overhead: next_tests builds many of these."""
    items = list(a)
    for name, value in changes:
        items[_ATOM_INDEX[name]] = value
    return tuple.__new__(Atoms, items)


# ---------------------------------------------------------------- classify


def _sm(major: bool, minors: int, rules: EditionRules) -> bool:
    """WHO: major + >= 1 minor, or >= 3 minor. ICC: the major criterion alone, or >= 3 minor."""
    needed_with_major = 0 if rules.major_alone_suffices else 1
    return (major and minors >= needed_with_major) or minors >= MIN_MINOR_CRITERIA_ALONE


def sm_status(f: SMFindings, rules: EditionRules) -> Status:
    """Whether the SM criteria are met, from the major and minor criteria alone (exact: they share no finding)."""
    major = values(major_status(f))
    minors = (
        values(morphology_status(f)),
        values(immunophenotype_status(f, rules)),
        tuple({kit for kit, _ in kit_options(f, rules)}),
        tuple({minor for minor, _, _, _ in tryptase_options(f, rules)}),
    )
    low = sum(min(m) for m in minors)
    high = sum(max(m) for m in minors)
    return status_of({_sm(min(major), low, rules), _sm(max(major), high, rules)})


def category_of(
    rules: EditionRules,
    *,
    sm: bool,
    mcl: bool,
    ahn: bool,
    c_findings: int,
    b_findings: int,
    no_skin_lesions: bool,
    bmm_tryptase: bool,
    sarcoma: bool,
    mis: bool,
) -> str:
    """The category of fully known atoms, by the precedence of docs/criteria-reference.md §3.3."""
    if not sm:
        if sarcoma:
            return MCS
        return CM if mis else NONE
    if mcl:
        return MCL
    if ahn:
        return rules.ahn_code
    if c_findings >= 1:
        return ASM
    if b_findings >= SSM_MIN_B_FINDINGS:
        return SSM
    if rules.bmm_tryptase is not None and no_skin_lesions and b_findings == 0 and bmm_tryptase:
        return BMM
    return ISM


def classify(a: Atoms, rules: EditionRules) -> tuple[frozenset[bool], frozenset[str]]:
    """(possible values of the SM criteria, possible categories), exactly.

    The branches follow :func:`category_of`. Skin lesions matter only when SM
    is met (BMM) and the CM criteria only when it is not, so the skin group's
    two halves never meet in one completion; everything else is joint where
    it shares findings and independent where it does not.
    """
    # Value tuples are sorted, (False,), (True,) or (False, True): [0] is the least, [-1] the most.
    categories: set[str] = set()
    sm_values: set[bool] = set()
    minor_low = a.morphology[0] + a.immunophenotype[0]
    minor_high = a.morphology[-1] + a.immunophenotype[-1]
    major_low, major_high = a.major[0], a.major[-1]
    c_fixed_can_be_true = a.cytopenia[-1] or a.bone[-1] or a.malabsorption[-1]
    c_fixed_can_be_false = not (a.cytopenia[0] or a.bone[0] or a.malabsorption[0])
    mcl_possible, no_mcl_possible = a.mcl[-1], not a.mcl[0]
    bmm_category = rules.bmm_tryptase is not None
    for kit_minor, vaf_high in a.kit:
        for tryptase_minor, tryptase_high, bmm_tryptase, ahn in a.tryptase:
            low = minor_low + kit_minor + tryptase_minor
            high = minor_high + kit_minor + tryptase_minor
            sm_low, sm_high = _sm(major_low, low, rules), _sm(major_high, high, rules)
            sm_values.add(sm_low)
            sm_values.add(sm_high)
            if not sm_high:
                continue
            if mcl_possible:
                categories.add(MCL)
            if not no_mcl_possible:
                continue
            if ahn:
                categories.add(rules.ahn_code)
                continue
            b1_low = rules.b1_join(a.infiltration[0], tryptase_high, vaf_high)
            b1_high = rules.b1_join(a.infiltration[-1], tryptase_high, vaf_high)
            for organ_b3, organ_c in a.organs:
                if organ_c or c_fixed_can_be_true:
                    categories.add(ASM)
                if organ_c or not c_fixed_can_be_false:
                    continue
                b_low = b1_low + a.dysplasia[0] + (organ_b3 or a.lymph_node[0])
                b_high = b1_high + a.dysplasia[-1] + (organ_b3 or a.lymph_node[-1])
                if b_high >= SSM_MIN_B_FINDINGS:
                    categories.add(SSM)
                if b_low >= SSM_MIN_B_FINDINGS:
                    continue
                for lesions_absent, _ in a.skin:
                    bmm_possible = bmm_category and lesions_absent and bmm_tryptase
                    if bmm_possible and b_low == 0:
                        categories.add(BMM)
                    if not bmm_possible or b_high >= 1:
                        categories.add(ISM)
    if False in sm_values:
        mis_values = {mis for _, mis in a.skin}
        for sarcoma in a.sarcoma:
            if sarcoma:
                categories.add(MCS)
            else:
                categories.update(CM if mis else NONE for mis in mis_values)
    return frozenset(sm_values), frozenset(categories)

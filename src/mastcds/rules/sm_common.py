"""Machinery shared by the three SM editions: criteria in three values, the exact set of possible
categories, and the investigations that could narrow it.

An edition (``sm_who2022``, ``sm_icc2022``, ``sm_who2016``) is an
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

from mastcds.rules import cutaneous
from mastcds.rules.hat import hat_adjusted_tryptase
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, Criterion, Status, all_of, any_of, fmt, from_bool
from mastcds.rules.sm_findings import (
    EXTRA_ALPHA_COPIES_RANGE,
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


def _other_organ(f: SMFindings, finding: bool | None) -> Status:
    """A finding in the other extracutaneous organ; no such biopsy means it supports nothing."""
    return from_bool(finding) if f.other_organ_biopsied else NOT_MET


def major_status(f: SMFindings) -> Status:
    return any_of(from_bool(f.multifocal_dense_infiltrates), _other_organ(f, f.other_organ_multifocal_dense_infiltrates))


def morphology_status(f: SMFindings) -> Status:
    return any_of(
        from_bool(f.atypical_morphology_over_25_percent), _other_organ(f, f.other_organ_atypical_morphology_over_25_percent)
    )


def immunophenotype_status(f: SMFindings, rules: EditionRules) -> Status:
    marrow = [from_bool(getattr(f, marker.lower())) for marker in rules.immunophenotype_markers]
    other = _other_organ(f, f.other_organ_cd25_cd2_cd30)
    if "CD30" not in rules.immunophenotype_markers and other is MET:
        other = UNKNOWN  # the organ's record joins CD25/CD2/CD30: it may be CD30 alone
    return any_of(*marrow, other)


_KIT_ALL = ((False, False), (True, False), (True, True))
_KIT_EXTRACUTANEOUS = frozenset({"bone_marrow", "peripheral_blood", "other_extracutaneous"})


def kit_d816v_options(f: SMFindings, vaf_limit: Threshold | None) -> tuple[tuple[bool, bool], ...]:
    """Joint options (D816V present outside the skin, VAF at or above the B1 limit).

    The bone marrow settles both; blood and other organs can only confirm:
    D816V not found in blood leaves the marrow open, and a VAF measured in an
    organ other than marrow or blood is not the B1 VAF.
    """
    result, sample, vaf = f.kit_d816v, f.kit_d816v_sample, f.kit_d816v_vaf_percent
    if result is None or sample not in _KIT_EXTRACUTANEOUS:
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
    return (True,) if f.kit_d816v_sample in _KIT_EXTRACUTANEOUS else _BOTH


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
    "sarcoma": lambda f, r: values(_other_organ(f, f.destructive_sarcoma)),
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


def _with_atoms(a: Atoms, changes: Iterable[tuple[str, Any]]) -> Atoms:
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


# ----------------------------------------------------------- next tests


@dataclass(frozen=True)
class Investigation:
    """A test, the findings it reveals, and the results it may give."""

    test: str
    purpose: str
    fields: tuple[str, ...]
    outcomes: Callable[[SMFindings, EditionRules], list[dict[str, Any]]]
    refines: bool = True  # False: the result changes which rule applies (TPSAB1 genotype), not just an unknown


_BOOLEAN_FIELDS = frozenset(
    name
    for name, kind in SMFindings.__annotations__.items()
    if kind == "bool | None"
)


def _field_domain(name: str, f: SMFindings, rules: EditionRules) -> tuple[Any, ...]:
    if name in _BOOLEAN_FIELDS:
        return (False, True)
    if name in FINDING_RANGES:
        return representatives(name, numeric_cuts(f, rules).get(name, ()))
    if name == "lesions":
        return (NO_SKIN_LESIONS, "maculopapular_unspecified")
    raise KeyError(name)


def _unknown_fields(*names: str) -> Callable[[SMFindings, EditionRules], list[dict[str, Any]]]:
    """Outcomes: every combination of values for those of ``names`` still unknown."""

    def outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
        unknown = [name for name in names if getattr(f, name) is None and name not in rules.unread_fields]
        if not unknown:
            return []
        domains = [_field_domain(name, f, rules) for name in unknown]
        return [dict(zip(unknown, combination)) for combination in itertools.product(*domains)]

    outcomes.reveals = names  # type: ignore[attr-defined]
    return outcomes


def _other_organ_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    if not f.other_organ_biopsied:
        return []
    return _unknown_fields(
        "other_organ_multifocal_dense_infiltrates",
        "other_organ_atypical_morphology_over_25_percent",
        "other_organ_cd25_cd2_cd30",
        "destructive_sarcoma",
    )(f, rules)


def _vaf_levels(f: SMFindings, rules: EditionRules) -> tuple[float, ...]:
    return representatives("kit_d816v_vaf_percent", numeric_cuts(f, rules)["kit_d816v_vaf_percent"])


def _kit_blood_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    if f.kit_d816v is not None:
        return []
    detected = [
        {"kit_d816v": "detected", "kit_d816v_sample": "peripheral_blood", "kit_d816v_vaf_percent": vaf}
        for vaf in _vaf_levels(f, rules)
    ]
    return [*detected, {"kit_d816v": "not_detected", "kit_d816v_sample": "peripheral_blood", "kit_d816v_vaf_percent": None}]


def _kit_marrow_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    if f.kit_d816v_sample == "bone_marrow" and (f.kit_d816v == "not_detected" or f.kit_d816v_vaf_percent is not None):
        return []
    detected = [
        {"kit_d816v": "detected", "kit_d816v_sample": "bone_marrow", "kit_d816v_vaf_percent": vaf}
        for vaf in _vaf_levels(f, rules)
    ]
    already_positive = f.kit_d816v == "detected" and f.kit_d816v_sample in _KIT_EXTRACUTANEOUS
    if already_positive:
        return detected  # a negative marrow would not undo a positive blood or organ result
    return [*detected, {"kit_d816v": "not_detected", "kit_d816v_sample": "bone_marrow", "kit_d816v_vaf_percent": None}]


def _kit_other_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    if f.other_activating_kit_mutation is not None:
        return []
    return [{"other_activating_kit_mutation": name} for name in ("none", "D816H", "K509I")]


def _genotype_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    """One genotype per distinct set of tryptase comparisons; none while the tryptase itself is unknown.

    An unknown tryptase already ranges over every interval, so a genotype
    could not change what is possible until the tryptase is measured.
    """
    bst = f.baseline_tryptase_ng_ml
    if not rules.hat_adjusted or f.tpsab1_extra_alpha_copies is not None or bst is None:
        return []
    low, high = EXTRA_ALPHA_COPIES_RANGE
    by_signature: dict[tuple[bool, bool], int] = {}
    for copies in range(low, high + 1):
        signature = (rules.tryptase_minor.holds(bst, 1 + copies), rules.b1_tryptase.holds(bst, 1 + copies))
        by_signature.setdefault(signature, copies)
    return [{"tpsab1_extra_alpha_copies": copies} for copies in by_signature.values()]


def _ahn_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    lineage = ahn_lineage(f.associated_hematologic_neoplasm)
    names: tuple[str | None, ...]
    if lineage is None:
        names = ("none", "MDS", "CLL")
    elif lineage == UNCLASSIFIED:
        names = ("MDS", "CLL")  # naming the lineage
    else:
        names = (None,)
    dysplasia = (False, True) if f.dysplasia_or_myeloproliferation is None else (None,)
    outcomes = []
    for name, changes in itertools.product(names, dysplasia):
        outcome: dict[str, Any] = {}
        if name is not None:
            outcome["associated_hematologic_neoplasm"] = name
        if changes is not None:
            outcome["dysplasia_or_myeloproliferation"] = changes
        if outcome:
            outcomes.append(outcome)
    return outcomes


INVESTIGATIONS: tuple[Investigation, ...] = (
    Investigation(
        "Basal serum tryptase (> 24 h after any reaction)",
        "Minor criterion (> 20 ng/mL), B1 (high tryptase) and the BMM tryptase limit.",
        ("baseline_tryptase_ng_ml",),
        _unknown_fields("baseline_tryptase_ng_ml"),
    ),
    Investigation(
        "TPSAB1 tryptase genotyping (hereditary alpha-tryptasemia)",
        "WHO 2022 compares the tryptase adjusted for extra alpha-tryptase copies; today the raw value is used.",
        ("tpsab1_extra_alpha_copies",),
        _genotype_outcomes,
        refines=False,
    ),
    Investigation(
        "KIT D816V in peripheral blood by a high-sensitivity assay (ASO-qPCR or ddPCR, detection limit < 0.1% VAF)",
        "A positive result meets the KIT minor criterion; a negative one does not exclude the mutation in the marrow.",
        ("kit_d816v", "kit_d816v_sample", "kit_d816v_vaf_percent"),
        _kit_blood_outcomes,
    ),
    Investigation(
        "KIT D816V in bone marrow by a high-sensitivity assay (ASO-qPCR or ddPCR) with the variant allele fraction",
        "Settles the KIT minor criterion; WHO 2022 counts a VAF >= 10% as a B-finding.",
        ("kit_d816v", "kit_d816v_sample", "kit_d816v_vaf_percent"),
        _kit_marrow_outcomes,
    ),
    Investigation(
        "KIT sequencing for activating mutations other than D816V",
        "Another activating KIT mutation meets the KIT minor criterion (WHO 2016: codon 816 only).",
        ("other_activating_kit_mutation",),
        _kit_other_outcomes,
    ),
    Investigation(
        "Bone marrow biopsy: histology with tryptase and CD117 immunohistochemistry",
        "Multifocal dense mast cell aggregates (major criterion), spindle/atypical forms (minor), % infiltration (B1).",
        ("multifocal_dense_infiltrates", "atypical_morphology_over_25_percent", "infiltration_percent"),
        _unknown_fields("multifocal_dense_infiltrates", "atypical_morphology_over_25_percent", "infiltration_percent"),
    ),
    Investigation(
        "CD25, CD2 and CD30 on bone marrow mast cells (immunohistochemistry or flow cytometry)",
        "Aberrant mast cell immunophenotype (minor criterion).",
        ("cd25", "cd2", "cd30"),
        _unknown_fields("cd25", "cd2", "cd30"),
    ),
    Investigation(
        "Bone marrow aspirate smear: mast cell count and morphology",
        "Mast cells >= 20% of nucleated cells in the smear define mast cell leukaemia (ICC: immature/atypical forms).",
        ("aspirate_mast_cells_percent", "immature_atypical_morphology"),
        _unknown_fields("aspirate_mast_cells_percent", "immature_atypical_morphology"),
    ),
    Investigation(
        "Work-up for an associated haematological neoplasm (blood film, marrow morphology, cytogenetics, myeloid NGS)",
        "An associated neoplasm makes SM-AHN (ICC: myeloid only, SM-AMN) and voids the tryptase criterion if myeloid;"
        " dysplasia or myeloproliferation without one is B2.",
        ("associated_hematologic_neoplasm", "dysplasia_or_myeloproliferation"),
        _ahn_outcomes,
    ),
    Investigation(
        "Complete blood count with differential",
        "Haemoglobin < 10 g/dL, platelets < 100 x10^9/L or neutrophils < 1 x10^9/L caused by mast cells is C1.",
        ("hemoglobin_g_dl", "platelets_10e9_l", "neutrophils_10e9_l"),
        _unknown_fields("hemoglobin_g_dl", "platelets_10e9_l", "neutrophils_10e9_l"),
    ),
    Investigation(
        "Haematologist's assessment whether the cytopenia is caused by mast cell infiltration",
        "A cytopenia counts as C1 only when mast cell infiltration causes it.",
        ("cytopenia_caused_by_mast_cells",),
        _unknown_fields("cytopenia_caused_by_mast_cells"),
    ),
    Investigation(
        "Liver imaging (ultrasound or CT) and liver function tests",
        "Hepatomegaly without dysfunction is B3; with dysfunction it is C2.",
        ("hepatomegaly", "liver_dysfunction"),
        _unknown_fields("hepatomegaly", "liver_dysfunction"),
    ),
    Investigation(
        "Spleen imaging and assessment for hypersplenism",
        "Splenomegaly without hypersplenism is B3; with hypersplenism it is C3.",
        ("splenomegaly", "hypersplenism"),
        _unknown_fields("splenomegaly", "hypersplenism"),
    ),
    Investigation(
        "Lymph node examination or imaging (largest node diameter)",
        "Lymphadenopathy is B3 (WHO 2022 > 2 cm, ICC > 1 cm, WHO 2016 any size).",
        ("lymphadenopathy_max_cm",),
        _unknown_fields("lymphadenopathy_max_cm"),
    ),
    Investigation(
        "Skeletal imaging for osteolysis and pathological fractures",
        "Large osteolysis (WHO 2022: >= 2 cm with a pathological fracture) is C4.",
        ("osteolysis_max_cm", "pathologic_fracture"),
        _unknown_fields("osteolysis_max_cm", "pathologic_fracture"),
    ),
    Investigation(
        "Gastrointestinal work-up for malabsorption with weight loss",
        "Malabsorption with weight loss from gut mast cell infiltrates is C5.",
        ("malabsorption_with_weight_loss",),
        _unknown_fields("malabsorption_with_weight_loss"),
    ),
    Investigation(
        "Histology of the extracutaneous organ biopsy (aggregates, morphology, CD25/CD2/CD30, destructive growth)",
        "Criteria can be met in organs other than marrow; a destructive high-grade tumour without SM is mast cell sarcoma.",
        (
            "other_organ_multifocal_dense_infiltrates",
            "other_organ_atypical_morphology_over_25_percent",
            "other_organ_cd25_cd2_cd30",
            "destructive_sarcoma",
        ),
        _other_organ_outcomes,
    ),
    Investigation(
        "Skin examination for typical lesions and Darier's sign",
        "Skin lesions rule out BMM; typical lesions with Darier's sign are the CM major criterion.",
        ("lesions", "darier_sign"),
        _unknown_fields("lesions", "darier_sign"),
    ),
    Investigation(
        "Lesional skin biopsy (mast cell infiltrates, KIT mutation in lesional skin)",
        "The CM minor criteria (cutaneous mastocytosis needs SM excluded).",
        ("biopsy_mast_cell_infiltrates", "kit_mutation_in_lesional_skin"),
        _unknown_fields("biopsy_mast_cell_infiltrates", "kit_mutation_in_lesional_skin"),
    ),
)

# Atoms that feed only the SM criteria: once SM is settled they cannot change the category.
_SM_ONLY_ATOMS = frozenset({"major", "morphology", "immunophenotype"})
# Atoms that are plain functions of their findings: no clinical judgement, no latent tissue, no
# edition-specific reading of a joint record. Once a test reveals all their unknown findings, its
# results give exactly each of their values, so pinning them stands for enumerating the results.
_DATA_DETERMINED = frozenset(
    {"major", "morphology", "infiltration", "dysplasia", "lymph_node", "organs", "malabsorption", "mcl", "sarcoma", "skin"}
)

_AFFECTED = {
    investigation.test: tuple(name for name, fields in ATOM_FIELDS.items() if fields & set(investigation.fields))
    for investigation in INVESTIGATIONS
}
_CONSISTENCY_FIELDS = frozenset(
    {"cytopenia_caused_by_mast_cells", "hemoglobin_g_dl", "platelets_10e9_l", "neutrophils_10e9_l", "pathologic_fracture", "osteolysis_max_cm"}
)
_RULE_CHANGING = tuple(investigation for investigation in INVESTIGATIONS if not investigation.refines)
_GENERIC_OUTCOMES = {
    investigation.test
    for investigation in INVESTIGATIONS
    if getattr(investigation.outcomes, "reveals", None) == investigation.fields
}
_MAY_CONTRADICT = {
    investigation.test for investigation in INVESTIGATIONS if _CONSISTENCY_FIELDS & set(investigation.fields)
}


@dataclass(frozen=True)
class NextTest:
    test: str
    why: str

    def as_dict(self) -> dict[str, str]:
        return {"test": self.test, "why": self.why}


def consistent(f: Any) -> bool:
    """Whether findings could be recorded together: a C1 judgement needs a low (or unmeasured) count,
    and a pathological fracture from osteolysis needs an osteolysis. Test results that contradict what
    is recorded are not offered as outcomes."""
    if f.cytopenia_caused_by_mast_cells and all(
        limit.status(value) is NOT_MET
        for value, limit in zip((f.hemoglobin_g_dl, f.platelets_10e9_l, f.neutrophils_10e9_l), CYTOPENIA_LIMITS.values())
    ):
        return False
    return not (f.pathologic_fracture and f.osteolysis_max_cm == 0)


class _Revealed:
    """The findings with a test's result put in (cheaper than copying the 45-field dataclass)."""

    __slots__ = ("_findings", "_result")

    def __init__(self, findings: SMFindings, result: dict[str, Any]) -> None:
        self._findings = findings
        self._result = result

    def __getattr__(self, name: str) -> Any:
        result = self._result
        return result[name] if name in result else getattr(self._findings, name)


def _fixings(a: Atoms, names: tuple[str, ...]) -> Iterable[Atoms]:
    """The atoms with each of ``names`` pinned to one of its values, in every combination."""
    for choice in itertools.product(*(getattr(a, name) for name in names)):
        yield _with_atoms(a, ((name, (value,)) for name, value in zip(names, choice)))


def next_tests(
    f: SMFindings, rules: EditionRules, a: Atoms, categories: frozenset[str], sm_settled: bool
) -> list[NextTest]:
    """The investigations whose result could change the possible categories, each with why.

    A test qualifies when one of its results, put into the findings, gives a
    different set of possible categories. A result can only pin the atoms it
    feeds, so a test that fills in unknowns is skipped outright when pinning
    those atoms to any of their values leaves the set unchanged.
    """
    found: list[NextTest] = []
    cache: dict[Atoms, frozenset[str]] = {a: categories}

    def possible(b: Atoms) -> frozenset[str]:
        known = cache.get(b)
        if known is None:
            known = cache[b] = classify(b, rules)[1]
        return known

    open_names = frozenset(
        name for name, options in zip(Atoms._fields, a) if len(options) > 1 and not (sm_settled and name in _SM_ONLY_ATOMS)
    )
    # a settled category can still move only by a test that changes the rule (the genotype)
    candidates = INVESTIGATIONS if len(categories) > 1 else _RULE_CHANGING
    for investigation in candidates:
        affected = _AFFECTED[investigation.test]
        ruled_out: set[str] = set()
        added: set[str] = set()
        if investigation.refines:
            if open_names.isdisjoint(affected):
                continue
            opened = tuple(name for name in affected if name in open_names)
            results = [possible(b) for b in _fixings(a, opened)]
            if all(result == categories for result in results):
                continue
            if _reveals_all(investigation, opened, f, rules):
                ruled_out = set().union(*(categories - result for result in results))
                found.append(NextTest(investigation.test, _why(investigation.purpose, ruled_out, added)))
                continue
        check = investigation.test in _MAY_CONTRADICT
        for outcome in investigation.outcomes(f, rules):
            revealed: Any = _Revealed(f, outcome)
            if check and not consistent(revealed):
                continue
            after = possible(_with_atoms(a, [(name, ATOM_FUNCTIONS[name](revealed, rules)) for name in affected]))
            ruled_out |= categories - after
            added |= after - categories
        if ruled_out or added:
            found.append(NextTest(investigation.test, _why(investigation.purpose, ruled_out, added)))
    return found


def _reveals_all(investigation: Investigation, opened: tuple[str, ...], f: SMFindings, rules: EditionRules) -> bool:
    """Whether the test's results range over every value of the open atoms (see _DATA_DETERMINED)."""
    if investigation.test not in _GENERIC_OUTCOMES or investigation.test in _MAY_CONTRADICT:
        return False
    revealed = set(investigation.fields)
    for name in opened:
        if name not in _DATA_DETERMINED:
            return False
        unknown = {field for field in ATOM_FIELDS[name] if getattr(f, field) is None} - rules.unread_fields
        if not unknown <= revealed:
            return False
    return True


def _why(purpose: str, ruled_out: set[str], added: set[str]) -> str:
    parts = [purpose]
    if ruled_out:
        parts.append(f"Its result could rule out {' or '.join(ordered(ruled_out))}.")
    if added:
        parts.append(f"Its result could also make {' or '.join(ordered(added))} possible.")
    return " ".join(parts)


# ------------------------------------------------------- criteria for display

_SAMPLE_WORDS = {
    "bone_marrow": "bone marrow",
    "peripheral_blood": "peripheral blood",
    "other_extracutaneous": "an extracutaneous organ",
    "skin": "skin",
}


def _said(value: bool | None, yes: str, no: str, unknown: str) -> str:
    return unknown if value is None else (yes if value else no)


def _other_organ_name(f: SMFindings) -> str:
    return f.other_organ or "the other extracutaneous organ"


def _major_text(f: SMFindings) -> str:
    parts = [
        _said(
            f.multifocal_dense_infiltrates,
            "bone marrow: multifocal dense mast cell aggregates (>= 15 cells)",
            "bone marrow: no multifocal dense mast cell aggregates",
            "bone marrow histology not recorded",
        )
    ]
    if f.other_organ_biopsied:
        parts.append(
            _said(
                f.other_organ_multifocal_dense_infiltrates,
                f"{_other_organ_name(f)}: multifocal dense mast cell aggregates",
                f"{_other_organ_name(f)}: no such aggregates",
                f"{_other_organ_name(f)}: aggregates not recorded",
            )
        )
    return "; ".join(parts)


def _morphology_text(f: SMFindings) -> str:
    parts = [
        _said(
            f.atypical_morphology_over_25_percent,
            "> 25% of bone marrow mast cells spindle-shaped or atypical",
            "bone marrow mast cells not atypical in > 25%",
            "bone marrow mast cell morphology not recorded",
        )
    ]
    if f.other_organ_biopsied:
        parts.append(
            _said(
                f.other_organ_atypical_morphology_over_25_percent,
                f"{_other_organ_name(f)}: > 25% atypical mast cells",
                f"{_other_organ_name(f)}: mast cells not atypical in > 25%",
                f"{_other_organ_name(f)}: morphology not recorded",
            )
        )
    return "; ".join(parts)


def _cytopenia_text(f: SMFindings) -> str:
    limits = CYTOPENIA_LIMITS
    judgement = _said(
        f.cytopenia_caused_by_mast_cells,
        "cytopenia caused by mast cell infiltration",
        "no cytopenia caused by mast cells",
        "not judged whether a cytopenia is caused by mast cells",
    )
    return (
        f"{judgement}; Hb {fmt(f.hemoglobin_g_dl, 'g/dL')} (C1 if {limits['hemoglobin_g_dl'].text()}), "
        f"platelets {fmt(f.platelets_10e9_l, 'x10^9/L')} ({limits['platelets_10e9_l'].text()}), "
        f"neutrophils {fmt(f.neutrophils_10e9_l, 'x10^9/L')} ({limits['neutrophils_10e9_l'].text()})"
    )


def _sarcoma_text(f: SMFindings) -> str:
    if not f.other_organ_biopsied:
        text = "no biopsy of an extracutaneous organ other than bone marrow"
    else:
        text = _said(
            f.destructive_sarcoma,
            f"{_other_organ_name(f)}: localized destructive tumour of highly atypical mast cells",
            f"{_other_organ_name(f)}: no destructive mast cell tumour",
            f"{_other_organ_name(f)}: destructive growth not assessed",
        )
    return text + " (MCS only when SM criteria are not met)"


def shared_reasons(f: SMFindings) -> dict[str, tuple[Status, str]]:
    """Status and reason of the criteria every edition states alike; only their sources differ."""
    return {
        "major": (status_of(values(major_status(f))), _major_text(f)),
        "minor_morphology": (morphology_status(f), _morphology_text(f)),
        "b2_other_lineages": (
            from_bool(f.dysplasia_or_myeloproliferation),
            _said(
                f.dysplasia_or_myeloproliferation,
                "dysplasia or myeloproliferation in non-mast-cell lineages without an associated neoplasm",
                "no dysplasia or myeloproliferation",
                "dysplasia/myeloproliferation not assessed",
            ),
        ),
        "c1_cytopenia": (cytopenia_status(f), _cytopenia_text(f)),
        "c2_liver": (
            all_of(from_bool(f.hepatomegaly), from_bool(f.liver_dysfunction)),
            _said(f.hepatomegaly, "hepatomegaly", "no hepatomegaly", "liver size not recorded")
            + "; "
            + _said(f.liver_dysfunction, "liver dysfunction from mast cells", "no liver dysfunction", "liver function not recorded"),
        ),
        "c3_spleen": (
            all_of(from_bool(f.splenomegaly), from_bool(f.hypersplenism)),
            _said(f.splenomegaly, "splenomegaly", "no splenomegaly", "spleen size not recorded")
            + "; "
            + _said(f.hypersplenism, "hypersplenism", "no hypersplenism", "hypersplenism not assessed"),
        ),
        "c5_malabsorption": (
            from_bool(f.malabsorption_with_weight_loss),
            _said(
                f.malabsorption_with_weight_loss,
                "malabsorption with weight loss from gut mast cell infiltrates",
                "no malabsorption with weight loss",
                "malabsorption not assessed",
            ),
        ),
        "mcs_destructive_tumour": (_other_organ(f, f.destructive_sarcoma), _sarcoma_text(f)),
    }


_SOURCE_KEYS = {
    "major": "major",
    "minor_morphology": "minor_morphology",
    "b2_other_lineages": "b2",
    "c1_cytopenia": "c1",
    "c2_liver": "c2",
    "c3_spleen": "c3",
    "c5_malabsorption": "c5",
    "mcs_destructive_tumour": "mcs",
}


def _shared(reasons: Mapping[str, tuple[Status, str]], criterion: str, rules: EditionRules, note: str | None = None) -> Criterion:
    status, text = reasons[criterion]
    return Criterion(criterion, status, f"{text}; {note}" if note else text, rules.sources[_SOURCE_KEYS[criterion]])


def _kit(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    if f.kit_d816v is None:
        parts = ["KIT D816V not tested"]
    else:
        where = _SAMPLE_WORDS.get(f.kit_d816v_sample or "", "a sample not recorded")
        found = "detected" if f.kit_d816v == "detected" else "not detected"
        text = f"KIT D816V {found} in {where}"
        if f.kit_d816v_vaf_percent is not None:
            text += f" (VAF {fmt(f.kit_d816v_vaf_percent, '%')})"
        parts = [text]
        if f.kit_d816v_sample == "skin":
            parts.append("a mutation in skin counts for CM, not for SM")
        elif f.kit_d816v_sample is None:
            parts.append("the sample decides whether it counts (skin does not)")
        elif f.kit_d816v == "not_detected" and f.kit_d816v_sample != "bone_marrow":
            parts.append("a negative result outside the marrow does not exclude the mutation in the marrow")
    mutation = f.other_activating_kit_mutation
    if mutation is not None:
        if mutation.strip().lower() == "none":
            parts.append("no other activating KIT mutation found")
        elif not other_kit_counts(mutation, rules.any_activating_kit):
            parts.append(f"other KIT mutation {mutation} is not at codon 816, which {rules.title} requires")
        elif f.kit_d816v_sample not in _KIT_EXTRACUTANEOUS:
            parts.append(f"other activating KIT mutation {mutation}, sample not recorded as extracutaneous")
        else:
            parts.append(f"other activating KIT mutation {mutation}")
    status = status_of(kit for kit, _ in a.kit)
    return Criterion("minor_kit", status, "; ".join(parts), rules.sources["minor_kit"])


def _immunophenotype(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    words = {True: "positive", False: "negative", None: "not tested"}
    parts = [f"{marker} {words[getattr(f, marker.lower())]}" for marker in rules.immunophenotype_markers]
    text = "bone marrow mast cells: " + ", ".join(parts)
    if "CD30" not in rules.immunophenotype_markers and f.cd30:
        text += f" (CD30 is not a criterion in {rules.title})"
    if f.other_organ_biopsied:
        text += "; " + _said(
            f.other_organ_cd25_cd2_cd30,
            f"{_other_organ_name(f)}: CD25, CD2 or CD30 expressed",
            f"{_other_organ_name(f)}: none of CD25, CD2, CD30",
            f"{_other_organ_name(f)}: immunophenotype not recorded",
        )
    return Criterion("minor_immunophenotype", status_of(a.immunophenotype), text, rules.sources["minor_immunophenotype"])


def _tryptase_text(f: SMFindings, rules: EditionRules) -> str:
    bst = f.baseline_tryptase_ng_ml
    if bst is None:
        return "basal serum tryptase not recorded"
    text = f"basal serum tryptase {fmt(bst, 'ng/mL')}"
    copies = f.tpsab1_extra_alpha_copies
    if rules.hat_adjusted:
        if copies is None:
            text += " (TPSAB1 genotype unknown: raw value compared)"
        elif copies > 0:
            adjusted = hat_adjusted_tryptase(bst, copies) or 0.0
            text += f", HaT-adjusted {fmt(round(adjusted, 2), 'ng/mL')} ({copies} extra alpha copies)"
    elif copies:
        text += f" (raw value compared: {rules.title} adjustment for {copies} extra alpha copies not applied)"
    return text


def _tryptase(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    scale = hat_scale(f, rules)
    parts = [f"{_tryptase_text(f, rules)}; limit {rules.tryptase_minor.text()}" + (" (adjusted value)" if scale > 1 else "")]
    lineage = ahn_lineage(f.associated_hematologic_neoplasm)
    if lineage == MYELOID:
        parts.append("not counted: an associated myeloid neoplasm is present")
    elif lineage is None:
        parts.append("an associated myeloid neoplasm, which would void this criterion, is not excluded")
    elif lineage == UNCLASSIFIED:
        parts.append("the associated neoplasm's lineage is not recognised; if myeloid, this criterion does not count")
    status = status_of(minor for minor, _, _, _ in a.tryptase)
    return Criterion("minor_tryptase", status, "; ".join(parts), rules.sources["minor_tryptase"])


def _b1(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    scale = hat_scale(f, rules)
    infiltration = f"bone marrow infiltration {fmt(f.infiltration_percent, '%')} (limit {rules.b1_infiltration.text()})"
    tryptase = f"{_tryptase_text(f, rules)} (limit {rules.b1_tryptase.text()}{' adjusted' if scale > 1 else ''})"
    routes = [infiltration, tryptase]
    if rules.b1_vaf is not None:
        if f.kit_d816v == "not_detected":
            vaf = "KIT D816V not detected"
        else:
            vaf = f"KIT D816V VAF {fmt(f.kit_d816v_vaf_percent, '%')}"
        if f.kit_d816v_sample not in ("bone_marrow", "peripheral_blood"):
            vaf += " (counts only in bone marrow or blood)"
        routes.append(f"{vaf} (limit {rules.b1_vaf.text()})")
    joiner = " AND " if rules.b1_all_required else " and/or "
    status = status_of(
        rules.b1_join(infiltration_route, tryptase_high, vaf_high)
        for infiltration_route in a.infiltration
        for _, tryptase_high, _, _ in a.tryptase
        for _, vaf_high in a.kit
    )
    return Criterion("b1_mast_cell_burden", status, "needs " + joiner.join(routes), rules.sources["b1"])


def _b3(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    liver = _said(f.hepatomegaly, "hepatomegaly", "no hepatomegaly", "liver size not recorded")
    if f.hepatomegaly:
        liver += _said(f.liver_dysfunction, " with liver dysfunction (C2, not B3)", " without dysfunction", ", liver function not recorded")
    spleen = _said(f.splenomegaly, "splenomegaly", "no splenomegaly", "spleen size not recorded")
    if f.splenomegaly:
        spleen += _said(f.hypersplenism, " with hypersplenism (C3, not B3)", " without hypersplenism", ", hypersplenism not assessed")
    node = f"largest lymph node {fmt(f.lymphadenopathy_max_cm, 'cm')} (limit {rules.b3_lymph_node.text()})"
    status = status_of(organ_b3 or node_route for organ_b3, _ in a.organs for node_route in a.lymph_node)
    return Criterion("b3_organomegaly", status, "; ".join([liver, spleen, node]), rules.sources["b3"])


def _c4(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    text = f"largest osteolysis {fmt(f.osteolysis_max_cm, 'cm')}; " + _said(
        f.pathologic_fracture, "pathological fracture", "no pathological fracture", "fracture not recorded"
    )
    if rules.c4_osteolysis is not None:
        text += f" (needs osteolysis {rules.c4_osteolysis.text()} with a pathological fracture)"
    elif status_of(a.bone) is UNKNOWN:
        text += f" ({rules.title} names no size: whether the osteolysis is 'large' is a clinical judgement)"
    return Criterion("c4_bone", status_of(a.bone), text, rules.sources["c4"])


def _mcl(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    if f.aspirate_mast_cells_percent is None:
        text = "mast cell percentage in aspirate smears not recorded"
    else:
        text = f"mast cells {fmt(f.aspirate_mast_cells_percent, '%')} of nucleated cells in aspirate smears"
    text += f" (MCL if {rules.mcl_smear.text()})"
    if rules.mcl_immature_only:
        text += "; " + _said(
            f.immature_atypical_morphology,
            "immature/atypical mast cells",
            "no immature/atypical mast cells (ICC counts only those)",
            "immature morphology not recorded (ICC counts only immature/atypical mast cells)",
        )
    return Criterion("mcl_smear", status_of(a.mcl), text, rules.sources["mcl"])


def _ahn(f: SMFindings, rules: EditionRules, a: Atoms) -> Criterion:
    lineage = ahn_lineage(f.associated_hematologic_neoplasm)
    counted = " and ".join(sorted(rules.ahn_lineages))
    if lineage is None:
        text = "associated haematological neoplasm not assessed"
    elif lineage == LINEAGE_NONE:
        text = "no associated haematological neoplasm"
    elif lineage == UNCLASSIFIED:
        text = "associated neoplasm recorded; its lineage (myeloid or lymphoid) is not recognised from its name"
    else:
        text = f"associated {lineage} neoplasm recorded"
    text += f" ({rules.ahn_code} counts {counted} neoplasms)"
    status = status_of(ahn for _, _, _, ahn in a.tryptase)
    return Criterion("associated_neoplasm", status, text, rules.sources["ahn"])


def _bmm(f: SMFindings, rules: EditionRules, a: Atoms, b_findings: list[Criterion], limit: Threshold) -> Criterion:
    lesions = from_bool(f.lesions == NO_SKIN_LESIONS) if f.lesions is not None else UNKNOWN
    no_b = NOT_MET if any(b.status is MET for b in b_findings) else (
        MET if all(b.status is NOT_MET for b in b_findings) else UNKNOWN
    )
    tryptase = status_of(bmm for _, _, bmm, _ in a.tryptase)
    text = (
        _said(None if f.lesions is None else f.lesions == NO_SKIN_LESIONS, "no skin lesions", "skin lesions present", "skin not examined")
        + f"; B-findings: {'none' if no_b is MET else 'present' if no_b is NOT_MET else 'not all assessed'}"
        + f"; basal tryptase {fmt(f.baseline_tryptase_ng_ml, 'ng/mL')} (limit {limit.text()}, raw value)"
    )
    return Criterion("bmm_conditions", all_of(lesions, no_b, tryptase), text, rules.sources["bmm"])


# ------------------------------------------------------------------ result


_STATUS_TEXT = {status: status.value for status in Status}


def criterion_dict(c: Criterion) -> dict[str, str]:
    """The contract's CRITERION, as ``Criterion.as_dict`` gives it, without the enum lookup per call."""
    return {"id": c.id, "status": _STATUS_TEXT[c.status], "reason": c.reason, "source": c.source}


@dataclass(frozen=True)
class GuidelineResult:
    """One edition's verdict: the contract's GUIDELINE object plus edition, title, source and notes."""

    edition: str
    title: str
    source: str
    sm_criteria: Status
    possible_categories: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    b_findings: tuple[Criterion, ...]
    c_findings: tuple[Criterion, ...]
    variant_criteria: tuple[Criterion, ...]
    next_tests: tuple[NextTest, ...]
    notes: tuple[str, ...]

    @property
    def category(self) -> str | None:
        return self.possible_categories[0] if len(self.possible_categories) == 1 else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "edition": self.edition,
            "title": self.title,
            "source": self.source,
            "sm_criteria": _STATUS_TEXT[self.sm_criteria],
            "category": self.category,
            "possible_categories": list(self.possible_categories),
            "criteria": [criterion_dict(c) for c in self.criteria],
            "b_findings": [criterion_dict(c) for c in self.b_findings],
            "c_findings": [criterion_dict(c) for c in self.c_findings],
            "variant_criteria": [criterion_dict(c) for c in self.variant_criteria],
            "next_tests": [t.as_dict() for t in self.next_tests],
            "notes": list(self.notes),
        }


def shared_work(f: SMFindings) -> dict[str, Any]:
    """What all editions compute alike (atoms and reasons), done once when several are evaluated."""
    return {"atoms": shared_atoms(f), "reasons": shared_reasons(f)}


def evaluate_guideline(f: SMFindings, rules: EditionRules, shared: Mapping[str, Any] | None = None) -> GuidelineResult:
    """Criteria, B/C-findings, the possible categories and the next tests of one edition.

    ``shared`` (from :func:`shared_work`) saves recomputing what all editions share.
    """
    if shared is None:
        shared = shared_work(f)
    a = atoms(f, rules, shared["atoms"])
    reasons = shared["reasons"]
    sm_values, categories = classify(a, rules)
    b_findings = [_b1(f, rules, a), _shared(reasons, "b2_other_lineages", rules), _b3(f, rules, a)]
    variant = [_mcl(f, rules, a), _ahn(f, rules, a)]
    if rules.bmm_tryptase is not None:
        variant.append(_bmm(f, rules, a, b_findings, rules.bmm_tryptase))
    variant.append(_shared(reasons, "mcs_destructive_tumour", rules))
    possible = ordered(categories)
    return GuidelineResult(
        edition=rules.key,
        title=rules.title,
        source=rules.source,
        sm_criteria=status_of(sm_values),
        possible_categories=possible,
        criteria=(
            _shared(reasons, "major", rules, rules.major_note),
            _shared(reasons, "minor_morphology", rules),
            _kit(f, rules, a),
            _immunophenotype(f, rules, a),
            _tryptase(f, rules, a),
        ),
        b_findings=tuple(b_findings),
        c_findings=(
            _shared(reasons, "c1_cytopenia", rules),
            _shared(reasons, "c2_liver", rules),
            _shared(reasons, "c3_spleen", rules),
            _c4(f, rules, a),
            _shared(reasons, "c5_malabsorption", rules),
        ),
        variant_criteria=tuple(variant),
        next_tests=tuple(next_tests(f, rules, a, categories, len(sm_values) == 1)),
        notes=tuple(_common_notes(f, rules, a, possible) + rules.notes(f, possible)),
    )


def _common_notes(f: SMFindings, rules: EditionRules, a: Atoms, possible: tuple[str, ...]) -> list[str]:
    notes = []
    if possible == (MCL,):
        c_any = status_of(
            organ_c or c1 or c4 or c5
            for _, organ_c in a.organs
            for c1 in a.cytopenia
            for c4 in a.bone
            for c5 in a.malabsorption
        )
        qualifier = {MET: "acute MCL (C-findings present)", NOT_MET: "chronic MCL (no C-findings)"}.get(c_any)
        if qualifier:
            notes.append(qualifier + "; ECNM 2014 consensus qualifier")
    if possible == (rules.ahn_code,):
        notes.append(f"{rules.ahn_code}: the associated neoplasm is a concomitant diagnosis; name the SM component (ISM/SSM/ASM) with it")
    return notes


# ----------------------------------------------------------------- warnings


def findings_warnings(f: SMFindings) -> list[str]:
    """Inconsistent or incomplete records the SM rules noticed; free text is never echoed."""
    warnings = []
    if f.other_organ_damage:
        warnings.append(
            "SM: other organ damage is recorded; it is not one of the listed C-findings and does not change the SM "
            "category: review it clinically"
        )
    if f.kit_d816v is not None and f.kit_d816v_sample is None:
        warnings.append("SM: the sample of the KIT D816V test is not recorded; a result counts for SM only from marrow, blood or another extracutaneous organ")
    if f.kit_d816v == "not_detected" and f.kit_d816v_vaf_percent:
        warnings.append("SM: a KIT D816V VAF above 0 is recorded with 'not detected'; the result 'not detected' is used")
    if f.kit_d816v is None and f.kit_d816v_vaf_percent is not None:
        warnings.append("SM: a KIT D816V VAF is recorded without the test result; record kit_d816v")
    mutation = f.other_activating_kit_mutation
    if mutation and mutation.strip().lower() != "none" and f.kit_d816v_sample not in _KIT_EXTRACUTANEOUS:
        warnings.append("SM: the sample of the other KIT mutation is taken from kit_d816v_sample, which is not an extracutaneous sample")
    name = f.associated_hematologic_neoplasm
    if name is not None and not name.strip():
        warnings.append("SM: the associated haematological neoplasm is an empty text; treated as unknown")
    elif ahn_lineage(name) == UNCLASSIFIED:
        warnings.append("SM: the associated neoplasm's name is not recognised as myeloid or lymphoid; both are kept possible")
    if not consistent(f):
        warnings.append(
            "SM: contradictory findings: a cytopenia caused by mast cells with counts that are not cytopenic (the "
            "judgement is used), or a pathological fracture from osteolysis with no osteolysis (0 cm: C4 not met)"
        )
    if f.hypersplenism and f.splenomegaly is False:
        warnings.append("SM: hypersplenism is recorded without splenomegaly; C3 needs both")
    if f.liver_dysfunction and f.hepatomegaly is False:
        warnings.append("SM: liver dysfunction is recorded without hepatomegaly; C2 needs both")
    return warnings

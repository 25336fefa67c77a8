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

from mastcds.rules.logic import (
    MET,
    NOT_MET,
    UNKNOWN,
    Status,
    all_of,
    any_of,
    fmt,
    from_bool,
)
from mastcds.rules.mastocytosis import cutaneous
from mastcds.rules.mastocytosis.findings import (
    FINDING_RANGES,
    NO_SKIN_LESIONS,
    SMFindings,
    sample_kit_result,
)
from mastcds.rules.references import Citation

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


# The major criterion: multifocal dense infiltrates of >= 15 mast cells in aggregates; the morphology minor
# criterion: > 25% of mast cells spindle-shaped or atypical. The same wording in WHO 2016, WHO 2022 and ICC 2022
# (see each edition's sources for "major" and "minor_morphology").
MAJOR_AGGREGATE_MAST_CELLS = 15
ATYPICAL_MORPHOLOGY_MINOR = Threshold(">", 25, "%")
# Mast cell leukaemia is leukaemic when mast cells are >= 10% of the blood leukocytes, aleukaemic below
# (WHO 2022, khoury2022 as reproduced in li2023 Table 2; WHO 2016 alike).
MCL_LEUKAEMIC = Threshold(">=", 10, "% of leukocytes")


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


def recorded_lineage(f: SMFindings) -> str | None:
    """The associated neoplasm's lineage: as its name says (see :func:`ahn_lineage`), else as recorded for a name
    that does not say (``load_case`` refuses a recorded lineage that contradicts a recognised name)."""
    lineage = ahn_lineage(f.associated_hematologic_neoplasm)
    if lineage == UNCLASSIFIED and f.associated_hematologic_neoplasm_lineage is not None:
        return f.associated_hematologic_neoplasm_lineage
    return lineage


def lineage_agrees(name: str | None, lineage: str | None) -> bool:
    """Whether a recorded lineage fits the name: one that names a neoplasm, and does not say otherwise."""
    if lineage is None:
        return True
    named = ahn_lineage(name)
    return named == UNCLASSIFIED or named == lineage


def lineage_options(f: SMFindings) -> tuple[str, ...]:
    """The lineages an associated neoplasm may have, given what is recorded."""
    lineage = recorded_lineage(f)
    if lineage is None:
        return (LINEAGE_NONE, MYELOID, LYMPHOID)
    if lineage == UNCLASSIFIED:
        return (MYELOID, LYMPHOID)
    return (lineage,)


# ----------------------------------------------------------------- editions


# C1 cytopenias, the same in every edition: Hb < 10 g/dL, platelets < 100 x10^9/L, neutrophils < 1 x10^9/L
# (WHO 2022 and ICC: blood_res2023 Table 5; WHO 2016: valent2017_blood Table 1).
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
    source: Citation
    sources: Mapping[str, Citation]
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
    b2_blood_counts: bool  # True: ICC's B2 (cytopenia or -cytosis, reactive causes excluded); False: dysplasia/myeloproliferation
    b3_lymph_node: Threshold
    c4_osteolysis: Threshold | None  # None: "large osteolysis" is a clinical judgement (organs.large_osteolysis)
    mcl_smear: Threshold
    mcl_immature_only: bool
    bmm_tryptase: Threshold | None  # None: BMM is not a category of its own (it also needs the marrow involved)
    ahn_code: str
    ahn_lineages: frozenset[str]
    unread_fields: frozenset[str]  # findings this edition's rules never read (e.g. CD30 in WHO 2016)
    notes: Callable[[SMFindings, tuple[str, ...]], list[str]] = field(default=lambda f, categories: [])
    cd2_alone_note: str | None = None  # said in the immunophenotype reason when CD2 without CD25 decides it

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


def marrow_major_status(f: SMFindings) -> Status:
    """The major criterion in the marrow: no aggregate of >= 15 mast cells rules it out; several (multifocal) meet it."""
    largest = f.largest_aggregate_mast_cells
    if largest is not None and largest < MAJOR_AGGREGATE_MAST_CELLS:
        return NOT_MET
    return from_bool(f.multifocal_dense_infiltrates)


def marrow_morphology_status(f: SMFindings) -> Status:
    """> 25% spindle-shaped or atypical marrow mast cells: the percentage when counted, else the recorded yes/no."""
    if f.spindle_atypical_mast_cells_percent is not None:
        return ATYPICAL_MORPHOLOGY_MINOR.status(f.spindle_atypical_mast_cells_percent)
    return from_bool(f.atypical_morphology_over_25_percent)


def marrow_immunophenotype_status(f: SMFindings, rules: EditionRules) -> Status:
    return any_of(*(from_bool(getattr(f, marker.lower())) for marker in rules.immunophenotype_markers))


def other_immunophenotype_status(f: SMFindings, rules: EditionRules) -> Status:
    other = other_organ_status(f, f.other_organ_cd25_cd2_cd30)
    if "CD30" not in rules.immunophenotype_markers and other is MET:
        other = UNKNOWN  # the organ's record joins CD25/CD2/CD30: it may be CD30 alone
    return other


def major_status(f: SMFindings) -> Status:
    return any_of(marrow_major_status(f), other_organ_status(f, f.other_organ_multifocal_dense_infiltrates))


def morphology_status(f: SMFindings) -> Status:
    return any_of(marrow_morphology_status(f), other_organ_status(f, f.other_organ_atypical_morphology_over_25_percent))


def immunophenotype_status(f: SMFindings, rules: EditionRules) -> Status:
    return any_of(marrow_immunophenotype_status(f, rules), other_immunophenotype_status(f, rules))


def _with_marrow(marrow: Status, other: Status) -> tuple[tuple[bool, bool], ...]:
    """Joint options (criterion met, met in the marrow) of a criterion met in the marrow or another organ."""
    return tuple(sorted({(m or o, m) for m in values(marrow) for o in values(other)}))


KIT_EXTRACUTANEOUS_SAMPLES = frozenset({"bone_marrow", "peripheral_blood", "other_extracutaneous"})
_KIT_FIELDS = {
    "bone_marrow": ("kit_marrow", "kit_marrow_vaf_percent"),
    "peripheral_blood": ("kit_blood", "kit_blood_vaf_percent"),
    "other_extracutaneous": ("kit_other_organ", None),
}
# What a sample can hold: no mutation, the mutation below the B1 VAF limit, or at or above it.
_NEGATIVE, _LOW, _HIGH = 0, 1, 2


def kit_result(f: SMFindings, sample: str) -> tuple[str | None, float | None]:
    """(result, VAF) of one extracutaneous sample: its own fields, else the single kit_d816v pair of that sample."""
    result_field, vaf_field = _KIT_FIELDS[sample]
    vaf = getattr(f, vaf_field) if vaf_field is not None else None
    return sample_kit_result(sample, getattr(f, result_field), vaf, f.kit_d816v, f.kit_d816v_sample, f.kit_d816v_vaf_percent)


def _vaf_classes(result: str | None, vaf: float | None, limit: Threshold | None) -> tuple[int, ...]:
    top = _HIGH if limit is not None else _LOW  # without a VAF route, "high" is no different from "low"
    if result == "not_detected":
        return (_NEGATIVE,)
    if result == "detected":
        if vaf is None or limit is None:
            return tuple(range(_LOW, top + 1))
        return (_HIGH,) if limit.holds(vaf) else (_LOW,)
    return tuple(range(_NEGATIVE, top + 1))


def kit_d816v_options(f: SMFindings, vaf_limit: Threshold | None) -> tuple[tuple[bool, bool, bool], ...]:
    """Joint options (D816V present outside the skin, a marrow or blood VAF at or above the B1 limit, D816V in the marrow).

    Each tested sample says what it holds. Blood holds no more than the marrow (circulating clonal cells
    come from it), which bounds whichever of the two was not tested; two recorded results are both taken as
    found. The organ of a recorded biopsy may hold the mutation when it was not tested there. A result recorded without its sample, or one from skin,
    says nothing about the extracutaneous samples.
    """
    marrow, marrow_vaf = kit_result(f, "bone_marrow")
    blood, blood_vaf = kit_result(f, "peripheral_blood")
    organ, _ = kit_result(f, "other_extracutaneous")
    if organ is not None:
        organ_values: tuple[bool, ...] = (organ == "detected",)
    else:
        organ_values = _BOTH if f.other_organ_biopsied else (False,)
    options = set()
    blood_classes = _vaf_classes(blood, blood_vaf, vaf_limit)
    either_untested = marrow is None or blood is None
    for in_marrow in _vaf_classes(marrow, marrow_vaf, vaf_limit):
        for in_blood in blood_classes:
            if either_untested and in_blood > in_marrow:
                continue  # what was not tested follows the biology; two results are both taken as found
            for in_organ in organ_values:
                present = in_marrow != _NEGATIVE or in_blood != _NEGATIVE or in_organ
                options.add((present, _HIGH in (in_marrow, in_blood), in_marrow != _NEGATIVE))
    return tuple(sorted(options))


def other_kit_counts(mutation: str, any_activating: bool) -> bool:
    """Whether a named non-D816V mutation counts: any activating one (2022), or codon 816 only (2016)."""
    return any_activating or "816" in mutation


def other_kit_sample(f: SMFindings) -> str | None:
    """Where the other KIT mutation was found: as recorded, else the sample of the single kit_d816v result."""
    return f.other_activating_kit_mutation_sample or f.kit_d816v_sample


def other_kit_values(f: SMFindings, rules: EditionRules) -> tuple[tuple[bool, bool], ...]:
    """Joint options (another activating KIT mutation supports the minor criterion, it was found in the marrow).

    It counts only from an extracutaneous sample; from skin or an unrecorded sample it may or may not be
    present outside the skin as well.
    """
    mutation = f.other_activating_kit_mutation
    if mutation is None:
        return ((False, False), (True, False), (True, True))
    if mutation.strip().lower() == "none" or not other_kit_counts(mutation, rules.any_activating_kit):
        return ((False, False),)
    sample = other_kit_sample(f)
    if sample in KIT_EXTRACUTANEOUS_SAMPLES:
        return ((True, sample == "bone_marrow"),)
    return ((False, False), (True, False), (True, True))


# ICC 2022 B-finding 2 names no limits for its "cytopenia (not meeting criteria for C-findings) or -cytosis"
# (leguit2023, as reproduced in blood_res2023 Table 5).
# mastcds reads the counts with the limits the same ICC paper uses for myeloid neoplasms (Arber et al., Blood
# 2022;140:1200-28): cytopenia as for MDS, Hb < 13 g/dL (men) / < 12 g/dL (women), platelets < 150 x10^9/L,
# neutrophils < 1.8 x10^9/L; thrombocytosis >= 450 and leukocytosis >= 13 x10^9/L (MDS/MPN, NOS, Table 18);
# monocytosis >= 0.5 x10^9/L and >= 10% of leukocytes (CMML); eosinophilia >= 1.5 x10^9/L (hypereosinophilia).
# The haematologist's reading (bone_marrow.cytopenia_or_cytosis) is used when recorded.
ICC_ANAEMIA_G_DL = {"male": Threshold("<", 13, "g/dL"), "female": Threshold("<", 12, "g/dL")}
ICC_THROMBOCYTOPENIA = Threshold("<", 150, "x10^9/L")
ICC_NEUTROPENIA = Threshold("<", 1.8, "x10^9/L")
ICC_THROMBOCYTOSIS = Threshold(">=", 450, "x10^9/L")
ICC_LEUKOCYTOSIS = Threshold(">=", 13, "x10^9/L")
ICC_MONOCYTOSIS = Threshold(">=", 0.5, "x10^9/L")
ICC_MONOCYTOSIS_FRACTION = Threshold(">=", 10, "% of leukocytes")
ICC_EOSINOPHILIA = Threshold(">=", 1.5, "x10^9/L")


def anaemia_status(hemoglobin: float | None, sex: str | None) -> Status:
    """Hb below the sex's limit; with the sex unknown, only a value below both limits (or above both) decides."""
    if sex in ICC_ANAEMIA_G_DL:
        return ICC_ANAEMIA_G_DL[sex].status(hemoglobin)
    statuses = {limit.status(hemoglobin) for limit in ICC_ANAEMIA_G_DL.values()}
    return statuses.pop() if len(statuses) == 1 else UNKNOWN


def monocytosis_status(monocytes: float | None, leukocytes: float | None) -> Status:
    """Monocytes >= 0.5 x10^9/L and >= 10% of the leukocytes."""
    absolute = ICC_MONOCYTOSIS.status(monocytes)
    if absolute is NOT_MET:
        return NOT_MET
    if monocytes is None or leukocytes is None:
        return UNKNOWN
    fraction = MET if leukocytes == 0 else ICC_MONOCYTOSIS_FRACTION.status(100 * monocytes / leukocytes)
    return all_of(absolute, fraction)


def counts_abnormality_status(
    hemoglobin: float | None,
    platelets: float | None,
    neutrophils: float | None,
    leukocytes: float | None,
    eosinophils: float | None,
    monocytes: float | None,
    sex: str | None,
) -> Status:
    """A cytopenia (at any level) or a cytosis by the counts alone, with the limits above."""
    return any_of(
        anaemia_status(hemoglobin, sex),
        ICC_THROMBOCYTOPENIA.status(platelets),
        ICC_NEUTROPENIA.status(neutrophils),
        ICC_THROMBOCYTOSIS.status(platelets),
        ICC_LEUKOCYTOSIS.status(leukocytes),
        monocytosis_status(monocytes, leukocytes),
        ICC_EOSINOPHILIA.status(eosinophils),
    )


def _counts_status(f: SMFindings) -> Status:
    return counts_abnormality_status(
        f.hemoglobin_g_dl,
        f.platelets_10e9_l,
        f.neutrophils_10e9_l,
        f.leukocytes_10e9_l,
        f.eosinophils_10e9_l,
        f.monocytes_10e9_l,
        f.sex,
    )


def blood_count_abnormality_status(f: SMFindings) -> Status:
    """ICC B2's finding: a cytopenia (at any level) or a cytosis, by the haematologist's reading where the counts
    are missing, by the counts otherwise (``load_case`` refuses a reading the counts contradict)."""
    if f.cytopenia_or_cytosis is not None:
        return from_bool(f.cytopenia_or_cytosis)
    return _counts_status(f)


def blood_count_reading_agrees(f: SMFindings) -> bool:
    """Whether a recorded reading of the blood count agrees with what the recorded counts show."""
    if f.cytopenia_or_cytosis is None:
        return True
    counts = _counts_status(f)
    return counts is UNKNOWN or counts is from_bool(f.cytopenia_or_cytosis)


def b2_status(f: SMFindings, rules: EditionRules) -> Status:
    """B2: ICC reads the blood counts with reactive causes excluded; WHO the recorded dysplasia/myeloproliferation."""
    if rules.b2_blood_counts:
        return all_of(blood_count_abnormality_status(f), from_bool(f.cytopenia_or_cytosis_reactive_cause_excluded))
    return from_bool(f.dysplasia_or_myeloproliferation)


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
    """C4: WHO 2022 measures (osteolysis >= 2 cm with a pathological fracture); ICC and WHO 2016 need a "large"
    osteolysis, with or without a fracture, and name no size: no osteolysis rules it out, otherwise the
    clinician's judgement (organs.large_osteolysis) decides."""
    if rules.c4_osteolysis is not None:
        return all_of(rules.c4_osteolysis.status(f.osteolysis_max_cm), from_bool(f.pathologic_fracture))
    if f.osteolysis_max_cm == 0:
        return NOT_MET
    return from_bool(f.large_osteolysis)


def mcl_status(f: SMFindings, rules: EditionRules) -> Status:
    smear = rules.mcl_smear.status(f.aspirate_mast_cells_percent)
    if rules.mcl_immature_only:
        return all_of(smear, from_bool(f.immature_atypical_morphology))
    return smear


# ------------------------------------------------------------------ atoms


class Atoms(NamedTuple):
    """What the category depends on: each entry lists the values (or joint options) still possible."""

    major: tuple[tuple[bool, bool], ...]  # (major criterion, met in the marrow)
    morphology: tuple[tuple[bool, bool], ...]  # (morphology minor criterion, met in the marrow)
    immunophenotype: tuple[tuple[bool, bool], ...]  # (immunophenotype minor criterion, met in the marrow)
    kit: tuple[tuple[bool, bool, bool], ...]  # (KIT minor criterion, B1 VAF route, a KIT mutation in the marrow)
    tryptase: tuple[tuple[bool, bool, bool, bool], ...]  # (tryptase minor, B1 tryptase, BMM tryptase, AHN counts)
    infiltration: tuple[bool, ...]  # B1 histology route
    b2: tuple[bool, ...]  # B2 (WHO: dysplasia/myeloproliferation; ICC: cytopenia or -cytosis)
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
    vaf = () if rules.b1_vaf is None else (rules.b1_vaf.value,)
    icc = rules.b2_blood_counts
    return {
        "baseline_tryptase_ng_ml": tuple(tryptase),
        "infiltration_percent": (rules.b1_infiltration.value,),
        "kit_d816v_vaf_percent": vaf,
        "kit_marrow_vaf_percent": vaf,
        "kit_blood_vaf_percent": vaf,
        "lymphadenopathy_max_cm": (rules.b3_lymph_node.value,),
        "osteolysis_max_cm": (0,) if rules.c4_osteolysis is None else (0, rules.c4_osteolysis.value),
        "aspirate_mast_cells_percent": (rules.mcl_smear.value,),
        "largest_aggregate_mast_cells": (MAJOR_AGGREGATE_MAST_CELLS,),
        "spindle_atypical_mast_cells_percent": (ATYPICAL_MORPHOLOGY_MINOR.value,),
        "hemoglobin_g_dl": (CYTOPENIA_LIMITS["hemoglobin_g_dl"].value, *((12, 13) if icc else ())),
        "platelets_10e9_l": (CYTOPENIA_LIMITS["platelets_10e9_l"].value, *((150, 450) if icc else ())),
        "neutrophils_10e9_l": (CYTOPENIA_LIMITS["neutrophils_10e9_l"].value, *((1.8,) if icc else ())),
        "leukocytes_10e9_l": (ICC_LEUKOCYTOSIS.value,) if icc else (),
        "eosinophils_10e9_l": (ICC_EOSINOPHILIA.value,) if icc else (),
        "monocytes_10e9_l": (ICC_MONOCYTOSIS.value,) if icc else (),
    }


def tryptase_options(f: SMFindings, rules: EditionRules) -> tuple[tuple[bool, bool, bool, bool], ...]:
    scale = hat_scale(f, rules)
    if f.baseline_tryptase_ng_ml is None:
        levels = representatives("baseline_tryptase_ng_ml", numeric_cuts(f, rules)["baseline_tryptase_ng_ml"])
    else:
        levels = (f.baseline_tryptase_ng_ml,)
    lineages = lineage_options(f)
    options = set()
    for level in levels:
        minor = rules.tryptase_minor.holds(level, scale)
        b1 = rules.b1_tryptase.holds(level, scale)
        bmm = rules.bmm_tryptase is not None and rules.bmm_tryptase.holds(level)
        for lineage in lineages:
            options.add((minor and lineage != MYELOID, b1, bmm, lineage in rules.ahn_lineages))
    return tuple(sorted(options))


def kit_options(f: SMFindings, rules: EditionRules) -> tuple[tuple[bool, bool, bool], ...]:
    other = other_kit_values(f, rules)
    return tuple(
        sorted(
            {
                (present or other_counts, high, in_marrow or other_in_marrow)
                for present, high, in_marrow in kit_d816v_options(f, rules.b1_vaf)
                for other_counts, other_in_marrow in other
            }
        )
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
    "major": lambda f, r: _with_marrow(marrow_major_status(f), other_organ_status(f, f.other_organ_multifocal_dense_infiltrates)),
    "morphology": lambda f, r: _with_marrow(
        marrow_morphology_status(f), other_organ_status(f, f.other_organ_atypical_morphology_over_25_percent)
    ),
    "immunophenotype": lambda f, r: _with_marrow(marrow_immunophenotype_status(f, r), other_immunophenotype_status(f, r)),
    "kit": kit_options,
    "tryptase": tryptase_options,
    "infiltration": lambda f, r: values(r.b1_infiltration.status(f.infiltration_percent)),
    "b2": lambda f, r: values(b2_status(f, r)),
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
    "major": frozenset(
        {"multifocal_dense_infiltrates", "largest_aggregate_mast_cells", "other_organ_multifocal_dense_infiltrates"}
    ),
    "morphology": frozenset(
        {
            "atypical_morphology_over_25_percent",
            "spindle_atypical_mast_cells_percent",
            "other_organ_atypical_morphology_over_25_percent",
        }
    ),
    "immunophenotype": frozenset({"cd25", "cd2", "cd30", "other_organ_cd25_cd2_cd30"}),
    "kit": frozenset(
        {
            "kit_marrow",
            "kit_marrow_vaf_percent",
            "kit_blood",
            "kit_blood_vaf_percent",
            "kit_other_organ",
            "kit_d816v",
            "kit_d816v_sample",
            "kit_d816v_vaf_percent",
            "other_activating_kit_mutation",
            "other_activating_kit_mutation_sample",
        }
    ),
    "tryptase": frozenset(
        {
            "baseline_tryptase_ng_ml",
            "tpsab1_extra_alpha_copies",
            "associated_hematologic_neoplasm",
            "associated_hematologic_neoplasm_lineage",
        }
    ),
    "infiltration": frozenset({"infiltration_percent"}),
    "b2": frozenset(
        {
            "dysplasia_or_myeloproliferation",
            "cytopenia_or_cytosis",
            "cytopenia_or_cytosis_reactive_cause_excluded",
            "hemoglobin_g_dl",
            "platelets_10e9_l",
            "neutrophils_10e9_l",
            "leukocytes_10e9_l",
            "eosinophils_10e9_l",
            "monocytes_10e9_l",
            "sex",
        }
    ),
    "lymph_node": frozenset({"lymphadenopathy_max_cm"}),
    "organs": frozenset({"hepatomegaly", "liver_dysfunction", "splenomegaly", "hypersplenism"}),
    "cytopenia": frozenset({"cytopenia_caused_by_mast_cells", "hemoglobin_g_dl", "platelets_10e9_l", "neutrophils_10e9_l"}),
    "bone": frozenset({"osteolysis_max_cm", "pathologic_fracture", "large_osteolysis"}),
    "malabsorption": frozenset({"malabsorption_with_weight_loss"}),
    "mcl": frozenset({"aspirate_mast_cells_percent", "immature_atypical_morphology"}),
    "sarcoma": frozenset({"destructive_sarcoma"}),
    "skin": frozenset({"lesions", "darier_sign", "biopsy_mast_cell_infiltrates", "kit_mutation_in_lesional_skin"}),
}


# Atoms no edition reads differently: computed once when several editions are evaluated.
SHARED_ATOMS = frozenset({"major", "morphology", "organs", "cytopenia", "malabsorption", "sarcoma", "skin"})


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
        tuple({kit for kit, _, _ in kit_options(f, rules)}),
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
    marrow_involved: bool,
    sarcoma: bool,
    mis: bool,
) -> str:
    """The category of fully known atoms, by the precedence of the ECNM/WHO algorithm (SM first; then MCL, an
    associated neoplasm, C-findings, B-findings; WHO 2022 BMM for SM in the marrow without skin lesions, B-findings
    or a tryptase at its limit)."""
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
    if rules.bmm_tryptase is not None and no_skin_lesions and b_findings == 0 and bmm_tryptase and marrow_involved:
        return BMM
    return ISM


def _histology_options(a: Atoms) -> frozenset[tuple[bool, int, bool]]:
    """Joint options (major criterion, morphology + immunophenotype minor criteria met, any met in the marrow)."""
    return frozenset(
        (major, morphology + phenotype, major_marrow or morphology_marrow or phenotype_marrow)
        for major, major_marrow in a.major
        for morphology, morphology_marrow in a.morphology
        for phenotype, phenotype_marrow in a.immunophenotype
    )


def classify(a: Atoms, rules: EditionRules) -> tuple[frozenset[bool], frozenset[str]]:
    """(possible values of the SM criteria, possible categories), exactly.

    The branches follow :func:`category_of`. Skin lesions matter only when SM
    is met (BMM) and the CM criteria only when it is not, so the skin group's
    two halves never meet in one completion; everything else is joint where
    it shares findings and independent where it does not. Whether the marrow
    is involved (WHO 2022 BMM) is read jointly with the criteria it comes from.
    """
    # Value tuples are sorted, (False,), (True,) or (False, True): [0] is the least, [-1] the most.
    categories: set[str] = set()
    sm_values: set[bool] = set()
    histology = _histology_options(a)
    c_fixed_can_be_true = a.cytopenia[-1] or a.bone[-1] or a.malabsorption[-1]
    c_fixed_can_be_false = not (a.cytopenia[0] or a.bone[0] or a.malabsorption[0])
    mcl_possible, no_mcl_possible = a.mcl[-1], not a.mcl[0]
    bmm_category = rules.bmm_tryptase is not None
    for kit_minor, vaf_high, kit_in_marrow in a.kit:
        for tryptase_minor, tryptase_high, bmm_tryptase, ahn in a.tryptase:
            # (SM criteria met, marrow involved) over the histology options
            outcomes = {
                (_sm(major, minors + kit_minor + tryptase_minor, rules), in_marrow or kit_in_marrow)
                for major, minors, in_marrow in histology
            }
            sm_values.update(sm for sm, _ in outcomes)
            if (True, True) not in outcomes and (True, False) not in outcomes:
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
                b_low = b1_low + a.b2[0] + (organ_b3 or a.lymph_node[0])
                b_high = b1_high + a.b2[-1] + (organ_b3 or a.lymph_node[-1])
                if b_high >= SSM_MIN_B_FINDINGS:
                    categories.add(SSM)
                if b_low >= SSM_MIN_B_FINDINGS:
                    continue
                for lesions_absent, _ in a.skin:
                    # BMM (WHO 2022): SM in the marrow, no skin lesions, no B-finding, tryptase below its limit
                    bmm_rest = bmm_category and lesions_absent and bmm_tryptase
                    if bmm_rest and b_low == 0 and (True, True) in outcomes:
                        categories.add(BMM)
                    if not bmm_rest or b_high >= 1 or (True, False) in outcomes:
                        categories.add(ISM)
    if False in sm_values:
        mis_values = {mis for _, mis in a.skin}
        for sarcoma in a.sarcoma:
            if sarcoma:
                categories.add(MCS)
            else:
                categories.update(CM if mis else NONE for mis in mis_values)
    return frozenset(sm_values), frozenset(categories)

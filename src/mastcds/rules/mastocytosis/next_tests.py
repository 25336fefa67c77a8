"""The next tests: investigations whose result could change an edition's possible SM categories.

Each investigation names the findings it reveals and the results it may
give; a test is listed when one of its results, put into the findings, gives
a different set of possible categories (see :func:`next_tests`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mastcds.rules.logic import NOT_MET
from mastcds.rules.mastocytosis.common import (
    ATOM_FIELDS,
    ATOM_FUNCTIONS,
    ATYPICAL_MORPHOLOGY_MINOR,
    CYTOPENIA_LIMITS,
    MAJOR_AGGREGATE_MAST_CELLS,
    UNCLASSIFIED,
    Atoms,
    EditionRules,
    blood_count_reading_agrees,
    classify,
    lineage_agrees,
    kit_result,
    numeric_cuts,
    ordered,
    recorded_lineage,
    representatives,
    with_atoms,
)
from mastcds.rules.mastocytosis.findings import EXTRA_ALPHA_COPIES_RANGE, FINDING_RANGES, NO_SKIN_LESIONS, SMFindings


@dataclass(frozen=True)
class Investigation:
    """A test, the findings it reveals, and the results it may give."""

    test: str
    purpose: str
    fields: tuple[str, ...]
    outcomes: Callable[[SMFindings, EditionRules], list[dict[str, Any]]]
    refines: bool = True  # False: the result changes which rule applies (TPSAB1 genotype), not just an unknown
    phrase: str = ""  # the test as a sentence names it ("a bone marrow biopsy")


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
    if name == "sex":
        return ("male", "female")
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


def _vaf_levels(f: SMFindings, rules: EditionRules, name: str) -> tuple[float, ...]:
    return representatives(name, numeric_cuts(f, rules)[name])


def _kit_blood_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    if kit_result(f, "peripheral_blood")[0] is not None:
        return []
    detected = [
        {"kit_blood": "detected", "kit_blood_vaf_percent": vaf} for vaf in _vaf_levels(f, rules, "kit_blood_vaf_percent")
    ]
    return [*detected, {"kit_blood": "not_detected", "kit_blood_vaf_percent": None}]


def _kit_marrow_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    result, vaf = kit_result(f, "bone_marrow")
    if result == "not_detected" or (result == "detected" and (vaf is not None or rules.b1_vaf is None)):
        return []
    detected = [
        {"kit_marrow": "detected", "kit_marrow_vaf_percent": level}
        for level in _vaf_levels(f, rules, "kit_marrow_vaf_percent")
    ]
    if result == "detected":  # only the VAF is missing
        return detected
    return [*detected, {"kit_marrow": "not_detected", "kit_marrow_vaf_percent": None}]


def _kit_organ_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    if not f.other_organ_biopsied or kit_result(f, "other_extracutaneous")[0] is not None:
        return []
    return [{"kit_other_organ": "detected"}, {"kit_other_organ": "not_detected"}]


def _kit_other_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    if f.other_activating_kit_mutation is not None:
        return []
    return [
        {"other_activating_kit_mutation": name, "other_activating_kit_mutation_sample": "bone_marrow"}
        for name in ("none", "D816H", "K509I")
    ]


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
    lineage = recorded_lineage(f)
    named: tuple[dict[str, Any], ...]
    if lineage is None:
        named = (
            {"associated_hematologic_neoplasm": "none"},
            {"associated_hematologic_neoplasm": "MDS"},
            {"associated_hematologic_neoplasm": "CLL"},
        )
    elif lineage == UNCLASSIFIED:  # the work-up names the lineage
        named = ({"associated_hematologic_neoplasm_lineage": "myeloid"}, {"associated_hematologic_neoplasm_lineage": "lymphoid"})
    else:
        named = ({},)
    dysplasia_unknown = f.dysplasia_or_myeloproliferation is None and "dysplasia_or_myeloproliferation" not in rules.unread_fields
    dysplasia = (False, True) if dysplasia_unknown else (None,)
    outcomes = []
    for name, changes in itertools.product(named, dysplasia):
        outcome: dict[str, Any] = dict(name)
        if changes is not None:
            outcome["dysplasia_or_myeloproliferation"] = changes
        if outcome:
            outcomes.append(outcome)
    return outcomes


# One representative of each kind of result a count can give (the criteria read the counts only through
# "any at the C-finding level" and "any cytopenia or cytosis"): all unknown counts normal, or one of them
# abnormal in one way with the rest normal. The full product of every count's values reaches no other
# combination of C1 and B2 (both are ORs over the counts).
_NORMAL_COUNTS = {
    "hemoglobin_g_dl": 15.0,
    "platelets_10e9_l": 250.0,
    "neutrophils_10e9_l": 4.0,
    "leukocytes_10e9_l": 7.0,
    "eosinophils_10e9_l": 0.2,
    "monocytes_10e9_l": 0.4,
}
_ABNORMAL_COUNTS = {
    "hemoglobin_g_dl": (9.5, 11.0),  # at the C-finding level; anaemic for either sex above it
    "platelets_10e9_l": (90.0, 130.0, 500.0),
    "neutrophils_10e9_l": (0.8, 1.5),
    "leukocytes_10e9_l": (15.0,),
    "eosinophils_10e9_l": (2.0,),
    "monocytes_10e9_l": (1.5,),
}


def _blood_count_outcomes(f: SMFindings, rules: EditionRules) -> list[dict[str, Any]]:
    unknown = [name for name in _NORMAL_COUNTS if getattr(f, name) is None and name not in rules.unread_fields]
    if not unknown:
        return []
    normal = {name: _NORMAL_COUNTS[name] for name in unknown}
    outcomes = [normal]
    for name in unknown:
        outcomes.extend({**normal, name: value} for value in _ABNORMAL_COUNTS[name])
    if "leukocytes_10e9_l" in normal and "monocytes_10e9_l" not in unknown:
        outcomes.append({**normal, "leukocytes_10e9_l": 2.0})  # a recorded monocyte count may then be >= 10%
    return outcomes


INVESTIGATIONS: tuple[Investigation, ...] = (
    Investigation(
        "Basal serum tryptase (> 24 h after any reaction)",
        "Minor criterion (> 20 ng/mL), B1 (high tryptase) and the BMM tryptase limit.",
        ("baseline_tryptase_ng_ml",),
        _unknown_fields("baseline_tryptase_ng_ml"),
        phrase='a basal serum tryptase',
    ),
    Investigation(
        "TPSAB1 tryptase genotyping (hereditary alpha-tryptasemia)",
        "WHO 2022 compares the tryptase adjusted for extra alpha-tryptase copies; today the raw value is used.",
        ("tpsab1_extra_alpha_copies",),
        _genotype_outcomes,
        refines=False,
        phrase='TPSAB1 tryptase genotyping',
    ),
    Investigation(
        "KIT D816V in peripheral blood by a high-sensitivity assay (ASO-qPCR or ddPCR, detection limit < 0.1% VAF)",
        "A positive result meets the KIT minor criterion; a negative one does not exclude the mutation in the marrow.",
        ("kit_blood", "kit_blood_vaf_percent"),
        _kit_blood_outcomes,
        phrase='a high-sensitivity KIT D816V test in blood',
    ),
    Investigation(
        "KIT D816V in bone marrow by a high-sensitivity assay (ASO-qPCR or ddPCR) with the variant allele fraction",
        "Settles the KIT minor criterion and marrow involvement; WHO 2022 counts a VAF >= 10% in marrow or blood as a B-finding.",
        ("kit_marrow", "kit_marrow_vaf_percent"),
        _kit_marrow_outcomes,
        phrase='a high-sensitivity KIT D816V test in bone marrow, with its VAF',
    ),
    Investigation(
        "KIT D816V in the extracutaneous organ biopsy",
        "A positive result meets the KIT minor criterion.",
        ("kit_other_organ",),
        _kit_organ_outcomes,
        phrase='a KIT D816V test of the organ biopsy',
    ),
    Investigation(
        "KIT sequencing of the bone marrow for activating mutations other than D816V",
        "Another activating KIT mutation meets the KIT minor criterion (WHO 2016: codon 816 only).",
        ("other_activating_kit_mutation", "other_activating_kit_mutation_sample"),
        _kit_other_outcomes,
        phrase='KIT sequencing of the bone marrow',
    ),
    Investigation(
        "Bone marrow biopsy: histology with tryptase and CD117 immunohistochemistry",
        f"Multifocal dense mast cell aggregates of >= {MAJOR_AGGREGATE_MAST_CELLS} (major criterion), spindle/atypical "
        f"forms {ATYPICAL_MORPHOLOGY_MINOR.text()} (minor), % infiltration (B1).",
        ("multifocal_dense_infiltrates", "atypical_morphology_over_25_percent", "infiltration_percent"),
        _unknown_fields("multifocal_dense_infiltrates", "atypical_morphology_over_25_percent", "infiltration_percent"),
        phrase='a bone marrow biopsy',
    ),
    Investigation(
        "CD25, CD2 and CD30 on bone marrow mast cells (immunohistochemistry or flow cytometry)",
        "Aberrant mast cell immunophenotype (minor criterion).",
        ("cd25", "cd2", "cd30"),
        _unknown_fields("cd25", "cd2", "cd30"),
        phrase='CD25, CD2 and CD30 staining of marrow mast cells',
    ),
    Investigation(
        "Bone marrow aspirate smear: mast cell count and morphology",
        "Mast cells >= 20% of nucleated cells in the smear define mast cell leukaemia (ICC: immature/atypical forms).",
        ("aspirate_mast_cells_percent", "immature_atypical_morphology"),
        _unknown_fields("aspirate_mast_cells_percent", "immature_atypical_morphology"),
        phrase='a bone marrow aspirate smear (mast cell count and morphology)',
    ),
    Investigation(
        "Work-up for an associated haematological neoplasm (blood film, marrow morphology, cytogenetics, myeloid NGS)",
        "An associated neoplasm makes SM-AHN (ICC: myeloid only, SM-AMN) and voids the tryptase criterion if myeloid;"
        " dysplasia or myeloproliferation without one is B2.",
        ("associated_hematologic_neoplasm", "dysplasia_or_myeloproliferation"),
        _ahn_outcomes,
        phrase='a work-up for an associated haematological neoplasm',
    ),
    Investigation(
        "Complete blood count with differential",
        "Haemoglobin < 10 g/dL, platelets < 100 x10^9/L or neutrophils < 1 x10^9/L caused by mast cells is C1; "
        "ICC 2022 counts a milder cytopenia or a cytosis as a B-finding.",
        tuple(_NORMAL_COUNTS),
        _blood_count_outcomes,
        phrase='a complete blood count with differential',
    ),
    Investigation(
        "Haematologist's assessment whether the cytopenia is caused by mast cell infiltration",
        "A cytopenia counts as C1 only when mast cell infiltration causes it.",
        ("cytopenia_caused_by_mast_cells",),
        _unknown_fields("cytopenia_caused_by_mast_cells"),
        phrase="the haematologist's judgement whether mast cells cause the cytopenia",
    ),
    Investigation(
        "Haematologist's work-up for reactive causes of the cytopenia or cytosis",
        "ICC 2022 counts a cytopenia or cytosis as a B-finding only with reactive causes excluded.",
        ("cytopenia_or_cytosis_reactive_cause_excluded",),
        _unknown_fields("cytopenia_or_cytosis_reactive_cause_excluded"),
        phrase='a work-up for reactive causes of the cytopenia or cytosis',
    ),
    Investigation(
        "Liver imaging (ultrasound or CT) and liver function tests",
        "Hepatomegaly without dysfunction is B3; with dysfunction it is C2.",
        ("hepatomegaly", "liver_dysfunction"),
        _unknown_fields("hepatomegaly", "liver_dysfunction"),
        phrase='liver imaging and liver function tests',
    ),
    Investigation(
        "Spleen imaging and assessment for hypersplenism",
        "Splenomegaly without hypersplenism is B3; with hypersplenism it is C3.",
        ("splenomegaly", "hypersplenism"),
        _unknown_fields("splenomegaly", "hypersplenism"),
        phrase='spleen imaging and an assessment for hypersplenism',
    ),
    Investigation(
        "Lymph node examination or imaging (largest node diameter)",
        "Lymphadenopathy is B3 (WHO 2022 > 2 cm, ICC > 1 cm, WHO 2016 any size).",
        ("lymphadenopathy_max_cm",),
        _unknown_fields("lymphadenopathy_max_cm"),
        phrase='a lymph node examination or imaging',
    ),
    Investigation(
        "Skeletal imaging for osteolysis and pathological fractures",
        "Large osteolysis (WHO 2022: >= 2 cm with a pathological fracture) is C4.",
        ("osteolysis_max_cm", "pathologic_fracture"),
        _unknown_fields("osteolysis_max_cm", "pathologic_fracture"),
        phrase='skeletal imaging',
    ),
    Investigation(
        "Clinician's judgement whether the osteolysis is large",
        "ICC 2022 and WHO 2016 count a large osteolysis as C4 but name no size.",
        ("large_osteolysis",),
        _unknown_fields("large_osteolysis"),
        phrase="the clinician's judgement whether the osteolysis is large",
    ),
    Investigation(
        "Gastrointestinal work-up for malabsorption with weight loss",
        "Malabsorption with weight loss from gut mast cell infiltrates is C5.",
        ("malabsorption_with_weight_loss",),
        _unknown_fields("malabsorption_with_weight_loss"),
        phrase='a gastrointestinal work-up for malabsorption',
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
        phrase='the histology of the organ biopsy',
    ),
    Investigation(
        "Skin examination for typical lesions and Darier's sign",
        "Skin lesions rule out BMM; typical lesions with Darier's sign are the CM major criterion.",
        ("lesions", "darier_sign"),
        _unknown_fields("lesions", "darier_sign"),
        phrase='a skin examination',
    ),
    Investigation(
        "Lesional skin biopsy (mast cell infiltrates, KIT mutation in lesional skin)",
        "The CM minor criteria (cutaneous mastocytosis needs SM excluded).",
        ("biopsy_mast_cell_infiltrates", "kit_mutation_in_lesional_skin"),
        _unknown_fields("biopsy_mast_cell_infiltrates", "kit_mutation_in_lesional_skin"),
        phrase='a lesional skin biopsy',
    ),
)

# Atoms that feed only the SM criteria: once SM is settled they cannot change the category.
_SM_ONLY_ATOMS = frozenset({"major", "morphology", "immunophenotype"})  # unless the edition has BMM (marrow involvement)
# Atoms that are plain functions of their findings: no clinical judgement, no latent tissue, no
# edition-specific reading of a joint record. Once a test reveals all their unknown findings, its
# results give exactly each of their values, so pinning them stands for enumerating the results.
_DATA_DETERMINED = frozenset(
    {"major", "morphology", "infiltration", "lymph_node", "organs", "malabsorption", "mcl", "sarcoma", "skin"}
)
# Counted alternatives to a recorded yes/no (the largest aggregate, the % atypical): revealing the yes/no
# alone already gives every value of the atom.
_ALTERNATIVE_FIELDS = frozenset({"largest_aggregate_mast_cells", "spindle_atypical_mast_cells_percent"})

_AFFECTED = {
    investigation.test: tuple(name for name, fields in ATOM_FIELDS.items() if fields & set(investigation.fields))
    for investigation in INVESTIGATIONS
}
_CONSISTENCY_FIELDS = frozenset(
    {
        "cytopenia_caused_by_mast_cells",
        "hemoglobin_g_dl",
        "platelets_10e9_l",
        "neutrophils_10e9_l",
        "pathologic_fracture",
        "osteolysis_max_cm",
        "large_osteolysis",
        "multifocal_dense_infiltrates",
        "largest_aggregate_mast_cells",
        "atypical_morphology_over_25_percent",
        "spindle_atypical_mast_cells_percent",
        "cytopenia_or_cytosis",
        "associated_hematologic_neoplasm",
        "associated_hematologic_neoplasm_lineage",
        *_NORMAL_COUNTS,
        "sex",
    }
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
    rules_out: tuple[str, ...] = ()  # categories one of its results would rule out
    makes_possible: tuple[str, ...] = ()  # categories one of its results would add (a rule-changing test)
    phrase: str = ""  # the test as a sentence names it

    def as_dict(self) -> dict[str, Any]:
        return {"test": self.test, "why": self.why, "rules_out": list(self.rules_out), "makes_possible": list(self.makes_possible)}


def consistent(f: Any) -> bool:
    """Whether findings could be recorded together: a C1 judgement needs a low (or unmeasured) count; a
    pathological fracture from osteolysis, or a large osteolysis, needs an osteolysis; multifocal aggregates
    need one of >= 15 mast cells; the counted % atypical, and a reading of the blood count, agree with what they
    read. Test results that contradict what is recorded are not offered as outcomes (``load_case`` refuses all
    but the first two).""" 
    if f.cytopenia_caused_by_mast_cells and all(
        limit.status(value) is NOT_MET
        for value, limit in zip((f.hemoglobin_g_dl, f.platelets_10e9_l, f.neutrophils_10e9_l), CYTOPENIA_LIMITS.values())
    ):
        return False
    if (f.pathologic_fracture or f.large_osteolysis) and f.osteolysis_max_cm == 0:
        return False
    largest = f.largest_aggregate_mast_cells
    if f.multifocal_dense_infiltrates and largest is not None and largest < MAJOR_AGGREGATE_MAST_CELLS:
        return False
    spindle, atypical = f.spindle_atypical_mast_cells_percent, f.atypical_morphology_over_25_percent
    if spindle is not None and atypical is not None and ATYPICAL_MORPHOLOGY_MINOR.holds(spindle) != atypical:
        return False
    return blood_count_reading_agrees(f) and lineage_agrees(f.associated_hematologic_neoplasm, f.associated_hematologic_neoplasm_lineage)


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
        yield with_atoms(a, ((name, (value,)) for name, value in zip(names, choice)))


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

    sm_only = _SM_ONLY_ATOMS if rules.bmm_tryptase is None else frozenset()
    open_names = frozenset(
        name for name, options in zip(Atoms._fields, a) if len(options) > 1 and not (sm_settled and name in sm_only)
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
                found.append(_next_test(investigation, ruled_out, added))
                continue
        check = investigation.test in _MAY_CONTRADICT
        for outcome in investigation.outcomes(f, rules):
            revealed: Any = _Revealed(f, outcome)
            if check and not consistent(revealed):
                continue
            after = possible(with_atoms(a, [(name, ATOM_FUNCTIONS[name](revealed, rules)) for name in affected]))
            ruled_out |= categories - after
            added |= after - categories
        if ruled_out or added:
            found.append(_next_test(investigation, ruled_out, added))
    return found


def _next_test(investigation: Investigation, ruled_out: set[str], added: set[str]) -> NextTest:
    return NextTest(
        investigation.test,
        _why(investigation.purpose, ruled_out, added),
        ordered(ruled_out),
        ordered(added),
        investigation.phrase,
    )


def _reveals_all(investigation: Investigation, opened: tuple[str, ...], f: SMFindings, rules: EditionRules) -> bool:
    """Whether the test's results range over every value of the open atoms (see _DATA_DETERMINED)."""
    if investigation.test not in _GENERIC_OUTCOMES or investigation.test in _MAY_CONTRADICT:
        return False
    revealed = set(investigation.fields)
    for name in opened:
        if name not in _DATA_DETERMINED:
            return False
        unknown = {field for field in ATOM_FIELDS[name] if getattr(f, field) is None} - rules.unread_fields - _ALTERNATIVE_FIELDS
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

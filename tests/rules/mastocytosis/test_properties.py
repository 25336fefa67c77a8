"""Invariants of the SM classification over unknown findings, checked against a brute-force enumerator.

The enumerator below shares no aggregation code with ``mastocytosis.common.classify``:
it fills in every unknown (numbers at and around every limit, yes/no both
ways, KIT through an explicit model of which tissue was tested) and applies
the precedence to each completion. ``classify`` must give exactly its set
(sound and complete), and the reported next tests exactly those whose results
change the set.
"""

from __future__ import annotations

import itertools
from dataclasses import fields, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastcds.rules.mastocytosis import cutaneous
from mastcds.rules.mastocytosis import icc2022 as sm_icc2022
from mastcds.rules.mastocytosis import who2016 as sm_who2016
from mastcds.rules.mastocytosis import who2022 as sm_who2022
from mastcds.rules.logic import MET, NOT_MET, from_bool
from mastcds.rules.mastocytosis.common import (
    CYTOPENIA_LIMITS,
    MYELOID,
    EditionRules,
    atoms,
    blood_count_abnormality_status,
    bone_status,
    category_of,
    classify,
    lineage_options,
    marrow_immunophenotype_status,
    marrow_major_status,
    marrow_morphology_status,
    mcl_status,
    other_immunophenotype_status,
    values,
)
from mastcds.rules.mastocytosis.guideline import evaluate_guideline
from mastcds.rules.mastocytosis.next_tests import INVESTIGATIONS, consistent, next_tests
from mastcds.rules.mastocytosis.findings import FINDING_RANGES, SMFindings

EDITIONS = (sm_who2022.RULES, sm_icc2022.RULES, sm_who2016.RULES, sm_who2016.rules("and/or"))
EDITION = st.sampled_from(EDITIONS)

# ------------------------------------------------------------- strategies

# Values at and around every limit, weighted towards the unremarkable so that most drawn
# patients have indolent disease and several categories stay open when findings are unknown.
NUMBERS = {
    "infiltration_percent": [5, 10, 29.9, 30, 30.1, 60],
    "aspirate_mast_cells_percent": [0, 2, 5, 5, 19.9, 20, 20.1],
    "kit_d816v_vaf_percent": [0.1, 0.5, 0.5, 9.9, 10, 10.1],
    "kit_marrow_vaf_percent": [0.1, 0.5, 0.5, 9.9, 10, 10.1],
    "kit_blood_vaf_percent": [0.01, 0.1, 0.1, 9.9, 10, 10.1],
    "baseline_tryptase_ng_ml": [3, 19.9, 20, 20.1, 40, 50.9, 60.5, 124.9, 125, 125.1, 199.9, 200, 200.1, 400],
    "hemoglobin_g_dl": [14, 14, 13, 12.9, 12.5, 12, 11.9, 9.9, 10, 10.1],
    "platelets_10e9_l": [250, 250, 180, 149.9, 150, 450, 99.9, 100, 100.1],
    "neutrophils_10e9_l": [4, 4, 3, 1.79, 1.8, 0.99, 1, 1.01],
    "leukocytes_10e9_l": [7, 7, 5, 12.9, 13, 2],
    "eosinophils_10e9_l": [0.2, 0.2, 1.49, 1.5],
    "monocytes_10e9_l": [0.3, 0.3, 0.49, 0.5, 0.7],
    "circulating_mast_cells_percent": [0, 0, 5, 10],
    "largest_aggregate_mast_cells": [40, 40, 14, 15, 16, 0],
    "spindle_atypical_mast_cells_percent": [60, 60, 25, 25.1, 10],
    "lymphadenopathy_max_cm": [0, 0, 0.5, 1, 1.1, 1.9, 2, 2.1],
    "osteolysis_max_cm": [0, 0, 0, 1, 1.9, 2, 2.1],
}
# Findings that are usually present in SM (major criterion, clonal markers) or usually absent (organ damage).
USUALLY_TRUE = {"multifocal_dense_infiltrates", "cd25", "darier_sign", "biopsy_mast_cell_infiltrates"}
CHOICES = {
    "lesions": [
        "none",
        "maculopapular_monomorphic",
        "maculopapular_polymorphic",
        "maculopapular_unspecified",
        "diffuse",
        "mastocytoma",
    ],
    "associated_hematologic_neoplasm": ["none"] * 6 + ["MDS", "CLL", "MCL", "something else"],
    "associated_hematologic_neoplasm_lineage": ["myeloid", "lymphoid"],
    "kit_d816v": ["detected", "not_detected"],
    "kit_d816v_sample": ["bone_marrow", "bone_marrow", "peripheral_blood", "other_extracutaneous", "skin"],
    "kit_marrow": ["detected", "detected", "not_detected"],
    "kit_blood": ["detected", "not_detected"],
    "kit_other_organ": ["detected", "not_detected"],
    "other_activating_kit_mutation": ["none", "D816H", "K509I"],
    "other_activating_kit_mutation_sample": ["bone_marrow", "peripheral_blood", "other_extracutaneous", "skin"],
    "sex": ["male", "female"],
    "tpsab1_extra_alpha_copies": [0, 0, 1, 2, 3],
}
FREE_TEXT = {"other_organ", "other_organ_damage"}
OTHER_ORGAN_FIELDS = (
    "other_organ_multifocal_dense_infiltrates",
    "other_organ_atypical_morphology_over_25_percent",
    "other_organ_cd25_cd2_cd30",
    "destructive_sarcoma",
    "kit_other_organ",
)
FINDING_NAMES = [f.name for f in fields(SMFindings) if f.name not in FREE_TEXT and f.name != "other_organ_biopsied"]


def _value(name: str) -> st.SearchStrategy:
    if name in NUMBERS:
        low, high = FINDING_RANGES[name]
        return st.one_of(st.sampled_from(NUMBERS[name]), st.floats(low, high, allow_nan=False))
    if name in CHOICES:
        return st.sampled_from(CHOICES[name])
    if name in USUALLY_TRUE:
        return st.sampled_from([True, True, True, False])
    return st.sampled_from([False, False, False, True])


@st.composite
def findings(draw: st.DrawFn, max_unknown: int = len(FINDING_NAMES)) -> SMFindings:
    """Findings with every value drawn, then up to ``max_unknown`` of them made unknown."""
    known = {name: draw(_value(name)) for name in FINDING_NAMES}
    unknown = draw(st.lists(st.sampled_from(FINDING_NAMES), max_size=max_unknown, unique=True))
    for name in unknown:
        known[name] = None
    biopsied = draw(st.booleans())
    if not biopsied:
        known.update(dict.fromkeys(OTHER_ORGAN_FIELDS))
    # the single kit_d816v result of a sample and that sample's own fields say the same (load_case refuses otherwise)
    for field in _legacy_sample_fields(known["kit_d816v_sample"]):
        if known[field] is not None:
            known[field] = known["kit_d816v_vaf_percent" if field.endswith("vaf_percent") else "kit_d816v"]
    return SMFindings(**known, other_organ_biopsied=biopsied)


def _legacy_sample_fields(sample: str | None) -> tuple[str, ...]:
    """The per-sample fields that the single kit_d816v result of ``sample`` also records."""
    return {
        "bone_marrow": ("kit_marrow", "kit_marrow_vaf_percent"),
        "peripheral_blood": ("kit_blood", "kit_blood_vaf_percent"),
        "other_extracutaneous": ("kit_other_organ",),
    }.get(sample or "", ())


# -------------------------------------------------------- the brute force

VAF_CLASSES = ("negative", "low", "high")
SAMPLE_FIELDS = {"bone_marrow": ("kit_marrow", "kit_marrow_vaf_percent"), "peripheral_blood": ("kit_blood", "kit_blood_vaf_percent")}


def _recorded(f: SMFindings, sample: str) -> tuple[str | None, float | None]:
    result_field, vaf_field = SAMPLE_FIELDS[sample]
    result, vaf = getattr(f, result_field), getattr(f, vaf_field)
    if f.kit_d816v_sample == sample:
        result, vaf = (result or f.kit_d816v), (f.kit_d816v_vaf_percent if vaf is None else vaf)
    return result, vaf


def _allows(record: tuple[str | None, float | None], truth: str, rules: EditionRules) -> bool:
    result, vaf = record
    if result is None:
        return True
    if result == "not_detected":
        return truth == "negative"
    if vaf is None:
        return truth != "negative"
    return truth == ("high" if rules.b1_vaf is not None and rules.b1_vaf.holds(vaf) else "low")


def kit_truths(f: SMFindings, rules: EditionRules) -> set[tuple[bool, bool, bool]]:
    """(D816V outside the skin, B1 VAF met, D816V in the marrow) over every state of marrow, blood and organ.

    A recorded result is what the sample holds; blood holds no more than the marrow where one of them was not
    tested; the organ of a recorded biopsy may hold the mutation where it was not tested.
    """
    marrow_record, blood_record = _recorded(f, "bone_marrow"), _recorded(f, "peripheral_blood")
    organ = f.kit_other_organ or (f.kit_d816v if f.kit_d816v_sample == "other_extracutaneous" else None)
    organ_states = [organ == "detected"] if organ else ([False, True] if f.other_organ_biopsied else [False])
    found = set()
    for marrow, blood in itertools.product(VAF_CLASSES, VAF_CLASSES):
        if not (_allows(marrow_record, marrow, rules) and _allows(blood_record, blood, rules)):
            continue
        one_untested = marrow_record[0] is None or blood_record[0] is None
        if one_untested and VAF_CLASSES.index(blood) > VAF_CLASSES.index(marrow):
            continue
        for in_organ in organ_states:
            present = marrow != "negative" or blood != "negative" or in_organ
            high = rules.b1_vaf is not None and "high" in (marrow, blood)
            found.add((present, high, marrow != "negative"))
    return found


def other_kit_route(f: SMFindings, rules: EditionRules) -> set[tuple[bool, bool]]:
    """(another KIT mutation counts, found in the marrow)."""
    mutation = f.other_activating_kit_mutation
    open_route = {(False, False), (True, False), (True, True)}
    if mutation is None:
        return open_route
    if mutation == "none" or (not rules.any_activating_kit and "816" not in mutation):
        return {(False, False)}
    sample = f.other_activating_kit_mutation_sample or f.kit_d816v_sample
    if sample in ("bone_marrow", "peripheral_blood", "other_extracutaneous"):
        return {(True, sample == "bone_marrow")}
    return open_route


def tryptase_levels(f: SMFindings, rules: EditionRules) -> list[float]:
    if f.baseline_tryptase_ng_ml is not None:
        return [f.baseline_tryptase_ng_ml]
    scale = 1 + f.tpsab1_extra_alpha_copies if rules.hat_adjusted and f.tpsab1_extra_alpha_copies is not None else 1
    limits = [rules.tryptase_minor.value * scale, rules.b1_tryptase.value * scale]
    if rules.bmm_tryptase is not None:
        limits.append(rules.bmm_tryptase.value)
    return [0.0, 100000.0] + [limit + delta for limit in limits for delta in (-0.01, 0, 0.01)]


COUNT_VALUES = {
    "hemoglobin_g_dl": [9, 11, 12.5, 14],
    "platelets_10e9_l": [90, 130, 250, 500],
    "neutrophils_10e9_l": [0.8, 1.5, 4],
    "leukocytes_10e9_l": [2, 7, 15],
    "eosinophils_10e9_l": [0.2, 2],
    "monocytes_10e9_l": [0.3, 0.6, 1.5],
    "sex": ["male", "female"],
}


def blood_truths(f: SMFindings, rules: EditionRules) -> set[tuple[bool, bool]]:
    """(C1, B2) over every filling of the unknown counts and judgements (they share the counts)."""
    names = list(COUNT_VALUES)
    found = set()
    for filled in itertools.product(*(COUNT_VALUES[n] if getattr(f, n) is None else [getattr(f, n)] for n in names)):
        g = replace(f, **dict(zip(names, filled)))
        low_count = any(
            limit.holds(getattr(g, name)) for name, limit in CYTOPENIA_LIMITS.items()
        )
        judgements = [f.cytopenia_caused_by_mast_cells] if f.cytopenia_caused_by_mast_cells is not None else [False, low_count]
        if rules.b2_blood_counts:
            abnormal = values(blood_count_abnormality_status(g))  # every count known here: one value
            reactive = values(from_bool(f.cytopenia_or_cytosis_reactive_cause_excluded))
            b2_values = {a and r for a in abnormal for r in reactive}
        else:
            b2_values = set(values(from_bool(f.dysplasia_or_myeloproliferation)))
        found |= {(c1, b2) for c1 in judgements for b2 in b2_values}
    return found


def _marrow_and_other(marrow: tuple[bool, ...], other: tuple[bool, ...]) -> list[tuple[bool, bool]]:
    return [(m or o, m) for m in marrow for o in other]


def brute_force(f: SMFindings, rules: EditionRules) -> tuple[set[bool], set[str]]:
    """Every completion of the unknowns, each classified by the precedence; no shared aggregation."""
    scale = 1 + f.tpsab1_extra_alpha_copies if rules.hat_adjusted and f.tpsab1_extra_alpha_copies is not None else 1
    both = (False, True)
    per_finding = {
        "hepatomegaly": both if f.hepatomegaly is None else (f.hepatomegaly,),
        "liver_dysfunction": both if f.liver_dysfunction is None else (f.liver_dysfunction,),
        "splenomegaly": both if f.splenomegaly is None else (f.splenomegaly,),
        "hypersplenism": both if f.hypersplenism is None else (f.hypersplenism,),
    }
    organ = (lambda finding: values(from_bool(finding)) if f.other_organ_biopsied else (False,))
    lesions = [f.lesions] if f.lesions is not None else ["none", "maculopapular_unspecified"]
    independent = [
        _marrow_and_other(values(marrow_major_status(f)), organ(f.other_organ_multifocal_dense_infiltrates)),
        _marrow_and_other(values(marrow_morphology_status(f)), organ(f.other_organ_atypical_morphology_over_25_percent)),
        _marrow_and_other(values(marrow_immunophenotype_status(f, rules)), values(other_immunophenotype_status(f, rules))),
        sorted(other_kit_route(f, rules)),
        values(rules.b1_infiltration.status(f.infiltration_percent)),
        values(rules.b3_lymph_node.status(f.lymphadenopathy_max_cm)),
        sorted(blood_truths(f, rules)),
        values(bone_status(f, rules)),
        values(from_bool(f.malabsorption_with_weight_loss)),
        values(mcl_status(f, rules)),
        values(from_bool(f.destructive_sarcoma) if f.other_organ_biopsied else NOT_MET),
    ]
    sm_values: set[bool] = set()
    categories: set[str] = set()
    shared = itertools.product(
        tryptase_levels(f, rules),
        lineage_options(f),
        *per_finding.values(),
        sorted(kit_truths(f, rules)),
        lesions,
    )
    for level, lineage, liver, dysfunction, spleen, hypersplenism, (d816v, vaf_high, d816v_marrow), lesion in shared:
        mis_values = values(
            cutaneous.mis_status(lesion, f.darier_sign, f.biopsy_mast_cell_infiltrates, f.kit_mutation_in_lesional_skin)
        )
        for major, morph, pheno, other_kit, infiltration, node, (c1, b2), c4, c5, mcl, sarcoma, mis in itertools.product(
            *independent, mis_values
        ):
            tryptase_minor = rules.tryptase_minor.holds(level, scale) and lineage != MYELOID
            minors = morph[0] + pheno[0] + (d816v or other_kit[0]) + tryptase_minor
            needed = 0 if rules.major_alone_suffices else 1
            sm = (major[0] and minors >= needed) or minors >= 3
            tryptase_b1 = rules.b1_tryptase.holds(level, scale)
            b1 = (infiltration and tryptase_b1) if rules.b1_all_required else (infiltration or tryptase_b1 or vaf_high)
            b3 = (liver and not dysfunction) or (spleen and not hypersplenism) or node
            c = c1 or c4 or c5 or (liver and dysfunction) or (spleen and hypersplenism)
            sm_values.add(sm)
            categories.add(
                category_of(
                    rules,
                    sm=sm,
                    mcl=mcl,
                    ahn=lineage in rules.ahn_lineages,
                    c_findings=int(c),
                    b_findings=b1 + b2 + b3,
                    no_skin_lesions=lesion == "none",
                    bmm_tryptase=rules.bmm_tryptase is not None and rules.bmm_tryptase.holds(level),
                    marrow_involved=major[1] or morph[1] or pheno[1] or d816v_marrow or other_kit[1],
                    sarcoma=sarcoma,
                    mis=mis,
                )
            )
    return sm_values, categories


# ------------------------------------------------------------------ tests

FEW = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FEW
@given(findings(max_unknown=5), EDITION)
def test_possible_categories_are_exactly_those_of_some_completion(f: SMFindings, rules: EditionRules) -> None:
    sm_values, categories = classify(atoms(f, rules), rules)
    expected_sm, expected = brute_force(f, rules)
    assert categories == expected
    assert sm_values == expected_sm


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings(max_unknown=12), EDITION)
def test_exactness_with_many_unknowns(f: SMFindings, rules: EditionRules) -> None:
    assert classify(atoms(f, rules), rules) == tuple(map(frozenset, brute_force(f, rules)))


@st.composite
def refinements(draw: st.DrawFn) -> tuple[SMFindings, SMFindings]:
    """Findings with unknowns, and the same findings with some unknowns filled in.

    The TPSAB1 genotype is left alone: learning it changes which rule applies (WHO 2022 then adjusts the
    tryptase), it does not fill in an unknown.
    """
    f = draw(findings())
    filled = {
        name: draw(_value(name))
        for name in FINDING_NAMES
        if getattr(f, name) is None
        and name != "tpsab1_extra_alpha_copies"
        and (f.other_organ_biopsied or name not in OTHER_ORGAN_FIELDS)
        and name not in _legacy_sample_fields(f.kit_d816v_sample)  # already recorded by the single result
        and not (name in ("kit_d816v", "kit_d816v_vaf_percent", "kit_d816v_sample") and _recorded_apart(f))
        and draw(st.booleans())
    }
    return f, replace(f, **filled)


def _recorded_apart(f: SMFindings) -> bool:
    """Whether filling in the single kit_d816v result could contradict a sample's own fields."""
    return any(getattr(f, name) is not None for name in ("kit_marrow", "kit_blood", "kit_other_organ", "kit_marrow_vaf_percent", "kit_blood_vaf_percent"))


def _statuses(result) -> dict[str, str]:
    items = result.criteria + result.b_findings + result.c_findings + result.variant_criteria
    return {c.id: c.status for c in items}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(refinements(), EDITION)
def test_learning_more_only_settles_what_was_unknown(pair: tuple[SMFindings, SMFindings], rules: EditionRules) -> None:
    coarse, fine = pair
    if not consistent(fine):
        return
    before, after = evaluate_guideline(coarse, rules), evaluate_guideline(fine, rules)
    assert set(after.possible_categories) <= set(before.possible_categories)
    if before.sm_criteria is not after.sm_criteria:
        assert before.sm_criteria.value == "unknown"
    old = _statuses(before)
    for name, status in _statuses(after).items():
        if old[name] is not status:
            assert old[name].value == "unknown", (name, old[name], status)


POSITIVE_FINDINGS = [
    name
    for name in FINDING_NAMES
    if SMFindings.__annotations__[name] == "bool | None" and name not in ("liver_dysfunction", "hypersplenism")
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings(), st.sampled_from(POSITIVE_FINDINGS), EDITION)
def test_adding_a_positive_finding_never_unsettles_a_met_criterion(f: SMFindings, name: str, rules: EditionRules) -> None:
    if getattr(f, name) is True or (name in OTHER_ORGAN_FIELDS and not f.other_organ_biopsied):
        return
    more = replace(f, **{name: True})
    if not consistent(more):
        return
    before, after = evaluate_guideline(f, rules), evaluate_guideline(more, rules)
    if before.sm_criteria is MET:
        assert after.sm_criteria is MET
    new = _statuses(after)
    for criterion, status in _statuses(before).items():
        if status is MET and criterion != "bmm_conditions":  # BMM needs B-findings to be absent
            assert new[criterion] is MET, (criterion, name)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings(max_unknown=6), EDITION)
def test_next_tests_are_exactly_those_whose_result_changes_the_set(f: SMFindings, rules: EditionRules) -> None:
    if not consistent(f):
        return
    a = atoms(f, rules)
    sm_values, categories = classify(a, rules)
    listed = {t.test: t.why for t in next_tests(f, rules, a, categories, len(sm_values) == 1)}
    for investigation in INVESTIGATIONS:
        ruled_out = set()
        for outcome in investigation.outcomes(f, rules):
            if not consistent(replace(f, **outcome)):
                continue
            after = classify(atoms(replace(f, **outcome), rules), rules)[1]
            ruled_out |= categories - after
            if after != categories:
                assert investigation.test in listed, (investigation.test, outcome, categories, after)
        if investigation.test in listed:
            changed = any(
                classify(atoms(replace(f, **outcome), rules), rules)[1] != categories
                for outcome in investigation.outcomes(f, rules)
                if consistent(replace(f, **outcome))
            )
            assert changed, investigation.test
            for code in ruled_out:
                assert code in listed[investigation.test]


@FEW
@given(findings(), EDITION)
def test_contract_invariants(f: SMFindings, rules: EditionRules) -> None:
    result = evaluate_guideline(f, rules).as_dict()
    assert (result["category"] is not None) == (len(result["possible_categories"]) == 1)
    assert result["possible_categories"]
    sm_side = {"none", "CM", "MCS"}
    if result["sm_criteria"] == "met":
        assert not sm_side & set(result["possible_categories"])
    if result["sm_criteria"] == "not_met":
        assert set(result["possible_categories"]) <= sm_side
    for item in result["criteria"] + result["b_findings"] + result["c_findings"] + result["variant_criteria"]:
        assert item["reason"] and item["source"]

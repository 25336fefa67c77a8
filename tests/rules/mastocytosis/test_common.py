"""The shared SM machinery, table by table: lineage of an associated neoplasm, KIT sample semantics,
the precedence of categories, representative values, and the warnings."""

from __future__ import annotations

from dataclasses import fields

import pytest

from mastcds.case import case_schema
from mastcds.rules.mastocytosis import icc2022 as sm_icc2022
from mastcds.rules.mastocytosis import who2016 as sm_who2016
from mastcds.rules.mastocytosis import who2022 as sm_who2022
from mastcds.rules.mastocytosis.common import (
    ATOM_FIELDS,
    ATOM_FUNCTIONS,
    CYTOPENIA_LIMITS,
    LYMPHOID,
    MYELOID,
    UNCLASSIFIED,
    Atoms,
    Threshold,
    ahn_lineage,
    category_of,
    kit_d816v_options,
    lineage_options,
    ordered,
    representatives,
)
from mastcds.rules.mastocytosis.findings import FINDING_RANGES, SMFindings
from mastcds.rules.mastocytosis.guideline import findings_warnings

F, T = False, True


@pytest.mark.parametrize(
    ("name", "lineage"),
    [
        (None, None),
        ("", None),
        ("none", "none"),
        ("None", "none"),
        ("CMML", MYELOID),
        ("MDS", MYELOID),
        ("MDS/MPN", MYELOID),
        ("MDS-MPN with ring sideroblasts", MYELOID),
        ("AML", MYELOID),
        ("MPN", MYELOID),
        ("CEL", MYELOID),
        ("chronic myelomonocytic leukaemia", MYELOID),
        ("primary myelofibrosis", MYELOID),
        ("essential thrombocythemia", MYELOID),
        ("CLL", LYMPHOID),
        ("follicular lymphoma", LYMPHOID),
        ("multiple myeloma", LYMPHOID),  # myeloma is a plasma cell (lymphoid) neoplasm, not myeloid
        ("plasma cell myeloma", LYMPHOID),
        ("Hodgkin lymphoma", LYMPHOID),
        ("MCL", UNCLASSIFIED),  # mantle cell lymphoma or mast cell leukaemia
        ("myeloid/lymphoid neoplasm with eosinophilia", UNCLASSIFIED),
        ("something rare", UNCLASSIFIED),
    ],
)
def test_lineage_of_the_associated_neoplasm(name, lineage) -> None:
    assert ahn_lineage(name) == lineage


def test_unknown_lineage_keeps_both_possible_and_unknown_presence_all_three() -> None:
    assert lineage_options(SMFindings(associated_hematologic_neoplasm="odd name")) == (MYELOID, LYMPHOID)
    assert lineage_options(SMFindings()) == ("none", MYELOID, LYMPHOID)
    assert lineage_options(SMFindings(associated_hematologic_neoplasm="none")) == ("none",)


@pytest.mark.parametrize("lineage", [MYELOID, LYMPHOID])
def test_a_recorded_lineage_settles_an_unrecognised_name(lineage) -> None:
    f = SMFindings(associated_hematologic_neoplasm="odd name", associated_hematologic_neoplasm_lineage=lineage)
    assert lineage_options(f) == (lineage,)
    # a recognised name says its lineage (load_case refuses a recorded lineage that contradicts it)
    assert lineage_options(SMFindings(associated_hematologic_neoplasm="CLL", associated_hematologic_neoplasm_lineage="myeloid")) == (
        LYMPHOID,
    )


VAF10 = Threshold(">=", 10, "%")
# (D816V outside the skin, B1 VAF met, D816V in the marrow)
ALL = ((F, F, F), (T, F, T), (T, T, T))


@pytest.mark.parametrize(
    ("result", "sample", "vaf", "options"),
    [
        (None, None, None, ALL),
        (None, "bone_marrow", None, ALL),
        ("detected", "bone_marrow", 0.5, ((T, F, T),)),
        ("detected", "bone_marrow", 10, ((T, T, T),)),
        ("detected", "bone_marrow", None, ((T, F, T), (T, T, T))),
        ("not_detected", "bone_marrow", None, ((F, F, F),)),
        ("detected", "peripheral_blood", 12, ((T, T, T),)),  # the marrow holds at least what the blood does
        ("detected", "peripheral_blood", 3, ((T, F, T), (T, T, T))),  # and may hold more
        ("not_detected", "peripheral_blood", None, ALL),  # does not exclude the marrow
        ("detected", "other_extracutaneous", 30, ((T, F, F), (T, F, T), (T, T, T))),  # an organ's VAF is not the B1 VAF
        ("not_detected", "other_extracutaneous", None, ALL),
        ("detected", "skin", 30, ALL),  # skin does not count for SM
        ("detected", None, None, ALL),
        ("not_detected", None, None, ALL),
    ],
)
def test_kit_d816v_options_by_sample(result, sample, vaf, options) -> None:
    f = SMFindings(kit_d816v=result, kit_d816v_sample=sample, kit_d816v_vaf_percent=vaf)
    assert kit_d816v_options(f, VAF10) == options
    assert kit_d816v_options(f, None) == tuple(sorted({(present, F, marrow) for present, _, marrow in options}))
    if sample in ("bone_marrow", "peripheral_blood"):  # the same result in its own fields reads the same
        prefix = {"bone_marrow": "kit_marrow", "peripheral_blood": "kit_blood"}[sample]
        per_sample = SMFindings(**{prefix: result, f"{prefix}_vaf_percent": vaf})
        assert kit_d816v_options(per_sample, VAF10) == options


@pytest.mark.parametrize(
    ("marrow", "blood", "options"),
    [
        # both tested: each result is taken as found, even a positive blood with a negative marrow
        (("not_detected", None), ("detected", 2), ((T, F, F),)),
        (("detected", 0.5), ("detected", 12), ((T, T, T),)),  # WHO 2022 B1 reads the higher of marrow and blood
        (("detected", 12), ("not_detected", None), ((T, T, T),)),
        (("detected", 3), ("detected", 1), ((T, F, T),)),
    ],
)
def test_kit_d816v_options_with_marrow_and_blood(marrow, blood, options) -> None:
    f = SMFindings(kit_marrow=marrow[0], kit_marrow_vaf_percent=marrow[1], kit_blood=blood[0], kit_blood_vaf_percent=blood[1])
    assert kit_d816v_options(f, VAF10) == options


def test_an_untested_organ_of_a_recorded_biopsy_may_carry_the_mutation() -> None:
    negative_marrow = dict(kit_marrow="not_detected", kit_blood="not_detected")
    assert kit_d816v_options(SMFindings(**negative_marrow), VAF10) == ((F, F, F),)
    assert kit_d816v_options(SMFindings(**negative_marrow, other_organ_biopsied=True), VAF10) == ((F, F, F), (T, F, F))
    tested = SMFindings(**negative_marrow, other_organ_biopsied=True, kit_other_organ="not_detected")
    assert kit_d816v_options(tested, VAF10) == ((F, F, F),)


RULES = sm_who2022.RULES
BASE = dict(
    sm=T, mcl=F, ahn=F, c_findings=0, b_findings=0, no_skin_lesions=F, bmm_tryptase=F, marrow_involved=T, sarcoma=F, mis=F
)


@pytest.mark.parametrize(
    ("changes", "who2022", "icc2022"),
    [
        ({"sm": F}, "none", "none"),
        ({"sm": F, "mis": T}, "CM", "CM"),
        ({"sm": F, "sarcoma": T, "mis": T}, "MCS", "MCS"),
        ({}, "ISM", "ISM"),
        ({"b_findings": 1}, "ISM", "ISM"),
        ({"b_findings": 2}, "SSM", "SSM"),
        ({"b_findings": 3}, "SSM", "SSM"),
        ({"c_findings": 1, "b_findings": 3}, "ASM", "ASM"),
        ({"ahn": T, "c_findings": 1}, "SM-AHN", "SM-AMN"),
        ({"mcl": T, "ahn": T, "c_findings": 1}, "MCL", "MCL"),
        ({"sarcoma": T, "b_findings": 2}, "SSM", "SSM"),  # a sarcoma with SM is not MCS
        ({"no_skin_lesions": T, "bmm_tryptase": T}, "BMM", "ISM"),
        ({"no_skin_lesions": T, "bmm_tryptase": T, "marrow_involved": F}, "ISM", "ISM"),  # SM shown only outside the marrow
        ({"no_skin_lesions": T, "bmm_tryptase": T, "b_findings": 1}, "ISM", "ISM"),
        ({"no_skin_lesions": T, "bmm_tryptase": F}, "ISM", "ISM"),
        ({"no_skin_lesions": F, "bmm_tryptase": T}, "ISM", "ISM"),
    ],
)
def test_precedence_table(changes, who2022, icc2022) -> None:
    assert category_of(RULES, **{**BASE, **changes}) == who2022
    assert category_of(sm_icc2022.RULES, **{**BASE, **changes}) == icc2022
    assert category_of(sm_who2016.RULES, **{**BASE, **changes}) == icc2022.replace("SM-AMN", "SM-AHN")


def test_representatives_cover_every_interval_and_every_cut() -> None:
    assert representatives("baseline_tryptase_ng_ml", (20, 200, 125)) == (0, 20, 72.5, 125, 162.5, 200, 100000)
    assert representatives("lymphadenopathy_max_cm", (0,)) == (0, 50)
    assert representatives("infiltration_percent", ()) == (0,)
    assert representatives("aspirate_mast_cells_percent", (20, 500)) == (0, 20, 100)


@pytest.mark.parametrize(
    ("threshold", "below", "at", "above"),
    [
        (Threshold(">", 20, "ng/mL"), False, False, True),
        (Threshold(">=", 20, "ng/mL"), False, True, True),
        (Threshold("<", 20, "ng/mL"), True, False, False),
    ],
)
def test_threshold_comparators_exactly_as_printed(threshold, below, at, above) -> None:
    assert (threshold.holds(19.99), threshold.holds(20), threshold.holds(20.01)) == (below, at, above)
    # the HaT scale multiplies the limit: no division, no rounding at the boundary
    assert threshold.holds(60, scale=3) == at


def test_threshold_text() -> None:
    assert Threshold(">=", 30, "%").text() == "≥ 30 %"
    assert Threshold(">", 20, "ng/mL").text(scale=3) == "> 60 ng/mL"


def test_cytopenia_limits() -> None:
    assert {name: (t.op, t.value) for name, t in CYTOPENIA_LIMITS.items()} == {
        "hemoglobin_g_dl": ("<", 10),
        "platelets_10e9_l": ("<", 100),
        "neutrophils_10e9_l": ("<", 1),
    }


# Findings named differently from their schema field
SCHEMA_NAMES = {
    "kit_marrow_vaf_percent": "kit_d816v_bone_marrow_vaf_percent",
    "kit_blood_vaf_percent": "kit_d816v_peripheral_blood_vaf_percent",
}


def test_finding_ranges_are_the_schema_ranges() -> None:
    schema = case_schema()["properties"]
    sections = ("bone_marrow", "molecular", "labs", "organs")
    for name, (low, high) in FINDING_RANGES.items():
        field_name = SCHEMA_NAMES.get(name, name)
        (section,) = [s for s in sections if field_name in schema[s]["properties"]]
        spec = schema[section]["properties"][field_name]
        assert (spec["minimum"], spec["maximum"]) == (low, high), name


def test_atoms_are_wired_consistently() -> None:
    assert tuple(ATOM_FUNCTIONS) == Atoms._fields == tuple(ATOM_FIELDS)
    names = {f.name for f in fields(SMFindings)}
    read = set().union(*ATOM_FIELDS.values())
    assert read <= names
    # The atoms read disjoint findings, which makes their options independent, with one exception: C1 and
    # ICC's B2 both read the blood counts. A C1 makes ASM whatever B2 is, and without a C1 every count may
    # still take any value, so the two are independent where it matters (the brute force checks it).
    shared = ATOM_FIELDS["cytopenia"] & ATOM_FIELDS["b2"]
    assert shared == {"hemoglobin_g_dl", "platelets_10e9_l", "neutrophils_10e9_l"}
    assert sum(len(v) for v in ATOM_FIELDS.values()) == len(read) + len(shared)


def test_ordered_goes_from_least_to_most_advanced() -> None:
    assert ordered({"MCL", "ISM", "none", "SSM"}) == ("none", "ISM", "SSM", "MCL")


@pytest.mark.parametrize(
    ("finding", "fragment"),
    [
        (SMFindings(other_organ_damage="renal failure, patient J. Doe"), "other organ damage"),
        (SMFindings(kit_d816v="detected"), "sample of the KIT D816V test"),
        (SMFindings(associated_hematologic_neoplasm="odd", associated_hematologic_neoplasm_lineage="myeloid", kit_d816v="detected"), "sample"),
        (SMFindings(kit_d816v="not_detected", kit_d816v_sample="bone_marrow", kit_d816v_vaf_percent=3), "'not detected' is used"),
        (SMFindings(kit_d816v_vaf_percent=3), "without the test result"),
        (SMFindings(other_activating_kit_mutation="K509I"), "other KIT mutation"),
        (SMFindings(associated_hematologic_neoplasm=" "), "empty"),
        (SMFindings(associated_hematologic_neoplasm="odd"), "not recognised"),
        (SMFindings(cytopenia_caused_by_mast_cells=True, hemoglobin_g_dl=14, platelets_10e9_l=250, neutrophils_10e9_l=4), "contradictory"),
        (SMFindings(pathologic_fracture=True, osteolysis_max_cm=0), "contradictory"),
        (SMFindings(hypersplenism=True, splenomegaly=False), "hypersplenism"),
        (SMFindings(liver_dysfunction=True, hepatomegaly=False), "liver dysfunction"),
    ],
)
def test_warnings_name_the_problem_without_echoing_free_text(finding, fragment) -> None:
    warnings = findings_warnings(finding)
    assert len(warnings) == 1 and fragment in warnings[0]
    assert "Doe" not in warnings[0]


def test_no_warning_for_a_clean_record() -> None:
    assert findings_warnings(SMFindings(kit_d816v="detected", kit_d816v_sample="bone_marrow")) == []

"""Systemic mastocytosis by the revised WHO 4th edition (WHO 2016; Arber et al., Blood 2016; Valent et al. 2017).

Rules from the table of the 2016 criteria by their authors (Valent et al.,
Blood 2017, ``valent2017_blood``) and the Leukemia & Lymphoma 2020 table
(``leuk_lymphoma2020``). Where WHO 2016 differs from WHO 2022: only
codon-816 KIT mutations and CD25/CD2 count; B1 is > 30% infiltration and
tryptase > 200 ng/mL (the two tables disagree on "and" versus "and/or": "and"
by default, after the Blood table, configurable); any lymphadenopathy is B3;
"large" osteolysis has no size; BMM is a provisional sub-variant of ISM.
WHO 2016 predates tryptase genotyping: the raw basal tryptase is compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mastcds.rules.mastocytosis.common import (
    ISM,
    LYMPHOID,
    MYELOID,
    SM_AHN,
    EditionRules,
    Threshold,
)
from mastcds.rules.mastocytosis.findings import NO_SKIN_LESIONS, SMFindings
from mastcds.rules.mastocytosis.guideline import GuidelineResult, evaluate_guideline
from mastcds.rules.references import cite

KEY = "who2016"
TITLE = "WHO 2016"
SOURCE = cite("arber2016", "valent2017_blood", where="WHO revised 4th edition")

_CRITERIA = ("valent2017_blood",)  # the 2016 criteria as their authors tabulate them (Table 1)
_FINDINGS = ("valent2017_blood", "leuk_lymphoma2020")  # B/C-findings: Blood 2017 Table 1; Leuk Lymphoma 2020 Table 1

# Minor criterion: serum total tryptase persistently > 20 ng/mL, not valid with an associated clonal myeloid
# disorder (valent2017_blood Table 1).
TRYPTASE_MINOR = Threshold(">", 20, "ng/mL")
# B1: > 30% marrow infiltration (focal dense aggregates) and serum total tryptase > 200 ng/mL
# ("and": valent2017_blood Table 1; "and/or": leuk_lymphoma2020 Table 1 and WHO 2008).
B1_INFILTRATION = Threshold(">", 30, "%")
B1_TRYPTASE = Threshold(">", 200, "ng/mL")
B1_JOIN_AND = "and"
B1_JOIN_AND_OR = "and/or"
B1_JOIN_DEFAULT = B1_JOIN_AND
# B3: lymphadenopathy on palpation or imaging, no size stated (leuk_lymphoma2020 Table 1): any node > 0 cm.
B3_LYMPH_NODE = Threshold(">", 0, "cm")
# MCL: >= 20% mast cells in aspirate smears (li2023 Table 2; the Blood 2017 table prints "> 20%").
MCL_SMEAR = Threshold(">=", 20, "%")

# The immunophenotype criterion: "CD25 and/or CD2" in the Blood-journal table of WHO 2016 and in Valent et al.
# 2017 (read here: kept); some reproductions print "CD25, with or without CD2", under which CD2 alone would not
# count. The WHO 2016 text itself could not be read to settle it, so the reason says so when CD2 alone decides.
CD2_ALONE_NOTE = (
    "CD2 without CD25 decides this criterion: WHO 2016 as read here says 'CD25 and/or CD2', but some "
    "reproductions print 'CD25, with or without CD2', under which CD2 alone would not count"
)

SOURCES = {
    "major": cite(*_CRITERIA, where="WHO 2016 major criterion, Table 1: multifocal dense infiltrates of mast cells (>= 15 "
                  "in aggregates) in bone marrow and/or other extracutaneous organ(s)"),
    "minor_morphology": cite(*_CRITERIA, where="WHO 2016 minor criterion, Table 1: > 25% of mast cells spindle-shaped or "
                             "atypical in sections, or immature/atypical in aspirate smears"),
    "minor_kit": cite(*_CRITERIA, where="WHO 2016 minor criterion, Table 1: activating point mutation at codon 816 of KIT "
                      "in marrow, blood or another extracutaneous organ"),
    "minor_immunophenotype": cite(*_CRITERIA, where="WHO 2016 minor criterion, Table 1: mast cells express CD25 and/or "
                                  "CD2 in addition to normal mast cell markers"),
    "minor_tryptase": cite(*_CRITERIA, where="WHO 2016 minor criterion, Table 1: serum total tryptase persistently > 20 "
                           "ng/mL, unless an associated clonal myeloid disorder is present (raw value: WHO 2016 predates "
                           "HaT genotyping)"),
    "b1": cite(*_FINDINGS, where="WHO 2016 B1: > 30% marrow infiltration and serum total tryptase > 200 ng/mL (the two "
               "tables disagree on and versus and/or)"),
    "b2": cite(*_FINDINGS, where="WHO 2016 B2: dysplasia or myeloproliferation in non-mast-cell lineage(s), criteria for "
               "an associated neoplasm not met, counts normal or slightly abnormal"),
    "b3": cite(*_FINDINGS, where="WHO 2016 B3: hepatomegaly without impaired liver function, palpable splenomegaly "
               "without hypersplenism, and/or lymphadenopathy on palpation or imaging (no size)"),
    "c1": cite(*_FINDINGS, where="WHO 2016 C1: >= 1 cytopenia (ANC < 1.0 x10^9/L, Hb < 10 g/dL, platelets < 100 "
               "x10^9/L) from marrow infiltration"),
    "c2": cite(*_FINDINGS, where="WHO 2016 C2: palpable hepatomegaly with impaired liver function, ascites and/or "
               "portal hypertension"),
    "c3": cite(*_FINDINGS, where="WHO 2016 C3: palpable splenomegaly with hypersplenism"),
    "c4": cite(*_FINDINGS, where="WHO 2016 C4: skeletal involvement with large osteolytic lesion(s), with or without "
               "pathological fracture (no size given: the clinician judges 'large')"),
    "c5": cite(*_FINDINGS, where="WHO 2016 C5: malabsorption with weight loss due to gastrointestinal mast cell infiltrates"),
    "mcl": cite(*_CRITERIA, "li2023", where="WHO 2016 mast cell leukaemia: >= 20% mast cells in aspirate smears"),
    "ahn": cite(*_CRITERIA, where="WHO 2016 SM-AHN, Table 1: an associated haematological neoplasm of a distinct WHO "
                "entity, usually myeloid, rarely lymphoid"),
    "mcs": cite(*_CRITERIA, where="WHO 2016 mast cell sarcoma, Table 1: unifocal destructive high-grade mast cell "
                "tumour, no SM"),
}


def _notes(f: SMFindings, possible: tuple[str, ...]) -> list[str]:
    notes = []
    if f.lesions == NO_SKIN_LESIONS and ISM in possible:
        notes.append("ISM without skin lesions: the provisional WHO 2016 sub-variant isolated bone marrow mastocytosis")
    if f.tpsab1_extra_alpha_copies:
        notes.append("TPSAB1 genotype known, but WHO 2016 predates the HaT adjustment: raw tryptase compared")
    return notes


RULES = EditionRules(
    key=KEY,
    title=TITLE,
    source=SOURCE,
    sources=SOURCES,
    major_alone_suffices=False,  # major + >= 1 minor, or >= 3 minor (PMC5356454 Table 1)
    major_note=None,
    any_activating_kit=False,
    immunophenotype_markers=("CD25", "CD2"),
    tryptase_minor=TRYPTASE_MINOR,
    hat_adjusted=False,
    b1_infiltration=B1_INFILTRATION,
    b1_tryptase=B1_TRYPTASE,
    b1_vaf=None,
    b2_blood_counts=False,
    b1_all_required=True,
    b3_lymph_node=B3_LYMPH_NODE,
    c4_osteolysis=None,
    mcl_smear=MCL_SMEAR,
    mcl_immature_only=False,
    bmm_tryptase=None,
    ahn_code=SM_AHN,
    ahn_lineages=frozenset({MYELOID, LYMPHOID}),
    unread_fields=frozenset(
        {
            "cd30",
            "immature_atypical_morphology",
            "kit_d816v_vaf_percent",
            "kit_marrow_vaf_percent",
            "kit_blood_vaf_percent",
            "tpsab1_extra_alpha_copies",
            "cytopenia_or_cytosis",
            "cytopenia_or_cytosis_reactive_cause_excluded",
            "leukocytes_10e9_l",
            "eosinophils_10e9_l",
            "monocytes_10e9_l",
            "sex",
        }
    ),
    cd2_alone_note=CD2_ALONE_NOTE,
    notes=_notes,
)


def rules(b1_join: str = B1_JOIN_DEFAULT) -> EditionRules:
    """The edition with B1 read as "and" (default, Blood table) or "and/or" (Leuk Lymphoma table, WHO 2008)."""
    if b1_join not in (B1_JOIN_AND, B1_JOIN_AND_OR):
        raise ValueError(f"b1_join must be {B1_JOIN_AND!r} or {B1_JOIN_AND_OR!r}, not {b1_join!r}")
    if b1_join == B1_JOIN_AND:
        return RULES
    b1 = SOURCES["b1"]
    sources = {**SOURCES, "b1": b1._replace(text=b1.text.replace("and serum", "and/or serum", 1))}
    return replace(RULES, b1_all_required=False, sources=sources)


def evaluate(f: SMFindings, shared: Mapping[str, Any] | None = None, b1_join: str = B1_JOIN_DEFAULT) -> GuidelineResult:
    return evaluate_guideline(f, rules(b1_join), shared)

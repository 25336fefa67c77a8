"""Systemic mastocytosis by the International Consensus Classification (ICC 2022).

Arber et al., Blood 2022;140:1200-28 (``arber2022``), and the ICC mastocytosis
paper (Leguit et al., Virchows Arch 2023, ``leguit2023``). Neither full text
could be read: the rules come from peer-reviewed tables that reproduce them
(``blood_res2023`` Table 5, ``li2023`` Table 2) and from summaries of the
paper, so the bibliography marks them secondary. Where ICC differs from WHO 2022:

- the major criterion alone is enough (its mast cells confirmed by tryptase
  and/or CD117 immunohistochemistry); otherwise >= 3 minor criteria;
- B1 needs both > 30% marrow infiltration AND tryptase > 200 ng/mL, with no
  KIT VAF route; B3 counts lymph nodes > 1 cm;
- MCL counts only immature/atypical mast cells; the associated neoplasm must
  be myeloid (SM-AMN);
- BMM is a variant of ISM, not a category.

HαT: no ICC text adopting the WHO 2022 genotype adjustment was found (the
B-finding table, ``blood_res2023`` Table 5, carries the adjustment footnote on
the WHO column only), so ICC compares the raw basal tryptase. Unverified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mastcds.rules.mastocytosis.common import (
    ISM,
    MYELOID,
    SM_AMN,
    EditionRules,
    Threshold,
)
from mastcds.rules.mastocytosis.findings import NO_SKIN_LESIONS, SMFindings
from mastcds.rules.mastocytosis.guideline import GuidelineResult, evaluate_guideline
from mastcds.rules.references import cite

KEY = "icc2022"
TITLE = "ICC 2022"
SOURCE = cite("arber2022", "leguit2023", where="International Consensus Classification of myeloid neoplasms and of mastocytosis")

_CRITERIA = ("leguit2023",)  # the ICC mastocytosis paper (its values read in secondary copies: see the bibliography)
_FINDINGS = ("leguit2023", "blood_res2023")  # B- and C-findings: Blood Res 2023 Table 5, ICC column

# Minor criterion: serum tryptase persistently > 20 ng/mL; not counted with an associated myeloid neoplasm
# (SM-AMN; unverified in the ICC text).
TRYPTASE_MINOR = Threshold(">", 20, "ng/mL")
# B1: > 30% of marrow cellularity by mast cell aggregates AND serum tryptase > 200 ng/mL (blood_res2023 Table 5).
B1_INFILTRATION = Threshold(">", 30, "%")
B1_TRYPTASE = Threshold(">", 200, "ng/mL")
# B3: lymphadenopathy > 1 cm on palpation or imaging (blood_res2023 Table 5).
B3_LYMPH_NODE = Threshold(">", 1, "cm")
# MCL: >= 20% atypical immature mast cells in aspirate smears (li2023 Table 2; the core-biopsy route is not modelled).
MCL_SMEAR = Threshold(">=", 20, "%")

SOURCES = {
    "major": cite(*_CRITERIA, where="ICC major criterion: multifocal dense aggregates (>= 15 mast cells) in marrow and/or "
                  "another extracutaneous organ, mast cell nature confirmed by tryptase and/or CD117 immunohistochemistry; "
                  "sufficient alone"),
    "minor_morphology": cite(*_CRITERIA, where="ICC minor criterion: > 25% of mast cells spindle-shaped or atypical"),
    "minor_kit": cite(*_CRITERIA, where="ICC minor criterion: KIT D816V or another activating KIT mutation in marrow, blood "
                      "or other organs"),
    "minor_immunophenotype": cite(*_CRITERIA, where="ICC minor criterion: mast cells express CD25, CD2 and/or CD30"),
    "minor_tryptase": cite(*_CRITERIA, where="ICC minor criterion: serum tryptase persistently > 20 ng/mL (raw; an ICC "
                           "adjustment for HaT not found)"),
    "b1": cite(*_FINDINGS, where="ICC B1, Table 5: > 30% of marrow cellularity by mast cell aggregates and serum tryptase "
               "> 200 ng/mL"),
    "b2": cite(*_FINDINGS, "arber2022", where="ICC B2, Table 5: cytopenia (not meeting C-finding limits) or -cytosis, "
               "reactive causes excluded, no other myeloid neoplasm; no limits given, so the counts are read with the "
               "ICC's limits for myeloid neoplasms (Arber et al.: MDS cytopenia, MDS/MPN thrombocytosis and leukocytosis, "
               "CMML monocytosis, hypereosinophilia)"),
    "b3": cite(*_FINDINGS, where="ICC B3, Table 5: hepatomegaly without impaired liver function, splenomegaly without "
               "hypersplenism, and/or lymphadenopathy > 1 cm"),
    "c1": cite(*_FINDINGS, where="ICC C1, Table 5: Hb < 10 g/dL, platelets < 100 G/L, neutrophils < 1 G/L from marrow "
               "infiltration"),
    "c2": cite(*_FINDINGS, where="ICC C2, Table 5: hepatomegaly with impaired liver function, ascites or portal hypertension"),
    "c3": cite(*_FINDINGS, where="ICC C3, Table 5: splenomegaly with hypersplenism"),
    "c4": cite(*_CRITERIA, "valent2017_blood", where="ICC C4, unchanged from WHO 2016: large osteolytic lesion(s), with or "
               "without a pathological fracture; no size given: the clinician judges 'large'"),
    "c5": cite(*_FINDINGS, where="ICC C5, Table 5: malabsorption with weight loss from gut mast cell infiltrates"),
    "mcl": cite(*_CRITERIA, "li2023", where="ICC mast cell leukaemia: >= 20% immature/atypical mast cells"),
    "ahn": cite(*_CRITERIA, "li2023", where="ICC SM-AMN: myeloid associated neoplasms only"),
    "mcs": cite(*_CRITERIA, "li2023", where="ICC mast cell sarcoma"),
}

MAJOR_NOTE = "ICC requires the aggregates' mast cell nature confirmed by tryptase and/or CD117 immunohistochemistry"


def _notes(f: SMFindings, possible: tuple[str, ...]) -> list[str]:
    notes = []
    if f.lesions == NO_SKIN_LESIONS and ISM in possible:
        notes.append("ISM without skin lesions: the ICC bone marrow mastocytosis (BMM) variant of ISM; its exact criteria are not verified")
    if f.tpsab1_extra_alpha_copies:
        notes.append("TPSAB1 genotype known, but ICC adoption of the HaT tryptase adjustment is not verified: raw tryptase compared")
    return notes


RULES = EditionRules(
    key=KEY,
    title=TITLE,
    source=SOURCE,
    sources=SOURCES,
    major_alone_suffices=True,
    major_note=MAJOR_NOTE,
    any_activating_kit=True,
    immunophenotype_markers=("CD25", "CD2", "CD30"),
    tryptase_minor=TRYPTASE_MINOR,
    hat_adjusted=False,
    b1_infiltration=B1_INFILTRATION,
    b1_tryptase=B1_TRYPTASE,
    b1_vaf=None,
    b2_blood_counts=True,
    b1_all_required=True,
    b3_lymph_node=B3_LYMPH_NODE,
    c4_osteolysis=None,
    mcl_smear=MCL_SMEAR,
    mcl_immature_only=True,
    bmm_tryptase=None,
    ahn_code=SM_AMN,
    ahn_lineages=frozenset({MYELOID}),
    unread_fields=frozenset(
        {
            "kit_d816v_vaf_percent",
            "kit_marrow_vaf_percent",
            "kit_blood_vaf_percent",
            "tpsab1_extra_alpha_copies",
            "dysplasia_or_myeloproliferation",
        }
    ),
    notes=_notes,
)


def evaluate(f: SMFindings, shared: Mapping[str, Any] | None = None) -> GuidelineResult:
    return evaluate_guideline(f, RULES, shared)

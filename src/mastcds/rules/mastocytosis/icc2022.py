"""Systemic mastocytosis by the International Consensus Classification (ICC 2022).

Arber et al., Blood 2022;140:1200-28, and the ICC mastocytosis paper (Leguit
et al., Virchows Arch 2023). Neither full text could be read; the rules come
from tables and summaries that reproduce them (docs/criteria-reference.md
§1-3), tagged there V or S. Where ICC differs from WHO 2022:

- the major criterion alone is enough (its mast cells confirmed by tryptase
  and/or CD117 immunohistochemistry); otherwise >= 3 minor criteria;
- B1 needs both > 30% marrow infiltration AND tryptase > 200 ng/mL, with no
  KIT VAF route; B3 counts lymph nodes > 1 cm;
- MCL counts only immature/atypical mast cells; the associated neoplasm must
  be myeloid (SM-AMN);
- BMM is a variant of ISM, not a category.

HαT: no ICC text adopting the WHO 2022 genotype adjustment was found (the
B-finding table PMC10133845 Table 5 carries the adjustment footnote on the
WHO column only), so ICC compares the raw basal tryptase. Unverified.
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
from mastcds.rules.mastocytosis.guideline import GuidelineResult, evaluate_guideline
from mastcds.rules.mastocytosis.findings import NO_SKIN_LESIONS, SMFindings

KEY = "icc2022"
TITLE = "ICC 2022"
SOURCE = (
    "International Consensus Classification (Arber et al., Blood 2022;140:1200-28; Leguit et al., Virchows Arch "
    "2023), as reproduced in secondary tables"
)

_SUMMARY = (
    "ICC 2022 (Leguit et al., Virchows Arch 2023) as summarised at "
    "https://www.rarediseaseadvisor.com/news/sm-news-briefs/new-consensus-refines-criteria-for-diagnosing-sm/ "
    "(secondary source)"
)
_BC_TABLE = "ICC B/C-findings, Blood Res 2023;58:S96 Table 5 (https://pmc.ncbi.nlm.nih.gov/articles/PMC10133845/table/T5)"

# Minor criterion: serum tryptase persistently > 20 ng/mL (secondary summary of Leguit 2023);
# not counted with an associated myeloid neoplasm (SM-AMN; unverified in the ICC text).
TRYPTASE_MINOR = Threshold(">", 20, "ng/mL")
# B1: > 30% of marrow cellularity by mast cell aggregates AND serum tryptase > 200 ng/mL (PMC10133845 Table 5).
B1_INFILTRATION = Threshold(">", 30, "%")
B1_TRYPTASE = Threshold(">", 200, "ng/mL")
# B3: lymphadenopathy > 1 cm on palpation or imaging (PMC10133845 Table 5).
B3_LYMPH_NODE = Threshold(">", 1, "cm")
# MCL: >= 20% atypical immature mast cells in aspirate smears
# (https://www.biocloudy.com/literatureDetail/NzI2ODU0MQ== ; the core-biopsy route, secondary
# https://www.smcompanion.com/news/unifying-sm-diagnostic-criteria-proposal/, is not modelled).
MCL_SMEAR = Threshold(">=", 20, "%")

SOURCES = {
    "major": f"{_SUMMARY}: multifocal dense aggregates (>= 15 mast cells) in marrow and/or another extracutaneous "
    "organ, mast cell nature confirmed by tryptase and/or CD117 immunohistochemistry; sufficient alone",
    "minor_morphology": f"{_SUMMARY}: > 25% of mast cells spindle-shaped or atypical",
    "minor_kit": f"{_SUMMARY}: KIT D816V or another activating KIT mutation in marrow, blood or other organs",
    "minor_immunophenotype": f"{_SUMMARY}: mast cells express CD25, CD2 and/or CD30",
    "minor_tryptase": f"{_SUMMARY}: serum tryptase persistently > 20 ng/mL (raw; ICC HaT adjustment not verified)",
    "b1": f"{_BC_TABLE}: > 30% of marrow cellularity by mast cell aggregates and serum tryptase > 200 ng/mL",
    "b2": f"{_BC_TABLE}: cytopenia (not meeting C-finding limits) or -cytosis, reactive causes excluded, no other "
    "myeloid neoplasm; no limits given there, so the counts are read with the limits of the ICC's myeloid neoplasms "
    "(Arber et al., Blood 2022;140:1200-28: MDS cytopenia, MDS/MPN thrombocytosis and leukocytosis, CMML monocytosis, "
    "hypereosinophilia)",
    "b3": f"{_BC_TABLE}: hepatomegaly without impaired liver function, splenomegaly without hypersplenism, and/or "
    "lymphadenopathy > 1 cm",
    "c1": f"ICC: C-findings unchanged from WHO 2016 (secondary); {_BC_TABLE}: Hb < 10 g/dL, platelets < 100 G/L, "
    "neutrophils < 1 G/L from marrow infiltration",
    "c2": "ICC: C-findings unchanged (secondary); hepatomegaly with impaired liver function, ascites or portal "
    "hypertension (http://bloodref.com/myeloid/mpd/systemic-mastocytosis-diagnosis)",
    "c3": "ICC: C-findings unchanged (secondary); palpable splenomegaly with hypersplenism "
    "(http://bloodref.com/myeloid/mpd/systemic-mastocytosis-diagnosis)",
    "c4": "ICC: C-findings unchanged from WHO 2016 (secondary); large osteolytic lesion(s), with or without a "
    "pathological fracture, no size given: the clinician judges 'large'",
    "c5": "ICC: C-findings unchanged (secondary); malabsorption with weight loss from gut mast cell infiltrates",
    "mcl": "ICC MCL: >= 20% immature/atypical mast cells (https://www.biocloudy.com/literatureDetail/NzI2ODU0MQ==)",
    "ahn": "ICC SM-AMN: myeloid associated neoplasms only "
    "(https://pmc.ncbi.nlm.nih.gov/articles/PMC10705510/table/cancers-15-05626-t002)",
    "mcs": "ICC mast cell sarcoma (https://pmc.ncbi.nlm.nih.gov/articles/PMC10705510/table/cancers-15-05626-t002)",
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

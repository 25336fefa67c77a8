"""Systemic mastocytosis by the WHO 5th edition (WHO 2022; Khoury et al., Leukemia 2022;36:1703-19).

The WHO text itself could not be read beyond its first page
(https://pmc.ncbi.nlm.nih.gov/articles/PMC9252913); every rule below is taken
from a peer-reviewed table that reproduces it, cited next to the constant
(docs/criteria-reference.md §1-3). Tryptase limits apply to the basal serum
tryptase adjusted for hereditary α-tryptasemia when the TPSAB1 genotype is
known (WHO 2022 footnote), to the raw value otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mastcds.rules.mediators.hat import HAT_SOURCE
from mastcds.rules.mastocytosis.common import (
    BMM,
    ISM,
    LYMPHOID,
    MYELOID,
    SM_AHN,
    EditionRules,
    Threshold,
)
from mastcds.rules.mastocytosis.guideline import GuidelineResult, evaluate_guideline
from mastcds.rules.mastocytosis.findings import SMFindings

KEY = "who2022"
TITLE = "WHO 2022"
SOURCE = "WHO Classification of Haematolymphoid Tumours, 5th edition (Khoury et al., Leukemia 2022;36:1703-19)"

_TABLE = "WHO 2022 SM criteria as reproduced in http://ash-sap.org/view-large/11528503"
_BC_TABLE = (
    "WHO 2022 B/C-findings, Blood Res 2023;58:S96 Table 5 (https://pmc.ncbi.nlm.nih.gov/articles/PMC10133845/table/T5); "
    "http://ashpublications.net/view-large/11528510"
)

# Minor criterion: basal serum tryptase > 20 ng/mL, adjusted in known HαT; not
# counted with an associated myeloid neoplasm (http://ash-sap.org/view-large/11528503 ;
# https://sites.google.com/view/hematologievalk/maligne-hematologie/myeloproliferatieve-ziekten/mastocytose).
TRYPTASE_MINOR = Threshold(">", 20, "ng/mL")
# B1: marrow infiltration >= 30% and/or BST >= 200 ng/mL (HαT-adjusted, footnote a)
# and/or KIT D816V VAF >= 10% in marrow or blood (PMC10133845 Table 5).
B1_INFILTRATION = Threshold(">=", 30, "%")
B1_TRYPTASE = Threshold(">=", 200, "ng/mL")
B1_KIT_VAF = Threshold(">=", 10, "%")
# B3: lymphadenopathy > 2 cm (PMC10133845 Table 5).
B3_LYMPH_NODE = Threshold(">", 2, "cm")
# C4: large osteolysis >= 2 cm with pathological fracture (PMC10133845 Table 5).
C4_OSTEOLYSIS = Threshold(">=", 2, "cm")
# MCL: >= 20% mast cells in aspirate smears, mature or immature
# (https://seer.cancer.gov/seertools/hemelymph/51f6cf5ae3e27c3994bd54b3 ; http://ash-sap.org/view-large/7105691).
MCL_SMEAR = Threshold(">=", 20, "%")
# BMM: SM, no skin lesions, no B-finding, BST < 125 ng/mL
# (https://pmc.ncbi.nlm.nih.gov/articles/PMC10705510/table/cancers-15-05626-t002 ; ECNM proposal, Zanotti et al.
# Leukemia 2022, https://avesis.istanbul.edu.tr/yayin/6f4ac807-2ca6-4a29-8cf6-9f5b6fab6067). Whether WHO adjusts
# this limit for HαT was not found: the raw value is compared.
BMM_TRYPTASE = Threshold("<", 125, "ng/mL")

SOURCES = {
    "major": f"{_TABLE}: multifocal dense infiltrates of mast cells (>= 15 per aggregate) in bone marrow and/or "
    "another extracutaneous organ",
    "minor_morphology": f"{_TABLE}: > 25% spindle-shaped or atypical (type I/II) mast cells; "
    "https://www.hematomorphology.info/bone-marrow/mastocytosis/diagnostic-criteria-mastocytosis/",
    "minor_kit": f"{_TABLE}: KIT D816V or another activating KIT mutation in blood, bone marrow or another "
    "noncutaneous tissue",
    "minor_immunophenotype": f"{_TABLE}: mast cells express CD2 and/or CD25 and/or CD30",
    "minor_tryptase": f"{_TABLE}: basal serum tryptase > 20 ng/mL, adjusted in known HaT ({HAT_SOURCE}); "
    "not counted with an associated myeloid neoplasm",
    "b1": f"{_BC_TABLE}: infiltration >= 30% and/or BST >= 200 ng/mL (HaT-adjusted) and/or KIT D816V VAF >= 10%",
    "b2": f"{_BC_TABLE}: myeloproliferation and/or myelodysplasia without a frank AHN, counts normal or mildly abnormal",
    "b3": f"{_BC_TABLE}: hepatomegaly, splenomegaly or lymphadenopathy > 2 cm without organ dysfunction",
    "c1": f"{_BC_TABLE}: Hb < 10 g/dL and/or platelets < 100 G/L and/or neutrophils < 1 G/L from marrow infiltration",
    "c2": f"{_BC_TABLE}: hepatomegaly with liver dysfunction",
    "c3": f"{_BC_TABLE}: splenomegaly with hypersplenism",
    "c4": f"{_BC_TABLE}: large osteolysis (>= 2 cm) with pathologic fracture",
    "c5": f"{_BC_TABLE}: malabsorption with weight loss due to gastrointestinal mast cell infiltrates",
    "mcl": "WHO 5th ed. MCL: >= 20% mast cells on aspirate smears "
    "(https://seer.cancer.gov/seertools/hemelymph/51f6cf5ae3e27c3994bd54b3)",
    "ahn": "WHO 2022 SM-AHN, myeloid or lymphoid associated neoplasm "
    "(https://pmc.ncbi.nlm.nih.gov/articles/PMC10705510/table/cancers-15-05626-t002)",
    "bmm": "WHO 2022 BMM: no skin lesions, no B-finding, BST < 125 ng/mL "
    "(https://pmc.ncbi.nlm.nih.gov/articles/PMC10705510/table/cancers-15-05626-t002)",
    "mcs": "WHO 2022 mast cell sarcoma: localized destructive high-grade mast cell tumour without SM "
    "(https://pmc.ncbi.nlm.nih.gov/articles/PMC10705510/table/cancers-15-05626-t002)",
}


def _notes(f: SMFindings, possible: tuple[str, ...]) -> list[str]:
    notes = []
    copies, bst = f.tpsab1_extra_alpha_copies, f.baseline_tryptase_ng_ml
    if (
        copies
        and bst is not None
        and BMM_TRYPTASE.holds(bst / (1 + copies)) != BMM_TRYPTASE.holds(bst)
        and any(code in possible for code in (ISM, BMM))
    ):
        notes.append(
            "BMM tryptase limit (< 125 ng/mL) compared with the raw tryptase; with the HaT-adjusted value the answer "
            "would differ, and whether WHO 2022 adjusts this limit is not verified"
        )
    return notes


RULES = EditionRules(
    key=KEY,
    title=TITLE,
    source=SOURCE,
    sources=SOURCES,
    major_alone_suffices=False,  # major + >= 1 minor, or >= 3 minor (docs/criteria-reference.md 1.2)
    major_note=None,
    any_activating_kit=True,
    immunophenotype_markers=("CD25", "CD2", "CD30"),
    tryptase_minor=TRYPTASE_MINOR,
    hat_adjusted=True,
    b1_infiltration=B1_INFILTRATION,
    b1_tryptase=B1_TRYPTASE,
    b1_vaf=B1_KIT_VAF,
    b2_blood_counts=False,
    b1_all_required=False,
    b3_lymph_node=B3_LYMPH_NODE,
    c4_osteolysis=C4_OSTEOLYSIS,
    mcl_smear=MCL_SMEAR,
    mcl_immature_only=False,
    bmm_tryptase=BMM_TRYPTASE,
    ahn_code=SM_AHN,
    ahn_lineages=frozenset({MYELOID, LYMPHOID}),
    unread_fields=frozenset({"immature_atypical_morphology", "large_osteolysis", "cytopenia_or_cytosis", "cytopenia_or_cytosis_reactive_cause_excluded", "leukocytes_10e9_l", "eosinophils_10e9_l", "monocytes_10e9_l", "sex"}),
    notes=_notes,
)


def evaluate(f: SMFindings, shared: Mapping[str, Any] | None = None) -> GuidelineResult:
    return evaluate_guideline(f, RULES, shared)

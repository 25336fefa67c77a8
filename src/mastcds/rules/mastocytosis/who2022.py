"""Systemic mastocytosis by the WHO 5th edition (WHO 2022; Khoury et al., Leukemia 2022;36:1703-19).

The WHO text itself could not be read beyond its first page (bibliography key ``khoury2022``, marked
secondary): every rule below is taken from peer-reviewed tables that reproduce it, the review of Li et
al., Cancers 2023 (``li2023``, Table 2) and the Blood Res 2023 review's B/C-finding table
(``blood_res2023``, Table 5). Tryptase limits apply to the basal serum tryptase adjusted for hereditary
α-tryptasemia when the TPSAB1 genotype is known (WHO 2022 footnote), to the raw value otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mastcds.rules.mastocytosis.common import (
    BMM,
    ISM,
    LYMPHOID,
    MYELOID,
    SM_AHN,
    EditionRules,
    Threshold,
)
from mastcds.rules.mastocytosis.findings import SMFindings
from mastcds.rules.mastocytosis.guideline import GuidelineResult, evaluate_guideline
from mastcds.rules.mediators.hat import HAT_CITATION
from mastcds.rules.references import cite

KEY = "who2022"
TITLE = "WHO 2022"
SOURCE = cite("khoury2022", where="WHO Classification of Haematolymphoid Tumours, 5th edition")

_CRITERIA = ("khoury2022", "li2023")  # the SM criteria: WHO 2022, as reproduced in Li et al. Table 2
_FINDINGS = ("khoury2022", "blood_res2023")  # B- and C-findings: Blood Res 2023 Table 5, WHO column

# Minor criterion: basal serum tryptase > 20 ng/mL, adjusted in known HαT; not counted with an associated
# myeloid neoplasm (li2023 Table 2; blood_res2023 Table 5 footnote a).
TRYPTASE_MINOR = Threshold(">", 20, "ng/mL")
# B1: marrow infiltration >= 30% and/or BST >= 200 ng/mL (HαT-adjusted, footnote a) and/or KIT D816V VAF >= 10%
# in marrow or blood (blood_res2023 Table 5).
B1_INFILTRATION = Threshold(">=", 30, "%")
B1_TRYPTASE = Threshold(">=", 200, "ng/mL")
B1_KIT_VAF = Threshold(">=", 10, "%")
# B3: lymphadenopathy > 2 cm (blood_res2023 Table 5).
B3_LYMPH_NODE = Threshold(">", 2, "cm")
# C4: large osteolysis >= 2 cm with pathological fracture (blood_res2023 Table 5).
C4_OSTEOLYSIS = Threshold(">=", 2, "cm")
# MCL: >= 20% mast cells in aspirate smears, mature or immature (li2023 Table 2).
MCL_SMEAR = Threshold(">=", 20, "%")
# BMM: SM in the bone marrow, no skin lesions, no B-finding, BST < 125 ng/mL (li2023 Table 2; the ECNM proposal,
# zanotti2022_bmm). Whether WHO adjusts this limit for HαT was not found: the raw value is compared.
BMM_TRYPTASE = Threshold("<", 125, "ng/mL")

SOURCES = {
    "major": cite(*_CRITERIA, where="WHO 2022 major criterion: multifocal dense infiltrates of mast cells (>= 15 per "
                  "aggregate) in bone marrow and/or another extracutaneous organ"),
    "minor_morphology": cite(*_CRITERIA, where="WHO 2022 minor criterion: > 25% spindle-shaped or atypical (type I/II) mast cells"),
    "minor_kit": cite(*_CRITERIA, where="WHO 2022 minor criterion: KIT D816V or another activating KIT mutation in blood, "
                      "bone marrow or another noncutaneous tissue"),
    "minor_immunophenotype": cite(*_CRITERIA, where="WHO 2022 minor criterion: mast cells express CD2 and/or CD25 and/or CD30"),
    "minor_tryptase": cite(*_CRITERIA, *HAT_CITATION.keys, where="WHO 2022 minor criterion: basal serum tryptase > 20 "
                           "ng/mL, adjusted in known HaT (BST / (1 + extra alpha copies)); not counted with an associated "
                           "myeloid neoplasm"),
    "b1": cite(*_FINDINGS, where="WHO 2022 B1, Table 5: infiltration >= 30% and/or BST >= 200 ng/mL (HaT-adjusted) "
               "and/or KIT D816V VAF >= 10% in marrow or blood"),
    "b2": cite(*_FINDINGS, where="WHO 2022 B2, Table 5: myeloproliferation and/or myelodysplasia without a frank AHN, "
               "counts normal or mildly abnormal"),
    "b3": cite(*_FINDINGS, where="WHO 2022 B3, Table 5: hepatomegaly, splenomegaly or lymphadenopathy > 2 cm without "
               "organ dysfunction"),
    "c1": cite(*_FINDINGS, where="WHO 2022 C1, Table 5: Hb < 10 g/dL and/or platelets < 100 G/L and/or neutrophils < 1 "
               "G/L from marrow infiltration"),
    "c2": cite(*_FINDINGS, where="WHO 2022 C2, Table 5: hepatomegaly with liver dysfunction"),
    "c3": cite(*_FINDINGS, where="WHO 2022 C3, Table 5: splenomegaly with hypersplenism"),
    "c4": cite(*_FINDINGS, where="WHO 2022 C4, Table 5: large osteolysis (>= 2 cm) with pathologic fracture"),
    "c5": cite(*_FINDINGS, where="WHO 2022 C5, Table 5: malabsorption with weight loss due to gastrointestinal mast cell "
               "infiltrates"),
    "mcl": cite(*_CRITERIA, where="WHO 2022 mast cell leukaemia: >= 20% mast cells on aspirate smears"),
    "ahn": cite(*_CRITERIA, where="WHO 2022 SM-AHN: a myeloid or lymphoid associated neoplasm"),
    "bmm": cite(*_CRITERIA, "zanotti2022_bmm", where="WHO 2022 bone marrow mastocytosis: SM in the marrow, no skin "
                "lesions, no B-finding, BST < 125 ng/mL"),
    "mcs": cite(*_CRITERIA, where="WHO 2022 mast cell sarcoma: localized destructive high-grade mast cell tumour without SM"),
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
    major_alone_suffices=False,  # major + >= 1 minor, or >= 3 minor (li2023 Table 2)
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

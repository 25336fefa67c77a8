"""Screening code lists: names for the screening over the one code table of :mod:`mastcds.fhir.codes`.

Every code comes from that table (import, CDS Hooks and screening recognise the same diagnoses:
SNOMED CT, ICD-10-CM, WHO ICD-10, ICD-O-3, ORPHA); the ICD-10-CM codes are checked against the
CDC April 2026 release with ``simple-icd-10-cm`` by the test suite.
"""

from __future__ import annotations

from mastcds.fhir.codes import (
    ANAPHYLAXIS,
    ANAPHYLAXIS_CAUSED_BY_SUBSTANCE,
    ANAPHYLAXIS_ICD_PREFIXES,
    EPISODE_FINDINGS,
    EXT_SAMPLE_CONTEXT,
    ICD10,
    ICD10CM,
    LAB_TESTS,
    LOINC,
    NON_ALLERGIC_ANAPHYLAXIS,
    PRESENT,
    ABSENT,
    Code,
    HYMENOPTERA_VENOM_ICD10CM_PREFIXES,
    HYPOTENSION_ICD10CM,
    MASTOCYTOSIS_LABELS,
    RECORDED_MAST_CELL_DIAGNOSES,
    SNOMED,
    SYSTOLIC_BP,
    VARIANT_ASSESSMENT,
)
from mastcds.fhir.fields import TPSAB1_EXTRA_ALPHA_COPIES

TRYPTASE = LAB_TESTS["tryptase"]
SYNCOPE = EPISODE_FINDINGS["loss_of_consciousness"]
URTICARIA = EPISODE_FINDINGS["urticaria"]
ANGIOEDEMA = EPISODE_FINDINGS["angioedema"]

# SNOMED CT anaphylaxis concepts and ICD anaphylaxis prefixes (fhir.codes).
ANAPHYLAXIS_SNOMED = tuple(c.code for c in (ANAPHYLAXIS, ANAPHYLAXIS_CAUSED_BY_SUBSTANCE, NON_ALLERGIC_ANAPHYLAXIS))
ANAPHYLAXIS_ICD_INITIAL = ANAPHYLAXIS_ICD_PREFIXES  # 7th character D/S (later encounters) are excluded in SQL

# The genotype as the case field molecular.tpsab1_extra_alpha_copies travels (no LOINC was found).

# Observations that show a mast-cell work-up was done: a KIT variant assessment (LOINC 69548-6), the KIT
# mutation analysis order (55201-8, Mayo KITB) or a bone-marrow mast-cell count (11109-6).
KIT_ORDER_LOINC = "55201-8"
BONE_MARROW_MAST_CELLS_LOINC = "11109-6"
WORKUP_LOINC = (VARIANT_ASSESSMENT.code, KIT_ORDER_LOINC, BONE_MARROW_MAST_CELLS_LOINC)

# A recorded mastocytosis diagnosis (SM or CM, any subtype, in any terminology): the patient is not "missed".
MASTOCYTOSIS_DIAGNOSES = tuple(sorted(key for key, label in RECORDED_MAST_CELL_DIAGNOSES.items()
                                      if label in MASTOCYTOSIS_LABELS))

__all__ = [
    "ABSENT", "ANGIOEDEMA", "Code", "EXT_SAMPLE_CONTEXT", "ICD10", "ICD10CM", "LOINC", "PRESENT", "SNOMED",
    "SYNCOPE", "SYSTOLIC_BP", "TRYPTASE", "URTICARIA", "ANAPHYLAXIS_SNOMED", "ANAPHYLAXIS_ICD_INITIAL",
    "HYPOTENSION_ICD10CM", "HYMENOPTERA_VENOM_ICD10CM_PREFIXES", "TPSAB1_EXTRA_ALPHA_COPIES", "WORKUP_LOINC",
    "MASTOCYTOSIS_DIAGNOSES", "RECORDED_MAST_CELL_DIAGNOSES", "VARIANT_ASSESSMENT",
]

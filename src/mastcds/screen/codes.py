"""Screening code lists: the shared tables of :mod:`mastcds.fhir.codes`, plus the few it lacks.

The additions (hypotension, Hymenoptera venom, the TPSAB1 genotype) are candidates for merging into
:mod:`mastcds.fhir.codes`; every ICD-10-CM code here was checked against the CDC April 2026 release
with ``simple-icd-10-cm`` (``get_description``), the test suite re-checks them when that package is
installed.
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
    MASTCDS_CANONICAL,
    NON_ALLERGIC_ANAPHYLAXIS,
    PRESENT,
    ABSENT,
    RECORDED_MAST_CELL_DIAGNOSES,
    SNOMED,
    SYSTOLIC_BP,
    VARIANT_ASSESSMENT,
    Code,
)

_CDC_ICD10CM = "ICD-10-CM April 2026 (CDC), checked with simple-icd-10-cm 1.5.0"

TRYPTASE = LAB_TESTS["tryptase"]
SYNCOPE = EPISODE_FINDINGS["loss_of_consciousness"]
URTICARIA = EPISODE_FINDINGS["urticaria"]
ANGIOEDEMA = EPISODE_FINDINGS["angioedema"]

# SNOMED CT anaphylaxis concepts (ecosystem.md §2.2) and ICD anaphylaxis prefixes (fhir.codes).
ANAPHYLAXIS_SNOMED = tuple(c.code for c in (ANAPHYLAXIS, ANAPHYLAXIS_CAUSED_BY_SUBSTANCE, NON_ALLERGIC_ANAPHYLAXIS))
ANAPHYLAXIS_ICD_INITIAL = ANAPHYLAXIS_ICD_PREFIXES  # 7th character D/S (later encounters) are excluded in SQL

HYPOTENSION_ICD10CM = Code(ICD10CM, "I95.9", "Hypotension, unspecified", _CDC_ICD10CM)

# "Toxic effect of venom of ..." ants T63.42-, bees T63.44-, hornets T63.45-, wasps T63.46-: the
# Hymenoptera. Checked: T63.421A, T63.441A, T63.451A, T63.461A in the CDC April 2026 release.
HYMENOPTERA_VENOM_ICD10CM_PREFIXES = ("T63.42", "T63.44", "T63.45", "T63.46")

# No LOINC for the TPSAB1 alpha-tryptase copy number was found (ecosystem.md §2.1), so the genotype
# travels as a local code, matching case field molecular.tpsab1_extra_alpha_copies.
MASTCDS_OBSERVATION = f"{MASTCDS_CANONICAL}/CodeSystem/observation"
TPSAB1_EXTRA_ALPHA_COPIES = Code(MASTCDS_OBSERVATION, "tpsab1-extra-alpha-copies",
                                 "Extra TPSAB1 copies encoding alpha-tryptase", "mastcds local code")

# Observations that show a mast-cell work-up was done: a KIT variant assessment or a bone-marrow
# mast-cell count (ecosystem.md §2.1).
KIT_ORDER_LOINC = "55201-8"
BONE_MARROW_MAST_CELLS_LOINC = "11109-6"
WORKUP_LOINC = (VARIANT_ASSESSMENT.code, KIT_ORDER_LOINC, BONE_MARROW_MAST_CELLS_LOINC)

# A recorded mastocytosis diagnosis (SM or CM, any subtype): the patient is not "missed".
MASTOCYTOSIS_LABELS = frozenset({"mast cell neoplasm", "CM", "SM", "malignant mast cell neoplasm", "ASM", "MCS",
                                 "MCL", "ISM", "BMM", "SSM", "SM-AHN"})
MASTOCYTOSIS_DIAGNOSES = tuple(sorted(key for key, label in RECORDED_MAST_CELL_DIAGNOSES.items()
                                      if label in MASTOCYTOSIS_LABELS))

__all__ = [
    "ABSENT", "ANGIOEDEMA", "EXT_SAMPLE_CONTEXT", "ICD10", "ICD10CM", "LOINC", "PRESENT", "SNOMED",
    "SYNCOPE", "SYSTOLIC_BP", "TRYPTASE", "URTICARIA", "ANAPHYLAXIS_SNOMED", "ANAPHYLAXIS_ICD_INITIAL",
    "HYPOTENSION_ICD10CM", "HYMENOPTERA_VENOM_ICD10CM_PREFIXES", "TPSAB1_EXTRA_ALPHA_COPIES", "WORKUP_LOINC",
    "MASTOCYTOSIS_DIAGNOSES", "RECORDED_MAST_CELL_DIAGNOSES", "VARIANT_ASSESSMENT",
]

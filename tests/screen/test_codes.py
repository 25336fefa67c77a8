"""The ICD-10-CM codes the screening adds exist in the CDC release with the meaning claimed."""

from __future__ import annotations

import pytest

from mastcds.screen import codes as C

cm = pytest.importorskip("simple_icd_10_cm", reason="simple-icd-10-cm (CDC ICD-10-CM tables) not installed")


def test_hypotension_code():
    assert cm.get_description(C.HYPOTENSION_ICD10CM.code) == C.HYPOTENSION_ICD10CM.display


@pytest.mark.parametrize(("prefix", "insect"), list(zip(C.HYMENOPTERA_VENOM_ICD10CM_PREFIXES, ["ants", "bees", "hornets", "wasps"])))
def test_hymenoptera_venom_prefixes(prefix, insect):
    assert cm.get_description(prefix) == f"Toxic effect of venom of {insect}"
    assert cm.is_valid_item(prefix + "1A")


def test_mastocytosis_diagnoses_are_a_subset_of_the_shared_table():
    from mastcds.fhir.codes import RECORDED_MAST_CELL_DIAGNOSES

    assert set(C.MASTOCYTOSIS_DIAGNOSES) <= set(RECORDED_MAST_CELL_DIAGNOSES)
    assert (C.ICD10CM, "D47.02") in C.MASTOCYTOSIS_DIAGNOSES
    assert (C.ICD10CM, "D89.42") not in C.MASTOCYTOSIS_DIAGNOSES  # MCAS is not mastocytosis


def test_a_snomed_or_icdo3_mastocytosis_is_a_recorded_diagnosis_for_the_screening():
    """Regression (issue 17 §2): a Condition coded SNOMED CT systemic mast cell disease was screened as missed."""
    assert (C.SNOMED, "397016004") in C.MASTOCYTOSIS_DIAGNOSES
    assert ("http://terminology.hl7.org/CodeSystem/icd-o-3", "9741/3") in C.MASTOCYTOSIS_DIAGNOSES

"""The fully recorded ISM patient the per-edition SM tests vary one finding at a time.

Every finding is recorded, and the patient is ISM by WHO 2022, ICC 2022 and WHO 2016 alike:
SM met, skin lesions, no B- or C-finding, smear < 20%.
"""

from __future__ import annotations

from mastcds.rules.mastocytosis.findings import SMFindings

ISM = SMFindings(
    lesions="maculopapular_unspecified",
    darier_sign=True,
    biopsy_mast_cell_infiltrates=True,
    kit_mutation_in_lesional_skin=True,
    multifocal_dense_infiltrates=True,
    infiltration_percent=10,
    atypical_morphology_over_25_percent=True,
    aspirate_mast_cells_percent=2,
    immature_atypical_morphology=False,
    cd25=True,
    cd2=False,
    cd30=False,
    dysplasia_or_myeloproliferation=False,
    cytopenia_caused_by_mast_cells=False,
    associated_hematologic_neoplasm="none",
    kit_d816v="detected",
    kit_d816v_sample="bone_marrow",
    kit_d816v_vaf_percent=0.5,
    other_activating_kit_mutation="none",
    tpsab1_extra_alpha_copies=0,
    baseline_tryptase_ng_ml=50,
    hemoglobin_g_dl=14,
    platelets_10e9_l=250,
    neutrophils_10e9_l=4,
    leukocytes_10e9_l=7,
    eosinophils_10e9_l=0.2,
    monocytes_10e9_l=0.4,
    circulating_mast_cells_percent=0,
    sex="male",
    hepatomegaly=False,
    liver_dysfunction=False,
    splenomegaly=False,
    hypersplenism=False,
    lymphadenopathy_max_cm=0,
    osteolysis_max_cm=0,
    pathologic_fracture=False,
    malabsorption_with_weight_loss=False,
)


def criterion_status(result, criterion: str):
    """The status of one criterion, B-/C-finding or variant criterion of a guideline result."""
    items = result.criteria + result.b_findings + result.c_findings + result.variant_criteria
    return {c.id: c.status for c in items}[criterion]

"""The findings the mastocytosis rules read, flattened from a case.

Every finding may be ``None`` (not examined): the rules never read ``None``
as absent. Names follow the case schema (mastcds-case/1); the fields of the
biopsy of another extracutaneous organ carry an ``other_organ_`` prefix
because the bone marrow section uses the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

# The schema's ranges of the numeric findings (data/case.schema.json); the
# possible-category search fills an unknown number with any value in them.
FINDING_RANGES: dict[str, tuple[float, float]] = {
    "infiltration_percent": (0, 100),
    "aspirate_mast_cells_percent": (0, 100),
    "kit_d816v_vaf_percent": (0, 100),
    "baseline_tryptase_ng_ml": (0, 100000),
    "hemoglobin_g_dl": (0, 30),
    "platelets_10e9_l": (0, 5000),
    "neutrophils_10e9_l": (0, 500),
    "leukocytes_10e9_l": (0, 1000),
    "eosinophils_10e9_l": (0, 500),
    "monocytes_10e9_l": (0, 500),
    "circulating_mast_cells_percent": (0, 100),
    "spindle_atypical_mast_cells_percent": (0, 100),
    "largest_aggregate_mast_cells": (0, 100000),
    "kit_marrow_vaf_percent": (0, 100),
    "kit_blood_vaf_percent": (0, 100),
    "lymphadenopathy_max_cm": (0, 50),
    "osteolysis_max_cm": (0, 100),
}
EXTRA_ALPHA_COPIES_RANGE = (0, 10)

TYPICAL_SKIN_LESIONS = frozenset(
    {
        "maculopapular_monomorphic",
        "maculopapular_polymorphic",
        "maculopapular_unspecified",
        "diffuse",
        "mastocytoma",
    }
)
NO_SKIN_LESIONS = "none"


@dataclass(frozen=True, slots=True)
class SMFindings:
    """One patient's findings for the SM and CM criteria; ``None`` = not examined."""

    # skin
    lesions: str | None = None
    darier_sign: bool | None = None
    biopsy_mast_cell_infiltrates: bool | None = None
    kit_mutation_in_lesional_skin: bool | None = None
    # bone marrow
    multifocal_dense_infiltrates: bool | None = None
    largest_aggregate_mast_cells: float | None = None
    infiltration_percent: float | None = None
    atypical_morphology_over_25_percent: bool | None = None
    spindle_atypical_mast_cells_percent: float | None = None
    aspirate_mast_cells_percent: float | None = None
    immature_atypical_morphology: bool | None = None
    cd25: bool | None = None
    cd2: bool | None = None
    cd30: bool | None = None
    dysplasia_or_myeloproliferation: bool | None = None
    cytopenia_or_cytosis: bool | None = None
    cytopenia_or_cytosis_reactive_cause_excluded: bool | None = None
    cytopenia_caused_by_mast_cells: bool | None = None
    # a biopsy of another extracutaneous organ; False = none was taken (the
    # schema's absent section), so its findings cannot support a criterion
    other_organ_biopsied: bool = False
    other_organ: str | None = None
    other_organ_multifocal_dense_infiltrates: bool | None = None
    other_organ_atypical_morphology_over_25_percent: bool | None = None
    other_organ_cd25_cd2_cd30: bool | None = None
    destructive_sarcoma: bool | None = None
    # 'none' = looked for and absent; a name = present; None = unknown
    associated_hematologic_neoplasm: str | None = None
    associated_hematologic_neoplasm_lineage: str | None = None  # 'myeloid' | 'lymphoid'; None = from the name
    # molecular: KIT D816V per sample ('detected' | 'not_detected'; None = not tested there), and the single
    # result of older documents (kit_d816v in kit_d816v_sample), which counts for its sample
    kit_marrow: str | None = None
    kit_marrow_vaf_percent: float | None = None
    kit_blood: str | None = None
    kit_blood_vaf_percent: float | None = None
    kit_other_organ: str | None = None
    kit_d816v: str | None = None
    kit_d816v_sample: str | None = None
    kit_d816v_vaf_percent: float | None = None
    other_activating_kit_mutation: str | None = None
    other_activating_kit_mutation_sample: str | None = None
    tpsab1_extra_alpha_copies: int | None = None
    # labs
    baseline_tryptase_ng_ml: float | None = None
    hemoglobin_g_dl: float | None = None
    platelets_10e9_l: float | None = None
    neutrophils_10e9_l: float | None = None
    leukocytes_10e9_l: float | None = None
    eosinophils_10e9_l: float | None = None
    monocytes_10e9_l: float | None = None
    circulating_mast_cells_percent: float | None = None
    sex: str | None = None  # 'male' | 'female': the anaemia limit of ICC's B-finding 2 differs
    # organs
    hepatomegaly: bool | None = None
    liver_dysfunction: bool | None = None
    splenomegaly: bool | None = None
    hypersplenism: bool | None = None
    lymphadenopathy_max_cm: float | None = None
    osteolysis_max_cm: float | None = None
    large_osteolysis: bool | None = None
    pathologic_fracture: bool | None = None
    malabsorption_with_weight_loss: bool | None = None
    other_organ_damage: str | None = None


def sample_kit_result(
    sample: str,
    result: str | None,
    vaf_percent: float | None,
    single_result: str | None,
    single_sample: str | None,
    single_vaf_percent: float | None,
) -> tuple[str | None, float | None]:
    """(result, VAF) of one sample: its own fields, else the single kit_d816v pair of older documents when that
    pair names this sample (the case model refuses a document where the two disagree)."""
    if single_sample == sample:
        result = single_result if result is None else result
        vaf_percent = single_vaf_percent if vaf_percent is None else vaf_percent
    return result, vaf_percent

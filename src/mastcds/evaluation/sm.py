"""Glue from a Case to the SM guideline sections and the cutaneous section of the evaluation.

The rules read :class:`SMFindings`; this module is the one place that decides
which recorded value feeds them: the explicit ``labs`` fields (the schema's
"current values used by the criteria"), and an absent biopsy of another organ
read as "no such biopsy".
"""

from __future__ import annotations

from typing import Any

from mastcds.case import Case
from mastcds.rules.mastocytosis import cutaneous as cutaneous_rules
from mastcds.rules.mastocytosis import icc2022 as sm_icc2022
from mastcds.rules.mastocytosis import who2016 as sm_who2016
from mastcds.rules.mastocytosis import who2022 as sm_who2022
from mastcds.rules.logic import MET, NOT_MET
from mastcds.rules.mastocytosis.common import sm_status
from mastcds.rules.mastocytosis.guideline import GuidelineResult, findings_warnings, shared_work
from mastcds.rules.mastocytosis.summary import combined_summary
from mastcds.rules.references import reference_dicts
from mastcds.rules.mastocytosis.findings import SMFindings

EDITION_MODULES = {"who2022": sm_who2022, "icc2022": sm_icc2022, "who2016": sm_who2016}


def sm_findings_from_case(case: Case) -> SMFindings:
    skin, marrow, molecular, labs, organs = case.skin, case.bone_marrow, case.molecular, case.labs, case.organs
    other = case.other_extracutaneous_organ
    return SMFindings(
        lesions=skin.lesions,
        darier_sign=skin.darier_sign,
        biopsy_mast_cell_infiltrates=skin.biopsy_mast_cell_infiltrates,
        kit_mutation_in_lesional_skin=kit_mutation_in_lesional_skin(case),
        multifocal_dense_infiltrates=marrow.multifocal_dense_infiltrates,
        largest_aggregate_mast_cells=marrow.largest_aggregate_mast_cells,
        infiltration_percent=marrow.infiltration_percent,
        atypical_morphology_over_25_percent=marrow.atypical_morphology_over_25_percent,
        spindle_atypical_mast_cells_percent=marrow.spindle_atypical_mast_cells_percent,
        aspirate_mast_cells_percent=marrow.aspirate_mast_cells_percent,
        immature_atypical_morphology=marrow.immature_atypical_morphology,
        cd25=marrow.cd25,
        cd2=marrow.cd2,
        cd30=marrow.cd30,
        dysplasia_or_myeloproliferation=marrow.dysplasia_or_myeloproliferation,
        cytopenia_or_cytosis=marrow.cytopenia_or_cytosis,
        cytopenia_or_cytosis_reactive_cause_excluded=marrow.cytopenia_or_cytosis_reactive_cause_excluded,
        cytopenia_caused_by_mast_cells=marrow.cytopenia_caused_by_mast_cells,
        other_organ_biopsied=other is not None,
        other_organ=None if other is None else other.organ,
        other_organ_multifocal_dense_infiltrates=None if other is None else other.multifocal_dense_infiltrates,
        other_organ_atypical_morphology_over_25_percent=None if other is None else other.atypical_morphology_over_25_percent,
        other_organ_cd25_cd2_cd30=None if other is None else other.cd25_cd2_cd30,
        destructive_sarcoma=None if other is None else other.destructive_sarcoma,
        associated_hematologic_neoplasm=case.associated_hematologic_neoplasm,
        associated_hematologic_neoplasm_lineage=case.associated_hematologic_neoplasm_lineage,
        kit_marrow=molecular.kit_d816v_bone_marrow,
        kit_marrow_vaf_percent=molecular.kit_d816v_bone_marrow_vaf_percent,
        kit_blood=molecular.kit_d816v_peripheral_blood,
        kit_blood_vaf_percent=molecular.kit_d816v_peripheral_blood_vaf_percent,
        kit_other_organ=molecular.kit_d816v_other_extracutaneous,
        kit_d816v=molecular.kit_d816v,
        kit_d816v_sample=molecular.kit_d816v_sample,
        kit_d816v_vaf_percent=molecular.kit_d816v_vaf_percent,
        other_activating_kit_mutation=molecular.other_activating_kit_mutation,
        other_activating_kit_mutation_sample=molecular.other_activating_kit_mutation_sample,
        tpsab1_extra_alpha_copies=molecular.tpsab1_extra_alpha_copies,
        baseline_tryptase_ng_ml=labs.baseline_tryptase_ng_ml,
        hemoglobin_g_dl=labs.hemoglobin_g_dl,
        platelets_10e9_l=labs.platelets_10e9_l,
        neutrophils_10e9_l=labs.neutrophils_10e9_l,
        leukocytes_10e9_l=labs.leukocytes_10e9_l,
        eosinophils_10e9_l=labs.eosinophils_10e9_l,
        monocytes_10e9_l=labs.monocytes_10e9_l,
        circulating_mast_cells_percent=labs.circulating_mast_cells_percent,
        sex=case.patient.sex,
        hepatomegaly=organs.hepatomegaly,
        liver_dysfunction=organs.liver_dysfunction,
        splenomegaly=organs.splenomegaly,
        hypersplenism=organs.hypersplenism,
        lymphadenopathy_max_cm=organs.lymphadenopathy_max_cm,
        osteolysis_max_cm=organs.osteolysis_max_cm,
        large_osteolysis=organs.large_osteolysis,
        pathologic_fracture=organs.pathologic_fracture,
        malabsorption_with_weight_loss=organs.malabsorption_with_weight_loss,
        other_organ_damage=organs.other_organ_damage,
    )


def kit_mutation_in_lesional_skin(case: Case) -> bool | None:
    """The CM minor criterion's KIT finding: as recorded, else a KIT D816V detected in lesional skin.

    A negative D816V test does not exclude another activating KIT mutation in the skin, so it leaves it open.
    """
    recorded = case.skin.kit_mutation_in_lesional_skin
    if recorded is not None:
        return recorded
    return True if case.molecular.kit_d816v_in("skin").result == "detected" else None


def guideline_results(case: Case, warnings: list[str], findings: SMFindings | None = None) -> dict[str, GuidelineResult]:
    """The three editions' results (WHO 2022, ICC 2022, WHO 2016), and the record's SM warnings added to ``warnings``.

    ``findings`` is :func:`sm_findings_from_case` of the case when the caller has it already.
    """
    if findings is None:
        findings = sm_findings_from_case(case)
    warnings.extend(findings_warnings(findings))
    shared = shared_work(findings)
    return {key: module.evaluate(findings, shared) for key, module in EDITION_MODULES.items()}


def guidelines(case: Case, warnings: list[str], findings: SMFindings | None = None) -> dict[str, dict[str, Any]]:
    """The contract's GUIDELINE object for WHO 2022, ICC 2022 and WHO 2016 (plus edition, title, source, notes)."""
    return {key: result.as_dict() for key, result in guideline_results(case, warnings, findings).items()}


def summary(results: dict[str, GuidelineResult]) -> str:
    """The bottom line over the editions: those that agree are named together."""
    return combined_summary(
        {key: (r.title, r.sm_criteria, r.possible_categories, r.next_tests) for key, r in results.items()}
    )


def cutaneous(case: Case, warnings: list[str], findings: SMFindings | None = None) -> dict[str, Any]:
    """The contract's "cutaneous" object: the skin (MIS) criteria, the CM subtype, and the diagnosis they allow.

    ``findings`` is :func:`sm_findings_from_case` of the case when the caller has it already.
    """
    f = sm_findings_from_case(case) if findings is None else findings
    status = cutaneous_rules.mis_status(f.lesions, f.darier_sign, f.biopsy_mast_cell_infiltrates, f.kit_mutation_in_lesional_skin)
    result: dict[str, Any] = {
        "status": status.value,
        "subtype": cutaneous_rules.subtype(f.lesions, status),
        "mpcm_form": cutaneous_rules.mpcm_form(f.lesions, status),
        "criteria": [c.as_dict() for c in cutaneous_rules.skin_criteria(f)],
        "diagnosis": None,
        "diagnosis_basis": "MIS criteria, with SM excluded or not by the WHO 2022 SM criteria",
        "source": cutaneous_rules.SOURCE,
        "references": reference_dicts(cutaneous_rules.CITATION.keys),
        "subtype_source": cutaneous_rules.SUBTYPE_SOURCE,
        "subtype_references": reference_dicts(cutaneous_rules.SUBTYPE_CITATION.keys),
    }
    if status is MET:
        sm = sm_status(f, sm_who2022.RULES)  # CM needs SM excluded; WHO 2022 decides
        if sm is NOT_MET:
            result["diagnosis"] = "CM"
        elif sm is MET:
            result["diagnosis"] = "SM with skin involvement"
        else:
            result["diagnosis"] = "MIS (provisional: SM not excluded)"
    return result

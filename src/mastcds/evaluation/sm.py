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
from mastcds.rules.mastocytosis.guideline import criterion_dict, findings_warnings, shared_work
from mastcds.rules.mastocytosis.findings import SMFindings

EDITION_MODULES = {"who2022": sm_who2022, "icc2022": sm_icc2022, "who2016": sm_who2016}


def sm_findings_from_case(case: Case) -> SMFindings:
    skin, marrow, molecular, labs, organs = case.skin, case.bone_marrow, case.molecular, case.labs, case.organs
    other = case.other_extracutaneous_organ
    return SMFindings(
        lesions=skin.lesions,
        darier_sign=skin.darier_sign,
        biopsy_mast_cell_infiltrates=skin.biopsy_mast_cell_infiltrates,
        kit_mutation_in_lesional_skin=skin.kit_mutation_in_lesional_skin,
        multifocal_dense_infiltrates=marrow.multifocal_dense_infiltrates,
        infiltration_percent=marrow.infiltration_percent,
        atypical_morphology_over_25_percent=marrow.atypical_morphology_over_25_percent,
        aspirate_mast_cells_percent=marrow.aspirate_mast_cells_percent,
        immature_atypical_morphology=marrow.immature_atypical_morphology,
        cd25=marrow.cd25,
        cd2=marrow.cd2,
        cd30=marrow.cd30,
        dysplasia_or_myeloproliferation=marrow.dysplasia_or_myeloproliferation,
        cytopenia_caused_by_mast_cells=marrow.cytopenia_caused_by_mast_cells,
        other_organ_biopsied=other is not None,
        other_organ=None if other is None else other.organ,
        other_organ_multifocal_dense_infiltrates=None if other is None else other.multifocal_dense_infiltrates,
        other_organ_atypical_morphology_over_25_percent=None if other is None else other.atypical_morphology_over_25_percent,
        other_organ_cd25_cd2_cd30=None if other is None else other.cd25_cd2_cd30,
        destructive_sarcoma=None if other is None else other.destructive_sarcoma,
        associated_hematologic_neoplasm=case.associated_hematologic_neoplasm,
        kit_d816v=molecular.kit_d816v,
        kit_d816v_sample=molecular.kit_d816v_sample,
        kit_d816v_vaf_percent=molecular.kit_d816v_vaf_percent,
        other_activating_kit_mutation=molecular.other_activating_kit_mutation,
        tpsab1_extra_alpha_copies=molecular.tpsab1_extra_alpha_copies,
        baseline_tryptase_ng_ml=labs.baseline_tryptase_ng_ml,
        hemoglobin_g_dl=labs.hemoglobin_g_dl,
        platelets_10e9_l=labs.platelets_10e9_l,
        neutrophils_10e9_l=labs.neutrophils_10e9_l,
        hepatomegaly=organs.hepatomegaly,
        liver_dysfunction=organs.liver_dysfunction,
        splenomegaly=organs.splenomegaly,
        hypersplenism=organs.hypersplenism,
        lymphadenopathy_max_cm=organs.lymphadenopathy_max_cm,
        osteolysis_max_cm=organs.osteolysis_max_cm,
        pathologic_fracture=organs.pathologic_fracture,
        malabsorption_with_weight_loss=organs.malabsorption_with_weight_loss,
        other_organ_damage=organs.other_organ_damage,
    )


def guidelines(case: Case, warnings: list[str], findings: SMFindings | None = None) -> dict[str, dict[str, Any]]:
    """The contract's GUIDELINE object for WHO 2022, ICC 2022 and WHO 2016 (plus edition, title, source, notes).

    ``findings`` is :func:`sm_findings_from_case` of the case when the caller has it already.
    """
    if findings is None:
        findings = sm_findings_from_case(case)
    warnings.extend(findings_warnings(findings))
    shared = shared_work(findings)
    return {key: module.evaluate(findings, shared).as_dict() for key, module in EDITION_MODULES.items()}


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
        "criteria": [criterion_dict(c) for c in cutaneous_rules.skin_criteria(f)],
        "diagnosis": None,
        "diagnosis_basis": "MIS criteria, with SM excluded or not by the WHO 2022 SM criteria",
        "source": cutaneous_rules.SOURCE,
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

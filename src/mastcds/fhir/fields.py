"""The field table: every finding of mastcds-case/1 that FHIR carries as one Observation, one entry each.

An entry says which Observation.code carries the field (a standard code where
one was read in a source, else the field's own code in the documented
mastcds CodeSystem :data:`MASTCDS_FIELD`, whose codes are the field paths),
what kind of value it holds and, for a quantity, its UCUM unit. Export
(:mod:`mastcds.fhir.write.findings`) and import
(:mod:`mastcds.fhir.read.findings`) both read this table, so a field added
here travels both ways. The fields FHIR carries in elements of their own
(Patient.gender, the lab series, episodes as Conditions, treatments...) are in
:data:`CARRIED_ELSEWHERE`; a test checks that together they cover every field
of the schema, so that a field added to mastcds-case/1 fails it until mapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mastcds.fhir import codes
from mastcds.fhir.codes import Code

MASTCDS_FIELD = f"{codes.MASTCDS_CANONICAL}/CodeSystem/case-field"
# The values of the schema's enumerations (skin.lesions, episodes[].trigger), coded as the schema spells them
MASTCDS_VALUE = f"{codes.MASTCDS_CANONICAL}/CodeSystem/case-value"

ValueType = Literal["boolean", "quantity", "integer", "string", "code", "date"]
Place = Literal["case", "episode"]


@dataclass(frozen=True)
class Field:
    """One case field as one Observation: ``path`` in the case, ``code`` of the Observation, the value's type."""

    path: str
    code: Code
    value: ValueType
    unit: str | None = None  # UCUM code of a quantity
    # where the field lives (a section of the case, or an episode: the Observation's focus), and its keys
    # below the case or the episode (("bone_marrow", "cd25"), ("flushing",)): made once, read on every import
    place: Place = field(init=False)
    keys: tuple[str, ...] = field(init=False)
    parents: tuple[str, ...] = field(init=False)  # keys but the last: the sections to step into
    name: str = field(init=False)  # the last key

    def __post_init__(self) -> None:
        keys = tuple(self.path.removeprefix("episodes[].").split("."))
        object.__setattr__(self, "place", "episode" if self.path.startswith("episodes[].") else "case")
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "parents", keys[:-1])
        object.__setattr__(self, "name", keys[-1])


def _local(path: str, display: str, value: ValueType, unit: str | None = None) -> Field:
    return Field(path, Code(MASTCDS_FIELD, path, display, "mastcds-case/1 field (no standard code read)"), value, unit)


def _standard(path: str, code: Code, value: ValueType, unit: str | None = None) -> Field:
    return Field(path, code, value, unit)


_BONE_MARROW_MAST_CELLS = Code(codes.LOINC, "11109-6", "Mast cells/100 cells in Bone marrow by Manual count",
                               "third-party LOINC mirror only (healthassure.in); no loinc.org page readable here",
                               "secondary")
_SPLENOMEGALY = Code(codes.SNOMED, "16294009", "Splenomegaly", codes._IPS_PROBLEMS)
_HYPERSPLENISM = Code(codes.SNOMED, "58381000", "Hypersplenism", codes._IPS_PROBLEMS)
TPSAB1_EXTRA_ALPHA_COPIES = Code(MASTCDS_FIELD, "molecular.tpsab1_extra_alpha_copies",
                                 "Extra TPSAB1 copies encoding alpha-tryptase",
                                 "mastcds-case/1 field (no LOINC for the alpha-tryptase copy number was found)")

FIELDS: tuple[Field, ...] = (
    _local("evaluation_date", "Date the case is evaluated on", "date"),
    _local("notes", "Case notes", "string"),
    _local("patient.age_years", "Age at evaluation", "quantity", "a"),
    # skin
    _local("skin.lesions", "Typical skin lesions of mastocytosis", "code"),
    _local("skin.darier_sign", "Darier's sign", "boolean"),
    _local("skin.biopsy_mast_cell_infiltrates", "Lesional skin biopsy: increased mast cell infiltrates", "boolean"),
    _local("skin.kit_mutation_in_lesional_skin", "Activating KIT mutation in lesional skin", "boolean"),
    # bone marrow (grouped in one DiagnosticReport whose effective date is the biopsy date)
    _local("bone_marrow.multifocal_dense_infiltrates", "Bone marrow: multifocal dense mast cell infiltrates", "boolean"),
    _local("bone_marrow.infiltration_percent", "Bone marrow: mast cells as % of cellularity in histology",
           "quantity", "%"),
    _local("bone_marrow.atypical_morphology_over_25_percent", "Bone marrow: >25% spindle-shaped or atypical mast cells",
           "boolean"),
    _standard("bone_marrow.aspirate_mast_cells_percent", _BONE_MARROW_MAST_CELLS, "quantity", "%"),
    _local("bone_marrow.immature_atypical_morphology", "Bone marrow: immature atypical mast cell morphology", "boolean"),
    _local("bone_marrow.round_well_differentiated_mast_cells", "Bone marrow: round well-differentiated mast cells",
           "boolean"),
    _local("bone_marrow.cd25", "Bone marrow mast cells express CD25", "boolean"),
    _local("bone_marrow.cd2", "Bone marrow mast cells express CD2", "boolean"),
    _local("bone_marrow.cd30", "Bone marrow mast cells express CD30", "boolean"),
    _local("bone_marrow.dysplasia_or_myeloproliferation", "Bone marrow: dysplasia or myeloproliferation", "boolean"),
    _local("bone_marrow.cytopenia_caused_by_mast_cells", "Cytopenia caused by mast cell infiltration", "boolean"),
    _local("bone_marrow.largest_aggregate_mast_cells", "Bone marrow: mast cells in the largest aggregate", "integer"),
    _local("bone_marrow.spindle_atypical_mast_cells_percent", "Bone marrow: % spindle-shaped or atypical mast cells",
           "quantity", "%"),
    _local("bone_marrow.cytopenia_or_cytosis", "Cytopenia or cytosis", "boolean"),
    _local("bone_marrow.cytopenia_or_cytosis_reactive_cause_excluded", "Cytopenia or cytosis: reactive cause excluded",
           "boolean"),
    # another extracutaneous organ (the organ's Observation is written whenever the section exists)
    _local("other_extracutaneous_organ.organ", "Extracutaneous organ biopsied (other than bone marrow)", "string"),
    _local("other_extracutaneous_organ.multifocal_dense_infiltrates", "Organ: multifocal dense mast cell infiltrates",
           "boolean"),
    _local("other_extracutaneous_organ.atypical_morphology_over_25_percent",
           "Organ: >25% spindle-shaped or atypical mast cells", "boolean"),
    _local("other_extracutaneous_organ.cd25_cd2_cd30", "Organ mast cells express CD25, CD2 or CD30", "boolean"),
    _local("other_extracutaneous_organ.destructive_sarcoma", "Organ: destructive mast cell sarcoma", "boolean"),
    # a neoplasm with no code of the table (or "none"); a coded one is a Condition
    _local("associated_hematologic_neoplasm", "Associated haematological neoplasm", "string"),
    _local("associated_hematologic_neoplasm_lineage", "Lineage of the associated haematological neoplasm", "code"),
    # molecular
    _local("molecular.other_activating_kit_mutation", "Other activating KIT mutation", "string"),
    _local("molecular.other_activating_kit_mutation_sample", "Where the other KIT mutation was found", "code"),
    *(field for sample in ("bone_marrow", "peripheral_blood", "lesional_skin", "other_extracutaneous") for field in (
        _local(f"molecular.kit_d816v_{sample}", f"KIT D816V in {sample.replace('_', ' ')}", "code"),
        *((_local(f"molecular.kit_d816v_{sample}_vaf_percent", f"KIT D816V allele fraction in {sample.replace('_', ' ')}",
                  "quantity", "%"),) if sample != "other_extracutaneous" else ()))),
    _local("labs.circulating_mast_cells_percent", "Circulating mast cells, % of blood leukocytes", "quantity", "%"),
    Field("molecular.tpsab1_extra_alpha_copies", TPSAB1_EXTRA_ALPHA_COPIES, "integer"),
    _local("molecular.srsf2_asxl1_runx1_mutated", "SRSF2, ASXL1 or RUNX1 mutated", "boolean"),
    # organs
    _local("organs.hepatomegaly", "Hepatomegaly", "boolean"),
    _local("organs.liver_dysfunction", "Liver dysfunction due to mast cell infiltration", "boolean"),
    _standard("organs.splenomegaly", _SPLENOMEGALY, "boolean"),
    _standard("organs.hypersplenism", _HYPERSPLENISM, "boolean"),
    _local("organs.lymphadenopathy_max_cm", "Largest lymph node diameter", "quantity", "cm"),
    _local("organs.osteolysis_max_cm", "Largest osteolytic lesion", "quantity", "cm"),
    _local("organs.large_osteolysis", "Large osteolysis (>= 2 cm)", "boolean"),
    _local("allergy_workup.ige_mediated_allergy", "IgE-mediated allergy found by the allergy work-up", "boolean"),
    _local("allergy_workup.other_reactive_disorder", "Other reactive disorder found by the work-up", "boolean"),
    _local("organs.pathologic_fracture", "Pathological fracture caused by osteolysis", "boolean"),
    _local("organs.osteoporosis", "Osteoporosis or osteosclerosis without large osteolysis", "boolean"),
    _local("organs.malabsorption_with_weight_loss", "Malabsorption with weight loss due to mast cell infiltrates",
           "boolean"),
    _local("organs.other_organ_damage", "Other organ damage attributed to mast cell infiltration", "string"),
    # mediator symptoms
    _local("mediator_symptoms.skin", "Recurrent mediator symptoms: skin", "boolean"),
    _local("mediator_symptoms.gastrointestinal", "Recurrent mediator symptoms: gastrointestinal", "boolean"),
    _local("mediator_symptoms.cardiovascular", "Recurrent mediator symptoms: cardiovascular", "boolean"),
    _local("mediator_symptoms.respiratory", "Recurrent mediator symptoms: respiratory", "boolean"),
    _local("mediator_symptoms.nasal_ocular", "Recurrent mediator symptoms: nasal or ocular", "boolean"),
    _local("mediator_symptoms.responds_to_mediator_therapy", "Symptoms respond to mediator-targeting drugs", "boolean"),
    # episodes: one Observation per field, its focus the episode's anaphylaxis Condition
    _local("episodes[].trigger", "Suspected trigger of the episode", "code"),
    _local("episodes[].trigger_detail", "Trigger detail", "string"),
    _local("episodes[].onset_minutes", "Minutes from trigger to full reaction", "quantity", "min"),
    _local("episodes[].baseline_systolic_bp_mmhg", "The patient's usual systolic blood pressure", "quantity", "mm[Hg]"),
    *(_standard(f"episodes[].{name}", code, "boolean") for name, code in codes.EPISODE_FINDINGS.items()),
    _local("episodes[].dyspnoea_wheeze_bronchospasm", "Dyspnoea, wheeze or bronchospasm", "boolean"),
    _local("episodes[].dyspnoea", "Dyspnoea", "boolean"),
    _local("episodes[].wheeze_bronchospasm", "Wheeze or bronchospasm", "boolean"),
    _local("episodes[].acute_urine_n_methylhistamine_ug_g_creatinine", "Acute urinary N-methylhistamine/creatinine",
           "quantity", "ug/g{creat}"),
    _local("episodes[].acute_urine_11b_pgf2a_ng_g_creatinine", "Acute urinary 11beta-PGF2alpha/creatinine", "quantity",
           "ng/g{creat}"),
    _local("episodes[].acute_urine_lte4_pg_mg_creatinine", "Acute urinary leukotriene E4/creatinine", "quantity",
           "pg/mg{creat}"),
    _local("episodes[].stridor_or_laryngeal_oedema", "Stridor or upper-airway oedema", "boolean"),
    _local("episodes[].hypoxaemia", "SpO2 <= 92% or cyanosis", "boolean"),
    _local("episodes[].abdominal_pain_vomiting_diarrhoea", "Crampy abdominal pain, repetitive vomiting or diarrhoea",
           "boolean"),
    _local("episodes[].cardiac_arrest", "Cardiac or respiratory arrest", "boolean"),
    _local("episodes[].acute_tryptase_minutes_after_onset", "Minutes from onset to the acute tryptase sample",
           "quantity", "min"),
    _local("episodes[].epinephrine_doses", "Adrenaline doses given", "integer"),
    _local("episodes[].hospital_admission", "Admitted to hospital", "boolean"),
    _local("episodes[].icu_admission", "Admitted to intensive care", "boolean"),
)

# The case's current lab values (section labs) by lab test: an undated Observation of the test carries one
LAB_FIELDS: dict[str, str] = {
    "tryptase": "baseline_tryptase_ng_ml",
    "ige_total": "ige_total_iu_ml",
    "hemoglobin": "hemoglobin_g_dl",
    "platelets": "platelets_10e9_l",
    "neutrophils": "neutrophils_10e9_l",
    "alkaline_phosphatase": "alkaline_phosphatase_u_l",
    "albumin": "albumin_g_l",
    "beta2_microglobulin": "beta2_microglobulin_mg_l",
    "leukocytes": "leukocytes_10e9_l",
    "eosinophils": "eosinophils_10e9_l",
    "monocytes": "monocytes_10e9_l",
    "urine_n_methylhistamine": "urine_n_methylhistamine_ug_g_creatinine",
    "urine_11b_pgf2a": "urine_11b_pgf2a_ng_g_creatinine",
    "urine_lte4": "urine_lte4_pg_mg_creatinine",
}

# Fields FHIR carries in elements of their own, and where (docs/fhir.md shows both tables).
CARRIED_ELSEWHERE: dict[str, str] = {
    "schema": "implied: an import always gives mastcds-case/1",
    "id": f"Patient.identifier (system {codes.MASTCDS_CASE_ID})",
    "patient.sex": "Patient.gender",
    "patient.birth_date": "Patient.birthDate",
    "patient.weight_kg": f"Observation {codes.LAB_TESTS['weight'].code} Body weight (the current value)",
    "bone_marrow.biopsy_date": "DiagnosticReport (bone marrow examination).effectiveDateTime",
    "associated_hematologic_neoplasm": "Condition (ICD-10-CM and SNOMED CT) for CMML, MDS, AML, CML, MPN, PV, ET, PMF",
    "molecular.kit_d816v": f"Observation {codes.VARIANT_ASSESSMENT.code} Genetic variant assessment, value Present/Absent",
    "molecular.kit_d816v_sample": "Observation.specimen -> Specimen.type (SNOMED CT)",
    "molecular.kit_d816v_vaf_percent": f"component {codes.LAB_TESTS['kit_d816v_vaf'].code} Sample variant allelic frequency",
    **{f"labs.{name}": f"Observation {codes.LAB_TESTS[test].code} without a date (the current value), when the "
                        "series does not give it" for test, name in LAB_FIELDS.items()},
    "episodes[].id": f"Condition.identifier (system {codes.MASTCDS_EPISODE_ID})",
    "episodes[].date": "Condition.onsetDateTime of the anaphylaxis Condition (SNOMED CT 39579001 / ICD-10-CM T78.2XXA)",
    "episodes[].systolic_bp_mmhg": f"Observation {codes.SYSTOLIC_BP.code} Systolic blood pressure, focus the episode",
    "episodes[].acute_tryptase_ng_ml": f"Observation {codes.LAB_TESTS['tryptase'].code} Tryptase, focus the episode, "
                                       "no date",
    "lab_results[].test": "Observation.code (LOINC)",
    "lab_results[].value": "Observation.valueQuantity.value",
    "lab_results[].unit": "Observation.valueQuantity.unit (as reported) and .code (UCUM)",
    "lab_results[].date": "Observation.effectiveDateTime",
    "lab_results[].context": f"Observation.extension {codes.EXT_SAMPLE_CONTEXT}",
    "lab_results[].episode_id": "Observation.focus -> the episode's Condition",
    "treatments[].drug": "MedicationStatement.medicationCodeableConcept (ATC, RxNorm, and the case's own drug name)",
    "treatments[].dose_mg": "MedicationStatement.dosage.doseAndRate.doseQuantity (mg)",
    "treatments[].interval": "MedicationStatement.dosage.timing / asNeededBoolean / text",
    "treatments[].start_date": "MedicationStatement.effectivePeriod.start",
    "treatments[].end_date": "MedicationStatement.effectivePeriod.end",
    "treatments[].indication": "MedicationStatement.reasonCode.text",
}

# The bone-marrow examination report grouping the bone-marrow Observations (no standard code for it was read)
BONE_MARROW_REPORT = Code(MASTCDS_FIELD, "bone_marrow", "Bone marrow examination",
                          "mastcds-case/1 section (no standard code read)")

BY_PATH: dict[str, Field] = {field.path: field for field in FIELDS}
# (system, code) -> field: the Observation codes the import reads as table fields
BY_CODE: dict[tuple[str, str], Field] = {(field.code.system, field.code.code): field for field in FIELDS}

"""The code tables: every code mastcds reads from or writes to FHIR, each with where it was checked.

One module so that a code is written once, next to its source, and used by
name (the FHIR mapping, the CDS Hooks service and the population screening all
import it). ``verification`` says how far a code was checked:

* ``verified``: read in a primary source (the code system's owner, the HL7
  implementation guide that binds it, a reference laboratory's catalogue, or
  the CDC ICD-10-CM release shipped by ``simple-icd-10-cm``; the tests check
  every ICD-10-CM code against that release);
* ``secondary``: only seen in several independent public code bases or value
  sets, no primary page reachable from here. Resolve against a terminology
  server before relying on it for anything but reading.

Codes that could not be checked at all (SNOMED CT concepts for the SM
subtypes below "systemic mast cell disease", SNOMED CT medicinal products,
RxNorm ingredient ids) are deliberately absent: an unknown code is reported by
the importer, never guessed. ``docs/fhir.md`` lists every code with its source.

Local concepts that no standard terminology covers (criterion ids, the REMA
score, the guideline edition) live in code systems under
:data:`MASTCDS_CANONICAL`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mastcds.rules.references import cite

# ---------------------------------------------------------------- code systems
# FHIR R4 §4.3.2 "Code systems", https://hl7.org/fhir/R4/terminologies-systems.html
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
# ICD-O-3 as HL7 Terminology (THO) names it: https://terminology.hl7.org/CodeSystem-icd-o-3.html
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
# HGNC gene ids as the HL7 Genomics Reporting IG 3.0.0 writes them ($HGNCID alias)
HGNC = "http://www.genenames.org/geneId"
# Orphanet as the EU eHDSI value sets write it (hl7-eu/EHDSI-Terminology-package)
ORPHA = "https://www.orpha.net"
# FHIR R4 terminology: https://hl7.org/fhir/R4/codesystem-data-absent-reason.html etc.
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
# FHIR R4 core extension: what caused or triggered a Condition, https://hl7.org/fhir/R4/extension-condition-dueto.html
EXT_CONDITION_DUE_TO = "http://hl7.org/fhir/StructureDefinition/condition-dueTo"

# The project's own namespace for concepts no standard covers. Canonical URLs
# name things; they need not resolve.
MASTCDS_CANONICAL = "https://mastcds.org/fhir"
MASTCDS_CRITERION = f"{MASTCDS_CANONICAL}/CodeSystem/criterion"
MASTCDS_EDITION = f"{MASTCDS_CANONICAL}/CodeSystem/guideline-edition"
MASTCDS_SCORE = f"{MASTCDS_CANONICAL}/CodeSystem/score"
MASTCDS_CATEGORY = f"{MASTCDS_CANONICAL}/CodeSystem/mastocytosis-category"
MASTCDS_SPECIMEN = f"{MASTCDS_CANONICAL}/CodeSystem/specimen"
# The case schema's own drug names (treatments[].drug), written beside the
# standard codes so that a name with no standard code survives a round trip.
MASTCDS_DRUG = f"{MASTCDS_CANONICAL}/CodeSystem/drug"
MASTCDS_EPISODE_ID = f"{MASTCDS_CANONICAL}/NamingSystem/episode-id"
MASTCDS_CASE_ID = f"{MASTCDS_CANONICAL}/NamingSystem/case-id"
# Extension carrying a lab result's sampling context (baseline / acute /
# unknown), which FHIR Observation has no element for.
EXT_SAMPLE_CONTEXT = f"{MASTCDS_CANONICAL}/StructureDefinition/sample-context"

Verification = Literal["verified", "secondary"]


@dataclass(frozen=True)
class Code:
    """One concept in one code system, with the source it was checked in."""

    system: str
    code: str
    display: str
    source: str
    verification: Verification = "verified"

    def coding(self) -> dict[str, str]:
        """The FHIR Coding (system, code, display)."""
        return {"system": self.system, "code": self.code, "display": self.display}

    def matches(self, coding: Mapping[str, Any]) -> bool:
        return coding.get("system") == self.system and coding.get("code") == self.code

    def in_codings(self, codings: Iterable[Mapping[str, Any]]) -> bool:
        """Whether one of ``codings`` is this concept."""
        for coding in codings:
            if coding.get("system") == self.system and coding.get("code") == self.code:
                return True
        return False


def _source(key: str, detail: str) -> str:
    """A code's source: its publisher's document in the bibliography (mastcds.rules.references) and where it was checked."""
    return cite(key, where=detail).text


_GENOMICS_IG = _source("hl7_genomics_ig", "input/fsh at tag 3.0.0")
_VITALS = _source("hl7_fhir_r4", "vital signs value set (observation-vitalsignresult)")
_CDC_ICD10CM = _source("icd10cm", "checked with simple-icd-10-cm 1.5.0")
_EHDSI = _source("ehdsi_mvc", "eHDSI value sets")
_WHO_ICD10 = _source("who_icd10", "2019 version")
_WHO_ATC = "WHO Collaborating Centre for Drug Statistics Methodology, ATC/DDD Index, code "
_LOINC = "LOINC (Regenstrief Institute) "
_SNOMED = "SNOMED CT (SNOMED International) "
_IPS = ("SNOMED CT IPS Free Set (SNOMED International, CC BY 4.0), SNOMED CT International 2022-07-31, as expanded "
        "in the HL7 IPS IG value set ")
_IPS_PROBLEMS = _IPS + "problems-snomed-ct-ips-free-set"
_IPS_ALLERGY = _IPS + "allergy-intolerance-snomed-ct-ips-free-set"
_IPS_SPECIMEN = _IPS + "results-specimen-type-snomed-ct-ips-free-set"
_NZHTS = ("Health New Zealand NZHTS expansion of value set canshare-mastocytosis-cancer-type "
          "(SNOMED CT NZ Edition 2024-10-01)")
_SEER = "NCI SEER Hematopoietic and Lymphoid Neoplasm Database, https://seer.cancer.gov/seertools/hemelymph/"
_IARC = "IARC ICD-O-3 online, http://codes.iarc.fr/code/"
_EHDSI_ATC = ("EU eHDSI Active Ingredient value set 8.1.0 (WHO ATC codes), "
              "https://github.com/hl7-eu/EHDSI-Terminology-package")
_EHDSI_ALLERGEN = ("EU eHDSI Allergen No Drug value set 8.1.0 (SNOMED CT), "
                   "https://github.com/hl7-eu/EHDSI-Terminology-package")
_SYNTHEA = "Synthea (synthetichealth/synthea) module code tables and generated records; no RxNav page readable here"

# ---------------------------------------------------------------- laboratory (LOINC)
# Key = the case schema's lab test name (mastcds-case/1 lab_results[].test).
LAB_TESTS: dict[str, Code] = {
    "tryptase": Code(LOINC, "21582-2", "Tryptase [Mass/volume] in Serum or Plasma",
                     _LOINC + "21582-2, in use at Mayo Clinic Laboratories (test TRYPT) and ARUP Laboratories (0099173)"),
    "ige_total": Code(LOINC, "19113-0", "IgE [Units/volume] in Serum or Plasma",
                      _LOINC + "19113-0, in use in the Mayo Clinic Laboratories catalogue (test IGE) and at ARUP Laboratories (0050345)"),
    "hemoglobin": Code(LOINC, "718-7", "Hemoglobin [Mass/volume] in Blood",
                       _source("loinc", "718-7, member of the CBC panel 58410-2")),
    "platelets": Code(LOINC, "777-3", "Platelets [#/volume] in Blood by Automated count",
                      _source("loinc", "777-3")),
    "neutrophils": Code(LOINC, "751-8", "Neutrophils [#/volume] in Blood by Automated count",
                        _LOINC + "751-8 as bound in the Taiwan MOHW TWHA implementation guide value set", "secondary"),
    "alkaline_phosphatase": Code(LOINC, "6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma",
                                 _LOINC + "6768-6, in use at Mayo Clinic Laboratories (test ALP)"),
    "albumin": Code(LOINC, "1751-7", "Albumin [Mass/volume] in Serum or Plasma",
                    _LOINC + "1751-7 in public laboratory code tables (several independent code bases)", "secondary"),
    "beta2_microglobulin": Code(LOINC, "1952-1", "Beta-2-Microglobulin [Mass/volume] in Serum or Plasma",
                                _LOINC + "1952-1, in use at Mayo Clinic Laboratories (test B2M)"),
    "kit_d816v_vaf": Code(LOINC, "81258-6", "Sample variant allelic frequency [NFr]", _GENOMICS_IG),
    "weight": Code(LOINC, "29463-7", "Body weight", _VITALS),
    "ldh": Code(LOINC, "2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma",
                _LOINC + "2532-0 in public laboratory code tables (two independent code bases)", "secondary"),
    "leukocytes": Code(LOINC, "6690-2", "Leukocytes [#/volume] in Blood by Automated count", _LOINC + "6690-2"),
    "eosinophils": Code(LOINC, "711-2", "Eosinophils [#/volume] in Blood by Automated count", _LOINC + "711-2"),
    "monocytes": Code(LOINC, "742-7", "Monocytes [#/volume] in Blood by Automated count", _LOINC + "742-7"),
    # No LOINC code for these per-creatinine urinary mediators was verified: mastcds local codes
    "urine_n_methylhistamine": Code(f"{MASTCDS_CANONICAL}/CodeSystem/observation", "urine-n-methylhistamine",
                                    "N-methylhistamine/creatinine in urine", "mastcds local code"),
    "urine_11b_pgf2a": Code(f"{MASTCDS_CANONICAL}/CodeSystem/observation", "urine-11b-pgf2a",
                            "11beta-prostaglandin F2alpha (or 2,3-dinor-11beta-PGF2alpha)/creatinine in urine", "mastcds local code"),
    "urine_lte4": Code(f"{MASTCDS_CANONICAL}/CodeSystem/observation", "urine-lte4",
                       "Leukotriene E4/creatinine in urine", "mastcds local code"),
}

# UCUM code written for a value already in the case's canonical unit
# (mastcds.units.LAB_SPECS[test].canonical), http://unitsofmeasure.org
CANONICAL_UCUM: dict[str, str] = {
    "tryptase": "ng/mL",
    "ige_total": "[IU]/mL",
    "hemoglobin": "g/dL",
    "platelets": "10*9/L",
    "neutrophils": "10*9/L",
    "alkaline_phosphatase": "U/L",
    "albumin": "g/L",
    "beta2_microglobulin": "mg/L",
    "kit_d816v_vaf": "%",
    "weight": "kg",
    "ldh": "U/L",
    "leukocytes": "10*9/L",
    "eosinophils": "10*9/L",
    "monocytes": "10*9/L",
    "urine_n_methylhistamine": "ug/g{creat}",
    "urine_11b_pgf2a": "ng/g{creat}",
    "urine_lte4": "pg/mg{creat}",
}

SYSTOLIC_BP = Code(LOINC, "8480-6", "Systolic blood pressure", _VITALS)
BP_PANEL = Code(LOINC, "85354-9", "Blood pressure panel with all children optional", _VITALS)
MMHG = "mm[Hg]"

# ---------------------------------------------------------------- KIT D816V (genomics)
VARIANT_ASSESSMENT = Code(LOINC, "69548-6", "Genetic variant assessment", _GENOMICS_IG)
GENE_STUDIED = Code(LOINC, "48018-6", "Gene studied [ID]", _GENOMICS_IG)
AMINO_ACID_CHANGE = Code(LOINC, "48005-3", "Amino acid change (pHGVS)", _GENOMICS_IG)
GENOMIC_SOURCE_CLASS = Code(LOINC, "48002-0", "Genomic source class [Type]", _GENOMICS_IG)
SOMATIC = Code(LOINC, "LA6684-0", "Somatic", _GENOMICS_IG)
PRESENT = Code(LOINC, "LA9633-4", "Present", _GENOMICS_IG)
ABSENT = Code(LOINC, "LA9634-2", "Absent", _LOINC + "LA9634-2 in public FSH examples and value sets", "secondary")
KIT_GENE = Code(HGNC, "HGNC:6342", "KIT", "HGNC:6342 (HUGO Gene Nomenclature Committee) in several independent public files", "secondary")
KIT_D816V_PROTEIN_CHANGE = "p.Asp816Val"  # HGVS for D816V; also accepted: "p.D816V"

# Where the KIT test was done (case molecular.kit_d816v_sample) -> Specimen.type
SPECIMEN_TYPES: dict[str, Code] = {
    "bone_marrow": Code(SNOMED, "119359002", "Bone marrow specimen",
                        _SNOMED + "in several public specimen value sets", "secondary"),
    "peripheral_blood": Code(SNOMED, "119297000", "Blood specimen", _IPS_SPECIMEN),
    "skin": Code(SNOMED, "119325001", "Tissue specimen from skin", _IPS_SPECIMEN),
    "other_extracutaneous": Code(MASTCDS_SPECIMEN, "other-extracutaneous",
                                 "Tissue specimen from an extracutaneous organ other than bone marrow",
                                 "mastcds local code: no single SNOMED CT concept"),
}

# ---------------------------------------------------------------- episode findings (SNOMED CT)
# Episode fields of mastcds-case/1 that FHIR can carry as a finding Observation
# (value PRESENT / ABSENT, focus = the anaphylaxis Condition). Presyncope,
# flushing and the respiratory / GI findings have no SNOMED id checked here
# and stay in the case document.
EPISODE_FINDINGS: dict[str, Code] = {
    "loss_of_consciousness": Code(SNOMED, "271594007", "Syncope", _IPS_PROBLEMS),
    "presyncope": Code(SNOMED, "427461000", "Near syncope", _IPS_PROBLEMS),
    "urticaria": Code(SNOMED, "126485001", "Urticaria", _IPS_PROBLEMS),
    "angioedema": Code(SNOMED, "41291007", "Angioedema", _IPS_PROBLEMS),
    "flushing": Code(SNOMED, "238810007", "Flushing", _IPS_PROBLEMS),
    "pruritus": Code(SNOMED, "418290006", "Itching", _IPS_PROBLEMS),
}
# SNOMED CT qualifier values Present / Absent, read as a finding's value besides the LOINC answers
PRESENT_SNOMED = Code(SNOMED, "52101004", "Present", "EU eHDSI Presence Absence value set 8.1.0")
ABSENT_SNOMED = Code(SNOMED, "2667000", "Absent", _IPS + "results-presence-absence-snomed-ct-ips-free-set")

# ---------------------------------------------------------------- conditions
ANAPHYLAXIS = Code(SNOMED, "39579001", "Anaphylaxis",
                   _source("snomed_ct", "SNOMED International's template pages; eHDSI ReactionAllergy value set"))
ANAPHYLAXIS_CAUSED_BY_SUBSTANCE = Code(SNOMED, "417516000", "Anaphylaxis caused by substance",
                                       _source("snomed_ct", "SNOMED International's template pages"))
NON_ALLERGIC_ANAPHYLAXIS = Code(SNOMED, "35001004", "Non-allergic anaphylaxis", _EHDSI)
ANAPHYLAXIS_ICD10CM = Code(ICD10CM, "T78.2XXA", "Anaphylactic shock, unspecified, initial encounter", _CDC_ICD10CM)
HISTORY_OF_ANAPHYLAXIS = Code(ICD10CM, "Z87.892", "Personal history of anaphylaxis", _CDC_ICD10CM)

# ICD codes of an anaphylaxis episode, as prefixes (ICD is hierarchical):
# T78.2 unspecified, T78.0- food, T88.6 correct drug, T80.5- serum/vaccine.
# In ICD-10-CM the 7th character A marks the initial encounter: D (subsequent)
# and S (sequela) codes follow an episode already counted.
ANAPHYLAXIS_ICD_PREFIXES = ("T78.2", "T78.0", "T88.6", "T80.5")

# Hymenoptera venom as ICD-10-CM writes it: "Toxic effect of venom of" ants T63.42-, bees T63.44-,
# hornets T63.45-, wasps T63.46- (CDC April 2026: T63.421A, T63.441A, T63.451A, T63.461A checked).
HYMENOPTERA_VENOM_ICD10CM_PREFIXES = ("T63.42", "T63.44", "T63.45", "T63.46")
HYPOTENSION_ICD10CM = Code(ICD10CM, "I95.9", "Hypotension, unspecified", _CDC_ICD10CM)

_ICD10_C96_2 = Code(ICD10, "C96.2", "Malignant mast cell tumour", _WHO_ICD10)
# Diagnosis codes mastcds writes for a category (docs/evaluation-contract.md CODE): ICD-10-CM, WHO ICD-10,
# SNOMED CT where a concept was read, ORPHA.
CATEGORY_CODES: dict[str, tuple[Code, ...]] = {
    "ISM": (Code(ICD10CM, "D47.02", "Systemic mastocytosis", _CDC_ICD10CM),
            Code(SNOMED, "397016004", "Systemic mast cell disease", _IPS_PROBLEMS),
            Code(ORPHA, "98848", "Indolent systemic mastocytosis", _EHDSI)),
    "BMM": (Code(ICD10CM, "D47.02", "Systemic mastocytosis", _CDC_ICD10CM),
            Code(SNOMED, "397016004", "Systemic mast cell disease", _IPS_PROBLEMS),
            Code(ORPHA, "158778", "Isolated bone marrow mastocytosis", _EHDSI)),
    "SSM": (Code(ICD10CM, "D47.02", "Systemic mastocytosis", _CDC_ICD10CM),
            Code(SNOMED, "397016004", "Systemic mast cell disease", _IPS_PROBLEMS),
            Code(ORPHA, "158775", "Smoldering systemic mastocytosis", _EHDSI)),
    "SM-AHN": (Code(ICD10CM, "D47.02", "Systemic mastocytosis", _CDC_ICD10CM),
               Code(SNOMED, "397016004", "Systemic mast cell disease", _IPS_PROBLEMS),
               Code(ORPHA, "98849", "Systemic mastocytosis with an associated hematologic neoplasm", _EHDSI)),
    "ASM": (Code(ICD10CM, "C96.21", "Aggressive systemic mastocytosis", _CDC_ICD10CM),
            _ICD10_C96_2,
            Code(SNOMED, "397016004", "Systemic mast cell disease", _IPS_PROBLEMS),
            Code(ORPHA, "98850", "Aggressive systemic mastocytosis", _EHDSI)),
    "MCL": (Code(ICD10CM, "C94.30", "Mast cell leukemia not having achieved remission", _CDC_ICD10CM),
            Code(ICD10, "C94.3", "Mast cell leukaemia", _WHO_ICD10),
            Code(ORPHA, "98851", "Mast cell leukemia", _EHDSI)),
    "MCS": (Code(ICD10CM, "C96.22", "Mast cell sarcoma", _CDC_ICD10CM),
            _ICD10_C96_2,
            Code(ORPHA, "66661", "Mast cell sarcoma", _EHDSI)),
    "CM": (Code(ICD10CM, "D47.01", "Cutaneous mastocytosis", _CDC_ICD10CM),
           Code(ICD10, "Q82.2", "Mastocytosis", _WHO_ICD10),
           Code(SNOMED, "397012002", "Cutaneous mastocytosis", _NZHTS, "secondary")),
}
CATEGORY_DISPLAY: dict[str, str] = {
    "ISM": "Indolent systemic mastocytosis",
    "BMM": "Bone marrow mastocytosis",
    "SSM": "Smoldering systemic mastocytosis",
    "SM-AHN": "Systemic mastocytosis with an associated haematological neoplasm",
    "ASM": "Aggressive systemic mastocytosis",
    "MCL": "Mast cell leukaemia",
    "MCS": "Mast cell sarcoma",
    "CM": "Cutaneous mastocytosis",
}

# MCAS variant of the evaluation (mcas.variant) -> ICD-10-CM D89.4x (no WHO ICD-10 code exists)
MCAS_CODES: dict[str, Code] = {
    "primary": Code(ICD10CM, "D89.41", "Monoclonal mast cell activation syndrome", _CDC_ICD10CM),
    "idiopathic": Code(ICD10CM, "D89.42", "Idiopathic mast cell activation syndrome", _CDC_ICD10CM),
    "secondary": Code(ICD10CM, "D89.43", "Secondary mast cell activation", _CDC_ICD10CM),
}
HEREDITARY_ALPHA_TRYPTASEMIA = Code(ICD10CM, "D89.44", "Hereditary alpha tryptasemia", _CDC_ICD10CM)

# THE table of recorded mast-cell diagnoses: every code import, CDS Hooks and screening recognise, with
# what it records (a mastcds category where the code is that specific, else a wider label). The SNOMED CT
# mastocytosis hierarchy below "systemic mast cell disease" (indolent, smouldering, aggressive SM, MCL,
# MPCM / urticaria pigmentosa, DCM, mastocytoma, mast cell sarcoma) and a SNOMED CT MCAS concept could
# not be read in any source reachable here and are left out; so is 397015002, cited for systemic
# mastocytosis in issue 17 but found in no source. ICD-O-3 morphology codes are read as Condition codes too
# (registries and pathology systems send them).
MAST_CELL_DIAGNOSES: tuple[tuple[Code, str], ...] = (
    (Code(ICD10CM, "D47.0", "Mast cell neoplasms of uncertain behavior", _CDC_ICD10CM), "mast cell neoplasm"),
    (Code(ICD10CM, "D47.01", "Cutaneous mastocytosis", _CDC_ICD10CM), "CM"),
    (Code(ICD10CM, "D47.02", "Systemic mastocytosis", _CDC_ICD10CM), "SM"),
    (Code(ICD10CM, "D47.09", "Other mast cell neoplasms of uncertain behavior", _CDC_ICD10CM), "mast cell neoplasm"),
    (Code(ICD10CM, "C96.20", "Malignant mast cell neoplasm, unspecified", _CDC_ICD10CM), "malignant mast cell neoplasm"),
    (Code(ICD10CM, "C96.21", "Aggressive systemic mastocytosis", _CDC_ICD10CM), "ASM"),
    (Code(ICD10CM, "C96.22", "Mast cell sarcoma", _CDC_ICD10CM), "MCS"),
    (Code(ICD10CM, "C96.29", "Other malignant mast cell neoplasm", _CDC_ICD10CM), "malignant mast cell neoplasm"),
    (Code(ICD10CM, "C94.30", "Mast cell leukemia not having achieved remission", _CDC_ICD10CM), "MCL"),
    (Code(ICD10CM, "C94.31", "Mast cell leukemia, in remission", _CDC_ICD10CM), "MCL"),
    (Code(ICD10CM, "C94.32", "Mast cell leukemia, in relapse", _CDC_ICD10CM), "MCL"),
    (Code(ICD10CM, "Q82.2", "Congenital cutaneous mastocytosis", _CDC_ICD10CM), "CM"),
    (Code(ICD10CM, "D89.40", "Mast cell activation, unspecified", _CDC_ICD10CM), "MCAS"),
    (Code(ICD10CM, "D89.41", "Monoclonal mast cell activation syndrome", _CDC_ICD10CM), "MCAS"),
    (Code(ICD10CM, "D89.42", "Idiopathic mast cell activation syndrome", _CDC_ICD10CM), "MCAS"),
    (Code(ICD10CM, "D89.43", "Secondary mast cell activation", _CDC_ICD10CM), "MCAS"),
    (Code(ICD10CM, "D89.44", "Hereditary alpha tryptasemia", _CDC_ICD10CM), "HaT"),
    (Code(ICD10CM, "D89.49", "Other mast cell activation disorder", _CDC_ICD10CM), "MCAS"),
    (Code(ICD10, "D47.0", "Histiocytic and mast cell tumours of uncertain and unknown behaviour", _WHO_ICD10),
     "mast cell neoplasm"),
    (_ICD10_C96_2, "malignant mast cell neoplasm"),
    (Code(ICD10, "C94.3", "Mast cell leukaemia", _WHO_ICD10), "MCL"),
    (Code(ICD10, "Q82.2", "Mastocytosis", _WHO_ICD10), "CM"),
    (Code(SNOMED, "397016004", "Systemic mast cell disease", _IPS_PROBLEMS), "SM"),
    (Code(SNOMED, "397012002", "Cutaneous mastocytosis", _NZHTS, "secondary"), "CM"),
    (Code(SNOMED, "414653009", "Mastocytosis", _NZHTS, "secondary"), "mast cell neoplasm"),
    (Code(SNOMED, "118615008", "Malignant mast cell tumour (clinical)", _NZHTS, "secondary"),
     "malignant mast cell neoplasm"),
    (Code(ICDO3, "9740/1", "Mastocytoma, NOS", _SEER + "51f6cf56e3e27c3994bd531b"), "mast cell neoplasm"),
    (Code(ICDO3, "9740/3", "Mast cell sarcoma", _SEER + "51f6cf5ae3e27c3994bd54c2 (code not shown there)",
          "secondary"), "MCS"),
    (Code(ICDO3, "9741/1", "Indolent systemic mastocytosis", _SEER + "51f6cf5ae3e27c3994bd54b0"), "ISM"),
    (Code(ICDO3, "9741/3", "Malignant mastocytosis", _IARC + "1853; " + _SEER + "51f6cf5ae3e27c3994bd54b0"), "SM"),
    (Code(ICDO3, "9742/3", "Mast cell leukaemia", _IARC + "1855; " + _SEER + "51f6cf5ae3e27c3994bd54b3"), "MCL"),
    (Code(ORPHA, "98848", "Indolent systemic mastocytosis", _EHDSI), "ISM"),
    (Code(ORPHA, "158778", "Isolated bone marrow mastocytosis", _EHDSI), "BMM"),
    (Code(ORPHA, "158775", "Smoldering systemic mastocytosis", _EHDSI), "SSM"),
    (Code(ORPHA, "98849", "Systemic mastocytosis with associated hematologic neoplasm", _EHDSI), "SM-AHN"),
    (Code(ORPHA, "98850", "Aggressive systemic mastocytosis", _EHDSI), "ASM"),
    (Code(ORPHA, "98851", "Mast cell leukemia", _EHDSI), "MCL"),
    (Code(ORPHA, "566393", "Acute mast cell leukemia", _EHDSI), "MCL"),
    (Code(ORPHA, "566396", "Chronic mast cell leukemia", _EHDSI), "MCL"),
    (Code(ORPHA, "66661", "Mast cell sarcoma", _EHDSI), "MCS"),
    (Code(ORPHA, "66662", "Extracutaneous mastocytoma", _EHDSI), "mast cell neoplasm"),
    (Code(ORPHA, "79457", "Maculopapular cutaneous mastocytosis", _EHDSI), "CM"),
    (Code(ORPHA, "79456", "Diffuse cutaneous mastocytosis", _EHDSI), "CM"),
    (Code(ORPHA, "79455", "Cutaneous mastocytoma", _EHDSI), "CM"),
    (Code(ORPHA, "280785", "Bullous diffuse cutaneous mastocytosis", _EHDSI), "CM"),
    (Code(ORPHA, "280794", "Pseudoxanthomatous diffuse cutaneous mastocytosis", _EHDSI), "CM"),
    (Code(ORPHA, "158766", "Typical urticaria pigmentosa", _EHDSI, "secondary"), "CM"),
    (Code(ORPHA, "529468", "Monoclonal mast cell activation syndrome", _EHDSI), "MCAS"),
)
# (system, code) -> label: the look-up import, CDS Hooks and screening use
RECORDED_MAST_CELL_DIAGNOSES: dict[tuple[str, str], str] = {(c.system, c.code): label for c, label in MAST_CELL_DIAGNOSES}
# The labels that mean mastocytosis (SM or CM, any subtype), not MCAS or HaT
MASTOCYTOSIS_LABELS = frozenset({"mast cell neoplasm", "CM", "SM", "malignant mast cell neoplasm", "ASM", "MCS",
                                 "MCL", "ISM", "BMM", "SSM", "SM-AHN"})

# Haematological neoplasms that make SM an SM-AHN (case field associated_hematologic_neoplasm):
# name -> (ICD prefix, the same in ICD-10-CM and WHO ICD-10; the ICD-10-CM code export writes; SNOMED CT).
HEMATOLOGIC_NEOPLASMS: dict[str, tuple[str, Code, Code]] = {
    "CMML": ("C93.1", Code(ICD10CM, "C93.10", "Chronic myelomonocytic leukemia not having achieved remission", _CDC_ICD10CM),
             Code(SNOMED, "127225006", "Chronic myelomonocytic leukemia", _IPS_PROBLEMS)),
    "MDS": ("D46", Code(ICD10CM, "D46.9", "Myelodysplastic syndrome, unspecified", _CDC_ICD10CM),
            Code(SNOMED, "109995007", "Myelodysplastic syndrome (clinical)", _IPS_PROBLEMS)),
    "AML": ("C92.0", Code(ICD10CM, "C92.00", "Acute myeloblastic leukemia, not having achieved remission", _CDC_ICD10CM),
            Code(SNOMED, "91861009", "Acute myeloid leukemia, disease", _IPS_PROBLEMS)),
    "CML": ("C92.1", Code(ICD10CM, "C92.10", "Chronic myeloid leukemia, BCR/ABL-positive, not having achieved remission",
                          _CDC_ICD10CM),
            Code(SNOMED, "92818009", "Chronic myeloid leukemia", _IPS_PROBLEMS)),
    "MPN": ("D47.1", Code(ICD10CM, "D47.1", "Chronic myeloproliferative disease", _CDC_ICD10CM),
            Code(SNOMED, "425333006", "Myeloproliferative disorder", _IPS_PROBLEMS)),
    "PV": ("D45", Code(ICD10CM, "D45", "Polycythemia vera", _CDC_ICD10CM),
           Code(SNOMED, "109992005", "Polycythemia vera (clinical)", _IPS_PROBLEMS)),
    "ET": ("D47.3", Code(ICD10CM, "D47.3", "Essential (hemorrhagic) thrombocythemia", _CDC_ICD10CM),
           Code(SNOMED, "109994006", "Essential thrombocythemia", _IPS_PROBLEMS)),
    "PMF": ("D47.4", Code(ICD10CM, "D47.4", "Osteomyelofibrosis", _CDC_ICD10CM),
            Code(SNOMED, "52967002", "Myelofibrosis", _IPS_PROBLEMS)),
}
_NEOPLASM_BY_SNOMED = {snomed.code: name for name, (_prefix, _icd, snomed) in HEMATOLOGIC_NEOPLASMS.items()}

# ---------------------------------------------------------------- allergens (AllergyIntolerance.code)
# SNOMED CT substances -> the episode trigger of mastcds-case/1 they are (Hymenoptera: bees, wasps,
# hornets, ants; "insect venom" is read as Hymenoptera venom, the stinging insects).
ALLERGENS: dict[tuple[str, str], tuple[str, str]] = {
    (SNOMED, "288328004"): ("hymenoptera_venom", "Bee venom"),
    (SNOMED, "256440004"): ("hymenoptera_venom", "Wasp venom"),
    (SNOMED, "288326000"): ("hymenoptera_venom", "Hornet venom"),
    (SNOMED, "288460008"): ("hymenoptera_venom", "Bumble bee venom"),
    (SNOMED, "773757000"): ("hymenoptera_venom", "Ant venom"),
    (SNOMED, "280939008"): ("hymenoptera_venom", "Insect venom"),
    (SNOMED, "282095007"): ("hymenoptera_venom", "Allergic reaction to bee sting"),
    (SNOMED, "255620007"): ("food", "Food"),
    (SNOMED, "762952008"): ("food", "Peanut"),
}
ALLERGEN_SOURCES = {"288328004": _IPS_ALLERGY, "256440004": _IPS_ALLERGY, "280939008": _IPS_ALLERGY,
                    "282095007": _IPS_PROBLEMS}  # the others: _EHDSI_ALLERGEN
# AllergyIntolerance.category (FHIR R4 value set allergy-intolerance-category) -> trigger, when no code is known
ALLERGY_CATEGORY_TRIGGERS = {"food": "food", "medication": "drug", "biologic": "drug"}

# ---------------------------------------------------------------- medications
# Key = the case schema's treatment drug name (the treatment ladder's drugs,
# src/mastcds/rules/treatment/tables/treatment_ladder.json). ATC is hierarchical: a code
# under a class code (cetirizine R06AE07 under R06A) is that class. SNOMED CT
# medicinal products: none could be read here (the IPS free set holds vaccines only).
def _atc(code: str, display: str, verification: Verification = "verified") -> Code:
    return Code(ATC, code, display, _EHDSI_ATC, verification)


DRUG_CODES: dict[str, tuple[Code, ...]] = {
    "omalizumab": (
        _atc("R03DX05", "omalizumab"),
        Code(RXNORM, "1657209", "omalizumab 150 MG Injection",
             "RxNorm (National Library of Medicine) via the NDC 50242-040-62 crosswalk of a public NDC directory", "secondary"),
        Code(RXNORM, "2058943", "1 ML omalizumab 150 MG/ML Prefilled Syringe", "RxNorm via the same NDC crosswalk", "secondary"),
        Code(RXNORM, "1657212", "Xolair 150 MG Injection", "RxNorm via the same NDC crosswalk", "secondary"),
    ),
    "h1_antihistamine": (Code(ATC, "R06A", "Antihistamines for systemic use", _WHO_ATC + "R06A", "secondary"),),
    "h2_antihistamine": (Code(ATC, "A02BA", "H2-receptor antagonists", _WHO_ATC + "A02BA", "secondary"),),
    "proton_pump_inhibitor": (Code(ATC, "A02BC", "Proton pump inhibitors", _WHO_ATC + "A02BC", "secondary"),),
    "leukotriene_antagonist": (Code(ATC, "R03DC", "Leukotriene receptor antagonists", _WHO_ATC + "R03DC", "secondary"),),
    "glucocorticoid": (Code(ATC, "H02AB", "Glucocorticoids", _WHO_ATC + "H02AB", "secondary"),),
    "cromolyn": (_atc("A07EB01", "cromoglicic acid"),),
    "aspirin": (_atc("B01AC06", "acetylsalicylic acid"), _atc("N02BA01", "acetylsalicylic acid")),
    "epinephrine_autoinjector": (
        _atc("C01CA24", "epinephrine"),
        Code(RXNORM, "1870230", "NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector", _SYNTHEA, "secondary"),
    ),
    "midostaurin": (_atc("L01EX10", "midostaurin"),),
    "avapritinib": (_atc("L01EX18", "avapritinib"),),
    "interferon_alpha": (_atc("L03AB04", "interferon alfa-2a"), _atc("L03AB05", "interferon alfa-2b"),
                         _atc("L03AB10", "peginterferon alfa-2b"), _atc("L03AB11", "peginterferon alfa-2a"),
                         _atc("L03AB15", "ropeginterferon alfa-2b")),
    "cladribine": (_atc("L01BB04", "cladribine"),),
    "venom_immunotherapy": (_atc("V01AA07", "insects"),),
}
# Codes read as a drug but not written: other ATC codes of the same substance, the former ATC code of
# midostaurin (before L01E was created; WHO ATC alterations, secondary), plain epinephrine products.
READ_ONLY_DRUG_CODES: dict[tuple[str, str], str] = {
    (ATC, "L01XE39"): "midostaurin",
    (ATC, "R01AC01"): "cromolyn", (ATC, "R03BC01"): "cromolyn",
    (ATC, "L03AB01"): "interferon_alpha",
    (RXNORM, "1660014"): "epinephrine",  # "1 ML Epinephrine 1 MG/ML Injection" (Synthea; secondary)
}
# C01CA24 is any adrenaline; the form tells the auto-injector apart. RxNorm 1870230 is itself one.
_AUTOINJECTOR_WORDS = ("auto-injector", "autoinjector", "auto injector", "pen", "epipen", "jext", "emerade", "anapen")
_AUTOINJECTOR_CODES = frozenset({(RXNORM, "1870230")})


# ---------------------------------------------------------------- look-ups
_OBJECT = (dict, Mapping)  # isinstance(x, _OBJECT): the C check of dict first, the tuple made once, not at each check

def codings_of(concept: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The codings of a CodeableConcept (none for a missing or malformed one): read them, never change the list.

    When every coding is a JSON object, as nearly always, the list is the
    concept's own: building a copy on each of the ~40 look-ups of a CDS Hooks
    call cost more than the check.
    """
    if concept is None or not isinstance(concept, _OBJECT):  # an absent element decided before the Mapping ABC check
        return []
    codings = concept.get("coding")
    if not isinstance(codings, list):
        return []
    for coding in codings:
        if type(coding) is not dict and not isinstance(coding, Mapping):  # exact type first: the ABC check is slow
            return [c for c in codings if isinstance(c, _OBJECT)]
    return codings


def malformed(coding: Mapping[str, Any], elements: tuple[str, ...] = ("system", "code")) -> bool:
    """Whether a list or an object stands where a coding's system or code belongs: then it names no code.

    :func:`codings_of` keeps such codings (checking every coding would cost a
    CDS Hooks call more than the rest of the reading); the look-ups by
    (system, code) below raise TypeError on one, and the FHIR import leaves it
    out (with a note) when they do.
    """
    return any(isinstance(coding.get(element), (list, Mapping)) for element in elements)


_LAB_BY_CODE = {(code.system, code.code): test for test, code in LAB_TESTS.items()}

ObservationKind = Literal["lab", "kit-variant", "blood-pressure"]
# The Observation codes the FHIR import reads besides the field table of
# mastcds.fhir.fields (findings, read when none of these matches), with their
# kind and a detail (the case's lab test, the code itself). The kinds rank in
# this order: one lab code anywhere in a concept makes it a lab result, else a
# variant assessment, else a blood pressure.
# code -> (rank, (kind, detail)): the pair returned as it is, not built on each look-up
_OBSERVATION_BY_CODE: dict[tuple[str, str], tuple[int, tuple[ObservationKind, str]]] = {
    **{key: (0, ("lab", test)) for key, test in _LAB_BY_CODE.items()},
    (VARIANT_ASSESSMENT.system, VARIANT_ASSESSMENT.code): (1, ("kit-variant", VARIANT_ASSESSMENT.code)),
    (SYSTOLIC_BP.system, SYSTOLIC_BP.code): (2, ("blood-pressure", SYSTOLIC_BP.code)),
    (BP_PANEL.system, BP_PANEL.code): (2, ("blood-pressure", BP_PANEL.code)),
}


def lab_test_for(codings: Iterable[Mapping[str, Any]]) -> str | None:
    """The case lab test a LOINC coding names, or None."""
    for coding in codings:
        test = _LAB_BY_CODE.get((coding.get("system"), coding.get("code")))
        if test is not None:
            return test
    return None


def observation_kind(codings: Iterable[Mapping[str, Any]]) -> tuple[ObservationKind, str] | None:
    """What an Observation's code means to mastcds, with a detail, or None when it means nothing.

    ``("lab", test)`` a lab value; ``("kit-variant", code)`` a KIT variant
    assessment; ``("blood-pressure", code)`` a systolic pressure or a panel
    holding one; ``("finding", field)`` an episode finding. The highest-ranked
    kind among the codings wins (lab, kit-variant, blood-pressure, finding),
    and within a kind the first coding. A :func:`malformed` coding raises TypeError.
    """
    best: tuple[int, tuple[ObservationKind, str]] | None = None
    for coding in codings:
        found = _OBSERVATION_BY_CODE.get((coding.get("system"), coding.get("code")))
        if found is not None and (best is None or found[0] < best[0]):
            best = found
            if found[0] == 0:
                break  # a lab code: nothing ranks above it
    return None if best is None else best[1]


def _icd_starts(coding: Mapping[str, Any], prefixes: Iterable[str]) -> bool:
    code = str(coding.get("code", ""))
    return coding.get("system") in (ICD10CM, ICD10) and any(code.startswith(p) for p in prefixes)


ConditionKind = Literal["anaphylaxis", "anaphylaxis-follow-up", "history-of-anaphylaxis", "mast-cell", "neoplasm"]


def condition_kind(codings: Iterable[Mapping[str, Any]]) -> tuple[ConditionKind, str] | None:
    """What a Condition's code means to mastcds, with a detail, or None when it means nothing.

    ``("anaphylaxis", code)`` an episode; ``("anaphylaxis-follow-up", code)``
    a later encounter for one (ICD-10-CM 7th character D or S);
    ``("mast-cell", label)`` a recorded mast-cell diagnosis;
    ``("neoplasm", name)`` a haematological neoplasm (CMML, MDS...).
    """
    codings = list(codings)
    for coding in codings:
        if ANAPHYLAXIS.matches(coding) or ANAPHYLAXIS_CAUSED_BY_SUBSTANCE.matches(coding) or NON_ALLERGIC_ANAPHYLAXIS.matches(coding):
            return "anaphylaxis", str(coding["code"])
        if HISTORY_OF_ANAPHYLAXIS.matches(coding):
            return "history-of-anaphylaxis", HISTORY_OF_ANAPHYLAXIS.code
        if _icd_starts(coding, ANAPHYLAXIS_ICD_PREFIXES):
            code = str(coding["code"])
            if coding.get("system") == ICD10CM and len(code) == 8 and code[-1] in "DS":
                return "anaphylaxis-follow-up", code
            return "anaphylaxis", code
        label = RECORDED_MAST_CELL_DIAGNOSES.get((str(coding.get("system")), str(coding.get("code"))))
        if label is not None:
            return "mast-cell", label
        for name, (prefix, _icd, _snomed) in HEMATOLOGIC_NEOPLASMS.items():
            if _icd_starts(coding, (prefix,)):
                return "neoplasm", name
        if coding.get("system") == SNOMED and str(coding.get("code")) in _NEOPLASM_BY_SNOMED:
            return "neoplasm", _NEOPLASM_BY_SNOMED[str(coding.get("code"))]
    return None


def drug_for(codings: Iterable[Mapping[str, Any]], text: str | None = None) -> str | None:
    """The case drug name a medication coding names (ATC by class prefix, RxNorm exactly), or None.

    Adrenaline is "epinephrine_autoinjector" when the code is an auto-injector
    product (RxNorm 1870230) or the words say so, else "epinephrine".
    """
    for coding in codings:
        system, code = coding.get("system"), str(coding.get("code", ""))
        if not isinstance(system, str):
            continue
        drug = READ_ONLY_DRUG_CODES.get((system, code))
        if drug is None:
            drug = next((name for name, known_codes in DRUG_CODES.items() for known in known_codes
                         if known.system == system and (code == known.code or (system == ATC and code.startswith(known.code)))),
                        None)
        if drug == "epinephrine_autoinjector" and (system, code) not in _AUTOINJECTOR_CODES:
            words = " ".join([text or "", str(coding.get("display", ""))]).lower()
            return drug if any(w in words for w in _AUTOINJECTOR_WORDS) else "epinephrine"
        if drug is not None:
            return drug
    return None


def allergen_trigger(codings: Iterable[Mapping[str, Any]]) -> tuple[str, str] | None:
    """(trigger, substance) of an allergy's substance coding (bee venom -> hymenoptera_venom), or None."""
    for coding in codings:
        found = ALLERGENS.get((str(coding.get("system")), str(coding.get("code"))))
        if found is not None:
            return found
    return None


def is_omalizumab(concept: Mapping[str, Any] | None) -> bool:
    """A medication concept naming omalizumab by code, or by name where it carries no known code."""
    if drug_for(codings_of(concept)) == "omalizumab":
        return True
    if not isinstance(concept, _OBJECT):
        return False
    words = " ".join(
        [str(concept.get("text", ""))] + [str(c.get("display", "")) for c in codings_of(concept)]
    ).lower()
    return "omalizumab" in words or "xolair" in words

"""FHIR R4 adapters: the code table (codes.py), the field table (fields.py), case -> FHIR (from_case.py, write/),
FHIR -> case (to_case.py over the per-resource mappers of read/), evaluation -> FHIR (evaluation.py).

Models: ``fhir.resources`` 8 defaults to R5 and has no R4 module; its
``fhir.resources.R4B`` subpackage (FHIR 4.3) validates the R4 resources used
here (Patient, Observation, Condition, DiagnosticReport, MedicationStatement,
ClinicalImpression, Bundle are unchanged between R4 and R4B for the elements mastcds writes), so
exports are checked with R4B. Imports read plain JSON and check only the
elements they use, because real EHR payloads (and the CDS Hooks examples
themselves) bend R4 in places mastcds does not read.
"""

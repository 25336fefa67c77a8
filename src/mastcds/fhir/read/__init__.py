"""FHIR resources -> case: one mapper per resource type, all reading the code table of :mod:`mastcds.fhir.codes`."""

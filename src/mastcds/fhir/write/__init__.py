"""Case -> FHIR resources: the writers that mirror the mappers of ``read/``."""

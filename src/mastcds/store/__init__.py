"""The patient-record database (see :mod:`mastcds.store.service` for the API)."""

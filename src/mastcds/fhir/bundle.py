"""The export Bundle: a case's coded findings plus, optionally, its evaluation, checked against FHIR R4 (R4B models)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from mastcds.case import Case, Problem
from mastcds.fhir.evaluation import write_evaluation
from mastcds.fhir.from_case import Writer, write_case


class FhirValidationError(ValueError):
    """An exported resource that FHIR R4 would reject (a bug in the export, never the user's input)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def validate_r4(bundle: dict[str, Any]) -> None:
    """Raises :class:`FhirValidationError` unless ``bundle`` validates with ``fhir.resources.R4B``."""
    from fhir.resources.R4B.bundle import Bundle  # imported late: 0.1 s, only exports need it

    try:
        Bundle.model_validate(bundle)
    except ValidationError as error:
        raise FhirValidationError(
            [Problem(".".join(str(p) for p in e["loc"]), e.get("input"), e["msg"]) for e in error.errors()]
        ) from None


def export_bundle(case: Case, evaluation: dict[str, Any] | None = None) -> dict[str, Any]:
    """A validated collection Bundle: Patient, findings, and the evaluation resources when given."""
    writer = Writer(case.id or "case")
    subject = write_case(writer, case)
    if evaluation is not None:
        write_evaluation(writer, evaluation, subject)
    bundle = writer.bundle()
    validate_r4(bundle)
    return bundle

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


_FHIR_WHITESPACE = " \t\r\n"


def _fhir_text(value: Any, key: str = "") -> Any:
    """``value`` with every string one FHIR R4 can carry; empty ones left out.

    Free text (a drug, an episode id, warnings quoting them) may hold any
    character the case model accepts, but a FHIR ``string`` admits no
    whitespace other than space, tab, CR and LF, a ``code`` no leading,
    trailing or doubled whitespace, and neither may be empty.
    """
    if isinstance(value, str):
        if key == "code":
            return " ".join(value.split())
        return "".join(" " if ch.isspace() and ch not in _FHIR_WHITESPACE else ch for ch in value)
    if isinstance(value, dict):
        cleaned = {name: _fhir_text(item, name) for name, item in value.items()}
        return {name: item for name, item in cleaned.items() if item != ""}
    if isinstance(value, list):
        return [_fhir_text(item, key) for item in value]
    return value


def export_bundle(case: Case, evaluation: dict[str, Any] | None = None) -> dict[str, Any]:
    """A validated collection Bundle: Patient, findings, and the evaluation resources when given."""
    writer = Writer(case.id or "case")
    subject = write_case(writer, case)
    if evaluation is not None:
        write_evaluation(writer, evaluation, subject)
    bundle = _fhir_text(writer.bundle())
    validate_r4(bundle)
    return bundle

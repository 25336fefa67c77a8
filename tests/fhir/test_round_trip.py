"""Case -> FHIR -> case gives the same case (modulo the normalisations docs/fhir.md lists) and the same evaluation.

The cases are generated from the published schema (tests/schema_strategy.py),
so a field added to mastcds-case/1 fails these tests until the field table
(mastcds.fhir.fields) or a writer/reader pair carries it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastcds.case import case_schema, load_case
from mastcds.engine import evaluate_case
from mastcds.fhir import fields
from mastcds.fhir.from_case import bundle_from_case
from mastcds.fhir.to_case import case_from_bundle
from tests.schema_strategy import valid_cases

SEED = json.loads((Path(__file__).parents[2] / "examples" / "seed-case.json").read_text())


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """The case as the import gives it back (docs/fhir.md, "Normalisation").

    Null and an empty text are "unknown" and left out; a lab row without a
    context reads back as context "unknown"; the schema tag is always set; an
    extracutaneous-organ section stays, even empty (it says a biopsy was taken).
    """
    def clean(value: Any, keep_empty: bool = False) -> Any:
        if isinstance(value, dict):
            out = {k: clean(v, k == "other_extracutaneous_organ") for k, v in value.items()}
            out = {k: v for k, v in out.items()
                   if v is not None and v != "" and (v != {} or k in ("other_extracutaneous_organ", "patient")) and v != []}
            return out
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    case = load_case(document).to_document()
    for row in case.get("lab_results", []):
        if row.get("context") is None:
            row["context"] = "unknown"
    case["schema"] = "mastcds-case/1"
    return clean(case)


def round_trip(document: dict[str, Any]) -> dict[str, Any]:
    bundle = bundle_from_case(load_case(document))
    Bundle.model_validate(bundle)  # every exported resource is valid FHIR R4 (R4B models)
    result = case_from_bundle(json.loads(json.dumps(bundle)))
    assert result.problems == [] and result.fatal == []
    assert not result.unmapped
    return result.case


def _evaluation(document: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(evaluate_case(load_case(document)), default=str))


def test_the_seed_case_comes_back_whole_with_the_same_evaluation() -> None:
    """Regression (issue 17 §1): the re-imported seed patient evaluated to "SM unknown, any of 8 categories"."""
    imported = round_trip(SEED)
    assert normalised(imported) == normalised(SEED)
    assert _evaluation(imported) == _evaluation(SEED)
    assert _evaluation(imported)["guidelines"]["who2022"]["possible_categories"] == ["ISM", "MCL"]


# Drug names become FHIR codes (no leading, trailing or doubled spaces): the schema's list and generic names
_DRUGS = ["omalizumab", "h1_antihistamine", "cetirizine", "midostaurin", "epinephrine_autoinjector", "cromolyn",
          "venom_immunotherapy", "interferon_alpha"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_cases(), st.lists(st.sampled_from(_DRUGS), min_size=1, max_size=3),
       st.sampled_from([None, "CMML", "MDS", "none", "CEL"]))
def test_every_valid_case_comes_back_with_the_same_evaluation(document: dict[str, Any], drugs: list[str],
                                                               neoplasm: str | None) -> None:
    for i, treatment in enumerate(document.get("treatments", [])):
        treatment["drug"] = drugs[i % len(drugs)]
    if neoplasm is not None:
        document["associated_hematologic_neoplasm"] = neoplasm
    if document.get("associated_hematologic_neoplasm") in (None, "none", *_NAMED_LINEAGE):
        document.pop("associated_hematologic_neoplasm_lineage", None)  # only for a name that does not say it
    imported = round_trip(document)
    assert normalised(imported) == normalised(document)
    assert _evaluation(imported) == _evaluation(normalised(document))


def _leaf_paths(schema: dict[str, Any], prefix: str = "") -> list[str]:
    if "properties" in schema:
        return [p for key, sub in schema["properties"].items() for p in _leaf_paths(sub, f"{prefix}{key}.")]
    if schema.get("type") == "array" and "properties" in schema.get("items", {}):
        return _leaf_paths(schema["items"], prefix[:-1] + "[].")
    return [prefix[:-1]]


def test_every_field_of_the_schema_has_a_carrier() -> None:
    """A field added to mastcds-case/1 fails here until the field table or a writer/reader pair carries it."""
    carried = set(fields.BY_PATH) | set(fields.CARRIED_ELSEWHERE)
    assert [path for path in _leaf_paths(case_schema()) if path not in carried] == []
    assert set(fields.BY_PATH) <= set(_leaf_paths(case_schema()))


_EPISODE = {"id": "e1", "date": "2020-05-01"}


def _sample(field: fields.Field) -> list[Any]:
    schema = case_schema()
    for key in field.path.replace("[]", "").split("."):
        schema = schema["properties"][key] if "properties" in schema else schema["items"]["properties"][key]
    if field.value == "boolean":
        return [True, False]
    if field.value == "code":
        return [v for v in schema["enum"] if v is not None]
    if field.value == "quantity":
        low, high = schema.get("minimum", 0), schema.get("maximum", 100)
        return [low, high, low + (high - low) / 3]
    if field.value == "integer":
        return [schema.get("minimum", 0), schema.get("maximum", 10)]
    if field.value == "date":
        return ["2021", "2021-03", "2021-03-04"]
    return ["text", " spaced "]


@pytest.mark.parametrize("field", fields.FIELDS, ids=lambda f: f.path)
def test_each_field_of_the_table_round_trips_alone(field: fields.Field) -> None:
    """The writer/reader pair of the field table, field by field, every kind of value."""
    for value in _sample(field):
        document: dict[str, Any] = {"schema": "mastcds-case/1", "patient": {}}
        if field.place == "episode":
            document["episodes"] = [{**_EPISODE, field.keys[0]: value}]
        else:
            target = document
            for key in field.keys[:-1]:
                target = target.setdefault(key, {})
            target[field.keys[-1]] = value
        document.update(_COMPANIONS.get(field.path, {}))
        assert normalised(round_trip(document)) == normalised(document), value


# Neoplasms whose name says their lineage (a recorded lineage must then agree with it)
_NAMED_LINEAGE = ("CMML", "MDS", "CEL")

# Fields the case model accepts only beside another: a lineage needs a neoplasm whose name does not say it
_COMPANIONS = {"associated_hematologic_neoplasm_lineage": {"associated_hematologic_neoplasm": "a rare neoplasm"}}


def test_the_documentation_lists_every_field() -> None:
    text = (Path(__file__).parents[2] / "docs" / "fhir.md").read_text()
    assert [p for p in [*fields.BY_PATH, *fields.CARRIED_ELSEWHERE] if f"`{p}`" not in text] == []


def test_an_imported_ehr_bundle_exports_and_imports_to_the_same_case() -> None:
    """The other direction: FHIR as an EHR sends it -> case -> mastcds's FHIR -> the same case and evaluation."""
    ehr = json.loads((Path(__file__).parent / "fixtures" / "synthea_style_sm.json").read_text())
    case = case_from_bundle(ehr).case
    again = round_trip(case)
    assert normalised(again) == normalised(case)
    assert _evaluation(again) == _evaluation(case)

"""Free text every store and output can carry, and bounds on every list and string of a case (issue 16, items 1 and 8).

Each rule is checked on both sides of the published contract: the JSON Schema
(mastcds-case/1) and the pydantic model agree on every field, at the limit and
just beyond it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mastcds.case import (
    MAX_EPISODES,
    MAX_LAB_RESULTS,
    MAX_TREATMENTS,
    NUL_MESSAGE,
    SURROGATE_MESSAGE,
    TEXT_PATTERN,
    CaseError,
    case_schema,
    load_case,
    load_case_text,
)

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "examples" / "seed-case.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(case_schema())


def _text_fields() -> list[tuple[tuple[Any, ...], int]]:
    """(path into a document, maxLength) of every free-text field of the schema (dates excluded)."""
    found: list[tuple[tuple[Any, ...], int]] = []

    def walk(schema: dict[str, Any], path: tuple[Any, ...]) -> None:
        kinds = schema.get("type")
        kinds = [kinds] if isinstance(kinds, str) else kinds or []
        if "string" in kinds and schema.get("pattern") == TEXT_PATTERN:
            found.append((path, schema["maxLength"]))
        for name, sub in schema.get("properties", {}).items():
            walk(sub, path + (name,))
        if "items" in schema:
            walk(schema["items"], path + (0,))

    walk(case_schema(), ())
    return found


TEXT_FIELDS = _text_fields()


def _document_with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The seed case with ``value`` at ``path`` (list items and sections created as needed)."""
    document = copy.deepcopy(SEED)
    document.pop("id", None) if path == ("id",) else None
    node: Any = document
    for step, following in zip(path[:-1], path[1:]):
        if isinstance(step, int):
            node = node[step]
            continue
        if step not in node:
            node[step] = [] if isinstance(following, int) else {}
        if isinstance(following, int) and not node[step]:
            node[step].append(_minimal_item(step))
        node = node[step]
    node[path[-1]] = value
    return document


def _minimal_item(list_name: str) -> dict[str, Any]:
    return {"treatments": {"drug": "x", "start_date": "2020"}, "lab_results": copy.deepcopy(SEED["lab_results"][0])}.get(list_name, {})


def _shown(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))


def test_every_free_text_field_is_covered() -> None:
    names = {_shown(path) for path, _ in TEXT_FIELDS}
    assert {"notes", "id", "episodes[0].id", "episodes[0].trigger_detail", "treatments[0].drug", "treatments[0].indication",
            "lab_results[0].unit", "lab_results[0].episode_id", "other_extracutaneous_organ.organ"} <= names
    assert len(names) == 13


@pytest.mark.parametrize(("path", "limit"), TEXT_FIELDS, ids=[_shown(p) for p, _ in TEXT_FIELDS])
def test_a_lone_surrogate_or_nul_is_refused_by_schema_and_model_naming_the_field(path: tuple[Any, ...], limit: int) -> None:
    for text, message in (("a\ud800b", SURROGATE_MESSAGE), ("\udfff", SURROGATE_MESSAGE), ("a\x00", NUL_MESSAGE)):
        document = _document_with(path, text)
        assert not VALIDATOR.is_valid(document)
        with pytest.raises(CaseError) as caught:
            load_case(document)
        assert [(p.path, p.message) for p in caught.value.problems] == [(_shown(path), message)]


def test_characters_beyond_the_basic_plane_are_text_not_surrogates() -> None:
    # JSON writes them as a surrogate pair ("\ud83d\ude00"), which decodes to one character
    case = load_case_text('{"patient": {}, "notes": "\\ud83d\\ude00 \\u00e9"}')
    assert case.notes == "\U0001f600 \u00e9"
    assert VALIDATOR.is_valid(case.to_document())


@pytest.mark.parametrize(("path", "limit"), TEXT_FIELDS, ids=[_shown(p) for p, _ in TEXT_FIELDS])
def test_text_lengths_at_and_just_beyond_the_limit(path: tuple[Any, ...], limit: int) -> None:
    at_limit = _document_with(path, "x" * limit)
    beyond = _document_with(path, "x" * (limit + 1))
    assert not VALIDATOR.is_valid(beyond)
    with pytest.raises(CaseError) as caught:
        load_case(beyond)
    assert _shown(path) in [p.path for p in caught.value.problems]
    # at the limit both accept its length (the model may still say that such a unit or episode id names nothing)
    assert VALIDATOR.is_valid(at_limit)
    try:
        load_case(at_limit)
    except CaseError as error:
        assert not [p for p in error.problems if "at most" in p.message]


@pytest.mark.parametrize(
    ("name", "limit", "item"),
    [
        ("episodes", MAX_EPISODES, {}),
        ("lab_results", MAX_LAB_RESULTS, {"test": "tryptase", "value": 5, "unit": "ng/mL", "date": "2020"}),
        ("treatments", MAX_TREATMENTS, {"drug": "cetirizine", "start_date": "2020"}),
    ],
)
def test_lists_at_and_just_beyond_the_limit(name: str, limit: int, item: dict[str, Any]) -> None:
    document = {"patient": {}, name: [dict(item) for _ in range(limit)]}
    assert VALIDATOR.is_valid(document)
    assert len(getattr(load_case(document), name)) == limit
    document[name].append(dict(item))
    assert not VALIDATOR.is_valid(document)
    with pytest.raises(CaseError) as caught:
        load_case(document)
    assert [p.path for p in caught.value.problems] == [name]
    assert f"at most {limit}" in caught.value.problems[0].message


def test_the_schema_states_every_limit_the_model_applies() -> None:
    properties = case_schema()["properties"]
    assert {name: properties[name]["maxItems"] for name in ("episodes", "lab_results", "treatments")} == {
        "episodes": MAX_EPISODES, "lab_results": MAX_LAB_RESULTS, "treatments": MAX_TREATMENTS,
    }


def test_a_case_document_with_a_surrogate_is_one_clear_problem_not_an_encoding_failure() -> None:
    with pytest.raises(CaseError) as caught:
        load_case_text('{"patient": {}, "notes": "\\ud800"}')
    (problem,) = caught.value.problems
    assert problem.path == "notes"
    assert str(problem).encode("utf-8")  # printable on any UTF-8 terminal
    assert "\\ud800" in str(problem)


@pytest.mark.parametrize("text", ["", "   ", "a\x0bb", "\xa0", "\u3000x\u2028", "\x1b[31m", "a  b", " lead", "trail "])
def test_any_accepted_free_text_makes_a_valid_fhir_bundle(text: str) -> None:
    """FHIR strings admit no whitespace but space, tab, CR, LF, codes no doubled or outer spaces, neither may be empty."""
    from mastcds import evaluate
    from mastcds.fhir.bundle import export_bundle

    document = copy.deepcopy(SEED)
    document["treatments"][0].update(drug=text, interval=text, indication=text)
    document["episodes"][0]["trigger_detail"] = text
    export_bundle(load_case(document), evaluate(document))  # validated against FHIR R4 (R4B models) or FhirValidationError

"""Hypothesis strategies for documents valid under the (subset of) JSON Schema the case contract uses.

hypothesis-jsonschema does not work with current Hypothesis, and the case
schema uses only: object (properties, required, additionalProperties false),
array items (maxItems), type lists, enum, const, pattern (dates, and the free-text rule),
maxLength, minimum/maximum, anyOf.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from hypothesis import strategies as st

from mastcds.case import EARLIEST_YEAR, LATEST_YEAR, TEXT_PATTERN

DATE = st.from_regex(r"\A[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?\Z")
# What the free-text rule (TEXT_PATTERN) admits: any character but U+0000 and the lone surrogates.
STORABLE_CHARACTERS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
REAL_DATE = st.builds(
    lambda day, precision: day.isoformat()[:precision],
    st.dates(min_value=datetime.date(EARLIEST_YEAR, 1, 1), max_value=datetime.date(LATEST_YEAR, 12, 31)),
    st.sampled_from([4, 7, 10]),
)


def _typed(kind: str, schema: dict[str, Any], dates: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    int_low = math.ceil(low) if low is not None else -1000
    int_high = math.floor(high) if high is not None else 1000
    if kind == "integer":
        return st.integers(int_low, int_high)
    if kind == "number":
        return st.one_of(
            st.floats(low if low is not None else -1e6, high if high is not None else 1e6, allow_nan=False),
            st.integers(int_low, int_high),
        )
    if kind == "string":
        if schema.get("pattern", TEXT_PATTERN) != TEXT_PATTERN:
            return dates
        return st.text(STORABLE_CHARACTERS, max_size=min(12, schema.get("maxLength", 12)))
    if kind == "array":
        return st.lists(documents(schema.get("items", {}), dates), max_size=min(3, schema.get("maxItems", 3)))
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {key: documents(properties[key], dates) for key in required},
            optional={key: documents(sub, dates) for key, sub in properties.items() if key not in required},
        )
    raise ValueError(kind)


def documents(schema: dict[str, Any], dates: st.SearchStrategy[str] = DATE) -> st.SearchStrategy[Any]:
    """Values valid under ``schema`` (dates drawn from ``dates``)."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([documents(sub, dates) for sub in schema["anyOf"]])
    kinds = schema.get("type")
    if kinds is None:
        return st.none()
    if isinstance(kinds, str):
        kinds = [kinds]
    return st.one_of([_typed(kind, schema, dates) for kind in kinds])


def _lab_result() -> st.SearchStrategy[dict[str, Any]]:
    from mastcds.units import LAB_SPECS

    def build(test: str, fraction: float, date: str, context: str | None) -> dict[str, Any]:
        spec = LAB_SPECS[test]
        unit = sorted(spec.factors)[0]
        value = (spec.low + fraction * (spec.high - spec.low)) / spec.factors[unit]
        return {"test": test, "value": value, "unit": unit, "date": date, "context": context}

    return st.builds(
        build,
        st.sampled_from(sorted(LAB_SPECS)),
        st.floats(0, 1),
        REAL_DATE,
        st.sampled_from(["baseline", "acute", "unknown", None]),
    )


def _make_consistent(document: dict[str, Any], labs: list[dict[str, Any]]) -> dict[str, Any]:
    """Drop what the schema allows but a real case cannot hold (duplicate ids, ends before starts)."""
    from mastcds.case import date_key, date_key_latest

    seen: set[str] = set()
    for episode in document.get("episodes", []):
        if "id" in episode:
            if episode["id"] in seen:
                del episode["id"]
            else:
                seen.add(episode["id"])
    for treatment in document.get("treatments", []):
        end = treatment.get("end_date")
        if end is not None and date_key_latest(end) < date_key(treatment["start_date"]):
            del treatment["end_date"]
    document["lab_results"] = labs
    _drop_contradictions(document)
    return document


def _drop_contradictions(document: dict[str, Any]) -> None:
    """Remove the field each contradiction names (fields that say the same thing twice and disagree)."""
    import re

    from mastcds.case import Case, Problem, contradictions

    for _ in range(10):
        problems: list[Problem] = []
        contradictions(Case.model_validate(document), problems)
        if not problems:
            return
        for problem in problems:
            *parents, leaf = re.findall(r"[^.\[\]]+", problem.path)
            node: Any = document
            for part in parents:
                node = node[int(part)] if part.isdigit() else node[part]
            node.pop(leaf, None)


def valid_cases() -> st.SearchStrategy[dict[str, Any]]:
    """Case documents that pass :func:`mastcds.case.load_case` (schema and plausibility)."""
    from mastcds.case import case_schema

    return st.builds(_make_consistent, documents(case_schema(), REAL_DATE), st.lists(_lab_result(), max_size=4))

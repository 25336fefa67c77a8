"""Hypothesis strategies for documents valid under the (subset of) JSON Schema the case contract uses.

hypothesis-jsonschema does not work with current Hypothesis, and the case
schema uses only: object (properties, required, additionalProperties false),
array items, type lists, enum, const, pattern (dates), minimum/maximum, anyOf.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

DATE = st.from_regex(r"\A[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?\Z")


def _typed(kind: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
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
        if "pattern" in schema:
            return DATE
        return st.text(max_size=12)
    if kind == "array":
        return st.lists(documents(schema.get("items", {})), max_size=3)
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {key: documents(properties[key]) for key in required},
            optional={key: documents(sub) for key, sub in properties.items() if key not in required},
        )
    raise ValueError(kind)


def documents(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid under ``schema``."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([documents(sub) for sub in schema["anyOf"]])
    kinds = schema.get("type")
    if kinds is None:
        return st.none()
    if isinstance(kinds, str):
        kinds = [kinds]
    return st.one_of([_typed(kind, schema) for kind in kinds])

"""The OpenAPI document: FastAPI's, plus the published case schema for request bodies.

A case (or an episode, lab result, treatment) sent to the API is checked by
:func:`mastcds.case.load_case`, the one way in, and documented by the very
JSON Schema integrators already use (mastcds-case/1); OpenAPI 3.1 takes JSON
Schema 2020-12 as it is.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from mastcds.case import case_schema

API_PREFIX = "/api/v1"
# component name -> where it sits in the case schema
CASE_PARTS = {"Episode": "episodes", "LabResult": "lab_results", "Treatment": "treatments"}


def case_components() -> dict[str, Any]:
    schema = copy.deepcopy(case_schema())
    schema.pop("$schema", None)
    schema.pop("$id", None)
    components = {"Case": schema}
    for name, field in CASE_PARTS.items():
        components[name] = copy.deepcopy(schema["properties"][field]["items"])
    return components


def json_body(component: str, description: str) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body is one of :func:`case_components`."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
        }
    }


def _plain_reference(operation: dict[str, Any]) -> None:
    """Keep only the ``$ref`` of a case body (FastAPI merges its own ``type: object`` beside it)."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    reference = content.get("schema", {}).get("$ref")
    if reference:
        content["schema"] = {"$ref": reference}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            # the JSON API only: CDS Hooks (mounted beside it) has its own discovery document
            document["paths"] = {path: item for path, item in document["paths"].items() if path.startswith(API_PREFIX)}
            for item in document["paths"].values():
                for operation in item.values():
                    _plain_reference(operation)
            document.setdefault("components", {}).setdefault("schemas", {}).update(case_components())
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

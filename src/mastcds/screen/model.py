"""Which FHIR elements are arrays, from the R4B model of ``fhir.resources``.

FHIR JSON writes an element as an array exactly when its cardinality allows several values, so
knowing the model lets the view compiler turn ``code.coding.code`` into one JSON path
(``$.code.coding[*].code``) instead of testing every step for array-ness at run time.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TYPE = re.compile(r"abc\.(\w+)Type\b")


@lru_cache(maxsize=None)
def element_info(type_name: str | None, element: str) -> tuple[bool, str | None] | None:
    """(is_array, FHIR type of its values or None for primitives), or None when the model does not say."""
    if type_name is None or not element.isidentifier():
        return None
    from fhir.resources.R4B import get_fhir_model_class

    try:
        model = get_fhir_model_class(type_name)
    except (KeyError, ValueError, ImportError, AttributeError):
        return None
    field = model.model_fields.get(element)
    if field is None or not (field.json_schema_extra or {}).get("element_property"):
        return None
    annotation = str(field.annotation)
    match = _TYPE.search(annotation)
    child = match.group(1) if match else None
    if child in ("Resource", "FHIRPrimitiveExtension"):
        return None
    return "List[" in annotation, child

"""Which FHIR elements are arrays, from the R4B model of ``fhir.resources``.

FHIR JSON writes an element as an array exactly when its cardinality allows several values, so
knowing the model lets the view compiler turn ``code.coding.code`` into one JSON path
(``$.code.coding[*].code``) instead of testing every step for array-ness at run time.

The compiler reads a table of the model (``r4b_elements.py``) rather than the models themselves:
importing the pydantic models costs about a tenth of a second on every screening run. The table
is written by ``python -m mastcds.screen.model`` and tests/screen/test_model.py checks that it
says what the models say.
"""

from __future__ import annotations

import re
from pathlib import Path

_TYPE = re.compile(r"abc\.(\w+)Type\b")
# A primitive's pydantic annotation ends in its FHIR type's marker: ``Annotated[date, Date()]``.
_PRIMITIVE = re.compile(r"\b([A-Z]\w*)(?:\([^()]*\)|\s+object at \w+>)\]")
_PRIMITIVE_NAMES = {"UuidVersion": "uuid"}
TABLE = Path(__file__).with_name("r4b_elements.py")


def element_info(type_name: str | None, element: str) -> tuple[bool, str | None] | None:
    """(is_array, FHIR type of its values), or None when the model does not say.

    Primitive types are spelled as FHIR spells them (``date``, ``dateTime``, ``decimal``); a type
    the models do not name gives None.
    """
    from mastcds.screen.r4b_elements import ELEMENTS

    entry = ELEMENTS.get(type_name, {}).get(element) if type_name is not None else None
    if entry is None:
        return None
    return entry.startswith("*"), entry.lstrip("*") or None


def model_element_info(type_name: str | None, element: str) -> tuple[bool, str | None] | None:
    """What :func:`element_info` says, read from the ``fhir.resources`` models themselves."""
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
    child = match.group(1) if match else _primitive_type(annotation)
    if child in ("Resource", "FHIRPrimitiveExtension"):
        return None
    return "List[" in annotation, child


def _primitive_type(annotation: str) -> str | None:
    """The FHIR primitive type a pydantic annotation stands for (``Annotated[date, Date()]``: date)."""
    if annotation.startswith("bool"):
        return "boolean"
    markers = _PRIMITIVE.findall(annotation)
    if not markers:
        return None
    marker = markers[-1]
    return _PRIMITIVE_NAMES.get(marker, marker[0].lower() + marker[1:])


def model_types() -> dict[str, list[str]]:
    """Every model class of ``fhir.resources.R4B`` by name, with its fields."""
    import importlib
    import pkgutil

    import fhir.resources.R4B as r4b

    found = {}
    for module_info in pkgutil.iter_modules(r4b.__path__):
        if module_info.name.startswith(("fhirtypes", "tests")):
            continue
        module = importlib.import_module(f"{r4b.__name__}.{module_info.name}")
        for name, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "model_fields"):
                found[name] = list(value.model_fields)
    return found


def model_table() -> dict[str, dict[str, str]]:
    """The table the models give: {type: {element: "*" if an array, then the values' type or ""}}."""
    table = {}
    for type_name, fields in sorted(model_types().items()):
        entries = {}
        for element in fields:
            info = model_element_info(type_name, element)
            if info is not None:
                entries[element] = ("*" if info[0] else "") + (info[1] or "")
        if entries:
            table[type_name] = entries
    return table


def write_table(path: Path = TABLE) -> None:
    """Write ``r4b_elements.py`` from the models (JSON text in a module: parsed faster than a literal)."""
    import json

    lines = [f"{json.dumps(name)}: {json.dumps(entries, separators=(', ', ': '))}" for name, entries in model_table().items()]
    path.write_text(
        '"""FHIR R4B elements as fhir.resources models them; written by ``python -m mastcds.screen.model``.\n\n'
        "Each entry: ``*`` when the element is an array, then the FHIR type of its values (empty for\n"
        'primitives). Do not edit by hand."""\n\n'
        "import json\n\n"
        'ELEMENTS: dict[str, dict[str, str]] = json.loads(r"""{\n' + ",\n".join(lines) + '\n}""")\n', encoding="utf-8")


if __name__ == "__main__":
    write_table()

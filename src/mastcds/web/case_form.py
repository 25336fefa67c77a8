"""The case entry form, derived from the data dictionary (case.schema.json, mastcds-case/1).

Every field of the form is a field of the schema, named by its path in the
case document (``patient.age_years``, ``episodes[2].date``): the paths that
:func:`mastcds.case.load_case` puts in its problems, so each error lands
beside its field. A yes/no finding has three answers, because unknown is not
no. What the user typed is kept as typed (:class:`FormState`) so a rejected
form comes back exactly as it was sent, with the errors beside the fields.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from mastcds.case import CASE_SCHEMA_ID, CaseError, Problem, case_schema, load_case
from mastcds.units import LAB_SPECS, LAB_TEST_LABELS

# Arrays of the schema shown as repeated rows; everything else is a fieldset.
REPEATED = ("episodes", "lab_results", "treatments")
# More rows than any record plausibly has; bounds the work a forged form can cause.
MAX_ROWS = 500
BOOLEAN_CHOICES = (("", "unknown"), ("true", "yes"), ("false", "no"))

_TITLES = {
    "": "Case",
    "patient": "Patient",
    "skin": "Skin",
    "bone_marrow": "Bone marrow",
    "other_extracutaneous_organ": "Other extracutaneous organ biopsy",
    "molecular": "Molecular",
    "labs": "Current laboratory values",
    "organs": "Organs (B- and C-findings)",
    "mediator_symptoms": "Mediator symptoms",
    "episodes": "Episodes",
    "lab_results": "Laboratory results over time",
    "treatments": "Treatments",
}
_UNIT_SUFFIXES = (
    "_ng_ml", "_iu_ml", "_g_dl", "_10e9_l", "_u_l", "_g_l", "_mg_l", "_kg", "_cm", "_mmhg", "_years", "_mg",
)
_WORDS = {
    "kit": "KIT", "d816v": "D816V", "vaf": "VAF", "cd25": "CD25", "cd2": "CD2", "cd30": "CD30",
    "tpsab1": "TPSAB1", "srsf2": "SRSF2", "asxl1": "ASXL1", "runx1": "RUNX1", "bp": "BP", "icu": "ICU",
    "ige": "IgE", "id": "id",
}
_LABELS = {
    "kit_d816v_vaf_percent": "KIT D816V VAF",
    "ige_total_iu_ml": "Total IgE",
    "hemoglobin_g_dl": "Haemoglobin",
    "tpsab1_extra_alpha_copies": "TPSAB1 extra α-tryptase copies",
    "infiltration_percent": "Mast cell infiltration",
    "aspirate_mast_cells_percent": "Mast cells in aspirate smear",
    "atypical_morphology_over_25_percent": "Atypical / spindle morphology > 25%",
    "associated_hematologic_neoplasm": "Associated haematological neoplasm",
    "platelets_10e9_l": "Platelets",
    "neutrophils_10e9_l": "Neutrophils",
    "beta2_microglobulin_mg_l": "β2-microglobulin",
    "onset_minutes": "Onset",
    "acute_tryptase_minutes_after_onset": "Acute tryptase drawn after onset",
    "cd25_cd2_cd30": "CD25, CD2 or CD30 expressed",
    "abdominal_pain_vomiting_diarrhoea": "Abdominal pain, vomiting or diarrhoea",
    "dyspnoea_wheeze_bronchospasm": "Dyspnoea, wheeze or bronchospasm",
    "srsf2_asxl1_runx1_mutated": "SRSF2, ASXL1 or RUNX1 mutated",
    "nasal_ocular": "Nasal or ocular",
    "id": "Id",
}
_PRESENCE_LABELS = {"other_extracutaneous_organ": "Biopsy taken"}
_ABSENT_MEANS = re.compile(r"\bAbsent = ")
_UNIT = re.compile(r"Unit: (.+?)\.?$")
_DRUGS = re.compile(r"underscores: (.+?), or a generic")


@dataclass(frozen=True)
class FormField:
    """One input: its schema name, how it is entered, its unit and what is accepted."""

    name: str
    kind: str  # boolean | choice | number | integer | date | text | longtext
    label: str
    help: str | None = None
    unit: str | None = None
    choices: tuple[tuple[str, str], ...] = ()
    suggestions: tuple[str, ...] = ()
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None

    @property
    def accepted(self) -> str | None:
        """The accepted range, for the hint under the field."""
        if self.minimum is None or self.maximum is None:
            return None
        unit = self.unit.split(" (")[0] if self.unit else None
        return f"{self.minimum:g}–{self.maximum:g}" + (f" {unit}" if unit else "")


@dataclass(frozen=True)
class FormSection:
    key: str  # "" for the case's own scalars
    title: str
    description: str | None
    fields: tuple[FormField, ...]
    repeated: bool = False
    # The section's absence means something (other_extracutaneous_organ:
    # "Absent = no such biopsy was taken"), so the form asks whether it was
    # done, beside its findings; an empty section alone could not say it.
    presence_label: str | None = None


def _types(spec: Mapping[str, Any]) -> set[str]:
    kinds = spec.get("type")
    if isinstance(kinds, str):
        return {kinds}
    if isinstance(kinds, list):
        return set(kinds)
    if "anyOf" in spec:
        return set().union(*(_types(option) for option in spec["anyOf"]))
    if "enum" in spec:
        return {"enum"}
    return set()


def _is_date(spec: Mapping[str, Any]) -> bool:
    options = spec.get("anyOf", [spec])
    return any("pattern" in option and "\\d{4}" in option["pattern"] for option in options)


def _label(name: str) -> str:
    if name in _LABELS:
        return _LABELS[name]
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    words = [_WORDS.get(word, word) for word in name.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _field(name: str, spec: Mapping[str, Any], required: bool) -> FormField:
    description = spec.get("description")
    unit = None
    if description and (match := _UNIT.search(description)):
        unit = match.group(1)
        description = description[: match.start()].strip() or None
    kinds = _types(spec)
    common = {"name": name, "label": _label(name), "help": description, "unit": unit, "required": required}
    bounds = {"minimum": spec.get("minimum"), "maximum": spec.get("maximum")}
    if "enum" in spec:
        values = [value for value in spec["enum"] if value is not None]
        # a choice that has "unknown" among its values (a lab's context) calls the empty answer otherwise
        unknown = () if required else (("", "not recorded" if "unknown" in values else "unknown"),)
        labels = LAB_TEST_LABELS if name == "test" else {}
        return FormField(kind="choice", choices=unknown + tuple((v, labels.get(v, v.replace("_", " "))) for v in values), **common)
    if "boolean" in kinds:
        return FormField(kind="boolean", choices=BOOLEAN_CHOICES, **common)
    if "integer" in kinds:
        return FormField(kind="integer", **common, **bounds)
    if "number" in kinds:
        return FormField(kind="number", **common, **bounds)
    if _is_date(spec):
        return FormField(kind="date", **common)
    if name == "notes":
        return FormField(kind="longtext", **common)
    if name == "unit":
        units = sorted({spec.canonical for spec in LAB_SPECS.values()})
        return FormField(kind="text", suggestions=tuple(units), **common)
    if name == "drug" and description and (match := _DRUGS.search(description)):
        return FormField(kind="text", suggestions=tuple(d.strip() for d in match.group(1).split(",")), **common)
    return FormField(kind="text", **common)


def _section(key: str, spec: Mapping[str, Any], repeated: bool) -> FormSection:
    properties = spec["properties"]
    required = set(spec.get("required", ()))
    fields = tuple(_field(name, sub, name in required) for name, sub in properties.items())
    description = spec.get("description")
    presence = None
    if not repeated and description and _ABSENT_MEANS.search(description):
        presence = _PRESENCE_LABELS.get(key, "Done")
    return FormSection(key, _TITLES.get(key, _label(key)), description, fields, repeated, presence)


@cache
def form_sections() -> tuple[FormSection, ...]:
    """The form, section by section, in the order of the schema."""
    schema = case_schema()
    top: list[FormField] = []
    sections: list[FormSection] = []
    for name, spec in schema["properties"].items():
        if name == "schema":
            continue
        if spec.get("type") == "object":
            sections.append(_section(name, spec, repeated=False))
        elif name in REPEATED:
            items = dict(spec["items"])
            items.setdefault("description", spec.get("description"))
            sections.append(_section(name, items, repeated=True))
        else:
            top.append(_field(name, spec, required=False))
    return (FormSection("", _TITLES[""], None, tuple(top)), *sections)


def field_path(section: str, name: str, row: int | None = None) -> str:
    """The case-document path of a field (also its form input name)."""
    if row is not None:
        return f"{section}[{row}].{name}"
    return f"{section}.{name}" if section else name


# ------------------------------------------------------------------ state


@dataclass
class FormState:
    """What the form holds, as typed: scalars by path, repeated rows as lists of {field: text}."""

    values: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {key: [] for key in REPEATED})

    def value(self, path: str) -> str:
        return self.values.get(path, "")

    def add_row(self, section: str) -> None:
        if section in self.rows and len(self.rows[section]) < MAX_ROWS:
            self.rows[section].append({})

    def remove_row(self, section: str, index: int) -> None:
        if section in self.rows and 0 <= index < len(self.rows[section]):
            del self.rows[section][index]


_ROW_NAME = re.compile(r"^([a-z_]+)\[(\d{1,4})\]\.([a-z0-9_]+)$")


def state_from_form(form: Mapping[str, Any]) -> FormState:
    """The form's typed values; names that are no field of the form are ignored."""
    state = FormState()
    known = {field_path(s.key, f.name) for s in form_sections() if not s.repeated for f in s.fields}
    known |= {s.key for s in form_sections() if s.presence_label}
    row_fields = {s.key: {f.name for f in s.fields} for s in form_sections() if s.repeated}
    gathered: dict[str, dict[int, dict[str, str]]] = {key: {} for key in REPEATED}
    for name, value in form.items():
        if not isinstance(value, str):
            continue
        if name in known:
            state.values[name] = value
        elif (match := _ROW_NAME.match(name)) and match.group(1) in row_fields:
            section, index, field_name = match.group(1), int(match.group(2)), match.group(3)
            if field_name in row_fields[section] and index < MAX_ROWS:
                gathered[section].setdefault(index, {})[field_name] = value
    for section, by_index in gathered.items():
        state.rows[section] = [by_index[i] for i in sorted(by_index)]
    return state


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def state_from_document(document: Mapping[str, Any]) -> FormState:
    """The form filled in from a case document (a stored record, or a case to edit)."""
    state = FormState()
    for section in form_sections():
        if section.repeated:
            state.rows[section.key] = [
                {f.name: _shown(item.get(f.name)) for f in section.fields if item.get(f.name) is not None}
                for item in document.get(section.key) or []
            ]
            continue
        source = (document.get(section.key) or {}) if section.key else document
        if section.presence_label:
            state.values[section.key] = "true" if section.key in document else "false"
        for f in section.fields:
            if source.get(f.name) is not None:
                state.values[field_path(section.key, f.name)] = _shown(source[f.name])
    return state


# ------------------------------------------------------------------ parsing


def parse_number(text: str) -> float | None:
    # A decimal comma is how half of Europe writes lab values: accept "12,5",
    # but refuse "1,250.5", "1.250,5" and "1 250", whose meaning depends on the
    # locale (or on a slip: "12 5").
    candidate = text.strip()
    if candidate.count(",") == 1 and "." not in candidate:
        candidate = candidate.replace(",", ".")
    try:
        value = float(candidate)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parsed(f: FormField, path: str, text: str, problems: list[Problem]) -> Any:
    """The typed value of one field, ``None`` when left empty (or unparseable, with a problem)."""
    text = text.strip() if f.kind != "longtext" else text
    if text == "":
        return None
    if f.kind == "boolean":
        if text not in {"true", "false"}:
            problems.append(Problem(path, text, "choose yes, no or unknown"))
            return None
        return text == "true"
    if f.kind == "choice":
        allowed = [value for value, _ in f.choices if value]
        if text not in allowed:
            problems.append(Problem(path, text, f"choose one of: {', '.join(allowed)}"))
            return None
        return text
    if f.kind in {"number", "integer"}:
        value = parse_number(text)
        expected = "a whole number" if f.kind == "integer" else "a number, e.g. 12.5"
        unit = f" in {f.unit}" if f.unit else ""
        if value is None or (f.kind == "integer" and not value.is_integer()):
            problems.append(Problem(path, text, f"enter {expected}{unit}"))
            return None
        return int(value) if f.kind == "integer" else value
    return text


def _parse_object(
    section: FormSection, source: Mapping[str, str], prefix: str, problems: list[Problem]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for f in section.fields:
        path = f"{prefix}.{f.name}" if prefix else f.name
        value = _parsed(f, path, source.get(path if not section.repeated else f.name, ""), problems)
        if value is not None:
            result[f.name] = value
    return result


@dataclass
class ParsedForm:
    document: dict[str, Any]
    problems: list[Problem]


def document_from_state(state: FormState) -> ParsedForm:
    """The case document the form describes, and every problem with it (typing and case rules).

    Blank rows are dropped; problem paths are given in the form's own row
    numbering, so they match the inputs on the page.
    """
    problems: list[Problem] = []
    document: dict[str, Any] = {"schema": CASE_SCHEMA_ID}
    row_of: dict[str, list[int]] = {}
    for section in form_sections():
        if section.repeated:
            items: list[dict[str, Any]] = []
            row_of[section.key] = []
            for index, row in enumerate(state.rows.get(section.key, [])):
                if not any(value.strip() for value in row.values()):
                    continue
                item = _parse_object(section, row, f"{section.key}[{index}]", problems)
                items.append(item)
                row_of[section.key].append(index)
            if items:
                document[section.key] = items
        elif section.key == "":
            document.update(_parse_object(section, state.values, "", problems))
        else:
            found = _parse_object(section, state.values, section.key, problems)
            done = state.values.get(section.key, "") == "true"
            if section.presence_label and found and not done:
                problems.append(
                    Problem(section.key, "no", f"findings are entered: set '{section.presence_label}' to yes, or clear them")
                )
            if found or done or section.key == "patient":
                document[section.key] = found
    # The case rules run even when some inputs did not parse, so that every
    # problem shows at once; their paths count only the rows kept.
    try:
        load_case(document)
    except CaseError as error:
        typed = {p.path for p in problems}
        for problem in error.problems:
            path = _form_path(problem.path, row_of)
            if path not in typed:
                problems.append(Problem(path, problem.value, problem.message))
    return ParsedForm(document, problems)


_DOC_ROW = re.compile(r"^([a-z_]+)\[(\d+)\]")


def _form_path(path: str, row_of: Mapping[str, list[int]]) -> str:
    match = _DOC_ROW.match(path)
    if not match or match.group(1) not in row_of:
        return path
    section, index = match.group(1), int(match.group(2))
    rows = row_of[section]
    if index >= len(rows):
        return path
    return f"{section}[{rows[index]}]" + path[match.end():]

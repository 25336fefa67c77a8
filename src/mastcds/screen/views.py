"""The screening ViewDefinitions (JSON files in ``views/``) and the code filters the engines add.

The files are plain SQL on FHIR v2 views, usable by any runner. The screening adds a ``where``
clause built from :mod:`mastcds.screen.codes` so that only rows with a screening code leave the
scan (a few percent of an export); the codes stay written once.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from mastcds.screen import codes as C

VIEW_FILES = {"Patient": "patient.json", "Condition": "condition.json", "Observation": "observation.json"}


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _any_code(system: str, codes: tuple[str, ...] | list[str]) -> str:
    alternatives = " or ".join(f"code = {_quote(c)}" for c in codes)
    return f"(system = {_quote(system)} and ({alternatives}))"


def _any_prefix(system: str, prefixes: tuple[str, ...]) -> str:
    alternatives = " or ".join(f"code.startsWith({_quote(p)})" for p in prefixes)
    return f"(system = {_quote(system)} and ({alternatives}))"


def observation_filter() -> str:
    """Tryptase, episode findings, genotype and work-up results; systolic pressure only when it
    is recorded for an episode (``focus``), which keeps routine blood pressures out.

    Written as "code in the list and system in the list" so each coding is read twice, not once
    per alternative; records.py re-checks every row's exact system and code pair.
    """
    pairs = [(C.LOINC, c) for c in (C.TRYPTASE.code, *C.WORKUP_LOINC)]
    pairs += [(C.SNOMED, c.code) for c in (C.SYNCOPE, C.URTICARIA, C.ANGIOEDEMA)]
    pairs += [(C.TPSAB1_EXTRA_ALPHA_COPIES.system, C.TPSAB1_EXTRA_ALPHA_COPIES.code)]
    codes = " or ".join(f"code = {_quote(code)}" for _, code in pairs)
    systems = " or ".join(f"system = {_quote(system)}" for system in sorted({s for s, _ in pairs}))
    blood_pressure = _any_code(C.LOINC, [C.SYSTOLIC_BP.code])
    return (f"code.coding.where(({codes}) and ({systems})).exists() or "
            f"(focus.exists() and code.coding.where({blood_pressure}).exists())")


def condition_filter() -> str:
    """Anaphylaxis, Hymenoptera venom, hypotension and recorded mast-cell diagnoses."""
    icd_prefixes = C.ANAPHYLAXIS_ICD_INITIAL + C.HYMENOPTERA_VENOM_ICD10CM_PREFIXES
    by_system: dict[str, list[str]] = {}
    for system, code in C.RECORDED_MAST_CELL_DIAGNOSES:
        by_system.setdefault(system, []).append(code)
    parts = [_any_code(C.SNOMED, list(C.ANAPHYLAXIS_SNOMED)), _any_prefix(C.ICD10CM, icd_prefixes),
             _any_prefix(C.ICD10, C.ANAPHYLAXIS_ICD_INITIAL),
             _any_code(C.HYPOTENSION_ICD10CM.system, [C.HYPOTENSION_ICD10CM.code])]
    parts += [_any_code(system, sorted(codes)) for system, codes in sorted(by_system.items())]
    return f"code.coding.where({' or '.join(parts)}).exists()"


def screening_prefilters() -> dict[str, tuple[dict[str, tuple[str, ...]], ...]]:
    """For each filtered view, text tests its filter implies (see ``CompiledView.ndjson_lines``):
    alternatives, each {top-level element: strings one of which its JSON text must hold}, the
    strings being every code (or code prefix) the filter accepts. A coding whose code equals (or
    starts with) one of them has it verbatim in the JSON text unless the text uses a JSON escape
    (which the test lets through), so an engine may skip lines that meet no alternative before the
    full filter; it never changes which rows pass. Keep in step with the two filters above.
    """
    observation = (C.TRYPTASE.code, *C.WORKUP_LOINC, C.SYNCOPE.code, C.URTICARIA.code, C.ANGIOEDEMA.code,
                   C.TPSAB1_EXTRA_ALPHA_COPIES.code)
    condition = (*C.ANAPHYLAXIS_SNOMED, *C.ANAPHYLAXIS_ICD_INITIAL, *C.HYMENOPTERA_VENOM_ICD10CM_PREFIXES,
                 C.HYPOTENSION_ICD10CM.code, *(code for _, code in C.RECORDED_MAST_CELL_DIAGNOSES))
    return {"Observation": ({"code": tuple(dict.fromkeys(observation))},
                            {"code": (C.SYSTOLIC_BP.code,), "focus": ()}),
            "Condition": ({"code": tuple(dict.fromkeys(condition))},)}


def view_definition(resource_type: str) -> dict:
    """The view file for ``resource_type`` as a dict (no screening filter)."""
    text = resources.files("mastcds.screen").joinpath("views", VIEW_FILES[resource_type]).read_text(encoding="utf-8")
    return json.loads(text)


def screening_views() -> dict[str, dict]:
    """Every screening view, with its code filter added as a ``where`` clause."""
    filters = {"Condition": condition_filter(), "Observation": observation_filter()}
    views = {}
    for resource_type in VIEW_FILES:
        view = view_definition(resource_type)
        if resource_type in filters:
            view["where"] = list(view.get("where", [])) + [{"path": filters[resource_type],
                                                            "description": "screening codes only"}]
        views[resource_type] = view
    return views


def discover_export(export_dir: Path) -> tuple[dict[str, list[Path]], list[Path]]:
    """Bulk Data files by resource type (``Type.ndjson``, ``Type.2.ndjson``, ``.gz``), and files skipped.

    Bulk Data names each output file after its one resource type (HL7 Bulk Data 3.0.0, export.md).
    """
    found: dict[str, list[Path]] = {t: [] for t in VIEW_FILES}
    skipped = []
    for path in sorted(export_dir.iterdir()):
        name = path.name
        if not path.is_file() or not (name.endswith(".ndjson") or name.endswith(".ndjson.gz")):
            if path.is_file() and path.name != "ground_truth.json":
                skipped.append(path)
            continue
        resource_type = name.split(".")[0].split("-")[0]
        if resource_type in found:
            found[resource_type].append(path)
        else:
            skipped.append(path)
    return found, skipped

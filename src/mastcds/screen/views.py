"""The screening ViewDefinitions (JSON files in ``views/``) and the codes the screening reads.

The files are plain SQL on FHIR v2 views, usable by any runner; each yields one row per coding.
Which rows the screening keeps is decided after the views, row by row, by the SQL of
:mod:`mastcds.screen.facts` from the code lists here, so the codes stay written once (in
:mod:`mastcds.screen.codes`). Before a line is parsed, the engines skip the lines that cannot hold
such a coding (:func:`screening_codes`, a text test), a few percent of an export being kept.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from mastcds.screen import codes as C

VIEW_FILES = {"Patient": "patient.json", "Condition": "condition.json", "Observation": "observation.json"}


def observation_codes() -> list[tuple[str, str]]:
    """(system, code) of the Observations the rules read besides blood pressure: tryptase, episode
    findings, genotype and work-up results."""
    pairs = [(C.LOINC, c) for c in (C.TRYPTASE.code, *C.WORKUP_LOINC)]
    pairs += [(C.SNOMED, c.code) for c in (C.SYNCOPE, C.URTICARIA, C.ANGIOEDEMA)]
    return pairs + [(C.TPSAB1_EXTRA_ALPHA_COPIES.system, C.TPSAB1_EXTRA_ALPHA_COPIES.code)]


def condition_codes() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The Conditions the rules read: (system, code) pairs, and (system, code prefix) pairs.

    Anaphylaxis (SNOMED CT concepts; ICD-10 and ICD-10-CM prefixes), Hymenoptera venom (ICD-10-CM
    prefixes), hypotension, and the recorded mast-cell diagnoses."""
    exact = [(C.SNOMED, c) for c in C.ANAPHYLAXIS_SNOMED]
    exact += [(C.HYPOTENSION_ICD10CM.system, C.HYPOTENSION_ICD10CM.code), *sorted(C.RECORDED_MAST_CELL_DIAGNOSES)]
    prefixes = [(C.ICD10CM, p) for p in (*C.ANAPHYLAXIS_ICD_INITIAL, *C.HYMENOPTERA_VENOM_ICD10CM_PREFIXES)]
    prefixes += [(C.ICD10, p) for p in C.ANAPHYLAXIS_ICD_INITIAL]
    return exact, prefixes


def screening_codes() -> dict[str, tuple[str, ...]]:
    """Per resource type read through a text test, the codes (and code prefixes) whose codings
    the screening keeps: a line holding no coding whose code starts with one of them cannot give
    a fact, so an engine may skip it unparsed. Observations include the systolic pressure, read
    alone or as a component."""
    exact, prefixes = condition_codes()
    condition = [code for _, code in exact + prefixes]
    observation = [code for _, code in observation_codes()] + [C.SYSTOLIC_BP.code]
    return {"Condition": tuple(dict.fromkeys(condition)), "Observation": tuple(dict.fromkeys(observation))}


def view_definition(resource_type: str) -> dict:
    """The view file for ``resource_type`` as a dict (no screening filter)."""
    text = resources.files("mastcds.screen").joinpath("views", VIEW_FILES[resource_type]).read_text(encoding="utf-8")
    return json.loads(text)


def screening_views() -> dict[str, dict]:
    """Every screening view, by resource type."""
    return {resource_type: view_definition(resource_type) for resource_type in VIEW_FILES}


def key_views() -> dict[str, dict]:
    """Per resource type, a view of every resource's id and patient, unfiltered: what an
    incremental run replaces (the same paths as the screening views' first columns)."""
    subject = {"Patient": "getResourceKey()"}
    return {t: {"resourceType": "ViewDefinition", "resource": t, "status": "active", "select": [{"column": [
        {"name": "resource_id", "path": "getResourceKey()", "type": "string"},
        {"name": "patient_id", "path": subject.get(t, "subject.getReferenceKey(Patient).first()"), "type": "string"}]}]}
        for t in VIEW_FILES}


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

"""The state a screening run leaves next to its worklist, so that the next run can be incremental.

``worklist.csv`` gets ``worklist.state/``: a manifest (``state.json``) and Parquet files.

* ``facts-N.parquet``: the facts (:data:`~mastcds.screen.types.FACT_SCHEMA`) read by run N, sorted
  by patient: every Patient, every Condition and Observation the rules read, every systolic
  pressure (a later anaphylaxis may make it matter).
* ``keys-N.parquet`` (incremental runs): every resource run N read (type and id). A resource in a
  later run replaces the one with the same type and id: its facts in earlier runs are dropped.
* ``summaries-N.parquet``: the per-patient summaries (:data:`~mastcds.screen.types.SUMMARY_SCHEMA`)
  after run N, one per patient the rules looked at; the worklist is its flagged rows.

An incremental run (``--since STATE``) reads an export made with ``_since`` (new and changed
resources), screens again only the patients it touches, with their facts from every run, and
keeps every other patient's summary: the worklist equals a full run over the updated export.
The state records a fingerprint of the code that made it (rules, codes, views, units): after an
upgrade an incremental run is refused and a full run starts a new state.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Protocol

from mastcds.screen.types import FACT_COLUMNS

STATE_FORMAT = "mastcds-screen-state/1"
MANIFEST = "state.json"
_RESOURCE_OF_KIND = {"patient": "Patient", "condition": "Condition", "observation": "Observation",
                     "systolic": "Observation"}
# The code whose behaviour a state depends on: what reads the export, what the rules decide.
_FINGERPRINTED = {"mastcds.screen": ("facts.py", "ndjson.py", "patients.py", "records.py", "rules.py", "views.py",
                                     "codes.py", "viewdef.py", "fhirpath.py", "dialects.py", "types.py",
                                     "views/patient.json", "views/condition.json", "views/observation.json"),
                  "mastcds": ("units.py",), "mastcds.fhir": ("codes.py", "fields.py")}


class StateError(ValueError):
    """A state that cannot be continued (missing, another format, or made by other code)."""


class Files(Protocol):
    """The few file operations a state needs: on a local disk, or through Hadoop's FileSystem."""

    def read_text(self, path: str) -> str | None: ...
    def write_text(self, path: str, text: str) -> None: ...  # atomically
    def copy(self, source: str, target: str) -> None: ...
    def delete(self, path: str) -> None: ...
    def make_dirs(self, path: str) -> None: ...


def fingerprint() -> str:
    """SHA-256 of the screening's code and of every rule it may call (all of ``mastcds.rules``)."""
    digest = hashlib.sha256()
    for package, names in sorted(_FINGERPRINTED.items()):
        for name in names:
            digest.update(f"{package}/{name}\0".encode())
            digest.update(resources.files(package).joinpath(name).read_bytes())
    pending = [("rules", resources.files("mastcds.rules"))]
    while pending:
        prefix, folder = pending.pop()
        for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
            if item.is_dir() and item.name != "__pycache__":
                pending.append((f"{prefix}/{item.name}", item))
            elif item.name.endswith((".py", ".json")):
                digest.update(f"{prefix}/{item.name}\0".encode())
                digest.update(item.read_bytes())
    return digest.hexdigest()


def state_dir_for(out: str) -> str:
    """``…/worklist.csv`` -> ``…/worklist.state`` (a path or a URI)."""
    head, _, name = out.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{head}/{stem}.state" if head else f"{stem}.state"


def join(folder: str, name: str) -> str:
    return folder.rstrip("/") + "/" + name


@dataclass
class Run:
    facts: str
    keys: str | None = None


@dataclass
class State:
    """A state's manifest: the engine that writes it, its runs (oldest first), the current summaries."""

    folder: str
    engine: str
    runs: list[Run] = field(default_factory=list)
    summaries: str | None = None

    @property
    def next_number(self) -> int:
        return len(self.runs) + 1

    def to_json(self) -> str:
        return json.dumps({"format": STATE_FORMAT, "fingerprint": fingerprint(), "engine": self.engine,
                           "runs": [{"facts": r.facts, "keys": r.keys} for r in self.runs],
                           "summaries": self.summaries}, indent=1)

    def path(self, name: str) -> str:
        return join(self.folder, name)


def read_state(files: Files, folder: str, engine: str) -> State:
    """The state in ``folder``, or :class:`StateError` saying why ``engine`` cannot continue it."""
    text = files.read_text(join(folder, MANIFEST))
    if text is None:
        raise StateError(f"{folder}: no {MANIFEST} (not a screening state; a run with --state writes one beside its worklist)")
    try:
        data = json.loads(text)
        runs = [Run(r["facts"], r.get("keys")) for r in data["runs"]]
        summaries = data["summaries"]
    except (ValueError, KeyError, TypeError) as error:
        raise StateError(f"{folder}/{MANIFEST}: not a readable state ({error})") from None
    if data.get("format") != STATE_FORMAT:
        raise StateError(f"{folder}: state format {data.get('format')!r}, this version reads {STATE_FORMAT!r}")
    if data.get("fingerprint") != fingerprint():
        raise StateError(f"{folder}: made by another version of the screening (its rules, codes or views "
                         "differ); run a full screening without --since to start a new state")
    if not runs or not isinstance(summaries, str):
        raise StateError(f"{folder}/{MANIFEST}: no runs or no summaries")
    if data.get("engine") != engine:
        raise StateError(f"{folder}: written by the {data.get('engine')} engine; continue it with "
                         f"--engine {data.get('engine')}, or run a full screening")
    return State(folder, engine, runs, summaries)


def continue_state(files: Files, previous: State, folder: str) -> State:
    """The state the next run extends: ``previous`` itself when it is in ``folder``, else a copy
    of its files there (the copy keeps ``previous`` intact)."""
    if previous.folder.rstrip("/") == folder.rstrip("/"):
        return State(folder, previous.engine, list(previous.runs), previous.summaries)
    files.make_dirs(folder)
    for name in [r.facts for r in previous.runs] + [r.keys for r in previous.runs if r.keys] + [previous.summaries]:
        files.copy(previous.path(name), join(folder, name))
    return State(folder, previous.engine, list(previous.runs), previous.summaries)


def commit(files: Files, state: State, run: Run, summaries: str) -> None:
    """Record ``run`` and the new summaries in the manifest (written last, atomically: a run that
    fails before leaves the state as it was), then delete the summaries it replaces."""
    replaced = state.summaries
    state.runs.append(run)
    state.summaries = summaries
    files.write_text(state.path(MANIFEST), state.to_json())
    if replaced and replaced != summaries:
        files.delete(state.path(replaced))


def _typed(relation: str) -> str:
    """``relation`` (facts) with the resource type of each fact, as ``resource_type``."""
    kinds = " ".join(f"WHEN '{kind}' THEN '{rtype}'" for kind, rtype in _RESOURCE_OF_KIND.items())
    return f"(SELECT {', '.join(FACT_COLUMNS)}, CASE kind {kinds} END AS resource_type FROM {relation})"


def _not_replaced(facts: str, keys: list[str]) -> str:
    """The facts of ``facts`` whose resource is in none of ``keys`` (relations of resource_type, resource_id)."""
    select = f"SELECT {', '.join('f.' + c for c in FACT_COLUMNS)} FROM {_typed(facts)} f"
    if not keys:
        return select
    replaced = " UNION ALL ".join(f"SELECT resource_type, resource_id FROM {k}" for k in keys)
    return (f"{select} WHERE NOT EXISTS (SELECT 1 FROM ({replaced}) k "
            f"WHERE k.resource_type = f.resource_type AND k.resource_id = f.resource_id)")


def incremental_queries(state: State, read_parquet, new_facts: str, new_keys: str) -> tuple[str, str]:
    """SQL of the patients a new run touches, and of their facts from every run.

    ``new_facts``: the facts the new run read; ``new_keys``: every resource it read
    (resource_type, resource_id, patient_id); ``read_parquet(path)`` spells a Parquet scan. A
    patient is touched when the new run has a resource of theirs, or replaces one that was theirs.
    """
    runs = state.runs
    live = " UNION ALL ".join(
        _not_replaced(read_parquet(state.path(run.facts)), [read_parquet(state.path(r.keys)) for r in runs[n:] if r.keys])
        for n, run in enumerate(runs, 1))
    touched = (f"SELECT patient_id FROM {new_keys} WHERE patient_id IS NOT NULL UNION "
               f"SELECT f.patient_id FROM {_typed('(' + live + ')')} f WHERE EXISTS (SELECT 1 FROM {new_keys} k "
               f"WHERE k.resource_type = f.resource_type AND k.resource_id = f.resource_id)")
    kept = _not_replaced(f"({live})", [new_keys])
    merged = (f"SELECT * FROM ({kept}) kept WHERE patient_id IN (SELECT patient_id FROM touched) "
              f"UNION ALL SELECT {', '.join(FACT_COLUMNS)} FROM {new_facts}")
    return touched, merged

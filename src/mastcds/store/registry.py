"""Moving a whole registry: one mastcds-case/1 file per patient, in and out.

An export reads every patient in one transaction (a consistent snapshot) and
writes the directory under a temporary name, renamed into place at the end, so
a failed export leaves no half-filled directory; a record that cannot be written
(stored before mastcds refused its text) is left out and reported, so that one
record never blocks the export of all others. The directory and its files are
readable by their owner only. An import checks every file
first and then writes all patients in one transaction: one bad file and nothing
is imported. Direct identifiers leave the database only when asked for, in
``_identifiers.json`` beside the cases (a key never starts with '_').
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mastcds.atomic_file import PRIVATE_DIRECTORY_MODE, open_private
from mastcds.case import CaseError, Problem, load_case_text
from mastcds.json_input import parse_json
from mastcds.store.audit import checked_actor, log_access
from mastcds.store.database import Store
from mastcds.store.errors import InvalidRecord, StoreError
from mastcds.store.models import Patient
from mastcds.store.revisions import IDENTIFIER, load_state
from mastcds.store.service import import_into
from mastcds.store.settings import PATIENT_KEY_PATTERN, PATIENT_KEY_RULE

IDENTIFIERS_FILE = "_identifiers.json"
Progress = Callable[[int, int], None]


def _write_json(path: Path, document: Any) -> None:
    """Write ``document`` to a new private file; ValueError, before anything is written, when JSON cannot hold it."""
    data = (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    with os.fdopen(open_private(path), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@dataclass
class RegistryExport:
    """What an export wrote (patient keys) and what it left out, one problem per record."""

    keys: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)


def export_registry(
    store: Store,
    directory: str | Path,
    *,
    actor: str,
    include_identifiers: bool = False,
    on_progress: Progress | None = None,
) -> RegistryExport:
    """Write ``directory/<key>.json`` for every patient whose record can be written; says which were left out."""
    actor = checked_actor(actor)
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StoreError.one("directory", str(target), "must not exist yet or be empty")
    partial = target.parent / f".{target.name}.partial-{secrets.token_hex(4)}"
    result = RegistryExport()
    try:
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.mkdir(mode=PRIVATE_DIRECTORY_MODE)
        os.chmod(partial, PRIVATE_DIRECTORY_MODE)
        with store.writing() as session:
            patients = session.scalars(select(Patient).order_by(Patient.key)).all()
            identifiers: dict[str, list[dict[str, str]]] = {}
            for done, patient in enumerate(patients, start=1):
                state = load_state(session, patient)
                try:
                    _write_json(partial / f"{patient.key}.json", state.case_document())
                except ValueError as error:
                    reason = f"not exported: the stored record cannot be written as JSON ({error})"
                    result.skipped.append(Problem("patient", patient.key, reason))
                else:
                    result.keys.append(patient.key)
                    if include_identifiers and state.items[IDENTIFIER]:
                        identifiers[patient.key] = [item.document for item in state.items[IDENTIFIER]]
                    detail = "case exported with identifiers (registry)" if patient.key in identifiers else "case exported (registry)"
                    log_access(session, actor=actor, action="read", patient_key=patient.key, detail=detail)
                if on_progress:
                    on_progress(done, len(patients))
            if identifiers:
                _write_json(partial / IDENTIFIERS_FILE, identifiers)
            os.replace(partial, target)
    except OSError as error:
        raise StoreError.one("directory", str(target), f"cannot be written ({error.strerror})") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return result


def _read_identifiers(path: Path, problems: list[Problem]) -> dict[str, list[tuple[str, str]]]:
    try:
        data = parse_json(path.read_text(encoding="utf-8"))
        return {
            key: [(entry["system"], entry["value"]) for entry in entries]
            for key, entries in data.items()
            if isinstance(entries, list)
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        problems.append(
            Problem(IDENTIFIERS_FILE, None, 'expected {"KEY": [{"system": "...", "value": "..."}, ...], ...}')
        )
        return {}


def import_registry(
    store: Store,
    directory: str | Path,
    *,
    actor: str,
    replace: bool = False,
    on_progress: Progress | None = None,
) -> list[str]:
    """Import every ``*.json`` case of ``directory`` (all or none); returns the keys imported.

    A case's key is its ``id``, else the file name without ``.json``.
    """
    actor = checked_actor(actor)
    source = Path(directory)
    if not source.is_dir():
        raise StoreError.one("directory", str(source), "not a directory")
    files = sorted(path for path in source.glob("*.json") if path.name != IDENTIFIERS_FILE)
    if not files:
        raise StoreError.one("directory", str(source), "holds no case files (*.json)")
    problems: list[Problem] = []
    cases: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in files:
        try:
            case = load_case_text(path.read_text(encoding="utf-8"))
        except CaseError as error:
            problems.extend(Problem(f"{path.name}: {p.path}", p.value, p.message) for p in error.problems)
            continue
        except (OSError, UnicodeDecodeError):
            problems.append(Problem(path.name, None, "cannot be read as UTF-8 text"))
            continue
        key = case.id or path.stem
        if not PATIENT_KEY_PATTERN.match(key):
            problems.append(Problem(f"{path.name}: id", key, f"not a usable patient key; {PATIENT_KEY_RULE}"))
        elif key in cases:
            problems.append(Problem(f"{path.name}: id", key, f"the same key as {cases[key][0].name}"))
        else:
            cases[key] = (path, case.to_document())
    identifiers = _read_identifiers(source / IDENTIFIERS_FILE, problems) if (source / IDENTIFIERS_FILE).exists() else {}
    problems.extend(Problem(IDENTIFIERS_FILE, key, "no case file has this key") for key in identifiers if key not in cases)
    if problems:
        raise InvalidRecord(problems)
    with store.writing() as session:
        for done, (key, (path, document)) in enumerate(cases.items(), start=1):
            try:
                import_into(
                    session, document, actor=actor, key=key, replace=replace, reason=f"registry import ({path.name})",
                    identifiers=identifiers.get(key, ()),
                )
            except StoreError as error:
                raise type(error)([Problem(f"{path.name}: {p.path}", p.value, p.message) for p in error.problems]) from None
            if on_progress:
                on_progress(done, len(cases))
    return list(cases)

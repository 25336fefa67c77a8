"""Commands on the patient-record database: patients, episodes, labs, treatments, evaluations.

Thin on purpose: parse, call :mod:`mastcds.store.service`, print. Every
command takes ``--db`` (URL or SQLite file; default ``$MASTCDS_DATABASE_URL``,
else a file in the user's data directory) and ``--user`` (default
``$MASTCDS_USER``, else the login name), and exits 2 with one line per problem
when the store refuses. The store modules are imported inside the commands so
that commands not touching the database start fast.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer
from pydantic import BaseModel

from mastcds.cli.tables import RecordTable, record_table

from mastcds.case import Case, CaseError, Episode, LabResult, Problem, Treatment, load_case_text
from mastcds.atomic_file import write_atomically
from mastcds.cli.app import app
from mastcds.cli.output import TerminalConsole, fail, read_text_or_fail, stderr
from mastcds.json_input import JsonInputError, parse_json

if TYPE_CHECKING:
    from mastcds.store.database import Store
    from mastcds.store.views import ChangeView, Edit, StoredEvaluation

stdout = TerminalConsole(soft_wrap=True)

patient_app = typer.Typer(help="Patients: add, import, export, list, show, correct findings, history.", no_args_is_help=True)
episode_app = typer.Typer(help="Anaphylaxis and mediator episodes of a patient.", no_args_is_help=True)
lab_app = typer.Typer(help="Lab results of a patient (value, unit, date).", no_args_is_help=True)
treatment_app = typer.Typer(help="Treatments of a patient (start, stop).", no_args_is_help=True)
record_app = typer.Typer(help="Correct or withdraw an episode, lab result, treatment or identifier.", no_args_is_help=True)
evaluation_app = typer.Typer(help="Stored evaluations, shown exactly as they were given.", no_args_is_help=True)
db_app = typer.Typer(help="The database itself: schema migrations.", no_args_is_help=True)
for _name, _sub in [
    ("patient", patient_app),
    ("episode", episode_app),
    ("lab", lab_app),
    ("treatment", treatment_app),
    ("record", record_app),
    ("evaluation", evaluation_app),
    ("db", db_app),
]:
    app.add_typer(_sub, name=_name)

DB_OPTION = typer.Option(
    None, "--db", help="Database URL or SQLite file [default: $MASTCDS_DATABASE_URL, else mastcds.db in the user data directory]"
)
USER_OPTION = typer.Option(None, "--user", help="Who is acting [default: $MASTCDS_USER, else the login name]")
REASON_OPTION = typer.Option(None, "--reason", help="Why (kept with the change)")
KEY_ARGUMENT = typer.Argument(..., metavar="ID", help="Patient key")


class Format(str, Enum):
    text = "text"
    json = "json"


FORMAT_OPTION = typer.Option(Format.text, "--format", "-f", help="text for people, json for programs")


# ---------------------------------------------------------------- shared with other command modules


REPLACE_HINT = "give --replace to store the document as a new version of that patient's record"


@contextmanager
def store_errors(*, replace_hint: bool = False) -> Iterator[None]:
    """Turn a refusal of the store into exit 2 with one line per problem.

    ``replace_hint``: the command has ``--replace``, and a taken key says so.
    """
    from mastcds.store.errors import PatientExists, StoreError

    try:
        yield
    except PatientExists as error:
        fail([Problem(p.path, p.value, f"{p.message}; {REPLACE_HINT}") for p in error.problems] if replace_hint else error.problems)
    except StoreError as error:
        fail(error.problems)


def open_store_for_cli(db: str | None) -> "Store":
    """The store named by ``--db`` (migrated to head), or exit 2 saying why it cannot be opened.

    Which database it is goes to standard error, so a user who forgot
    ``--db`` or ``$MASTCDS_DATABASE_URL`` sees where the data went.
    """
    from mastcds.store.database import Store
    from mastcds.store.settings import shown_url

    with store_errors():
        store = Store(db)
    stderr.print(f"database: {shown_url(store.url)}", style="dim", markup=False)
    return store


def acting_user(user: str | None) -> str:
    """Who is acting (:func:`mastcds.store.settings.acting_user`), or exit 2 for an implausible name."""
    from mastcds.store.settings import acting_user as _acting_user

    with store_errors():
        return _acting_user(user)


# ---------------------------------------------------------------- parsing FIELD=VALUE


def _types_of(annotation: Any) -> set[Any]:
    """The plain types a (possibly Annotated, Optional, Literal) annotation accepts."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_types_of(arg) for arg in typing.get_args(annotation)))
    if origin is Literal:
        return {type(arg) for arg in typing.get_args(annotation)}
    return {annotation}


def _field_types(model: type[BaseModel], name: str) -> set[Any]:
    field = model.model_fields.get(name)
    return _types_of(field.annotation) if field else set()


NULL_WORDS = ("null", "unknown")


def parse_value(text: str, accepted: set[Any]) -> Any:
    """A command-line word as the value a field takes: ``true``, ``31``, ``2011-09``, ``null``...

    Anything that does not parse as the field's type is passed on as written,
    so the case check names the field, the value and what it accepts.
    """
    if text.lower() in NULL_WORDS:
        return None
    if bool in accepted and text.lower() in ("true", "yes", "false", "no"):
        return text.lower() in ("true", "yes")
    if accepted & {int, float}:
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and int in accepted else number
    if accepted - {str, type(None)}:
        try:
            return parse_json(text)  # a whole section given as a JSON object
        except JsonInputError:
            return text
    return text


def _pairs(assignments: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep or not name.strip():
            fail([f"{assignment}: expected FIELD=VALUE"])
        pairs.append((name.strip(), text.strip()))
    return pairs


def _finding_changes(assignments: list[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for path, text in _pairs(assignments):
        section, _, name = path.partition(".")
        if name:
            models = [t for t in _types_of(Case.model_fields[section].annotation) if isinstance(t, type) and issubclass(t, BaseModel)] if section in Case.model_fields else []
            accepted = _field_types(models[0], name) if models else set()
        else:
            accepted = _field_types(Case, section)
        changes[path] = parse_value(text, accepted)
    return changes


_ITEM_MODELS: dict[str, type[BaseModel]] = {"episode": Episode, "lab_result": LabResult, "treatment": Treatment}


def _item_changes(assignments: list[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, text in _pairs(assignments):
        accepted = set().union(*(_field_types(model, name) for model in _ITEM_MODELS.values()))
        changes[name] = parse_value(text, accepted)
    return changes


# ---------------------------------------------------------------- what a typing error would let through

FORCE_OPTION = typer.Option(False, "--force", help="Record a drug name mastcds does not know, as written")


def _entry_problems(dates: dict[str, Any], drug: tuple[str, Any] | None = None, *, force: bool = False) -> list[str]:
    """Dates after today, and (unless ``force``) a drug name mastcds does not know, with the closest known names."""
    import difflib
    from datetime import date

    from mastcds.case import DatePattern, after_today, calendar_problem
    from mastcds.rules.treatment.ladder import known_drug_names, normalised_drug_name

    today = date.today()
    problems = [
        f"{option}: {text} is after today ({today.isoformat()}); a record holds what has happened"
        for option, text in dates.items()
        if isinstance(text, str) and re.fullmatch(DatePattern, text) and calendar_problem(text) is None and after_today(text, today)
    ]
    if drug is not None and isinstance(drug[1], str) and not force:
        option, name = drug
        known = known_drug_names()
        if normalised_drug_name(name) not in known:
            close = difflib.get_close_matches(normalised_drug_name(name), sorted(known), n=3, cutoff=0.75)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            problems.append(f"{option}: {name!r} is not a drug name mastcds knows{hint} (--force records it as written)")
    return problems


def _date_fields(changes: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in changes.items() if name.split(".")[-1] in _DATE_FIELDS}


_DATE_FIELDS = ("date", "birth_date", "evaluation_date", "biopsy_date", "start_date", "end_date")


# ---------------------------------------------------------------- output


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _minute(moment: datetime) -> str:
    """A time in a table column headed "(UTC)"."""
    return moment.strftime("%Y-%m-%d %H:%M")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=_json_default))


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _progress_bar(description: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=stderr.now()
    )


# ---------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(db: str = DB_OPTION) -> None:
    """Bring the database schema up to this version (also done on every start)."""
    from mastcds.store.settings import shown_url

    store = open_store_for_cli(db)
    with store_errors():
        stdout.print(f"{shown_url(store.url)}: schema at revision {store.current_revision()}")


# ---------------------------------------------------------------- patients


@patient_app.command("add")
def patient_add(
    key: str = typer.Option(None, "--key", help="Pseudonymous key [default: a new random one]"),
    sex: str = typer.Option(None, "--sex", help="male or female"),
    age: float = typer.Option(None, "--age", help="Age in years at evaluation"),
    birth_date: str = typer.Option(None, "--birth-date", help="YYYY, YYYY-MM or YYYY-MM-DD"),
    weight: float = typer.Option(None, "--weight", help="Body weight in kg"),
    identifier: list[str] = typer.Option([], "--identifier", help="SYSTEM=VALUE, e.g. mrn=12345 (repeatable)"),
    reason: str = REASON_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Add a patient; prints the key. Findings follow with `patient set`, episodes, labs, treatments."""
    from mastcds.store import service

    given = {"sex": sex, "age_years": age, "birth_date": birth_date, "weight_kg": weight}
    problems = _entry_problems({"--birth-date": birth_date})
    if problems:
        fail(problems)
    store = open_store_for_cli(db)
    with store_errors():
        key = service.create_patient(
            store,
            key,
            actor=acting_user(user),
            findings={"patient": {k: v for k, v in given.items() if v is not None}},
            identifiers=dict(_pairs(identifier)),
            reason=reason,
        )
    stdout.print(key)


@patient_app.command("import")
def patient_import(
    case_file: str = typer.Argument(..., metavar="CASE.json", help="Case document (mastcds-case/1), or - for stdin"),
    key: str = typer.Option(None, "--key", help="Key to store it under [default: the document's id, else a new one]"),
    replace: bool = typer.Option(False, "--replace", help="Replace the record of an existing patient (a new version)"),
    reason: str = REASON_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Store a case document as a patient's record; prints the key."""
    from mastcds.store import service

    text = read_text_or_fail(case_file)
    try:
        document = load_case_text(text).to_document()
    except CaseError as error:
        fail(error.problems, source=case_file)
    store = open_store_for_cli(db)
    with store_errors(replace_hint=True):
        key = service.import_case(store, document, actor=acting_user(user), key=key, replace=replace, reason=reason)
    stdout.print(key)


def _export_one(key: str, output: Path | None, version: int | None, db: str | None, user: str | None) -> None:
    from mastcds.store import service

    store = open_store_for_cli(db)
    with store_errors():
        document = service.export_case(store, key, actor=acting_user(user), version=version)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        write_atomically(output, text)
    except OSError as error:
        fail([f"{output}: cannot be written ({error.strerror})"])


@patient_app.command("export")
def patient_export(
    key: str = KEY_ARGUMENT,
    output: Path = typer.Option(None, "--output", "-o", help="File to write [default: standard output]"),
    version: int = typer.Option(None, "--version", help="The record as it was at this version (see `patient history`)"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Print a patient's record as a case document (mastcds-case/1)."""
    _export_one(key, output, version, db, user)


@patient_app.command("list")
def patient_list(output_format: Format = FORMAT_OPTION, db: str = DB_OPTION, user: str = USER_OPTION) -> None:
    """Every patient, with counts and the last change."""
    from mastcds.store import service

    store = open_store_for_cli(db)
    with store_errors():
        patients = service.list_patients(store, actor=acting_user(user))
    if output_format is Format.json:
        _print_json([asdict(p) for p in patients])
        return
    rows = [
        [p.key, str(p.version), str(p.episodes), str(p.lab_results), str(p.treatments), str(p.evaluations), _minute(p.updated_at)]
        for p in patients
    ]
    stdout.print(record_table(["ID", "ver.", "ep.", "labs", "treat.", "eval.", "last change (UTC)"], rows, whole=(0, 6)))
    stdout.print(f"{len(patients)} patient(s)")


def _item_table(title: str, items: list[Any], columns: list[str], headers: list[str], whole: tuple[int, ...]) -> RecordTable:
    rows = [[str(item.record_id), *[_cell(item.document.get(c)) for c in columns]] for item in items]
    return record_table(["record", *headers], rows, whole=(0, *whole), title=title)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


@patient_app.command("show")
def patient_show(key: str = KEY_ARGUMENT, output_format: Format = FORMAT_OPTION, db: str = DB_OPTION, user: str = USER_OPTION) -> None:
    """A patient's current record, with the record ids used to correct items."""
    from mastcds.store import service

    store = open_store_for_cli(db)
    with store_errors():
        view = service.show_patient(store, key, actor=acting_user(user))
    if output_format is Format.json:
        _print_json(asdict(view))
        return
    stdout.print(f"[bold]{view.key}[/bold]  version {view.version}, created {_when(view.created_at)}, last change {_when(view.updated_at)}, {view.evaluations} evaluation(s)")
    for item in view.identifiers:
        stdout.print(f"identifier (record {item.record_id}): {item.document['system']} = {item.document['value']}", markup=False)
    findings = {k: v for k, v in view.case.items() if k not in ("schema", "id", "episodes", "lab_results", "treatments")}
    for name, value in findings.items():
        if isinstance(value, dict):
            known = ", ".join(f"{k}={_shown(v)}" for k, v in value.items() if v is not None)
            stdout.print(f"{name}: {known or '(nothing known)'}", markup=False)
        else:
            stdout.print(f"{name}: {_shown(value)}", markup=False)
    episodes = ["id", "date", "trigger", "systolic_bp_mmhg", "epinephrine_doses"]
    stdout.print(_item_table("Episodes", view.episodes, episodes, ["id", "date", "trigger", "lowest SBP", "adrenaline"], (1, 2)))
    labs = ["test", "value", "unit", "date", "context", "episode_id"]
    stdout.print(_item_table("Lab results", view.lab_results, labs, ["test", "value", "unit", "date", "context", "episode"], (1, 4)))
    treatments = ["drug", "dose_mg", "interval", "start_date", "end_date"]
    stdout.print(_item_table("Treatments", view.treatments, treatments, ["drug", "mg", "interval", "start", "end"], (1, 4, 5)))


@patient_app.command("set")
def patient_set(
    key: str = KEY_ARGUMENT,
    assignments: list[str] = typer.Argument(..., metavar="FIELD=VALUE...", help="e.g. bone_marrow.cd25=true patient.weight_kg=80 notes='...' (null = unknown)"),
    reason: str = REASON_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Set or correct findings; the earlier values stay in the history."""
    from mastcds.store import service

    changes = _finding_changes(assignments)
    problems = _entry_problems(_date_fields(changes))
    if problems:
        fail(problems)
    store = open_store_for_cli(db)
    with store_errors():
        version = service.update_findings(store, key, changes, actor=acting_user(user), reason=reason)
    stdout.print(f"{key}: version {version}")


@patient_app.command("identify")
def patient_identify(
    key: str = KEY_ARGUMENT,
    identifier: str = typer.Argument(..., metavar="SYSTEM=VALUE", help="e.g. mrn=12345"),
    reason: str = REASON_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Attach a direct identifier (hospital number...) to a patient; prints its record id."""
    from mastcds.store import service

    ((system, value),) = _pairs([identifier])
    store = open_store_for_cli(db)
    with store_errors():
        record_id = service.add_identifier(store, key, system, value, actor=acting_user(user), reason=reason)
    stdout.print(str(record_id))


@patient_app.command("find")
def patient_find(
    identifier: str = typer.Argument(..., metavar="SYSTEM=VALUE", help="e.g. mrn=12345"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """The key of the patient with this identifier."""
    from mastcds.store import service

    ((system, value),) = _pairs([identifier])
    store = open_store_for_cli(db)
    with store_errors():
        key = service.find_patient_by_identifier(store, system, value, actor=acting_user(user))
    if key is None:
        fail([f"identifier {system}={value}: no patient has it"])
    stdout.print(key)


def _edit_lines(change: "ChangeView") -> list[str]:
    lines: list[str] = []
    groups: dict[tuple[str, int], list["Edit"]] = {}
    for edit in change.edits:
        groups.setdefault((edit.kind, edit.record_id), []).append(edit)
    for (kind, record_id), edits in groups.items():
        label = kind if kind == "findings" else f"{kind} {record_id}"
        if edits[0].created:
            values = ", ".join(f"{e.path}={_shown(e.after)}" for e in edits)
            lines.append(f"  + {label}: {values}" if kind != "findings" else f"  + findings ({len(edits)} fields)")
        elif edits[0].deleted:
            lines.append(f"  - {label} withdrawn")
        else:
            lines.extend(f"  {label}: {e.path}: {_shown(e.before)} -> {_shown(e.after)}" for e in edits)
    return lines


@patient_app.command("history")
def patient_history(key: str = KEY_ARGUMENT, output_format: Format = FORMAT_OPTION, db: str = DB_OPTION, user: str = USER_OPTION) -> None:
    """Every change to a patient's record: who, when, why, and the values before and after."""
    from mastcds.store import service

    store = open_store_for_cli(db)
    with store_errors():
        history = service.patient_history(store, key, actor=acting_user(user))
    if output_format is Format.json:
        _print_json([asdict(change) for change in history])
        return
    for change in history:
        why = f" (reason: {change.reason})" if change.reason else ""
        stdout.print(f"version {change.version}  {_when(change.recorded_at)}  {change.actor}  {change.summary}{why}", markup=False)
        for line in _edit_lines(change):
            stdout.print(line, markup=False)


def _evaluation_line(evaluation: "StoredEvaluation") -> list[str]:
    from mastcds.cli.report_text import EDITION_TITLES

    guidelines = evaluation.result.get("guidelines") or {}
    verdicts = {
        edition: (verdict or {}).get("category") or " or ".join((verdict or {}).get("possible_categories") or []) or "?"
        for edition, verdict in guidelines.items()
    }
    if len(set(verdicts.values())) == 1 and len(verdicts) > 1:
        categories = f"{next(iter(verdicts.values()))} (all editions)"
    else:
        categories = "; ".join(f"{EDITION_TITLES.get(e, e)} {v}" for e, v in verdicts.items())
    return [str(evaluation.id), _minute(evaluation.created_at), evaluation.actor, str(evaluation.patient_version), evaluation.engine_version, categories]


@patient_app.command("evaluations")
def patient_evaluations(key: str = KEY_ARGUMENT, output_format: Format = FORMAT_OPTION, db: str = DB_OPTION, user: str = USER_OPTION) -> None:
    """A patient's stored evaluations (show one with `mastcds evaluation show ID`)."""
    from mastcds.store import service

    store = open_store_for_cli(db)
    with store_errors():
        evaluations = service.list_evaluations(store, key, actor=acting_user(user))
    if output_format is Format.json:
        _print_json([{k: v for k, v in asdict(e).items() if k not in ("case_document", "result")} for e in evaluations])
        return
    rows = [_evaluation_line(evaluation) for evaluation in evaluations]
    stdout.print(record_table(["eval.", "when (UTC)", "by", "version", "engine", "SM category"], rows, whole=(0, 1), wrap=(5,)))


# ---------------------------------------------------------------- episodes, labs, treatments


def _episode_signs() -> list[str]:
    return [name for name in Episode.model_fields if bool in _field_types(Episode, name)]


@episode_app.command("add")
def episode_add(
    key: str = KEY_ARGUMENT,
    episode_id: str = typer.Option(None, "--id", help="Episode id, for lab results taken during it"),
    date: str = typer.Option(None, "--date", help="YYYY, YYYY-MM or YYYY-MM-DD"),
    trigger: str = typer.Option(None, "--trigger", help="none_identified, hymenoptera_venom, drug, food, heat, exercise, alcohol, infection, procedure, other"),
    trigger_detail: str = typer.Option(None, "--trigger-detail"),
    onset_minutes: float = typer.Option(None, "--onset-minutes", help="Minutes from exposure to symptoms"),
    systolic_bp: float = typer.Option(None, "--systolic-bp", help="Lowest systolic blood pressure, mmHg"),
    baseline_systolic_bp: float = typer.Option(None, "--baseline-systolic-bp", help="The patient's usual systolic pressure, mmHg"),
    acute_tryptase: float = typer.Option(None, "--acute-tryptase", help="Tryptase during the episode, ng/mL"),
    acute_tryptase_minutes: float = typer.Option(None, "--acute-tryptase-minutes", help="Minutes after onset it was drawn"),
    epinephrine_doses: int = typer.Option(None, "--epinephrine-doses"),
    present: list[str] = typer.Option([], "--present", help="A sign that was present, e.g. urticaria (repeatable)"),
    absent: list[str] = typer.Option([], "--absent", help="A sign that was looked for and absent (repeatable)"),
    reason: str = REASON_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Add an episode; prints its record id. Signs not named stay unknown."""
    from mastcds.store import service

    signs = _episode_signs()
    unknown = [s for s in [*present, *absent] if s not in signs]
    if unknown:
        fail([f"episode sign {s!r}: not a sign; accepted: {', '.join(signs)}" for s in unknown])
    both = set(present) & set(absent)
    if both:
        fail([f"episode sign {s!r}: given as both present and absent" for s in sorted(both)])
    given = {
        "id": episode_id,
        "date": date,
        "trigger": trigger,
        "trigger_detail": trigger_detail,
        "onset_minutes": onset_minutes,
        "systolic_bp_mmhg": systolic_bp,
        "baseline_systolic_bp_mmhg": baseline_systolic_bp,
        "acute_tryptase_ng_ml": acute_tryptase,
        "acute_tryptase_minutes_after_onset": acute_tryptase_minutes,
        "epinephrine_doses": epinephrine_doses,
    }
    problems = _entry_problems({"--date": date})
    if problems:
        fail(problems)
    episode = {k: v for k, v in given.items() if v is not None}
    episode.update({s: True for s in present})
    episode.update({s: False for s in absent})
    store = open_store_for_cli(db)
    with store_errors():
        record_id = service.add_episode(store, key, episode, actor=acting_user(user), reason=reason)
    stdout.print(str(record_id))


@lab_app.command("add")
def lab_add(
    key: str = KEY_ARGUMENT,
    test: str = typer.Option(..., "--test", help="tryptase, ige_total, hemoglobin, platelets, neutrophils, alkaline_phosphatase, albumin, beta2_microglobulin, kit_d816v_vaf, weight, ldh"),
    value: float = typer.Option(..., "--value"),
    unit: str = typer.Option(..., "--unit", help="As reported, e.g. ng/mL or ug/L; converted exactly or refused"),
    date: str = typer.Option(..., "--date", help="YYYY, YYYY-MM or YYYY-MM-DD"),
    context: str = typer.Option(None, "--context", help="baseline, acute or unknown"),
    episode: str = typer.Option(None, "--episode", help="Id of the episode an acute sample belongs to"),
    reason: str = REASON_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Add a lab result; prints its record id."""
    from mastcds.store import service

    lab = {"test": test, "value": value, "unit": unit, "date": date, "context": context, "episode_id": episode}
    problems = _entry_problems({"--date": date})
    if problems:
        fail(problems)
    store = open_store_for_cli(db)
    with store_errors():
        record_id = service.add_lab_result(
            store, key, {k: v for k, v in lab.items() if v is not None}, actor=acting_user(user), reason=reason
        )
    stdout.print(str(record_id))


@treatment_app.command("add")
def treatment_add(
    key: str = KEY_ARGUMENT,
    drug: str = typer.Option(..., "--drug", help="e.g. omalizumab, h1_antihistamine, cromolyn, midostaurin"),
    start: str = typer.Option(..., "--start", help="Start date: YYYY, YYYY-MM or YYYY-MM-DD"),
    end: str = typer.Option(None, "--end", help="End date, if it has ended"),
    dose_mg: float = typer.Option(None, "--dose-mg"),
    interval: str = typer.Option(None, "--interval", help="e.g. daily, bid, q4w"),
    indication: str = typer.Option(None, "--indication"),
    force: bool = FORCE_OPTION,
    reason: str = REASON_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Add a treatment; prints its record id. A drug name mastcds does not know needs --force."""
    from mastcds.store import service

    treatment = {"drug": drug, "dose_mg": dose_mg, "interval": interval, "start_date": start, "end_date": end, "indication": indication}
    problems = _entry_problems({"--start": start, "--end": end}, ("--drug", drug), force=force)
    if problems:
        fail(problems)
    store = open_store_for_cli(db)
    with store_errors():
        record_id = service.add_treatment(
            store, key, {k: v for k, v in treatment.items() if v is not None}, actor=acting_user(user), reason=reason
        )
    stdout.print(str(record_id))


@treatment_app.command("stop")
def treatment_stop(
    key: str = KEY_ARGUMENT,
    treatment: str = typer.Argument(..., metavar="TREATMENT", help="Record id, or the drug when one such treatment is ongoing"),
    end: str = typer.Option(..., "--end", help="End date: YYYY, YYYY-MM or YYYY-MM-DD"),
    reason: str = REASON_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Stop an ongoing treatment; prints its record id."""
    from mastcds.store import service

    by_id = treatment.isdigit()
    problems = _entry_problems({"--end": end})
    if problems:
        fail(problems)
    store = open_store_for_cli(db)
    with store_errors():
        record_id = service.stop_treatment(
            store,
            key,
            end,
            record_id=int(treatment) if by_id else None,
            drug=None if by_id else treatment,
            actor=acting_user(user),
            reason=reason,
        )
    stdout.print(str(record_id))


@record_app.command("correct")
def record_correct(
    key: str = KEY_ARGUMENT,
    record_id: int = typer.Argument(..., metavar="RECORD", help="Record id (see `patient show`)"),
    assignments: list[str] = typer.Argument(..., metavar="FIELD=VALUE...", help="e.g. value=12.5 unit=ng/mL (null = unknown)"),
    force: bool = FORCE_OPTION,
    reason: str = REASON_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Correct fields of an episode, lab result or treatment; the earlier values stay in the history."""
    from mastcds.store import service

    changes = _item_changes(assignments)
    drug = ("drug", changes["drug"]) if "drug" in changes else None
    problems = _entry_problems(_date_fields(changes), drug, force=force)
    if problems:
        fail(problems)
    store = open_store_for_cli(db)
    with store_errors():
        version = service.correct_record(store, key, record_id, changes, actor=acting_user(user), reason=reason)
    stdout.print(f"{key}: version {version}")


@record_app.command("delete")
def record_delete(
    key: str = KEY_ARGUMENT,
    record_id: int = typer.Argument(..., metavar="RECORD", help="Record id (see `patient show`)"),
    reason: str = REASON_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Withdraw an item entered in error; it stays in the history."""
    from mastcds.store import service

    store = open_store_for_cli(db)
    with store_errors():
        version = service.delete_record(store, key, record_id, actor=acting_user(user), reason=reason)
    stdout.print(f"{key}: version {version}")


# ---------------------------------------------------------------- evaluations


@evaluation_app.command("show")
def evaluation_show(
    evaluation_id: int = typer.Argument(..., metavar="EVAL_ID"),
    output_format: Format = typer.Option(Format.json, "--format", "-f", help="json: the stored object exactly; text: the report"),
    with_case: bool = typer.Option(False, "--with-case", help="json: also the case it read, the engine and editions"),
    details: bool = typer.Option(False, "--details", help="text: every criterion with its reason and every warning"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """A stored evaluation exactly as it was given."""
    from mastcds.store import service

    store = open_store_for_cli(db)
    with store_errors():
        evaluation = service.get_evaluation(store, evaluation_id, actor=acting_user(user))
    if output_format is Format.json:
        _print_json(asdict(evaluation) if with_case else evaluation.result)
        return
    from mastcds.cli.report_text import print_evaluation

    stdout.print(
        f"evaluation {evaluation.id} of {evaluation.patient_key} (record version {evaluation.patient_version}), "
        f"{_when(evaluation.created_at)} by {evaluation.actor}, engine {evaluation.engine_version}",
        markup=False,
    )
    print_evaluation(stdout.now(), evaluation.result, details=details)


# ---------------------------------------------------------------- whole registries, audit


@app.command("export")
def export(
    key: str = typer.Argument(None, metavar="[ID]", help="One patient (or use --all)"),
    all_to: Path = typer.Option(None, "--all", metavar="DIR", help="Every patient, one ID.json each, into a new or empty DIR"),
    identifiers: bool = typer.Option(False, "--identifiers", help="With --all: also write direct identifiers (_identifiers.json)"),
    output: Path = typer.Option(None, "--output", "-o", help="With ID: file to write [default: standard output]"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Export a patient's record, or the whole registry with --all DIR."""
    if (key is None) == (all_to is None):
        fail(["give either a patient ID or --all DIR"])
    if all_to is None:
        _export_one(key, output, None, db, user)
        return
    from mastcds.store.registry import export_registry

    store = open_store_for_cli(db)
    with store_errors(), _progress_bar("exporting") as progress:
        task = progress.add_task("export", total=None)
        result = export_registry(
            store,
            all_to,
            actor=acting_user(user),
            include_identifiers=identifiers,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    stdout.print(f"{len(result.keys)} patient(s) exported to {all_to}")
    if result.skipped:  # the others are written; a script must still learn that the export is not whole
        fail(result.skipped)


@app.command("import")
def import_(
    source: Path = typer.Argument(..., metavar="DIR|CASE.json", help="A registry export directory, or one case document"),
    replace: bool = typer.Option(False, "--replace", help="Replace the records of patients that exist already"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Import a registry directory (all files or none), or one case document."""
    if not source.is_dir():
        patient_import(str(source), key=None, replace=replace, reason=None, db=db, user=user)
        return
    from mastcds.store.registry import import_registry

    store = open_store_for_cli(db)
    with store_errors(replace_hint=True), _progress_bar("importing") as progress:
        task = progress.add_task("import", total=None)
        keys = import_registry(
            store,
            source,
            actor=acting_user(user),
            replace=replace,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    stdout.print(f"{len(keys)} patient(s) imported from {source}")


@app.command("audit")
def audit(
    key: str = typer.Option(None, "--patient", metavar="ID", help="Only this patient"),
    by: str = typer.Option(None, "--by", help="Only this user"),
    limit: int = typer.Option(50, "--limit", min=1),
    output_format: Format = FORMAT_OPTION,
    db: str = DB_OPTION,
) -> None:
    """Who read or changed which record, latest first."""
    from mastcds.store.audit import audit_entries

    store = open_store_for_cli(db)
    with store_errors():
        entries = audit_entries(store, patient_key=key, actor=by, limit=limit)
    if output_format is Format.json:
        _print_json([asdict(e) for e in entries])
        return
    rows = [[_minute(e.at), e.actor, e.action, e.patient_key or "", e.detail] for e in entries]
    stdout.print(record_table(["when (UTC)", "user", "action", "patient", "what"], rows, whole=(0, 3), wrap=(1, 4)))

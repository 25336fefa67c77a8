"""``mastcds fhir import`` and ``mastcds fhir export``: a FHIR R4 Bundle to a case document and back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from mastcds.case import CaseError, load_case, load_case_text
from mastcds.atomic_file import write_atomically
from mastcds.cli.app import app
from mastcds.cli.output import TerminalConsole, fail, read_text_or_fail

if TYPE_CHECKING:
    from mastcds.fhir.to_case import FhirImport
    from mastcds.store.database import Store

stderr = TerminalConsole(stderr=True, soft_wrap=True)
fhir_app = typer.Typer(help="FHIR R4: import a Bundle as a case, export a case (and its evaluation) as a Bundle.",
                       no_args_is_help=True)
app.add_typer(fhir_app, name="fhir")


def _json_or_fail(text: str, source: str) -> Any:
    from mastcds.json_input import JsonInputError, parse_json

    try:
        return parse_json(text)
    except JsonInputError as error:
        fail(error.problems, source=source)


@contextmanager
def _store(db: str | None, *, replace_hint: bool = False) -> Iterator[Store]:
    """The patient store named by ``--db``; a refusal of the store exits 2 with one line per problem."""
    from mastcds.cli.records import open_store_for_cli, store_errors

    store = open_store_for_cli(db)
    with store_errors(replace_hint=replace_hint):
        yield store


def _actor(user: str | None) -> str:
    from mastcds.cli.records import acting_user

    return acting_user(user)


DB_OPTION = typer.Option(None, "--db", help="Database URL or SQLite file [default: $MASTCDS_DATABASE_URL]")
USER_OPTION = typer.Option(None, "--user", help="Who is acting [default: $MASTCDS_USER, else the login name]")


def _write(text: str, out: str | None) -> None:
    """Writes to ``out`` atomically (a reader never sees half a file), or to standard output."""
    if out is None:
        typer.echo(text)
        return
    try:
        write_atomically(out, text + "\n")
    except OSError as error:
        fail([f"{out}: cannot be written ({error.strerror})"])


def _print_summary(result: FhirImport) -> None:
    """Every resource accounted for, on standard error: used, not usable (with why), not read, noted."""
    if result.read:
        stderr.print("read: " + ", ".join(f"{kind} {n}" for kind, n in sorted(result.read.items())), markup=False)
    for problem in result.problems:
        stderr.print(f"not used: {problem}", markup=False)
    for note in result.notes:
        stderr.print(f"note: {note}", markup=False)
    for label, count in sorted(result.unmapped.items()):
        stderr.print(f"not read: {label} ({count})", markup=False)
    if result.recorded_diagnoses:
        stderr.print("recorded diagnoses: " + ", ".join(result.recorded_diagnoses), markup=False)
    if result.recorded_allergies:
        stderr.print("recorded allergies: " + ", ".join(result.recorded_allergies), markup=False)


@fhir_app.command("import")
def import_bundle(
    bundle_file: str = typer.Argument(..., metavar="BUNDLE.json", help="FHIR R4 Bundle (JSON), or - for stdin"),
    case_file: str = typer.Option(None, "--case", metavar="CASE.json",
                                  help="Case document holding what FHIR cannot code (bone marrow, skin...); FHIR values override it"),
    patient_id: str = typer.Option(None, "--patient", help="Patient.id to import when the Bundle holds several"),
    evaluation_date: str = typer.Option(None, "--evaluation-date", help="YYYY[-MM[-DD]]: latest lab values up to this date"),
    out: str = typer.Option(None, "--out", "-o", metavar="FILE", help="Write the case here instead of standard output"),
    save: bool = typer.Option(False, "--save", help="Also store the case as a patient record (key = the case id)"),
    replace: bool = typer.Option(False, "--replace", help="With --save: a new version of an existing patient"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Read a FHIR R4 Bundle into a mastcds-case/1 document; report every value or code not used.

    A value that cannot be used (a unit that does not convert, a date that is
    no date) leaves out that one resource, listed with its reference; the rest
    is imported. Exit status 2 only when the document as a whole cannot be.
    """
    from mastcds.fhir.to_case import case_from_bundle

    bundle = _json_or_fail(read_text_or_fail(bundle_file), bundle_file)
    base = None
    if case_file is not None:
        base = _json_or_fail(read_text_or_fail(case_file), case_file)
    try:
        result = case_from_bundle(bundle, patient_id=patient_id, base_case=base, evaluation_date=evaluation_date)
    except CaseError as error:
        fail(error.problems, source=case_file)
    if result.fatal:
        fail(result.fatal, source=bundle_file)
    try:
        load_case(result.case)
    except CaseError as error:
        fail(error.problems, source=bundle_file)
    _print_summary(result)
    if save:
        from mastcds.store.service import import_case

        with _store(db, replace_hint=True) as store:
            key = import_case(store, result.case, actor=_actor(user), replace=replace, reason="FHIR import")
        result.case["id"] = key
        stderr.print(f"saved as patient {key}", markup=False)
    _write(json.dumps(result.case, indent=2, ensure_ascii=False), out)


@fhir_app.command("export")
def export_case(
    key: str = typer.Argument(None, metavar="ID", help="Patient key in the store (or give --case)"),
    case_file: str = typer.Option(None, "--case", metavar="CASE.json", help="Case document to export, or - for stdin"),
    out: str = typer.Option(None, "--out", "-o", metavar="FILE", help="Write the Bundle here instead of standard output"),
    with_evaluation: bool = typer.Option(True, "--evaluation/--no-evaluation",
                                         help="Add the evaluation (diagnoses, criteria, REMA, verdict)"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Write a case and its evaluation as a FHIR R4 collection Bundle (validated before it is written)."""
    from mastcds.fhir.bundle import FhirValidationError, export_bundle

    if (key is None) == (case_file is None):
        fail(["give either a patient ID (from the store) or --case CASE.json"])
    if key is not None:
        from mastcds.store.service import patient_case

        with _store(db) as store:
            case = patient_case(store, key, actor=_actor(user))
    else:
        try:
            case = load_case_text(read_text_or_fail(case_file))
        except CaseError as error:
            fail(error.problems, source=case_file)
    evaluation = None
    if with_evaluation:
        from mastcds.engine import evaluate_case

        evaluation = evaluate_case(case)
    try:
        bundle = export_bundle(case, evaluation)
    except FhirValidationError as error:  # a defect of mastcds, reported without a traceback
        fail([f"internal error, the export is not valid FHIR R4: {p}" for p in error.problems])
    _write(json.dumps(bundle, indent=2, ensure_ascii=False), out)

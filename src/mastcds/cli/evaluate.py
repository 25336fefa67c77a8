"""Commands on a case document: validate it, print the input contract, evaluate it."""

from __future__ import annotations

import json
from enum import Enum

import typer

from mastcds.case import CaseError, case_schema, load_case_text
from mastcds.cli.app import app
from mastcds.cli.output import TerminalConsole, fail, read_text_or_fail

stdout = TerminalConsole()


@app.command()
def validate(case_file: str = typer.Argument(..., metavar="CASE.json", help="Case document, or - for stdin")) -> None:
    """Check a case document against mastcds-case/1 (schema, dates, units, plausible values)."""
    text = read_text_or_fail(case_file)
    try:
        case = load_case_text(text)
    except CaseError as error:
        fail(error.problems, source=case_file)
    stdout.print(f"{case_file}: valid mastcds-case/1 document" + (f" (id {case.id})" if case.id else ""))


@app.command()
def schema() -> None:
    """Print the input contract, the JSON Schema of mastcds-case/1."""
    typer.echo(json.dumps(case_schema(), indent=2, ensure_ascii=False))


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


@app.command()
def evaluate(
    case_file: str = typer.Argument(None, metavar="[CASE.json]", help="Case document, or - for stdin"),
    patient: str = typer.Option(None, "--patient", metavar="ID", help="Evaluate a stored patient (and store the evaluation) instead of a file"),
    output_format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text report or the JSON contract object"),
    db: str = typer.Option(None, "--db", help="With --patient: database URL or SQLite file [default: $MASTCDS_DATABASE_URL, else the user data directory]"),
    user: str = typer.Option(None, "--user", help="With --patient: who is acting [default: $MASTCDS_USER, else the login name]"),
    details: bool = typer.Option(False, "--details", help="text: every criterion with its reason, the treatment steps and every warning"),
) -> None:
    """Evaluate a case: SM by WHO 2022, ICC 2022 and WHO 2016, CM, MCAS, episodes, REMA, doses.

    The text report starts with the bottom line per guideline and the test that
    would separate the categories still open; --details adds every criterion.
    """
    if case_file is None and patient is None:
        fail(["nothing to evaluate: give a case file (mastcds evaluate CASE.json, or - for standard input), "
              "or a stored patient (mastcds evaluate --patient ID); examples/seed-case.json is an example"])
    if case_file is not None and patient is not None:
        fail([f"give a case file or --patient ID, not both (got {case_file!r} and --patient {patient!r})"])
    # imported here so that commands not evaluating anything start fast
    from mastcds.cli.report_text import print_evaluation

    if patient is not None:
        from mastcds.cli.records import acting_user, open_store_for_cli, store_errors
        from mastcds.store.service import evaluate_patient

        store = open_store_for_cli(db)
        with store_errors():
            result = evaluate_patient(store, patient, actor=acting_user(user))
    else:
        from mastcds.engine import evaluate_case

        text = read_text_or_fail(case_file)
        try:
            case = load_case_text(text)
        except CaseError as error:
            fail(error.problems, source=case_file)
        result = evaluate_case(case)
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print_evaluation(stdout.now(), result, details=details)

"""``mastcds timeline`` and ``mastcds report``: the case on paper, from the database or a case file.

A patient is named by its key in the record database (``--db``, ``--user`` as
in the record commands), or given as a mastcds-case/1 file with ``--case`` for
clinicians without a database. Every wrong input exits 2 with one line per
problem, before any drawing starts; nothing is half-written.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mastcds.case import CaseError, load_case_text
from mastcds.cli.app import app
from mastcds.cli.output import TerminalConsole, fail, read_text_or_fail
from mastcds.cli.records import DB_OPTION, USER_OPTION, acting_user, open_store_for_cli, store_errors

if TYPE_CHECKING:
    from mastcds.case import Case

stdout = TerminalConsole(soft_wrap=True)

TIMELINE_SUFFIXES = (".png", ".svg", ".pdf")
REPORT_SUFFIXES = (".html", ".pdf")


class Paper(str, Enum):
    a4 = "a4"
    letter = "letter"

KEY_ARGUMENT = typer.Argument(None, metavar="ID", help="Patient key in the record database (or use --case)")
CASE_OPTION = typer.Option(None, "--case", metavar="CASE.json", help="Read the case from a mastcds-case/1 file instead of the database ('-' for stdin)")
AS_OF_OPTION = typer.Option(
    None,
    "--as-of",
    metavar="DATE",
    help="End of the time on ongoing treatments, YYYY-MM-DD (or YYYY-MM, YYYY: mid-period) [default: the case's evaluation date, else today]",
)


def _checked_out(out: Path, suffixes: tuple[str, ...], what: str) -> Path:
    if out.suffix.lower() not in suffixes:
        fail([f"--out: {what} is written as {', '.join(suffixes)} (got {str(out)!r})"])
    directory = out.parent if str(out.parent) else Path(".")
    if not directory.is_dir():
        fail([f"--out: directory {str(directory)!r} does not exist"])
    if out.is_dir():
        fail([f"--out: {str(out)!r} is a directory, expected a file name"])
    return out


def _load(patient: str | None, case_file: str | None, db: str | None, user: str | None) -> Case:
    if patient is not None and case_file is not None:
        fail([f"give a patient ID or --case CASE.json, not both (got ID {patient!r} and --case {case_file!r})"])
    if patient is None and case_file is None:
        fail(["give a patient ID (from the record database) or --case CASE.json"])
    if case_file is not None:
        try:
            return load_case_text(read_text_or_fail(case_file))
        except CaseError as error:
            fail(error.problems, source=case_file)
    from mastcds.store.service import patient_case

    store = open_store_for_cli(db)
    try:
        with store_errors():
            return patient_case(store, patient, actor=acting_user(user))
    finally:
        store.close()


def _evaluate(case: Case) -> dict[str, Any]:
    from mastcds.engine import evaluate_case

    return evaluate_case(case)


def _response(case: Case, as_of: str | None, before_days: int | None, after_days: int | None) -> Any:
    from datetime import date

    from mastcds.rules.treatment.response import default_as_of, treatment_response

    try:
        return treatment_response(
            case, as_of=as_of or default_as_of(case, date.today()), before_window_days=before_days, after_window_days=after_days
        )
    except ValueError as error:  # the case is checked and typer bounds the windows: only --as-of is left
        fail([f"--as-of: {error}"])


def _write(write: Any, out: Path) -> None:
    try:
        write()
    except OSError as error:
        fail([f"--out: {str(out)!r} cannot be written ({error.strerror or error})"])


@app.command()
def timeline(
    patient: str = KEY_ARGUMENT,
    out: Path = typer.Option(..., "--out", "-o", metavar="FILE", help="FILE.png, FILE.svg or FILE.pdf"),
    case_file: str = CASE_OPTION,
    as_of: str = AS_OF_OPTION,
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Draw the case's timeline: episodes by severity, tryptase (log scale), treatments, diagnosis dates."""
    out = _checked_out(out, TIMELINE_SUFFIXES, "the timeline")
    case = _load(patient, case_file, db, user)
    response = _response(case, as_of, None, None)
    from mastcds.report.timeline import save_timeline

    _write(lambda: save_timeline(case, _evaluate(case), out, response=response), out)
    stdout.print(f"wrote {out}")


@app.command()
def report(
    patient: str = KEY_ARGUMENT,
    out: Path = typer.Option(..., "--out", "-o", metavar="FILE", help="FILE.pdf or FILE.html"),
    case_file: str = CASE_OPTION,
    as_of: str = AS_OF_OPTION,
    before_days: int = typer.Option(
        None, "--before-days", min=1, help="Episode rate before each treatment over this many days [default: all known history]"
    ),
    after_days: int = typer.Option(
        None, "--after-days", min=1, help="Episode rate after each treatment start over this many days [default: time on treatment]"
    ),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Write the case report (PDF or HTML): verdicts with criteria, REMA, doses, treatment response, timeline, sources."""
    out = _checked_out(out, REPORT_SUFFIXES, "the report")
    case = _load(patient, case_file, db, user)
    response = _response(case, as_of, before_days, after_days)
    from mastcds.report.html import write_report

    _write(lambda: write_report(case, _evaluate(case), out, response=response), out)
    stdout.print(f"wrote {out}")


@app.command()
def plan(
    patient: str = KEY_ARGUMENT,
    out: Path = typer.Option(..., "--out", "-o", metavar="FILE", help="FILE.pdf (or FILE.html)"),
    case_file: str = CASE_OPTION,
    name: str = typer.Option(None, "--name", help="The patient's name, printed on the plan and never stored [default: a line to write it on]"),
    paper: Paper = typer.Option(Paper.a4, "--paper", help="Page size"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Write the patient's emergency action plan: one page, plain language, for the patient to carry.

    The auto-injector and when to use it, the recorded triggers, the current
    medicines, what to tell a surgeon, anaesthetist or radiologist, and the
    bottom line for the doctors; every rule with its source. From the
    database the plan is audited as an export.
    """
    out = _checked_out(out, REPORT_SUFFIXES, "the plan")
    case = _load(patient, case_file, db, user)
    from mastcds.report.action_plan import write_plan

    _write(lambda: write_plan(case, _evaluate(case), out, name=name, paper=paper.value), out)
    if patient is not None:
        from mastcds.store.audit import record_access

        store = open_store_for_cli(db)
        with store_errors():
            record_access(store, actor=acting_user(user), action="export", patient_key=patient, detail=f"action plan exported ({out.suffix[1:].upper()})")
    stdout.print(f"wrote {out}")

"""Patient pages: the list, the record with its timeline and verdicts, the case form, evaluations, downloads."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mastcds.case import Case, DatePattern, Problem, calendar_problem, load_case
from mastcds import evaluate
from mastcds.rules.treatment.response import SIGNIFICANCE_ONE_SIDED, default_as_of, treatment_response
from mastcds.store import service
from mastcds.store.errors import EvaluationNotFound, PatientExists, StoreError
from mastcds.store.revisions import find_patient
from mastcds.store.service import import_into
from mastcds.store.settings import PATIENT_KEY_PATTERN, PATIENT_KEY_RULE
from mastcds.web import figures
from mastcds.web.auth import READ, PageReader, PageUser, PageWriter, get_store
from mastcds.web.case_form import FormState, document_from_state, state_from_document, state_from_form
from mastcds.web.pages.evaluation_view import evaluation_context
from mastcds.web.pages.form_page import apply_row_action, form_page
from mastcds.web.pages.render import CheckedForm, redirect, render

router = APIRouter(include_in_schema=False)
REASON_MAX_LENGTH = 500
PLAN_NAME_MAX_LENGTH = 100


@router.get("/")
def home(principal: PageUser) -> Response:
    return redirect("/patients" if principal.role in READ else "/admin/users")


@router.get("/patients")
def patient_list(request: Request, principal: PageReader, q: str = "") -> Response:
    needle = q.strip()[:64]
    patients = service.list_patients(get_store(request), actor=principal.actor)
    shown = [p for p in patients if needle.casefold() in p.key.casefold()]
    return render(request, "patients.html", {"patients": shown, "total": len(patients), "q": needle})


# ------------------------------------------------------------------ the case form


@router.get("/patients/new")
def new_patient_form(request: Request, principal: PageWriter) -> Response:
    return form_page(request, FormState(), key=None, action="/patients/new", title="New patient")


@router.post("/patients/new")
def create_patient(request: Request, principal: PageWriter, form: CheckedForm) -> Response:
    state = state_from_form(form)
    page = {"key": None, "action": "/patients/new", "title": "New patient"}
    action = str(form.get("action", "save"))
    if action != "save":
        return form_page(request, state, focus=apply_row_action(state, action), **page)
    parsed = document_from_state(state)
    key = parsed.document.get("id")
    problems = list(parsed.problems)
    if isinstance(key, str) and not PATIENT_KEY_PATTERN.match(key):
        problems.append(Problem("id", key, f"not a usable patient key; {PATIENT_KEY_RULE}"))
    if problems:
        return form_page(request, state, problems=problems, status=422, **page)
    try:
        key = service.import_case(get_store(request), parsed.document, actor=principal.actor)
    except PatientExists as error:
        moved = [Problem("id", p.value, p.message) for p in error.problems]
        return form_page(request, state, problems=moved, status=409, **page)
    return redirect(f"/patients/{key}")


@router.get("/patients/{key}/edit")
def edit_patient_form(request: Request, principal: PageWriter, key: str) -> Response:
    view = service.show_patient(get_store(request), key, actor=principal.actor)
    return form_page(
        request, state_from_document(view.case), key=key, version=view.version,
        action=f"/patients/{key}/edit", title=f"Edit {key}",
    )


@router.post("/patients/{key}/edit")
def update_patient(request: Request, principal: PageWriter, key: str, form: CheckedForm) -> Response:
    state = state_from_form(form)
    state.values["id"] = key
    reason = str(form.get("reason", ""))[:REASON_MAX_LENGTH]
    version_text = str(form.get("version", ""))
    version = int(version_text) if version_text.isdigit() else None
    page = {"key": key, "version": version, "reason": reason, "action": f"/patients/{key}/edit", "title": f"Edit {key}"}
    action = str(form.get("action", "save"))
    if action != "save":
        return form_page(request, state, focus=apply_row_action(state, action), **page)
    parsed = document_from_state(state)
    if parsed.problems:
        return form_page(request, state, problems=parsed.problems, status=422, **page)
    with get_store(request).writing() as session:
        current = find_patient(session, key).version
        if version == current:
            import_into(session, parsed.document, actor=principal.actor, key=key, replace=True, reason=reason or None)
    if version != current:
        conflict = Problem(
            "version", version, f"the record changed since this form was opened (now version {current}); "
            "open the form again to see the changes, then re-enter yours",
        )
        return form_page(request, state, problems=[conflict], status=409, **page)
    return redirect(f"/patients/{key}")


# ------------------------------------------------------------------ record, evaluation


def _date_problem(text: str) -> str | None:
    """Why ``text`` is not a (partial) calendar date, or None."""
    if re.fullmatch(DatePattern, text) is None:
        return "expected a date as YYYY-MM-DD, YYYY-MM or YYYY"
    return calendar_problem(text)


def _as_of(case: Case, text: str | None) -> tuple[str | date, Problem | None]:
    """The as-of date asked for, or the default (evaluation date, else today) with the reason it was not usable."""
    default = default_as_of(case, date.today())
    if not text or not text.strip():
        return default, None
    text = text.strip()[:10]
    problem = _date_problem(text)
    return (default, Problem("as_of", text, problem)) if problem else (text, None)


@router.get("/patients/{key}")
def patient_page(request: Request, principal: PageReader, key: str, as_of: str | None = None) -> Response:
    view = service.show_patient(get_store(request), key, actor=principal.actor)
    case = load_case(view.case)
    evaluation = evaluate(view.case)
    chosen, problem = _as_of(case, as_of)
    try:
        response = treatment_response(case, as_of=chosen)
    except ValueError as error:  # before the case's earliest dated fact
        problem = Problem("as_of", str(chosen), str(error))
        chosen = default_as_of(case, date.today())
        response = treatment_response(case, as_of=chosen)
    shown = chosen.isoformat() if isinstance(chosen, date) else chosen
    context = {
        "view": view,
        "case": case,
        "response": response,
        "as_of": shown,
        "as_of_query": urlencode({"as_of": shown}),
        "as_of_problem": problem,
        "today": date.today().isoformat(),
        "significance": float(SIGNIFICANCE_ONE_SIDED),
        **evaluation_context(evaluation),
    }
    return render(request, "patient.html", context)


@router.get("/patients/{key}/evaluation")
def evaluation_page(request: Request, principal: PageReader, key: str, all: bool = False) -> Response:
    store = get_store(request)
    view = service.show_patient(store, key, actor=principal.actor)
    evaluation = evaluate(view.case)
    stored = service.list_evaluations(store, key, actor=principal.actor)
    context = {"key": key, "version": view.version, "stored": None, "history": stored, "show_all": all}
    return render(request, "evaluation.html", {**context, **evaluation_context(evaluation)})


@router.post("/patients/{key}/evaluations")
def store_evaluation(request: Request, principal: PageWriter, key: str, form: CheckedForm) -> Response:
    stored = service.run_evaluation(get_store(request), key, actor=principal.actor)
    return redirect(f"/patients/{key}/evaluations/{stored.id}")


@router.get("/patients/{key}/evaluations/{evaluation_id}")
def stored_evaluation_page(request: Request, principal: PageReader, key: str, evaluation_id: int, all: bool = False) -> Response:
    stored = service.get_evaluation(get_store(request), evaluation_id, actor=principal.actor)
    if stored.patient_key != key:
        raise EvaluationNotFound.one("evaluation", evaluation_id, "this patient has no stored evaluation with this id")
    context = {"key": key, "version": stored.patient_version, "stored": stored, "history": [], "show_all": all}
    return render(request, "evaluation.html", {**context, **evaluation_context(stored.result)})


@router.get("/patients/{key}/history")
def history_page(request: Request, principal: PageReader, key: str) -> Response:
    changes = service.patient_history(get_store(request), key, actor=principal.actor)
    return render(request, "history.html", {"key": key, "changes": list(reversed(changes))})


# ------------------------------------------------------------------ downloads


def _checked_as_of(as_of: str | None) -> str | None:
    """A figure's or report's as-of date, or a refusal naming the parameter."""
    if as_of is None or not as_of.strip():
        return None
    problem = _date_problem(as_of)
    if problem is not None:
        raise StoreError.one("as_of", as_of, problem)
    return as_of


@router.get("/patients/{key}/timeline.svg")
def timeline_svg(request: Request, principal: PageReader, key: str, as_of: str | None = None) -> Response:
    try:
        body, media_type = figures.timeline_image(get_store(request), key, principal.actor, "svg", _checked_as_of(as_of))
    except ValueError as error:  # before the case's earliest dated fact
        raise StoreError.one("as_of", as_of, str(error)) from None
    return Response(body, media_type=media_type)


@router.get("/patients/{key}/report.{report_format}")
def report_download(request: Request, principal: PageReader, key: str, report_format: str, as_of: str | None = None) -> Response:
    """The report: HTML opens in the browser; a PDF is a download (and audited as an export)."""
    if report_format not in ("pdf", "html"):
        raise StoreError.one("format", report_format, "the report is given as .pdf or .html")
    try:
        body, media_type, filename = figures.report_file(get_store(request), key, principal.actor, report_format, _checked_as_of(as_of))
    except ValueError as error:
        raise StoreError.one("as_of", as_of, str(error)) from None
    disposition = "attachment" if report_format == "pdf" else "inline"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'{disposition}; filename="{filename}"'})


@router.post("/patients/{key}/plan.pdf")
def plan_download(request: Request, principal: PageReader, key: str, form: CheckedForm) -> Response:
    """The emergency action plan; the name typed in the form is printed on it, never stored or logged."""
    from mastcds.report.action_plan import PAPER_SIZES

    paper = str(form.get("paper", "a4"))
    if paper not in PAPER_SIZES:
        raise StoreError.one("paper", paper, f"accepted: {', '.join(PAPER_SIZES)}")
    name = str(form.get("name", ""))[:PLAN_NAME_MAX_LENGTH]
    body, media_type, filename = figures.plan_file(get_store(request), key, principal.actor, name or None, paper)
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/patients/{key}/case.json")
def case_download(request: Request, principal: PageReader, key: str) -> Response:
    document: dict[str, Any] = service.export_case(get_store(request), key, actor=principal.actor)
    body = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    return Response(
        body, media_type="application/json", headers={"Content-Disposition": f'attachment; filename="{key}.json"'}
    )

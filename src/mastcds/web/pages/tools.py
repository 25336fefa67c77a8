"""Pages that need no stored patient: the quick calculators and a case evaluated without saving."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mastcds.case import Problem
from mastcds import evaluate
from mastcds.rules.anaphylaxis.rema import POPULATION as REMA_POPULATION
from mastcds.rules.dosing.omalizumab import EU_ASTHMA, SYRINGE_CHOICES, SYRINGES_LABEL
from mastcds.web import calculators
from mastcds.web.auth import PageReader
from mastcds.web.case_form import FormState, document_from_state, parse_number, state_from_form
from mastcds.web.pages.evaluation_view import evaluation_context
from mastcds.web.pages.form_page import apply_row_action, form_page
from mastcds.web.pages.render import CheckedForm, render
from mastcds.web.problems import InputError

router = APIRouter(include_in_schema=False)
CALCULATORS = ("omalizumab", "epinephrine", "rema", "tryptase")
JURISDICTION_TITLES = {"eu": "UK/EU practice", "us": "US device labels", "au": "Australia (ASCIA)"}


def _number(params: dict[str, str], name: str, problems: list[Problem], required: bool = False) -> float | None:
    text = params.get(name, "").strip()
    if not text:
        if required:
            problems.append(Problem(name, "", "required"))
        return None
    value = parse_number(text)
    if value is None:
        problems.append(Problem(name, text, "enter a number, e.g. 12.5"))
    return value


def _boolean(params: dict[str, str], name: str) -> bool | None:
    return {"true": True, "false": False}.get(params.get(name, ""))


def _run(problems: list[Problem], compute: Any) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The calculator's result, or ``None`` with the problems by field."""
    if not problems:
        try:
            return compute(), {}
        except InputError as error:
            problems = error.problems
    return None, {p.path: p.message for p in problems}


@router.get("/calculators")
def calculators_page(request: Request, principal: PageReader) -> Response:
    params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    which = params.get("calculator")
    results: dict[str, Any] = {name: None for name in CALCULATORS}
    errors: dict[str, dict[str, str]] = {name: {} for name in CALCULATORS}
    if which == "omalizumab":
        problems: list[Problem] = []
        ige = _number(params, "ige_iu_ml", problems, required=True)
        weight = _number(params, "weight_kg", problems, required=True)
        age = _number(params, "age_years", problems)
        off_label = params.get("indication", "mastocytosis") != "asthma"
        results[which], errors[which] = _run(
            problems,
            lambda: calculators.omalizumab(
                ige, weight, params.get("table", EU_ASTHMA), age_years=age, syringes=params.get("syringes", SYRINGES_LABEL),
                off_label=off_label,
            ),
        )
    elif which == "epinephrine":
        problems = []
        weight = _number(params, "weight_kg", problems)
        age = _number(params, "age_years", problems)
        results[which], errors[which] = _run(
            problems, lambda: calculators.epinephrine(weight, age, params.get("jurisdiction", "eu"))
        )
    elif which == "rema":
        problems = []
        tryptase = _number(params, "baseline_tryptase_ng_ml", problems)
        sex = params.get("sex") or None
        results[which], errors[which] = _run(
            problems,
            lambda: calculators.rema(sex, _boolean(params, "urticaria_or_angioedema"), _boolean(params, "presyncope_or_syncope"), tryptase),
        )
    elif which == "tryptase":
        problems = []
        baseline = _number(params, "baseline_tryptase_ng_ml", problems, required=True)
        acute = _number(params, "acute_tryptase_ng_ml", problems)
        minutes = _number(params, "minutes_after_onset", problems)
        results[which], errors[which] = _run(problems, lambda: calculators.tryptase_rise(baseline, acute, minutes))
    context = {
        "which": which,
        "params": params,
        "results": results,
        "errors": errors,
        "tables": calculators.table_titles(),
        "syringe_choices": SYRINGE_CHOICES,
        "jurisdictions": JURISDICTION_TITLES,
        "rema_population": REMA_POPULATION,
    }
    return render(request, "calculators.html", context)


@router.get("/evaluate")
def evaluate_form(request: Request, principal: PageReader) -> Response:
    return form_page(request, FormState(), key=None, action="/evaluate", title="Evaluate a case without saving it")


@router.post("/evaluate")
def evaluate_unsaved(request: Request, principal: PageReader, form: CheckedForm) -> Response:
    state = state_from_form(form)
    page = {"key": None, "action": "/evaluate", "title": "Evaluate a case without saving it"}
    action = str(form.get("action", "save"))
    if action != "save":
        return form_page(request, state, focus=apply_row_action(state, action), **page)
    parsed = document_from_state(state)
    if parsed.problems:
        return form_page(request, state, problems=parsed.problems, status=422, **page)
    evaluation = evaluate(parsed.document)
    context = {"key": None, "version": None, "stored": None, "history": [], "show_all": False, "unsaved": True}
    return render(request, "evaluation.html", {**context, **evaluation_context(evaluation)})

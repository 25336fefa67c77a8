"""The case report a colleague reads: HTML from one Jinja2 template, PDF from that same HTML.

The report shows the evaluation object (the contract) and the case it came
from, never a second computation of a verdict: what the PDF says is what
integrators receive as JSON. Criterion sources are numbered once and listed at
the end so that the tables stay narrow enough for A4.
"""

from __future__ import annotations

import base64
import io
import os
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from mastcds.case import Case
from mastcds.report import palette
from mastcds.report.citations import Citations
from mastcds.report.reading import EDITION_TITLES, STATUS_WORDS, bottom_line_text, category_text, rema_caveat, separating_tests
from mastcds.report.episodes import per_episode
from mastcds.atomic_file import write_atomically
from mastcds.report.timeline import save_figure_bytes, timeline_figure
from mastcds.rules.references import references_by_source
from mastcds.rules.treatment.response import (
    SIGNIFICANCE_ONE_SIDED,
    ResponseSummary,
    TreatmentResponse,
    Window,
    episode_label,
    treatment_response,
)


DISCLAIMER = "Decision support only: not a substitute for clinical judgement."
REPORT_FORMATS = (".html", ".pdf")


def _criteria(items: list[dict[str, Any]] | None, sources: Citations) -> list[dict[str, Any]]:
    return [
        {
            "id": item.get("id", ""),
            "status": item.get("status", "unknown"),
            "reason": item.get("reason", ""),
            "source": sources.cite(item.get("source")),
        }
        for item in items or []
    ]


def _guidelines(evaluation: dict[str, Any], sources: Citations) -> list[dict[str, Any]]:
    editions = evaluation.get("editions") or {}
    result = []
    for edition, guideline in (evaluation.get("guidelines") or {}).items():
        result.append(
            {
                "title": EDITION_TITLES.get(edition, edition),
                "edition": editions.get(edition, ""),
                "sm_criteria": guideline.get("sm_criteria", "unknown"),
                "verdict": category_text(guideline),
                "criteria": _criteria(guideline.get("criteria"), sources),
                "b_findings": _criteria(guideline.get("b_findings"), sources),
                "c_findings": _criteria(guideline.get("c_findings"), sources),
                "next_tests": guideline.get("next_tests") or [],
                "notes": guideline.get("notes") or [],
            }
        )
    return result


def bottom_lines(evaluation: dict[str, Any]) -> list[tuple[str, str]]:
    """(guideline, its line): the engine's summary when it gives one, else the verdict as recorded."""
    return [
        (EDITION_TITLES.get(edition, edition), bottom_line_text(guideline))
        for edition, guideline in (evaluation.get("guidelines") or {}).items()
    ]


def _treatment(plan: dict[str, Any] | None, sources: Citations) -> dict[str, Any] | None:
    """The usual escalation: where the patient stands and the options to consider next, each with its source."""
    if not plan:
        return None
    anti_mediator = plan.get("anti_mediator") or {}
    cytoreduction = plan.get("cytoreduction") or {}
    venom = plan.get("venom_immunotherapy")
    return {
        "label": plan.get("label", ""),
        "note": plan.get("note", ""),
        "current_step": anti_mediator.get("current_step"),
        "current_step_name": anti_mediator.get("current_step_name"),
        "next_options": [{**o, "source": sources.cite(o.get("source"))} for o in anti_mediator.get("next_options") or []],
        "cytoreduction": [{**o, "source": sources.cite(o.get("source"))} for o in cytoreduction.get("options") or []],
        "cytoreduction_note": cytoreduction.get("note"),
        "venom": {**venom, "source": sources.cite(venom.get("source"))} if venom else None,
        "warnings": plan.get("warnings") or [],
    }


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "not recorded"
    return f"{value:g} {unit}".strip()


def _yes_no(value: bool | None) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


def _patient(case: Case) -> list[tuple[str, str]]:
    p, m, bm = case.patient, case.molecular, case.bone_marrow
    kit = "not recorded" if m.kit_d816v is None else m.kit_d816v.replace("_", " ")
    details = []
    if m.kit_d816v_sample:
        details.append(m.kit_d816v_sample.replace("_", " "))
    if m.kit_d816v_vaf_percent is not None:
        details.append(f"VAF {m.kit_d816v_vaf_percent:g}%")
    if details:
        kit += f" ({', '.join(details)})"
    return [
        ("Sex", p.sex or "not recorded"),
        ("Age", _number(p.age_years, "years")),
        ("Weight", _number(p.weight_kg, "kg")),
        ("Skin lesions", (case.skin.lesions or "not recorded").replace("_", " ")),
        ("Baseline serum tryptase", _number(case.labs.baseline_tryptase_ng_ml, "ng/mL")),
        ("Total IgE", _number(case.labs.ige_total_iu_ml, "IU/mL")),
        ("KIT D816V", kit),
        ("Bone marrow: multifocal dense infiltrates", _yes_no(bm.multifocal_dense_infiltrates)),
        ("Bone-marrow biopsy date", bm.biopsy_date or "not recorded"),
        ("Associated haematological neoplasm", case.associated_hematologic_neoplasm or "not recorded"),
    ]


def _episodes(case: Case, evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    grades = per_episode(case, evaluation.get("episodes") or [])
    rises = per_episode(case, (evaluation.get("tryptase") or {}).get("episodes") or [])
    rows = []
    for i, episode in enumerate(case.episodes):
        grade, rise = grades[i], rises[i]
        rows.append(
            {
                "label": episode_label(i, episode.id),
                "date": episode.date or "no date",
                "trigger": (episode.trigger or "not recorded").replace("_", " "),
                "wao": grade.get("anaphylaxis_wao2020", "unknown"),
                "niaid": grade.get("anaphylaxis_niaid2006", "unknown"),
                "brown": grade.get("severity_brown") or "undetermined",
                "icu": _yes_no(episode.icu_admission),
                "acute": _number(episode.acute_tryptase_ng_ml, "ng/mL"),
                "threshold": None if rise.get("threshold_ng_ml") is None else f"{rise['threshold_ng_ml']:.2f} ng/mL",
                "rise": rise.get("status", "unknown"),
            }
        )
    return rows


def _rate(window: Window | None) -> dict[str, Any] | None:
    if window is None:
        return None
    low, high = window.rate_interval
    return {
        "days": window.days,
        "years": f"{window.years:.1f}",
        "episodes": f"{window.count} episode{'' if window.count == 1 else 's'}",
        "rate": f"{window.rate_per_year:.1f}",
        "interval": f"{low:.1f}–{high:.1f}",
    }


def _fall_verdict(response: TreatmentResponse) -> str:
    if response.p_value is None:
        return "not assessable"
    if response.before.count == 0:
        return "no episode before"
    if not response.judgeable:
        return f"too short to judge (p = {response.p_value:.2g})"
    answer = "yes" if response.p_value <= SIGNIFICANCE_ONE_SIDED else "no"
    return f"{answer} (p = {response.p_value:.2g})"


def _responses(response: ResponseSummary) -> list[dict[str, Any]]:
    return [
        {
            "label": t.label,
            "start": t.start_date,
            "end": t.end_date or "ongoing",
            "on_demand": t.on_demand,
            "before": _rate(t.before),
            "after": _rate(t.after),
            "verdict": _fall_verdict(t),
            "warnings": list(t.warnings),
        }
        for t in response.treatments
    ]


def _figure_data_uri(case: Case, evaluation: dict[str, Any], response: ResponseSummary) -> str:
    figure = timeline_figure(case, evaluation, response=response)
    svg = save_figure_bytes(figure, "svg")
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


@cache
def template_environment() -> Environment:
    return Environment(
        loader=PackageLoader("mastcds.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report_html(
    case: Case,
    evaluation: dict[str, Any],
    *,
    response: ResponseSummary | None = None,
    as_of: str | date | None = None,
    before_window_days: int | None = None,
    after_window_days: int | None = None,
    generated_on: date | None = None,
) -> str:
    """The whole report as one self-contained HTML page (figure embedded as SVG).

    Raises :class:`ValueError` for an unreadable ``as_of`` or a window under one day.
    """
    if response is None:
        response = treatment_response(
            case, as_of=as_of, before_window_days=before_window_days, after_window_days=after_window_days
        )
    sources = Citations()
    guidelines = _guidelines(evaluation, sources)
    cutaneous = evaluation.get("cutaneous") or {}
    mcas = evaluation.get("mcas") or {}
    rema = evaluation.get("rema") or {}
    prognosis = evaluation.get("prognosis") or {}
    context = {
        "summary": evaluation.get("summary"),
        "bottom_lines": bottom_lines(evaluation),
        "separating": (separating_tests(evaluation) or [None])[0],
        "part_summaries": [
            (title, (evaluation.get(part) or {})["summary"])
            for part, title in (("mcas", "MCAS"), ("rema", "REMA"), ("omalizumab", "Omalizumab"))
            if (evaluation.get(part) or {}).get("summary")
        ],
        "rema_caveat": rema_caveat(evaluation),
        "case_id": case.id or "(no id)",
        "engine_version": evaluation.get("engine_version", "unknown"),
        "evaluation_date": case.evaluation_date or "not recorded",
        "generated_on": (generated_on or date.today()).isoformat(),
        "disclaimer": DISCLAIMER,
        "patient": _patient(case),
        "notes": case.notes,
        "guidelines": guidelines,
        "cutaneous": {**cutaneous, "criteria": _criteria(cutaneous.get("criteria"), sources)},
        "mcas": {**mcas, "criteria": _criteria(mcas.get("criteria"), sources)},
        "tryptase": evaluation.get("tryptase") or {},
        "episodes": _episodes(case, evaluation),
        "rema": {**rema, "items": _criteria(rema.get("items"), sources)},
        "omalizumab": evaluation.get("omalizumab"),
        "epinephrine_mg": evaluation.get("epinephrine_autoinjector_mg"),
        "treatment": _treatment(evaluation.get("treatment"), sources),
        "prognosis": {
            name: {**score, "source": sources.cite(score.get("source"))}
            for name, score in prognosis.items()
            if isinstance(score, dict) and name != "not_computed"
        },
        "prognosis_not_computed": prognosis.get("not_computed") or {},
        "response": response,
        "responses": _responses(response),
        "response_source": sources.cite(response.source),
        "figure": _figure_data_uri(case, evaluation, response),
        "warnings": list(dict.fromkeys((evaluation.get("warnings") or []) + list(response.warnings))),
        "status_words": STATUS_WORDS,
        "status_colours": palette.STATUS,
    }
    context["sources"] = sources.items
    context["source_links"] = references_by_source(evaluation, response.as_dict())
    return template_environment().get_template("report.html.j2").render(**context)


def render_report_pdf(case: Case, evaluation: dict[str, Any], **options: Any) -> bytes:
    """The report as an A4 PDF, laid out by WeasyPrint from the same HTML."""
    from weasyprint import HTML  # imported here: loading Pango takes a moment and HTML needs none of it

    html = render_report_html(case, evaluation, **options)
    buffer = io.BytesIO()
    HTML(string=html).write_pdf(buffer)
    return buffer.getvalue()


def write_report(case: Case, evaluation: dict[str, Any], path: str | os.PathLike[str], **options: Any) -> Path:
    """Write the report as HTML or PDF by the file's suffix, whole or not at all.

    The file is readable by its owner only: it holds patient data.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in REPORT_FORMATS:
        raise ValueError(f"{target}: the report is written as .html or .pdf (got {target.suffix or 'no suffix'!r})")
    if suffix == ".pdf":
        content = render_report_pdf(case, evaluation, **options)
    else:
        content = render_report_html(case, evaluation, **options).encode("utf-8")
    write_atomically(target, content)
    return target

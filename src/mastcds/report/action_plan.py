"""The patient's emergency action plan on one page (PDF), from the record and its evaluation.

What to do and when comes from :mod:`mastcds.rules.treatment.action_plan`
(each section with its sources); this module only gathers what the record
says and lays it out. The bottom line a clinician sees stands in a box for
the doctors and nurses who read the plan in an emergency.
"""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path
from typing import Any

from mastcds.atomic_file import write_atomically
from mastcds.case import Case, date_key_latest
from mastcds.report.html import bottom_lines, template_environment
from mastcds.rules.treatment.action_plan import ActionPlan, Medicine, Reaction, action_plan

PAPER_SIZES = ("a4", "letter")


def _current(case: Case, today: date) -> list[Medicine]:
    """Treatments without an end, or ending today or later: what the patient takes now."""
    return [
        Medicine(t.drug, t.dose_mg, t.interval)
        for t in case.treatments
        if t.end_date is None or date(*date_key_latest(t.end_date)) >= today
    ]


def _mastocytosis(evaluation: dict[str, Any]) -> bool | None:
    statuses = [g.get("sm_criteria") for g in (evaluation.get("guidelines") or {}).values()]
    statuses.append((evaluation.get("cutaneous") or {}).get("status"))
    if "met" in statuses:
        return True
    return False if statuses and all(s == "not_met" for s in statuses) else None


def plan_of(case: Case, evaluation: dict[str, Any], today: date) -> ActionPlan:
    """The rules' plan for this record, as of ``today``."""
    return action_plan(
        autoinjector_mg=evaluation.get("epinephrine_autoinjector_mg"),
        reactions=[Reaction(e.trigger, e.trigger_detail, e.date) for e in case.episodes],
        medicines=_current(case, today),
        mastocytosis=_mastocytosis(evaluation),
        anaphylaxis_before=any(e.get("anaphylaxis_wao2020") == "met" for e in evaluation.get("episodes") or []),
    )


def render_plan_html(
    case: Case, evaluation: dict[str, Any], *, name: str | None = None, paper: str = "a4", today: date | None = None
) -> str:
    """The plan as one HTML page; ``name`` is printed, never stored (the record is pseudonymous)."""
    if paper not in PAPER_SIZES:
        raise ValueError(f"paper: {paper!r} is not accepted; accepted: {', '.join(PAPER_SIZES)}")
    today = today or date.today()
    plan = plan_of(case, evaluation, today)
    context = {
        "plan": plan,
        "name": (name or "").strip()[:100],
        "paper": "A4" if paper == "a4" else "letter",
        # one line when the engine's summary stands for editions that all say the same
        "bottom_lines": [] if evaluation.get("summary") and len({line for _, line in bottom_lines(evaluation)}) == 1 else bottom_lines(evaluation),
        "summary": evaluation.get("summary"),
        "case_id": case.id or "",
        "made_on": today.isoformat(),
        "engine_version": evaluation.get("engine_version", ""),
    }
    return template_environment().get_template("action_plan.html.j2").render(**context)


def render_plan_pdf(case: Case, evaluation: dict[str, Any], **options: Any) -> bytes:
    from weasyprint import HTML

    buffer = io.BytesIO()
    HTML(string=render_plan_html(case, evaluation, **options)).write_pdf(buffer)
    return buffer.getvalue()


def write_plan(case: Case, evaluation: dict[str, Any], path: str | os.PathLike[str], **options: Any) -> Path:
    """Write the plan as PDF (or HTML by the suffix), whole or not at all, readable by its owner only."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".pdf":
        content = render_plan_pdf(case, evaluation, **options)
    elif suffix == ".html":
        content = render_plan_html(case, evaluation, **options).encode("utf-8")
    else:
        raise ValueError(f"{target}: the plan is written as .pdf or .html (got {target.suffix or 'no suffix'!r})")
    write_atomically(target, content)
    return target

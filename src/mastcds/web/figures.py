"""The timeline figure and the case report of a stored patient, as bytes to send.

Both are drawn from the current record and a fresh evaluation of it (the
same engine the evaluation page shows), by :mod:`mastcds.report`.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from mastcds.case import Case, load_case
from mastcds import evaluate
from mastcds.rules.treatment.response import default_as_of
from mastcds.store import service
from mastcds.store.audit import record_access
from mastcds.store.database import Store

MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def current_case(store: Store, key: str, actor: str) -> tuple[Case, dict[str, Any]]:
    """The patient's current case and its evaluation (the read is audited by the store)."""
    document = service.show_patient(store, key, actor=actor).case
    return load_case(document), evaluate(document)


def timeline_image(store: Store, key: str, actor: str, image_format: str, as_of: str | date | None = None) -> tuple[bytes, str]:
    from mastcds.report.timeline import PNG_DPI, timeline_figure

    case, evaluation = current_case(store, key, actor)
    figure = timeline_figure(case, evaluation, as_of=as_of or default_as_of(case, date.today()))
    buffer = io.BytesIO()
    metadata = {"Date": None} if image_format == "svg" else None
    figure.savefig(buffer, format=image_format, dpi=PNG_DPI, metadata=metadata)
    return buffer.getvalue(), MEDIA_TYPES[image_format]


def report_file(store: Store, key: str, actor: str, report_format: str, as_of: str | date | None = None) -> tuple[bytes, str, str]:
    """The report as (content, media type, file name); a PDF is audited as an export of the patient's data."""
    from mastcds.report.html import render_report_html, render_report_pdf

    case, evaluation = current_case(store, key, actor)
    as_of = as_of or default_as_of(case, date.today())
    if report_format == "pdf":
        content = render_report_pdf(case, evaluation, as_of=as_of)
        record_access(store, actor=actor, action="export", patient_key=key, detail="case report exported (PDF)")
    else:
        content = render_report_html(case, evaluation, as_of=as_of).encode("utf-8")
    return content, MEDIA_TYPES[report_format], f"mastcds-report-{key}.{report_format}"


def plan_file(store: Store, key: str, actor: str, name: str | None, paper: str) -> tuple[bytes, str, str]:
    """The patient's emergency action plan as a PDF (content, media type, file name), audited as an export."""
    from mastcds.report.action_plan import render_plan_pdf

    case, evaluation = current_case(store, key, actor)
    content = render_plan_pdf(case, evaluation, name=name, paper=paper)
    record_access(store, actor=actor, action="export", patient_key=key, detail="action plan exported (PDF)")
    return content, MEDIA_TYPES["pdf"], f"action-plan-{key}.pdf"

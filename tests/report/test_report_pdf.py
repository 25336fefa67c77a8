"""The PDF case report: WeasyPrint lays out the same HTML on A4 pages."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from weasyprint import HTML

from mastcds.case import Case
from mastcds.report.html import render_report_html, write_report

DAY = date(2026, 1, 31)
A4_POINTS = (595.276, 841.89)


def test_seed_pdf_is_a4_with_a_sensible_page_count(seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    document = HTML(string=render_report_html(seed_case, seed_evaluation, generated_on=DAY)).render()
    assert 3 <= len(document.pages) <= 8
    for page in document.pages:
        assert (page.width * 0.75, page.height * 0.75) == pytest.approx(A4_POINTS, abs=0.5)  # CSS px to pt


def test_pdf_bytes_and_file(tmp_path: Path, seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    target = write_report(seed_case, seed_evaluation, tmp_path / "Report.PDF", generated_on=DAY)
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(data) > 20_000  # text, tables and the vector figure
    assert [p.name for p in tmp_path.iterdir()] == ["Report.PDF"]

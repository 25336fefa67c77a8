"""The HTML case report from a contract-shaped evaluation: content, escaping, sources, windows."""

from __future__ import annotations

import base64
import copy
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from mastcds import evaluate
from mastcds.case import Case, load_case
from mastcds.report.html import DISCLAIMER, render_report_html, write_report
from tests.report.conftest import SEED_PATH
from tests.schema_strategy import valid_cases

DAY = date(2026, 1, 31)


def row_of(html: str, label: str) -> str:
    """The table row whose first cell names ``label``."""
    match = re.search(rf"<tr>\s*<td><b>{re.escape(label)}</b>.*?</tr>", html, re.S)
    assert match, label
    return match.group(0)


def test_seed_report_shows_patient_verdicts_response_figure_and_provenance(seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    html = render_report_html(seed_case, seed_evaluation, generated_on=DAY)
    assert "Case report: seed-omalizumab-ism" in html
    assert "undetermined: ISM or MCL" in html
    assert "aspirate smear mast-cell %" in html  # what would settle it
    assert html.count("not a substitute for clinical judgement") >= 2 and DISCLAIMER in html
    assert "mastcds 0.1.0" in html and "generated 2026-01-31" in html
    assert "REMA score <b>7</b>" in html
    assert "nearest printed cell 300 mg every 4 weeks" in html and "2 × 150 mg" in html
    omalizumab = row_of(html, "omalizumab 300 mg q4w")
    assert "3.3 episodes/year" in omalizumab  # before: 4 in 441 days
    assert "0.0 episodes/year" in omalizumab  # after: none in 290 days
    assert "4 episodes in 441 days" in omalizumab and "0 episodes in 290 days" in omalizumab
    assert "too short to judge" in omalizumab
    assert "As of <b>2012-07-01</b>" in html


def test_figure_is_embedded_as_svg(seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    html = render_report_html(seed_case, seed_evaluation, generated_on=DAY)
    match = re.search(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)
    assert match
    svg = base64.b64decode(match.group(1))
    assert b"<svg" in svg and b"omalizumab 300 mg q4w" in svg


def test_each_source_is_listed_once_and_cited_by_number(seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    html = render_report_html(seed_case, seed_evaluation, generated_on=DAY)
    sources = re.search(r'<ol class="sources">(.*?)</ol>', html, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", sources, re.S)
    assert len(items) == len(set(items))
    assert "who2022 source table" in items[0]
    assert any("Garwood" in item for item in items)  # the rate method is a source too
    cited = {int(n) for n in re.findall(r'<span class="src">\[(\d+)\]</span>', html)}
    assert cited == set(range(1, len(items) + 1))


def test_free_text_is_escaped(seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    document = seed_case.to_document()
    document["id"] = "<b>x</b>"
    html = render_report_html(load_case(document), seed_evaluation, generated_on=DAY)
    assert "<script>" not in html and "no cytopenia &lt;script&gt;" in html
    assert "Case report: &lt;b&gt;x&lt;/b&gt;" in html


def test_determinate_category_is_shown_plainly(seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    evaluation = copy.deepcopy(seed_evaluation)
    for guideline in evaluation["guidelines"].values():
        guideline.update(category="ISM", possible_categories=["ISM"], next_tests=[])
    html = render_report_html(seed_case, evaluation, generated_on=DAY)
    assert html.count('<td class="verdict">ISM</td>') == 3
    assert "undetermined" not in html.split("<h2>Timeline</h2>")[0]


def test_user_windows_change_the_rates(seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    html = render_report_html(seed_case, seed_evaluation, generated_on=DAY, before_window_days=60, after_window_days=120)
    omalizumab = row_of(html, "omalizumab 300 mg q4w")
    assert "3 episodes in 60 days" in omalizumab  # e2, e3 (2011-08-16) and e4 (2011-09-15)
    assert "0 episodes in 120 days" in omalizumab


def test_prognosis_of_the_seed_case_from_the_engine(seed_case: Case) -> None:
    html = render_report_html(seed_case, evaluate(json.loads(SEED_PATH.read_text(encoding="utf-8"))), generated_on=DAY)
    prognosis = html[html.index("<h2>Prognosis</h2>"):html.index("<h2>Criteria in detail</h2>")]
    assert "<b>MARS</b>" in prognosis and "applies only if advanced SM is confirmed (possible: MCL)" in prognosis
    assert "<b>IPSM</b> not computed: IPSM (Sperr WR et al." in prognosis
    assert "<b>MAPS</b> not computed: MAPS (Pardanani A" in prognosis


def test_missing_dose_and_sections_are_said_not_hidden(seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    evaluation = copy.deepcopy(seed_evaluation)
    evaluation["omalizumab"] = None
    evaluation["epinephrine_autoinjector_mg"] = None
    evaluation["prognosis"] = {"ipsm": None, "mars": None, "not_computed": {"ipsm": "no validated inputs"}}
    html = render_report_html(seed_case, evaluation, generated_on=DAY)
    assert "baseline total IgE and body weight are both needed" in html
    assert "specialist decision" in html
    assert "not computed: no validated inputs" in html


def test_rate_fall_verdicts(seed_evaluation: dict[str, Any]) -> None:
    # 10 episodes in the year before, none in the year after: judged, and significant
    episodes = [{"date": f"2019-{m:02d}-10"} for m in range(1, 11)]
    case = load_case({"patient": {}, "episodes": episodes, "evaluation_date": "2020-12-31",
                      "treatments": [{"drug": "omalizumab", "start_date": "2019-12-31"}, {"drug": "cetirizine", "start_date": "2019-01-01"}]})
    html = render_report_html(case, {"episodes": []}, generated_on=DAY)
    assert re.search(r"yes \(p = 0\.000\d+\)", row_of(html, "omalizumab"))
    assert "no episode before" in row_of(html, "cetirizine")


def test_write_report_html(tmp_path: Path, seed_case: Case, seed_evaluation: dict[str, Any]) -> None:
    target = write_report(seed_case, seed_evaluation, tmp_path / "report.html", generated_on=DAY)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert target.stat().st_mode & 0o077 == 0  # patient data: owner only
    with pytest.raises(ValueError, match=r"\.html or \.pdf"):
        write_report(seed_case, seed_evaluation, tmp_path / "report.docx")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid_cases())
def test_any_valid_case_renders(document: dict[str, Any]) -> None:
    html = render_report_html(load_case(document), evaluate(document), generated_on=DAY)
    assert html.rstrip().endswith("</html>")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=valid_cases())
def test_no_internal_field_path_or_zero_limit_is_printed(document: dict[str, Any]) -> None:
    # "lab_results[1].date" and WHO 2016's "limit > 0 cm" read as program internals or a typing error
    case = load_case(document)
    html = render_report_html(case, evaluate(document), generated_on=date(2026, 1, 1))
    text = re.sub(r"<[^>]+>", " ", html.split("<body>", 1)[1])
    assert not re.search(r"\b(episodes|lab_results|treatments)\[\d+\]", text)
    assert "> 0 cm" not in text and "&gt; 0 cm" not in text


def test_the_seed_report_starts_with_the_bottom_line_and_has_the_treatment_escalation(seed_case: Case) -> None:
    document = seed_case.to_document()
    result = evaluate(document)
    html = render_report_html(seed_case, result, generated_on=date(2026, 1, 1))
    body = html.split("<body>", 1)[1]
    assert body.index("Bottom line") < body.index("<h2>Patient</h2>")
    assert "Separating test" in body[: body.index("<h2>Patient</h2>")]
    assert "usual escalation (not a guideline)" in body
    for option in result["treatment"]["anti_mediator"]["next_options"]:
        assert option["name"].replace("'", "&#39;") in body
    rema_paragraph = body.split("<h2>REMA score</h2>", 1)[1].split("</p>", 1)[0]
    assert "without skin lesions" in rema_paragraph.lower()

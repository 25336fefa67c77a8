"""The side-by-side comparison of the three editions."""

from __future__ import annotations

from typing import Any

from mastcds import evaluate
from mastcds.web.pages.evaluation_view import comparison, evaluation_context
from tests.web.conftest import Web, csrf_from


def _guideline(sm: str, category: str | None, possible: list[str], **sections: list[tuple[str, str]]) -> dict[str, Any]:
    result: dict[str, Any] = {"sm_criteria": sm, "category": category, "possible_categories": possible, "next_tests": []}
    for name in ("criteria", "b_findings", "c_findings"):
        result[name] = [{"id": i, "status": s, "reason": f"{i} {s}", "source": "src"} for i, s in sections.get(name, [])]
    return result


def test_rows_match_criteria_by_what_they_test_and_flag_disagreement() -> None:
    guidelines = {
        "who2022": _guideline("met", "ISM", ["ISM"], criteria=[("major", "met"), ("minor_tryptase", "met")]),
        "icc2022": _guideline("met", "ISM", ["ISM"], criteria=[("icc2022.major", "met"), ("minor_tryptase", "unknown")]),
        "who2016": _guideline("met", "ISM", ["ISM"], criteria=[("major", "met")], b_findings=[("b1", "not_met")]),
    }
    rows = {(row.section, row.name): row for row in comparison(guidelines)}
    assert not rows[("Major and minor criteria", "major")].differs  # the edition prefix is not what it tests
    assert rows[("Major and minor criteria", "minor_tryptase")].differs
    assert rows[("Major and minor criteria", "minor_tryptase")].cells["who2016"] is None
    assert rows[("B-findings", "b1")].differs  # tested by one edition only
    context = evaluation_context({"guidelines": guidelines})
    assert not context["categories_differ"] and not context["sm_criteria_differ"]
    assert [r.name for r in context["differences"]] == ["minor_tryptase", "b1"]


def test_the_page_shows_where_the_editions_disagree(web: Web) -> None:
    case = {
        "patient": {"sex": "female", "age_years": 50},
        "bone_marrow": {"multifocal_dense_infiltrates": True, "atypical_morphology_over_25_percent": False, "cd25": False,
                        "cd2": False, "cd30": False},
        "molecular": {"kit_d816v": "not_detected", "kit_d816v_sample": "bone_marrow", "other_activating_kit_mutation": "none"},
        "labs": {"baseline_tryptase_ng_ml": 10},
    }
    result = evaluate(case)
    statuses = {e: g["sm_criteria"] for e, g in result["guidelines"].items()}
    assert len(set(statuses.values())) > 1  # the editions disagree on this case (ICC: the major criterion suffices)
    client = web.browser("viewer")
    from mastcds.web.case_form import state_from_document

    state = state_from_document(case)
    page = client.post("/evaluate", data={"csrf_token": csrf_from(client.get("/evaluate").text), "action": "save", **state.values})
    compare = page.text[page.text.index('id="compare"'):page.text.index('id="g-who2022"')]
    assert '<tr class="differs"><th scope="row">SM criteria</th>' in compare
    assert "agree on every criterion" not in compare

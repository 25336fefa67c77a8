"""The bottom line: it names exactly the categories still possible, says when an alarming one is only possible,
and names the test that separates them; and a fully recorded case leaves nothing to separate."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings

from mastcds.rules.logic import MET, NOT_MET, UNKNOWN
from mastcds.rules.mastocytosis.common import CATEGORY_ORDER
from mastcds.rules.mastocytosis.guideline import evaluate_guideline
from mastcds.rules.mastocytosis.next_tests import NextTest, consistent
from mastcds.rules.mastocytosis.summary import (
    ALARMING,
    NAMES,
    category_summary,
    combined_summary,
)
from tests.rules.mastocytosis.test_properties import EDITION, findings

SMEAR = NextTest("Bone marrow aspirate smear", "why", ("MCL",), (), "a bone marrow aspirate smear")


def _named(text: str) -> set[str]:
    return {code for code in CATEGORY_ORDER if NAMES[code].lower() in text.lower()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings(max_unknown=8), EDITION)
def test_the_summary_names_exactly_the_possible_categories(f, rules) -> None:
    result = evaluate_guideline(f, rules)
    assert _named(result.summary) == set(result.possible_categories)
    assert _named(result.as_dict()["summary"]) == set(result.possible_categories)
    alarming = set(result.possible_categories) & ALARMING
    if alarming and len(result.possible_categories) > len(alarming):
        assert "only possible, not shown" in result.summary


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(findings(max_unknown=0), EDITION)
def test_a_fully_recorded_case_is_determinate(f, rules) -> None:
    """Issue 15 §2: every field recorded, every judgement made, no category is left open, in every edition."""
    assume(consistent(f))
    result = evaluate_guideline(f, rules)
    assert result.category is not None, (rules.key, result.possible_categories, [t.test for t in result.next_tests])
    assert result.sm_criteria is not UNKNOWN


def test_an_open_answer_names_the_separating_test() -> None:
    assert category_summary(("ISM", "MCL"), [SMEAR]) == (
        "Every recorded finding fits indolent systemic mastocytosis (ISM). Mast cell leukaemia (MCL) is only possible, "
        "not shown: it is ruled out only by a bone marrow aspirate smear, which is not recorded."
    )
    assert category_summary(("ISM", "SSM"), [NextTest("CBC", "why", ("SSM",), (), "a blood count")]) == (
        "Indolent systemic mastocytosis (ISM) or smouldering systemic mastocytosis (SSM); a blood count would "
        "separate them."
    )
    assert category_summary(("ISM",), []) == "Indolent systemic mastocytosis (ISM)."


def test_an_alarming_category_no_test_can_rule_out_is_said_so() -> None:
    text = category_summary(("ISM", "ASM"), [])
    assert "Aggressive systemic mastocytosis (ASM) is only possible, not shown" in text
    assert "no test named in the record" in text


def test_editions_that_agree_are_named_together() -> None:
    same = ("WHO 2022", MET, ("ISM", "MCL"), [SMEAR])
    text = combined_summary({"who2022": same, "icc2022": ("ICC 2022", *same[1:]), "who2016": ("WHO 2016", *same[1:])})
    assert text.startswith("Systemic mastocytosis (all three editions: WHO 2022, ICC 2022 and WHO 2016). Every recorded")
    differing = combined_summary(
        {"who2022": ("WHO 2022", NOT_MET, ("CM",), []), "icc2022": ("ICC 2022", MET, ("ISM",), [])}
    )
    assert differing == (
        "No systemic mastocytosis (WHO 2022). Cutaneous mastocytosis (CM). "
        "Systemic mastocytosis (ICC 2022). Indolent systemic mastocytosis (ISM)."
    )


@pytest.mark.parametrize("code", CATEGORY_ORDER)
def test_every_category_has_a_name_that_no_other_contains(code: str) -> None:
    assert [other for other in CATEGORY_ORDER if NAMES[code].lower() in NAMES[other].lower()] == [code]

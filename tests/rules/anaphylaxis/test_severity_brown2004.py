"""Brown 2004 grading: each feature's grade, the SBP limit, and null exactly when the record leaves it open."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastcds.rules.anaphylaxis.findings import EpisodeFindings
from mastcds.rules.anaphylaxis.severity_brown2004 import severity
from tests.rules.anaphylaxis.episodes import SIGNS, completion, partial_findings, quiet, unrecorded


@pytest.mark.parametrize(
    ("feature", "grade"),
    [
        ({"loss_of_consciousness": True}, "severe"),
        ({"cardiac_arrest": True}, "severe"),
        ({"hypoxaemia": True}, "severe"),
        ({"systolic_bp_mmhg": 75}, "severe"),
        ({"presyncope": True}, "moderate"),
        ({"dyspnoea_wheeze_bronchospasm": True}, "moderate"),
        ({"stridor_or_laryngeal_oedema": True}, "moderate"),
        ({"abdominal_pain_vomiting_diarrhoea": True}, "moderate"),
        ({"urticaria": True}, "mild"),
        ({"angioedema": True}, "mild"),
        ({"flushing": True}, "mild"),
        ({"pruritus": True}, "mild"),
    ],
)
def test_each_feature_grade(feature: dict, grade: str) -> None:
    result = severity(quiet(**feature))
    assert result.grade == grade
    assert result.reason.startswith(grade.capitalize()) and "Brown" in result.source


def test_worst_feature_wins() -> None:
    assert severity(quiet(urticaria=True, presyncope=True, loss_of_consciousness=True)).grade == "severe"
    assert severity(quiet(urticaria=True, presyncope=True)).grade == "moderate"


@pytest.mark.parametrize(("sbp", "grade"), [(89, "severe"), (90, "mild"), (91, "mild")])
def test_adult_hypotension_below_90(sbp: float, grade: str) -> None:
    assert severity(quiet(urticaria=True, systolic_bp_mmhg=sbp)).grade == grade


@pytest.mark.parametrize(("sbp", "grade"), [(79, "severe"), (80, "mild"), (81, "mild")])
def test_child_uses_the_age_limit(sbp: float, grade: str) -> None:
    assert severity(quiet(urticaria=True, age_years_low=5, age_years_high=5, systolic_bp_mmhg=sbp)).grade == grade


def test_a_fall_alone_is_not_brown_hypotension() -> None:
    assert severity(quiet(urticaria=True, systolic_bp_mmhg=95, baseline_systolic_bp_mmhg=200)).grade == "mild"


def test_null_when_an_unrecorded_feature_could_raise_the_grade() -> None:
    result = severity(quiet(urticaria=True, systolic_bp_mmhg=None))
    assert result.grade is None and "hypotension" in result.reason and "severe" in result.reason
    assert severity(quiet(urticaria=True, presyncope=None)).grade is None
    assert severity(quiet(urticaria=True, loss_of_consciousness=True, presyncope=None)).grade == "severe"
    assert severity(quiet(presyncope=True, urticaria=None)).grade == "moderate"


def test_null_when_nothing_was_present() -> None:
    result = severity(quiet())
    assert result.grade is None and "no skin" in result.reason
    assert severity(unrecorded()).grade is None


def _extreme(f: EpisodeFindings, high: bool) -> EpisodeFindings:
    """The completion with every unknown at its worst (high) or its mildest."""
    changes = {name: high for name in SIGNS if getattr(f, name) is None}
    if f.systolic_bp_mmhg is None:
        changes["systolic_bp_mmhg"] = 0.0 if high else 300.0
    age = f.age_years_high if high else f.age_years_low
    age = (120.0 if high else 0.0) if age is None else age
    return replace(f, age_years_low=age, age_years_high=age, **changes)


ORDER = [None, "mild", "moderate", "severe"]


@settings(max_examples=400)
@given(st.data())
def test_a_grade_is_given_exactly_when_no_completion_changes_it(data: st.DataObject) -> None:
    f = data.draw(partial_findings())
    grade = severity(f).grade
    lowest, highest = severity(_extreme(f, False)).grade, severity(_extreme(f, True)).grade
    assert ORDER.index(lowest) <= ORDER.index(highest)
    if grade is not None:
        assert lowest == highest == grade
        assert severity(data.draw(completion(f))).grade == grade
    else:
        assert lowest is None or lowest != highest

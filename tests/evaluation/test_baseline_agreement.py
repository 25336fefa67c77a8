"""The current baseline tryptase (labs) against a dated baseline result of the same period: a disagreement is warned about."""

from __future__ import annotations

from typing import Any

import pytest

from mastcds import evaluate
from mastcds.evaluation.episodes import BASELINE_AGREEMENT_NG_ML


def warnings_of(current: float, labs: list[tuple[float, str]], evaluation_date: str | None = "2011-09") -> list[str]:
    case: dict[str, Any] = {
        "patient": {},
        "labs": {"baseline_tryptase_ng_ml": current},
        "lab_results": [{"test": "tryptase", "value": v, "unit": "ng/mL", "date": d, "context": "baseline"} for v, d in labs],
    }
    if evaluation_date:
        case["evaluation_date"] = evaluation_date
    return [w for w in evaluate(case)["warnings"] if "differs from the baseline tryptase result" in w]


@pytest.mark.parametrize(
    ("difference", "warned"),
    [(0.0, False), (BASELINE_AGREEMENT_NG_ML - 0.001, False), (BASELINE_AGREEMENT_NG_ML, False), (BASELINE_AGREEMENT_NG_ML + 0.001, True)],
)
def test_boundary_of_a_disagreement(difference: float, warned: bool) -> None:
    for base in (10.0, 50.9):
        assert bool(warnings_of(base, [(base + difference, "2011-09-14")])) is warned, base


def test_only_a_result_of_the_evaluation_period_counts() -> None:
    assert warnings_of(50.9, [(74.1, "2012")]) == []
    (warning,) = warnings_of(50.9, [(74.1, "2011")])  # 2011 may be September 2011
    assert "50.9 ng/mL" in warning and "74.1 ng/mL" in warning and "2011" in warning


def test_without_an_evaluation_date_the_latest_result_stands_for_now() -> None:
    assert warnings_of(50.9, [(30, "2010"), (50.9, "2012-03")], evaluation_date=None) == []
    assert warnings_of(50.9, [(50.9, "2010"), (30, "2012-03")], evaluation_date=None)


def test_acute_and_other_tests_are_not_compared() -> None:
    case = {
        "patient": {}, "evaluation_date": "2011-09", "labs": {"baseline_tryptase_ng_ml": 20},
        "lab_results": [{"test": "tryptase", "value": 90, "unit": "ng/mL", "date": "2011-09", "context": "acute"}],
    }
    assert not [w for w in evaluate(case)["warnings"] if "differs" in w]

"""Shared episode findings: trigger check, the 30% fall on written numbers, age intervals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mastcds.rules.anaphylaxis.findings import EpisodeFindings, below_age_limit, describe_age, exact, systolic_drop_over
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN


def test_unknown_trigger_is_refused() -> None:
    with pytest.raises(ValueError, match="trigger"):
        EpisodeFindings(trigger="wasp")


def test_exact_keeps_the_written_number() -> None:
    assert exact(50.9) == Decimal("50.9") and exact(75) == Decimal("75")


@pytest.mark.parametrize(("sbp", "usual", "expected"), [(70, 100, NOT_MET), (69.99, 100, MET), (84, 120, NOT_MET), (83.99, 120, MET), (None, 100, UNKNOWN), (70, None, UNKNOWN)])
def test_drop_strictly_more_than_30_percent(sbp, usual, expected) -> None:
    assert systolic_drop_over(sbp, usual, Decimal("0.30")) is expected


def _limit(age: float) -> float | None:
    return None if age < 1 else 70 + 2 * min(int(age), 10)


@pytest.mark.parametrize(
    ("sbp", "low", "high", "expected"),
    [(73, 2, 3, MET), (74, 2, 3, UNKNOWN), (75, 2, 3, UNKNOWN), (76, 2, 3, NOT_MET), (60, 0.5, 3, UNKNOWN), (95, None, None, UNKNOWN), (None, 5, 5, UNKNOWN)],
)
def test_age_interval_decides_only_when_both_ends_agree(sbp, low, high, expected) -> None:
    assert below_age_limit(sbp, low, high, _limit) is expected


def test_describe_age() -> None:
    assert describe_age(EpisodeFindings()) == "age at the episode not known"
    assert describe_age(EpisodeFindings(age_years_low=31.2, age_years_high=31.9)) == "age 31 at the episode"
    assert describe_age(EpisodeFindings(age_years_low=29.2, age_years_high=31.4)) == "age 29 to 31 at the episode"
    assert describe_age(EpisodeFindings(age_years_low=None, age_years_high=31.4)) == "age ? to 31 at the episode"

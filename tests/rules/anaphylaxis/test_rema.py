"""REMA score: every item value, the tryptase band edges, the range over unknown items, the cut-off."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastcds.rules.logic import MET, UNKNOWN
from mastcds.rules.anaphylaxis.rema import REMA_CLONAL_CUTOFF, RemaResult, rema_score

# Reference patient for the item tests: female (-1), urticaria (-2), no syncope (0), tryptase 20 (0) = -3.


def score(*args: object) -> int:
    result = rema_score(*args)  # type: ignore[arg-type]
    assert result.score is not None
    return result.score


def test_seed_patient_scores_seven() -> None:
    result = rema_score("male", False, True, 50.9)
    assert result == RemaResult(7, 7, 7, True, result.items)
    assert [item.status for item in result.items] == [MET, MET, MET, MET]


@pytest.mark.parametrize(("sex", "points"), [("male", 1), ("female", -1)])
def test_sex_item(sex: str, points: int) -> None:
    assert score(sex, True, False, 20.0) == -3 - (-1) + points


@pytest.mark.parametrize(("present", "points"), [(False, 1), (True, -2)])
def test_urticaria_angioedema_item(present: bool, points: int) -> None:
    assert score("female", present, False, 20.0) == -3 - (-2) + points


@pytest.mark.parametrize(("present", "points"), [(True, 3), (False, 0)])
def test_presyncope_syncope_item(present: bool, points: int) -> None:
    assert score("female", True, present, 20.0) == -3 + points


@pytest.mark.parametrize(
    ("tryptase", "points"),
    [(0, -1), (14.9, -1), (14.999, -1), (15, 0), (15.1, 0), (20, 0), (24.9, 0), (25, 0), (25.001, 2), (25.1, 2), (1000, 2)],
)
def test_tryptase_bands_are_strict_at_15_and_25(tryptase: float, points: int) -> None:
    assert score("female", True, False, tryptase) == -3 + points


def test_extremes() -> None:
    assert score("male", False, True, 30) == 7
    assert score("female", True, False, 10) == -4


@pytest.mark.parametrize(
    ("args", "low", "high"),
    [
        ((None, False, True, 50.9), 5, 7),
        (("male", None, True, 50.9), 4, 7),
        (("male", False, None, 50.9), 4, 7),
        (("male", False, True, None), 4, 7),
        ((None, None, None, None), -4, 7),
    ],
)
def test_unknown_items_give_a_range(args: tuple, low: int, high: int) -> None:
    result = rema_score(*args)
    assert (result.score, result.min, result.max) == (None, low, high)
    assert UNKNOWN in [item.status for item in result.items]


@pytest.mark.parametrize(
    ("args", "likely"),
    [
        (("male", False, True, None), True),  # 4..7
        (("female", True, False, None), False),  # -4..-1
        (("female", True, None, 30), None),  # -1..2
        (("male", True, False, 20), False),  # exactly 1 -> below the cut-off
        (("male", False, False, 20), True),  # exactly 2 -> at the cut-off
        (("female", False, False, 30), True),  # 2
        (("female", False, False, 20), False),  # 0
    ],
)
def test_clonal_likely_at_and_around_the_cut_off(args: tuple, likely: bool | None) -> None:
    assert REMA_CLONAL_CUTOFF == 2
    assert rema_score(*args).clonal_likely is likely


def test_items_carry_reasons_and_sources() -> None:
    for item in rema_score(None, None, None, None).items + rema_score("male", True, True, 14).items:
        assert item.reason and item.source and item.id.startswith("rema.")


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="sex"):
        rema_score("m", None, None, None)
    with pytest.raises(ValueError, match="tryptase"):
        rema_score(None, None, None, -1)


SEXES = st.sampled_from(["male", "female", None])
FLAGS = st.sampled_from([True, False, None])
TRYPTASE = st.one_of(st.none(), st.floats(min_value=0, max_value=1e5))


def _completions(sex, skin, syncope, tryptase):
    return itertools.product(
        ["male", "female"] if sex is None else [sex],
        [True, False] if skin is None else [skin],
        [True, False] if syncope is None else [syncope],
        [10.0, 20.0, 30.0] if tryptase is None else [tryptase],
    )


@given(SEXES, FLAGS, FLAGS, TRYPTASE)
def test_range_is_exactly_the_span_of_the_completions(sex, skin, syncope, tryptase) -> None:
    result = rema_score(sex, skin, syncope, tryptase)
    scores = {score(*done) for done in _completions(sex, skin, syncope, tryptase)}
    assert (result.min, result.max) == (min(scores), max(scores))
    assert (result.score is None) == (len(scores) > 1)
    verdicts = {s >= REMA_CLONAL_CUTOFF for s in scores}
    assert result.clonal_likely == (verdicts.pop() if len(verdicts) == 1 else None)
    assert -4 <= result.min <= result.max <= 7


SOURCE_TEXT = (
    "REMA score item points: Álvarez-Twose I et al. J Allergy Clin Immunol 2010;125:1269-78. PMID:20434205 "
    "[secondary source: verified against the point values as commonly quoted (the paper's table was not read; "
    "the predictors are in its abstract)]"
)


@pytest.mark.parametrize(
    ("args", "items"),
    [
        (
            ("male", False, True, 30),
            [
                ("rema.male_sex", "met", "Male: +1 point."),
                ("rema.no_urticaria_angioedema", "met", "No urticaria or angioedema in the episodes: +1 point."),
                ("rema.presyncope_syncope", "met", "Presyncope or syncope in an episode: +3 points."),
                ("rema.baseline_tryptase_over_25", "met", "Baseline tryptase 30 ng/mL > 25: +2 points."),
            ],
        ),
        (
            ("female", True, False, 14.5),
            [
                ("rema.male_sex", "not_met", "Female: -1 point."),
                ("rema.no_urticaria_angioedema", "not_met", "Urticaria or angioedema in an episode: -2 points."),
                ("rema.presyncope_syncope", "not_met", "No presyncope or syncope in the episodes: +0 points."),
                ("rema.baseline_tryptase_over_25", "not_met", "Baseline tryptase 14.5 ng/mL < 15: -1 point."),
            ],
        ),
        (
            (None, None, None, None),
            [
                ("rema.male_sex", "unknown", "Sex not recorded: between -1 and +1 points."),
                ("rema.no_urticaria_angioedema", "unknown", "Urticaria/angioedema not recorded for every episode: between -2 and +1 points."),
                ("rema.presyncope_syncope", "unknown", "Presyncope/syncope not recorded for every episode: between +0 and +3 points."),
                ("rema.baseline_tryptase_over_25", "unknown", "Baseline tryptase not recorded: between -1 and +2 points."),
            ],
        ),
        (
            ("male", None, True, 25),
            [
                ("rema.male_sex", "met", "Male: +1 point."),
                ("rema.no_urticaria_angioedema", "unknown", "Urticaria/angioedema not recorded for every episode: between -2 and +1 points."),
                ("rema.presyncope_syncope", "met", "Presyncope or syncope in an episode: +3 points."),
                ("rema.baseline_tryptase_over_25", "not_met", "Baseline tryptase 25 ng/mL within 15-25: +0 points."),
            ],
        ),
    ],
)
def test_item_reasons_word_for_word(args: tuple, items: list) -> None:
    result = rema_score(*args)
    assert [(item.id, item.status.value, item.reason) for item in result.items] == items
    assert all(item.source == SOURCE_TEXT and item.references == ("alvarez_twose2010_rema",) for item in result.items)


def test_results_do_not_share_their_item_lists() -> None:
    first, second = rema_score("male", False, True, 30), rema_score("male", False, True, 30)
    assert first.items == second.items and first.items is not second.items

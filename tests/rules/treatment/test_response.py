"""Episode rates before and after a treatment: windows, boundaries, statistics, the seed case."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastcds.case import load_case
from mastcds.rules.treatment.response import (
    DAYS_PER_YEAR,
    default_as_of,
    DatedEpisode,
    TreatmentCourse,
    _poisson_cdf,
    days_needed_to_judge,
    period,
    poisson_interval,
    reduction_p_value,
    response_for_course,
    treatment_response,
    zero_after_is_significant,
)

ROOT = Path(__file__).resolve().parents[3]
SEED = json.loads((ROOT / "examples" / "seed-case.json").read_text(encoding="utf-8"))


def case_with(episodes: list[dict[str, Any]], treatments: list[dict[str, Any]], **extra: Any):
    return load_case({"patient": {}, "episodes": episodes, "treatments": treatments, **extra})


def only(summary, drug: str):
    (match,) = [t for t in summary.treatments if t.drug == drug]
    return match


# ------------------------------------------------------------ partial dates


@pytest.mark.parametrize(
    ("text", "first", "last", "placed"),
    [
        ("2011", date(2011, 1, 1), date(2011, 12, 31), date(2011, 7, 2)),
        ("2012", date(2012, 1, 1), date(2012, 12, 31), date(2012, 7, 1)),  # leap year: 365 // 2 days in
        ("2011-09", date(2011, 9, 1), date(2011, 9, 30), date(2011, 9, 15)),
        ("2011-12", date(2011, 12, 1), date(2011, 12, 31), date(2011, 12, 16)),
        ("2012-02", date(2012, 2, 1), date(2012, 2, 29), date(2012, 2, 15)),
        ("2011-09-03", date(2011, 9, 3), date(2011, 9, 3), date(2011, 9, 3)),
    ],
)
def test_partial_dates_are_placed_mid_period(text: str, first: date, last: date, placed: date) -> None:
    when = period(text)
    assert (when.first, when.last, when.placed) == (first, last, placed)
    assert when.exact == (len(text) == 10)


@pytest.mark.parametrize("text", ["11", "2011-9", "2011-13", "2011-02-30", "2011/09", "", "2011-09-01-02", "abcd"])
def test_unreadable_dates_are_refused_with_the_value(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        period(text)


# ---------------------------------------------------------------- statistics


@pytest.mark.parametrize(
    ("count", "low", "high"),
    # R 4.x: poisson.test(k)$conf.int (exact Garwood interval)
    [(0, 0.0, 3.688879), (1, 0.02531781, 5.571643), (4, 1.089865, 10.241589), (10, 4.795389, 18.390356)],
)
def test_poisson_interval_matches_r(count: int, low: float, high: float) -> None:
    got_low, got_high = poisson_interval(count)
    assert got_low == pytest.approx(low, abs=1e-6)
    assert got_high == pytest.approx(high, abs=1e-6)


@given(st.integers(min_value=0, max_value=300))
def test_poisson_interval_solves_its_defining_tails(count: int) -> None:
    low, high = poisson_interval(count)
    assert _poisson_cdf(count, high) == pytest.approx(0.025, abs=1e-9)
    if count:
        assert 1 - _poisson_cdf(count - 1, low) == pytest.approx(0.025, abs=1e-9)
    assert low <= count <= high


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        poisson_interval(-1)


@pytest.mark.parametrize(
    ("before", "before_days", "after", "after_days", "expected"),
    [
        (4, 100, 0, 100, 0.5**4),
        (5, 100, 0, 100, 0.5**5),
        (10, 365, 2, 365, 79 / 4096),  # (C(12,0)+C(12,1)+C(12,2)) / 2**12
        (3, 300, 1, 100, 0.75**4 + 4 * 0.25 * 0.75**3),  # P(X <= 1), X ~ Bin(4, 1/4)
        (0, 100, 0, 100, 1.0),
    ],
)
def test_reduction_p_value_by_hand(before: int, before_days: int, after: int, after_days: int, expected: float) -> None:
    assert reduction_p_value(before, before_days, after, after_days) == pytest.approx(expected, rel=1e-12)


def test_reduction_p_value_needs_two_windows() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        reduction_p_value(1, 0, 0, 10)


@pytest.mark.parametrize(
    ("after_days", "judgeable"),
    [(18, False), (19, True), (20, True)],  # 1 episode in 1 day: (1 / (1 + a)) <= 1/20 from a = 19
)
def test_significance_boundary_is_exact(after_days: int, judgeable: bool) -> None:
    assert zero_after_is_significant(1, 1, after_days) is judgeable
    assert days_needed_to_judge(1, 1) == 19


def test_days_needed_for_the_seed_numbers() -> None:
    # 4 episodes in 441 days: (441 / (441 + a)) ** 4 <= 0.05 from a = 492
    assert days_needed_to_judge(4, 441) == 492
    assert not zero_after_is_significant(4, 441, 491)
    assert zero_after_is_significant(4, 441, 492)
    assert days_needed_to_judge(0, 441) is None


@settings(max_examples=200)
@given(st.integers(1, 60), st.integers(1, 5000))
def test_days_needed_is_the_first_significant_length(before: int, before_days: int) -> None:
    needed = days_needed_to_judge(before, before_days)
    assert needed is not None
    assert zero_after_is_significant(before, before_days, needed)
    assert needed == 1 or not zero_after_is_significant(before, before_days, needed - 1)


@settings(max_examples=200)
@given(st.integers(0, 80), st.integers(1, 4000), st.integers(0, 80), st.integers(1, 4000))
def test_p_value_is_a_probability_and_none_after_is_the_smallest(b: int, bd: int, a: int, ad: int) -> None:
    p = reduction_p_value(b, bd, a, ad)
    assert 0 < p <= 1
    assert reduction_p_value(b, bd, 0, ad) <= p + 1e-12
    assert reduction_p_value(b, bd, a, ad + 1) <= p + 1e-12  # more time with as many episodes: more telling


# ------------------------------------------------------------ windows on a course

START = date(2020, 6, 15)


def course(start: str = "2020-06-15", end: str | None = None, drug: str = "omalizumab") -> TreatmentCourse:
    return TreatmentCourse(drug, drug, period(start), period(end) if end else None, on_demand=False)


def episodes_on(*days: date) -> list[DatedEpisode]:
    return [DatedEpisode(f"e{i}", period(d.isoformat())) for i, d in enumerate(days)]


def run(eps, *, start: str = "2020-06-15", end: str | None = None, history=date(2019, 6, 16), as_of=date(2021, 6, 15), **windows):
    return response_for_course(course(start, end), eps, history_start=history, as_of=as_of, **windows)


def test_episode_on_the_start_day_counts_before() -> None:
    result = run(episodes_on(START))
    assert result.before.episodes == ("e0",)
    assert result.after.episodes == ()


def test_episode_the_day_after_the_start_counts_after() -> None:
    result = run(episodes_on(START + timedelta(days=1)))
    assert (result.before.count, result.after.count) == (0, 1)


def test_episode_on_the_last_day_counts_and_the_day_after_does_not() -> None:
    as_of = date(2021, 6, 15)
    assert run(episodes_on(as_of), as_of=as_of).after.count == 1
    assert run(episodes_on(as_of + timedelta(days=1)), as_of=as_of).after.count == 0
    # an ended treatment: its end day is still on treatment
    ended = run(episodes_on(date(2020, 12, 31), date(2021, 1, 1)), end="2020-12-31")
    assert ended.after.episodes == ("e0",)
    assert ended.after.last_day == date(2020, 12, 31)


def test_default_windows_cover_history_and_time_on_treatment() -> None:
    result = run(episodes_on(date(2019, 6, 16), date(2020, 1, 1)))
    assert (result.before.first_day, result.before.last_day) == (date(2019, 6, 16), START)
    assert result.before.days == 366  # 2019-06-16 .. 2020-06-15, both days included (2020 is leap)
    assert result.before.count == 2  # the first day of history is included
    assert (result.after.first_day, result.after.last_day) == (START + timedelta(days=1), date(2021, 6, 15))
    assert result.after.days == 365


@pytest.mark.parametrize(("offset", "counted"), [(29, True), (30, False), (31, False)])
def test_before_window_of_n_days_ends_on_the_start_day(offset: int, counted: bool) -> None:
    # a 30-day window is start-29 .. start
    result = run(episodes_on(START - timedelta(days=offset)), before_window_days=30)
    assert result.before.days == 30
    assert (result.before.count == 1) is counted


@pytest.mark.parametrize(("offset", "counted"), [(29, True), (30, True), (31, False)])
def test_after_window_of_n_days_starts_the_day_after(offset: int, counted: bool) -> None:
    result = run(episodes_on(START + timedelta(days=offset)), after_window_days=30)
    assert result.after.days == 30
    assert (result.after.count == 1) is counted


def test_windows_longer_than_the_record_are_shortened_with_a_warning() -> None:
    result = run([], before_window_days=1000, after_window_days=1000)
    assert result.before.days == 366
    assert result.after.days == 365
    text = " ".join(result.warnings)
    assert "before window was shortened from 1000 days" in text
    assert "shortened from 1000 to 365 days by the as-of date" in text


def test_after_window_stops_at_the_end_of_treatment() -> None:
    result = run([], end="2020-07-15", after_window_days=100)
    assert result.after.days == 30
    assert "by the end of treatment" in " ".join(result.warnings)


@pytest.mark.parametrize("days", [0, -3, 1.5, True])
def test_window_of_less_than_a_day_is_refused(days: Any) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run([], before_window_days=days)


def test_rate_is_per_julian_year_with_its_interval() -> None:
    result = run(episodes_on(date(2020, 1, 1), date(2020, 3, 1), date(2020, 5, 1)))
    assert result.before.rate_per_year == pytest.approx(3 / (366 / DAYS_PER_YEAR))
    low, high = result.before.rate_interval
    assert low < result.before.rate_per_year < high
    assert result.after.rate_per_year == 0.0
    assert result.after.rate_interval[0] == 0.0


def test_too_short_to_judge_warns_and_says_how_long_it_takes() -> None:
    # 4 episodes in 441 days before; 491 clean days are not enough, 492 are
    history = START - timedelta(days=440)
    eps = episodes_on(*(history + timedelta(days=100 * i) for i in range(4)))
    short = run(eps, history=history, as_of=START + timedelta(days=491))
    assert not short.judgeable
    assert short.days_needed == 492
    assert any("too short to judge" in w and "492 days" in w for w in short.warnings)
    enough = run(eps, history=history, as_of=START + timedelta(days=492))
    assert enough.judgeable
    assert not any("too short" in w for w in enough.warnings)


def test_no_episode_before_cannot_be_judged() -> None:
    result = run([])
    assert not result.judgeable
    assert result.days_needed is None
    assert any("nothing for it to reduce" in w for w in result.warnings)


def test_treatment_started_before_the_record_has_no_before_window() -> None:
    result = run([], start="2019-01-01")
    assert result.before is None
    assert result.p_value is None
    assert any("no history before it" in w for w in result.warnings)


def test_treatment_after_the_as_of_date_has_no_after_window() -> None:
    result = run([], start="2021-07-01")
    assert result.after is None
    assert any("starts after the as-of date" in w for w in result.warnings)


def test_shared_period_makes_the_order_unknown() -> None:
    eps = [DatedEpisode("e1", period("2020-06"))]
    result = run(eps, start="2020-06-20")
    assert any("e1 (2020-06) and the start of omalizumab (2020-06-20) share a period" in w for w in result.warnings)
    assert result.before.count == 1  # placed 2020-06-15, before the 20th
    exact = run(episodes_on(date(2020, 6, 20)), start="2020-06-20")
    assert not any("share a period" in w for w in exact.warnings)


# ------------------------------------------------------------ on a whole case


def test_undated_episodes_are_listed_apart_and_not_counted() -> None:
    case = case_with(
        [{"id": "a", "date": "2020-01-10"}, {"id": "b"}, {}],
        [{"drug": "omalizumab", "start_date": "2020-06-01"}],
        evaluation_date="2021-06-01",
    )
    summary = treatment_response(case)
    assert summary.undated_episodes == ("b", "episode 3")
    assert any("without a date" in w and "b, episode 3" in w for w in summary.warnings)
    result = only(summary, "omalizumab")
    assert result.before.count + result.after.count == 1


def test_as_of_defaults_to_the_latest_dated_fact_and_can_be_given() -> None:
    case = case_with(
        [{"id": "a", "date": "2020-01-10"}],
        [{"drug": "omalizumab", "start_date": "2020-06-01"}],
        lab_results=[{"test": "tryptase", "value": 30, "unit": "ng/mL", "date": "2021-03"}],
    )
    summary = treatment_response(case)
    assert summary.as_of == date(2021, 3, 16)
    assert summary.as_of_basis == "the latest dated fact: a tryptase result, 2021-03"  # words, not a field path
    assert summary.history_start == date(2020, 1, 10)
    given_ = treatment_response(case, as_of="2021-06-01")
    assert given_.as_of == date(2021, 6, 1)
    assert only(given_, "omalizumab").after.last_day == date(2021, 6, 1)
    assert treatment_response(case, as_of=date(2020, 12, 31)).as_of == date(2020, 12, 31)


def test_the_offered_as_of_is_the_evaluation_date_else_today() -> None:
    today = date(2026, 12, 7)
    assert default_as_of(case_with([], [], evaluation_date="2011-09"), today) == "2011-09"
    assert default_as_of(case_with([], []), today) == today


def test_no_basis_or_warning_names_a_field_path() -> None:
    case = case_with(
        [{"date": "2020-01-10"}, {}],
        [{"drug": "omalizumab", "start_date": "2020-06-01", "end_date": "2021-01"}],
        lab_results=[{"test": "tryptase", "value": 30, "unit": "ng/mL", "date": "2021-03"}],
        evaluation_date="2021-06",
    )
    summary = treatment_response(case, before_window_days=30, after_window_days=900)
    texts = [summary.as_of_basis, summary.history_basis, *summary.warnings]
    texts += [w for t in summary.treatments for w in t.warnings]
    assert not [t for t in texts if "[" in t or "_date" in t], texts


def test_as_of_before_the_record_or_unreadable_is_refused() -> None:
    case = case_with([{"date": "2020-01-10"}], [{"drug": "omalizumab", "start_date": "2020-06-01"}])
    with pytest.raises(ValueError, match="before the case's earliest dated fact"):
        treatment_response(case, as_of="2019-12-31")
    with pytest.raises(ValueError, match="not a"):
        treatment_response(case, as_of="June 2020")


def test_episodes_after_an_explicit_as_of_are_named() -> None:
    case = case_with(
        [{"id": "a", "date": "2020-01-10"}, {"id": "late", "date": "2022-01-01"}],
        [{"drug": "omalizumab", "start_date": "2020-06-01"}],
    )
    summary = treatment_response(case, as_of="2021-01-01")
    assert any("not counted: late" in w for w in summary.warnings)


def test_rescue_medication_is_flagged() -> None:
    case = case_with(
        [{"date": "2020-01-10"}],
        [
            {"drug": "epinephrine_autoinjector", "start_date": "2020-06-01"},
            {"drug": "cetirizine", "interval": "PRN", "start_date": "2020-06-01"},
            {"drug": "cetirizine", "interval": "daily", "start_date": "2020-06-01"},
        ],
        evaluation_date="2021",
    )
    flags = [t.on_demand for t in treatment_response(case).treatments]
    assert flags == [True, True, False]
    assert "cannot prevent" in treatment_response(case).treatments[0].warnings[0]


def test_case_without_dates_or_treatments() -> None:
    summary = treatment_response(case_with([{}], []))
    assert summary.treatments == ()
    assert summary.as_of is None
    assert summary.undated_episodes == ("episode 1",)


def test_seed_case_four_episodes_before_omalizumab_none_after() -> None:
    summary = treatment_response(load_case(SEED))
    omalizumab = only(summary, "omalizumab")
    assert omalizumab.before.episodes == ("e1", "e2", "e3", "e4")  # e4 shares September 2011: counted before
    assert omalizumab.before.rate_per_year > 0
    assert omalizumab.before.rate_per_year == pytest.approx(4 / (441 / DAYS_PER_YEAR))
    assert omalizumab.after.count == 0
    assert omalizumab.after.rate_per_year == 0.0
    assert summary.as_of == date(2012, 7, 1)  # "2012", the latest dated fact, placed mid-year
    assert omalizumab.after.days == 290
    assert not omalizumab.judgeable  # 4 before, 290 clean days: not yet beyond chance
    assert omalizumab.days_needed == 492
    # to the end of 2012 (the paper: "15 months") gives 473 clean days, still short of 492
    assert not only(treatment_response(load_case(SEED), as_of="2012-12-31"), "omalizumab").judgeable
    json.dumps(summary.as_dict())  # serialisable for the report and the API
    glucocorticoid = only(summary, "glucocorticoid")
    assert glucocorticoid.before.episodes == ("e1", "e2", "e3") and glucocorticoid.after.episodes == ("e4",)
    shared = [w for w in glucocorticoid.warnings if "share a period" in w]
    assert shared == [
        "episodes e2 (2011-08), e3 (2011-08) and the start of glucocorticoid (2011-08) share a period, "
        "so their order is unknown; counted before it (dates placed mid-period)"
    ]
    assert any("p = 0.178 > 0.05" in w for w in glucocorticoid.warnings)  # (411 / 731) ** 3


# ------------------------------------------------------------------ invariants

day_offsets = st.lists(st.integers(min_value=0, max_value=1500), max_size=25)


@settings(max_examples=150, deadline=None)
@given(day_offsets, st.integers(min_value=1, max_value=1400), st.integers(min_value=0, max_value=100))
def test_default_windows_split_every_dated_episode_once(offsets: list[int], start: int, past_as_of: int) -> None:
    origin = date(2015, 1, 1)
    dates = [{"id": f"e{i}", "date": (origin + timedelta(days=o)).isoformat()} for i, o in enumerate(offsets)]
    dates.append({"id": "first", "date": origin.isoformat()})
    start_day = origin + timedelta(days=start)
    as_of = origin + timedelta(days=max(offsets + [start]) + past_as_of + 1)
    case = case_with(dates, [{"drug": "omalizumab", "start_date": start_day.isoformat()}])
    result = only(treatment_response(case, as_of=as_of), "omalizumab")
    assert result.before.count + result.after.count == len(dates)
    assert result.before.days + result.after.days == (as_of - origin).days + 1
    for window in (result.before, result.after):
        low, high = window.rate_interval
        assert 0 <= low <= window.rate_per_year <= high
    assert result.judgeable == zero_after_is_significant(result.before.count, result.before.days, result.after.days)

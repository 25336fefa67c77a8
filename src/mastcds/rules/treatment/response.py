"""Treatment response: anaphylaxis episodes per year before and after each treatment started.

A clinician asks "did the episodes stop after X?". The honest answer is two
rates, each with its observation time and 95% interval, and a statement
whether those times are long enough to tell a change from chance. No guideline
defines this, so the conventions below are ours; they are printed in every
report (:data:`METHOD`) so that a reader can check them.

Conventions
-----------
* **Partial dates** (``YYYY``, ``YYYY-MM``) are placed at the middle day of
  their period (``2011`` → 2011-07-02, ``2011-09`` → 2011-09-15): the placement
  with the smallest worst-case error. When an episode and a treatment's start
  (or end) share a period their order is unknown and a warning says so.
* **Windows** are runs of whole days, both ends included. The *before* window
  ends on the start day, the *after* window begins the day after: an episode on
  the day a treatment starts counts **before** it (a drug started that day was
  started because of the episode, or too late to prevent it). An episode on the
  last day of the after window (the end of treatment, or the as-of date) counts.
* **Default windows**: before = all known history, from the earliest dated
  fact of the case to the start; after = time on treatment, from the start to
  the end date or, for an ongoing treatment, to the as-of date. Windows the
  user sets (in days) are shortened to that history and that time on
  treatment, with a warning.
* **As of**: given explicitly, or the latest dated fact of the case (episode,
  result, treatment date, biopsy or evaluation date), placed as above.
* **Undated episodes** are listed apart and left out of every rate.

Statistics (sources in :data:`SOURCE`): the rate is episodes / (days / 365.25)
with the exact Poisson (Garwood) 95% interval. Whether the rate fell is the
exact conditional test of two Poisson rates: given the total number of
episodes, the number after is binomial with p = days after / all days when
nothing changed. The windows are **too short to judge** when even no episode
after would leave that one-sided p-value above 0.05.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from mastcds.rules.references import cite, reference_dicts

if TYPE_CHECKING:  # the model is read by attribute only, so rules import no adapter
    from mastcds.case import Case

DAYS_PER_YEAR = 365.25
"""Julian year: rates are per year of 365.25 days whatever the leap years."""

SIGNIFICANCE_ONE_SIDED = Fraction(1, 20)
"""Conventional 5% level for "the rate fell beyond chance" (one-sided, exact conditional test;
R ``stats::poisson.test`` two-sample form).
A fraction, so that the judgement at the boundary is exact."""

CONFIDENCE = 0.95
"""Level of the exact Poisson (Garwood 1936) interval shown with each rate."""

RESCUE_DRUGS = frozenset({"epinephrine_autoinjector"})
"""Emergency self-treatment (anaphylaxis-treatment-reference.md §6.2, §7.1 step 0): it treats an
episode and cannot prevent one, so its before/after rates say nothing about its effect."""

ON_DEMAND_INTERVALS = frozenset({"prn"})
"""``interval`` values of the case schema meaning "when needed" (case.schema.json, treatments.interval)."""

CITATION = cite(
    "garwood1936", "przyborowski1940",
    where="exact Poisson interval (Garwood) and exact conditional test of two Poisson rates, binomial given the "
          "total (Przyborowski & Wilenski), as in R stats::poisson.test and statsmodels test_poisson_2indep "
          "method 'exact-cond'",
)
SOURCE = CITATION.text

METHOD = (
    "Episodes per year = episodes / (days / 365.25), with the exact Poisson 95% interval. "
    "Partial dates are placed mid-period (2011 → 2011-07-02, 2011-09 → 2011-09-15). "
    "An episode on a treatment's start day counts before it. "
    "Before: from the earliest dated fact of the case (or the chosen number of days) to the start day. "
    "After: from the day after the start to the end of treatment or the as-of date (or the chosen number of days). "
    "Too short to judge: even no episode after would not make the fall significant "
    "(exact conditional test, one-sided p > 0.05). Undated episodes are left out."
)


# ------------------------------------------------------------------ dates


@dataclass(frozen=True)
class Period:
    """A date as recorded (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) and the days it may mean."""

    text: str
    first: date
    last: date

    @property
    def placed(self) -> date:
        """The middle day of the period, where the rates put it."""
        return self.first + timedelta(days=(self.last - self.first).days // 2)

    @property
    def exact(self) -> bool:
        return self.first == self.last

    def overlaps(self, other: Period) -> bool:
        return self.first <= other.last and other.first <= self.last


def period(text: str) -> Period:
    """The period a recorded date stands for; :class:`ValueError` names what is wrong."""
    parts = text.split("-")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise ValueError(f"{text!r} is not a date; expected YYYY-MM-DD, YYYY-MM or YYYY")
    if any(len(p) != 2 for p in parts[1:]):
        raise ValueError(f"{text!r} is not a date; expected YYYY-MM-DD, YYYY-MM or YYYY")
    year = int(parts[0])
    try:
        if len(parts) == 1:
            return Period(text, date(year, 1, 1), date(year, 12, 31))
        month = int(parts[1])
        if len(parts) == 2:
            first = date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            return Period(text, first, following - timedelta(days=1))
        day = date(year, month, int(parts[2]))
    except ValueError as error:
        raise ValueError(f"{text!r} is not a calendar date ({error})") from None
    return Period(text, day, day)


# ------------------------------------------------------------ statistics


def _poisson_cdf(k: int, mean: float) -> float:
    """P(X <= k) for X ~ Poisson(mean)."""
    if mean == 0:
        return 1.0
    log_mean = math.log(mean)
    return min(1.0, sum(math.exp(-mean + i * log_mean - math.lgamma(i + 1)) for i in range(k + 1)))


def _solve_decreasing(function: Callable[[float], float], target: float) -> float:
    """The mean where a function decreasing from 1 (at 0) to 0 crosses ``target``."""
    low, high = 0.0, 8.0
    while function(high) > target:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if function(middle) > target:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


def poisson_interval(count: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Garwood) two-sided interval for the mean of a Poisson count."""
    if count < 0:
        raise ValueError(f"an episode count cannot be negative (got {count})")
    tail = (1 - confidence) / 2
    upper = _solve_decreasing(lambda mean: _poisson_cdf(count, mean), tail)
    lower = 0.0 if count == 0 else _solve_decreasing(lambda mean: _poisson_cdf(count - 1, mean), 1 - tail)
    return lower, upper


def _binomial_cdf(successes: int, trials: int, p: float) -> float:
    """P(X <= successes) for X ~ Binomial(trials, p), 0 < p < 1."""
    log_p, log_q = math.log(p), math.log1p(-p)
    log_terms = (
        math.lgamma(trials + 1) - math.lgamma(i + 1) - math.lgamma(trials - i + 1) + i * log_p + (trials - i) * log_q
        for i in range(successes + 1)
    )
    return min(1.0, sum(math.exp(term) for term in log_terms))


def reduction_p_value(before: int, before_days: int, after: int, after_days: int) -> float:
    """One-sided exact conditional p-value that the rate after is lower than before.

    Under "nothing changed" the episodes after, given all episodes, are
    Binomial(total, after_days / all days); the p-value is P(X <= after).
    """
    if before_days <= 0 or after_days <= 0:
        raise ValueError("both windows need at least one day")
    total = before + after
    if total == 0:
        return 1.0
    return _binomial_cdf(after, total, after_days / (before_days + after_days))


def zero_after_is_significant(before: int, before_days: int, after_days: int) -> bool:
    """Whether no episode in ``after_days`` would show a fall beyond chance (exact arithmetic).

    With no episode after, the conditional p-value is (before_days / all days) ** before.
    """
    return Fraction(before_days, before_days + after_days) ** before <= SIGNIFICANCE_ONE_SIDED


def days_needed_to_judge(before: int, before_days: int) -> int | None:
    """The fewest days after without any episode that would make the fall significant.

    ``None`` when no length can (no episode before: there is nothing to fall).
    """
    if before == 0:
        return None
    # closed form of (b / (b + a)) ** n = alpha, then exact steps around its float rounding
    days = max(1, math.ceil(before_days * (float(SIGNIFICANCE_ONE_SIDED) ** (-1 / before) - 1)))
    while days > 1 and zero_after_is_significant(before, before_days, days - 1):
        days -= 1
    while not zero_after_is_significant(before, before_days, days):
        days += 1
    return days


# --------------------------------------------------------------- results


@dataclass(frozen=True)
class Window:
    """Whole days ``first_day``..``last_day`` (both included) and the episodes in them."""

    first_day: date
    last_day: date
    episodes: tuple[str, ...]

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def years(self) -> float:
        return self.days / DAYS_PER_YEAR

    @property
    def count(self) -> int:
        return len(self.episodes)

    @property
    def rate_per_year(self) -> float:
        return self.count / self.years

    @property
    def rate_interval(self) -> tuple[float, float]:
        """The exact 95% interval of the rate, in episodes per year."""
        low, high = poisson_interval(self.count)
        return low / self.years, high / self.years

    def as_dict(self) -> dict[str, Any]:
        low, high = self.rate_interval
        return {
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "days": self.days,
            "episodes": self.count,
            "episode_ids": list(self.episodes),
            "rate_per_year": self.rate_per_year,
            "rate_ci95_per_year": [low, high],
        }


@dataclass(frozen=True)
class TreatmentResponse:
    """One treatment's episode rates before and after its start."""

    drug: str
    label: str
    start_date: str
    end_date: str | None
    started_on: date
    ended_on: date | None
    on_demand: bool
    before: Window | None
    after: Window | None
    p_value: float | None
    judgeable: bool
    days_needed: int | None
    warnings: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "label": self.label,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "placed_start": self.started_on.isoformat(),
            "placed_end": self.ended_on.isoformat() if self.ended_on else None,
            "on_demand": self.on_demand,
            "before": self.before.as_dict() if self.before else None,
            "after": self.after.as_dict() if self.after else None,
            "reduction_p_value": self.p_value,
            "judgeable": self.judgeable,
            "days_without_episode_needed": self.days_needed,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class ResponseSummary:
    """Every treatment's response, with the dates the windows were measured against."""

    as_of: date | None
    as_of_basis: str
    history_start: date | None
    history_basis: str
    treatments: tuple[TreatmentResponse, ...]
    undated_episodes: tuple[str, ...]
    warnings: tuple[str, ...]
    method: str = METHOD
    source: str = SOURCE
    references: tuple[str, ...] = CITATION.keys

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "as_of_basis": self.as_of_basis,
            "history_start": self.history_start.isoformat() if self.history_start else None,
            "history_basis": self.history_basis,
            "treatments": [t.as_dict() for t in self.treatments],
            "undated_episodes": list(self.undated_episodes),
            "warnings": list(self.warnings),
            "method": self.method,
            "source": self.source,
            "references": reference_dicts(self.references),
        }


# ------------------------------------------------------------ the rule


@dataclass(frozen=True)
class DatedEpisode:
    label: str
    when: Period


@dataclass(frozen=True)
class TreatmentCourse:
    drug: str
    label: str
    start: Period
    end: Period | None
    on_demand: bool


@dataclass
class _Notes:
    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        if text not in self.items:
            self.items.append(text)


def _fmt_rate(window: Window) -> str:
    return f"{window.count} episode{'s' if window.count != 1 else ''} in {window.days} days"


def _check_window_days(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be a whole number of days, at least 1 (got {value!r})")


def _order_warnings(course: TreatmentCourse, episodes: Sequence[DatedEpisode], notes: _Notes) -> None:
    for boundary, word in ((course.start, "start"), (course.end, "end")):
        if boundary is None:
            continue
        sides: dict[str, list[str]] = {}
        for episode in episodes:
            if (boundary.exact and episode.when.exact) or not episode.when.overlaps(boundary):
                continue
            earlier = episode.when.placed <= boundary.placed
            if word == "start":
                side = "before it" if earlier else "after it started"
            else:
                side = "on treatment" if earlier else "after it ended"
            sides.setdefault(side, []).append(f"{episode.label} ({episode.when.text})")
        for side, names in sides.items():
            notes.add(
                f"episode{'s' if len(names) > 1 else ''} {', '.join(names)} and the {word} of {course.label} "
                f"({boundary.text}) share a period, so their order is unknown; counted {side} "
                "(dates placed mid-period)"
            )


def response_for_course(
    course: TreatmentCourse,
    episodes: Sequence[DatedEpisode],
    *,
    history_start: date,
    as_of: date,
    before_window_days: int | None = None,
    after_window_days: int | None = None,
) -> TreatmentResponse:
    """Rates before and after one treatment's start, from dated episodes and the case's time span."""
    _check_window_days("before_window_days", before_window_days)
    _check_window_days("after_window_days", after_window_days)
    notes = _Notes()
    start = course.start.placed
    ended = course.end.placed if course.end else None
    if course.on_demand:
        notes.add(
            f"{course.label} is on-demand or rescue medication: it treats episodes and cannot prevent "
            "them, so these rates do not measure its effect"
        )
    _order_warnings(course, episodes, notes)

    before: Window | None = None
    if start < history_start:
        notes.add(f"{course.label} started before the earliest dated fact of the case: no history before it")
    else:
        first = history_start
        if before_window_days is not None:
            wanted = start - timedelta(days=before_window_days - 1)
            if wanted < history_start:
                notes.add(
                    f"the case's history before {course.label} covers only {(start - history_start).days + 1} days; "
                    f"the before window was shortened from {before_window_days} days"
                )
            first = max(wanted, history_start)
        counted = tuple(e.label for e in episodes if first <= e.when.placed <= start)
        before = Window(first, start, counted)

    after: Window | None = None
    last = as_of if ended is None else min(ended, as_of)
    if after_window_days is not None:
        wanted_last = start + timedelta(days=after_window_days)
        if wanted_last > last:
            reason = "the as-of date" if ended is None or as_of < ended else "the end of treatment"
            notes.add(
                f"the after window of {course.label} was shortened from {after_window_days} to "
                f"{max((last - start).days, 0)} days by {reason}"
            )
        last = min(last, wanted_last)
    if last <= start:
        if start > as_of:
            notes.add(f"{course.label} starts after the as-of date {as_of.isoformat()}: no time on it to judge")
        else:
            notes.add(f"no whole day on {course.label} after its start yet (dates placed mid-period)")
    else:
        counted = tuple(e.label for e in episodes if start < e.when.placed <= last)
        after = Window(start + timedelta(days=1), last, counted)

    p_value: float | None = None
    judgeable = False
    needed: int | None = None
    if before is not None and after is not None:
        p_value = reduction_p_value(before.count, before.days, after.count, after.days)
        judgeable = zero_after_is_significant(before.count, before.days, after.days)
        needed = days_needed_to_judge(before.count, before.days)
        if before.count == 0:
            notes.add(f"no episode before {course.label} started: there was nothing for it to reduce")
        elif not judgeable:
            smallest = reduction_p_value(before.count, before.days, 0, after.days)
            notes.add(
                f"too short to judge {course.label}: after {_fmt_rate(before)} before it, even no episode in "
                f"{after.days} days on it would not show a fall beyond chance (smallest possible one-sided "
                f"p = {smallest:.3g} > {float(SIGNIFICANCE_ONE_SIDED):g}); that needs {needed} days without an episode"
            )
    return TreatmentResponse(
        drug=course.drug,
        label=course.label,
        start_date=course.start.text,
        end_date=course.end.text if course.end else None,
        started_on=start,
        ended_on=ended,
        on_demand=course.on_demand,
        before=before,
        after=after,
        p_value=p_value,
        judgeable=judgeable,
        days_needed=needed,
        warnings=tuple(notes.items),
    )


def _treatment_label(drug: str, dose_mg: float | None, interval: str | None) -> str:
    label = drug.replace("_", " ")
    if dose_mg is not None:
        label += f" {dose_mg:g} mg"
    if interval:
        label += f" {interval}"
    return label


def _dated_facts(case: Case) -> list[tuple[str, str]]:
    """(what it is, in words a clinician reads, its date) for every dated fact of the case."""
    facts: list[tuple[str, str]] = []
    if case.evaluation_date:
        facts.append(("the evaluation date", case.evaluation_date))
    if case.bone_marrow.biopsy_date:
        facts.append(("the bone-marrow biopsy", case.bone_marrow.biopsy_date))
    facts += [(f"{episode_label(i, e.id)} (episode)", e.date) for i, e in enumerate(case.episodes) if e.date]
    facts += [(f"a {r.test.replace('_', ' ')} result", r.date) for r in case.lab_results]
    for t in case.treatments:
        facts.append((f"the start of {t.drug.replace('_', ' ')}", t.start_date))
        if t.end_date:
            facts.append((f"the end of {t.drug.replace('_', ' ')}", t.end_date))
    return facts


def episode_label(index: int, episode_id: str | None) -> str:
    """How an episode is named in warnings and tables: its id, or its place in the case ("episode 3")."""
    return episode_id if episode_id is not None else f"episode {index + 1}"


def default_as_of(case: Case, today: date) -> str | date:
    """The as-of date a page or report offers first: the case's evaluation date, else today.

    Not the latest dated fact: a record's last entry says when it was last
    written to, not until when the patient was followed.
    """
    return case.evaluation_date or today


def treatment_response(
    case: Case,
    *,
    before_window_days: int | None = None,
    after_window_days: int | None = None,
    as_of: str | date | None = None,
) -> ResponseSummary:
    """Episodes per year before and after the start of each treatment of a case.

    ``as_of`` (a date or a recorded date text) ends the time on ongoing
    treatments; by default it is the latest dated fact of the case.
    Raises :class:`ValueError` for an unreadable ``as_of`` or a window under one day.
    """
    _check_window_days("before_window_days", before_window_days)
    _check_window_days("after_window_days", after_window_days)
    notes = _Notes()
    episodes: list[DatedEpisode] = []
    undated: list[str] = []
    for i, episode in enumerate(case.episodes):
        label = episode_label(i, episode.id)
        if episode.date is None:
            undated.append(label)
        else:
            episodes.append(DatedEpisode(label, period(episode.date)))
    if undated:
        notes.add(f"episodes without a date are left out of every rate: {', '.join(undated)}")

    facts = [(path, period(text)) for path, text in _dated_facts(case)]
    if not facts:
        return ResponseSummary(None, "no dated fact in the case", None, "no dated fact in the case", (), tuple(undated), tuple(notes.items))
    earliest_path, earliest = min(facts, key=lambda fact: fact[1].placed)
    history_start = earliest.placed
    history_basis = f"the earliest dated fact: {earliest_path}, {earliest.text}"
    if as_of is None:
        latest_path, latest = max(facts, key=lambda fact: fact[1].placed)
        as_of_day = latest.placed
        as_of_basis = f"the latest dated fact: {latest_path}, {latest.text}"
    elif isinstance(as_of, date):
        as_of_day, as_of_basis = as_of, "given"
    else:
        as_of_day, as_of_basis = period(as_of).placed, f"given ({as_of})"
    if as_of_day < history_start:
        raise ValueError(
            f"the as-of date {as_of_day.isoformat()} is before the case's earliest dated fact "
            f"({history_start.isoformat()}, {earliest_path})"
        )
    later = [e.label for e in episodes if e.when.placed > as_of_day]
    if later:
        notes.add(f"episodes after the as-of date {as_of_day.isoformat()} are not counted: {', '.join(later)}")

    responses = []
    for treatment in case.treatments:
        course = TreatmentCourse(
            drug=treatment.drug,
            label=_treatment_label(treatment.drug, treatment.dose_mg, treatment.interval),
            start=period(treatment.start_date),
            end=period(treatment.end_date) if treatment.end_date else None,
            on_demand=treatment.drug in RESCUE_DRUGS or (treatment.interval or "").lower() in ON_DEMAND_INTERVALS,
        )
        responses.append(
            response_for_course(
                course,
                episodes,
                history_start=history_start,
                as_of=as_of_day,
                before_window_days=before_window_days,
                after_window_days=after_window_days,
            )
        )
    return ResponseSummary(
        as_of=as_of_day,
        as_of_basis=as_of_basis,
        history_start=history_start,
        history_basis=history_basis,
        treatments=tuple(responses),
        undated_episodes=tuple(undated),
        warnings=tuple(notes.items),
    )

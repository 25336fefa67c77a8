"""The event tryptase rule "20% + 2": acute tryptase > 1.2 x baseline + 2 ng/mL.

One combined threshold with a strict ">" (consensus criterion B of MCAS: Valent et al., Int Arch Allergy
Immunol 2019;180:44-51, ``valent2019_20plus2``; the consensus table, Leuk Lymphoma 2020 Table 2,
``leuk_lymphoma2020``). The NIH paper writes ">=": a value exactly at the threshold is not met here, and the
reason says so.

Timing. The consensus draws the acute sample 1 to 4 hours after the onset of
symptoms (criterion B, Table 2). A rise counts wherever it
was drawn: a sample outside the window can prove a rise but not disprove one.
A sample that shows no rise excludes the criterion only when drawn inside the
window; drawn earlier, later or at an unrecorded time it leaves it unknown.
"""

from __future__ import annotations

from decimal import Decimal

from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, Criterion, fmt
from mastcds.rules.references import cite

CITATION = cite(
    "valent2019_20plus2", "leuk_lymphoma2020",
    where="MCAS consensus criterion B, the 20% + 2 formula; acute sample 1-4 h after onset (Table 2)",
)
SOURCE = CITATION.text

# acute > EVENT_FACTOR x baseline + EVENT_ADDEND_NG_ML (PMC7115850; PMC7115828 Table 2)
EVENT_FACTOR = 1.2
EVENT_ADDEND_NG_ML = 2.0

# The acute sample is "collected 1-4 hours after onset of symptoms": consensus criterion B of the EU/US group,
# Leuk Lymphoma 2020;61:1075-83, Table 2 (leuk_lymphoma2020).
ACUTE_WINDOW_START_MINUTES = 60.0
ACUTE_WINDOW_END_MINUTES = 240.0

# NIH alternative: acute / baseline > 1.685 (Mateja et al., J Allergy Clin
# Immunol 2021, PMID 34425177). Shown beside the criterion, never as it.
NIH_RATIO_THRESHOLD = 1.685


def exact(value: float) -> Decimal:
    """The number as written (50.9 is 50.9), so that equality with the threshold is seen."""
    return Decimal(repr(float(value)))


def _check(name: str, value: float) -> None:
    if value < 0:
        raise ValueError(f"{name} must be >= 0 ng/mL (got {value:g})")


def _text(value: Decimal) -> str:
    """All the digits written, none invented (fmt's 6 significant digits could hide the difference)."""
    return format(value.normalize(), "f")


# The formula's constants as written (see :func:`exact`), converted once
_EXACT_EVENT_FACTOR = exact(EVENT_FACTOR)
_EXACT_EVENT_ADDEND_NG_ML = exact(EVENT_ADDEND_NG_ML)


def _threshold(baseline: Decimal) -> Decimal:
    return _EXACT_EVENT_FACTOR * baseline + _EXACT_EVENT_ADDEND_NG_ML


def event_threshold_ng_ml(baseline_ng_ml: float) -> float:
    """1.2 x baseline + 2, computed on the numbers as written (50.9 gives 63.08)."""
    _check("baseline tryptase", baseline_ng_ml)
    return float(_threshold(exact(baseline_ng_ml)))


def nih_ratio(acute_ng_ml: float | None, baseline_ng_ml: float | None) -> float | None:
    """acute / baseline, the NIH secondary index; ``None`` when undefined."""
    if acute_ng_ml is None or baseline_ng_ml is None or baseline_ng_ml == 0:
        return None
    return acute_ng_ml / baseline_ng_ml


_CRITERION_ID = "tryptase.20_plus_2"


def _not_assessable(missing: str) -> Criterion:
    return Criterion(_CRITERION_ID, UNKNOWN, f"No {missing} tryptase: the rise cannot be assessed.", *CITATION)


# Without both values there is nothing to compare: the same three answers every time (a Criterion is immutable)
_NO_ACUTE = _not_assessable("acute")
_NO_BASELINE = _not_assessable("baseline")
_NO_ACUTE_AND_BASELINE = _not_assessable("acute and baseline")


def rise_meets_20_plus_2(
    acute_ng_ml: float | None, baseline_ng_ml: float | None, minutes_after_onset: float | None = None
) -> Criterion:
    """Whether the event tryptase exceeds 1.2 x baseline + 2 ng/mL, in three values."""
    if acute_ng_ml is None:
        return _NO_ACUTE_AND_BASELINE if baseline_ng_ml is None else _NO_ACUTE
    if baseline_ng_ml is None:
        return _NO_BASELINE
    _check("acute tryptase", acute_ng_ml)
    _check("baseline tryptase", baseline_ng_ml)
    baseline = exact(baseline_ng_ml)
    threshold = _threshold(baseline)
    acute = exact(acute_ng_ml)
    comparison = (
        f"acute {_text(acute)} ng/mL vs threshold 1.2 x {_text(baseline)} + 2 = "
        f"{_text(threshold)} ng/mL"
    )
    if acute > threshold:
        verdict, words = MET, f"{comparison}: above."
    elif acute == threshold:
        verdict, words = NOT_MET, (
            f"{comparison}: exactly at the threshold; the consensus requires '>' (not met), "
            "the NIH wording '>=' would count it."
        )
    else:
        verdict, words = NOT_MET, f"{comparison}: not above."
    window = "1 to 4 h"
    if minutes_after_onset is None:
        timing = "sampling time not recorded"
    elif minutes_after_onset > ACUTE_WINDOW_END_MINUTES:
        timing = f"drawn {fmt(minutes_after_onset)} min after onset, after the consensus window of {window}"
    elif minutes_after_onset < ACUTE_WINDOW_START_MINUTES:
        timing = f"drawn {fmt(minutes_after_onset)} min after onset, before the consensus window of {window}"
    else:
        timing = None
    if timing is None:
        words += f" Drawn {fmt(minutes_after_onset)} min after onset (within the consensus window of {window})."
    elif verdict is MET:
        words += f" {timing[0].upper()}{timing[1:]}: a rise still counts wherever it was drawn."
    else:
        verdict = UNKNOWN
        words += (
            f" {timing[0].upper()}{timing[1:]}: a sample without a rise excludes the criterion only when drawn "
            f"within the window, so it stays open."
        )
    return Criterion(_CRITERION_ID, verdict, words, *CITATION)

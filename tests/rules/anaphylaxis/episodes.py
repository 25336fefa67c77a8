"""Episode findings for the anaphylaxis and severity tests: a quiet baseline, an unrecorded one, completions."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from hypothesis import strategies as st

from mastcds.rules.anaphylaxis.findings import TRIGGERS, EpisodeFindings

SIGNS = [f.name for f in fields(EpisodeFindings) if f.type in ("bool | None",)]


def quiet(**changes: Any) -> EpisodeFindings:
    """An adult episode with every sign recorded absent and a normal, unchanged BP; ``changes`` add what happened."""
    base: dict[str, Any] = {name: False for name in SIGNS}
    base.update(
        age_years_low=40.0,
        age_years_high=40.0,
        trigger="none_identified",
        systolic_bp_mmhg=120.0,
        baseline_systolic_bp_mmhg=120.0,
    )
    base.update(changes)
    return EpisodeFindings(**base)


def unrecorded(**changes: Any) -> EpisodeFindings:
    return EpisodeFindings(**changes)


def _coherent(values: dict[str, Any]) -> dict[str, Any]:
    """Wheeze/bronchospasm recorded apart is part of the joined respiratory finding (as the glue reads them)."""
    if values.get("wheeze_bronchospasm"):
        values["dyspnoea_wheeze_bronchospasm"] = True
    elif values.get("dyspnoea_wheeze_bronchospasm") is False:
        values["wheeze_bronchospasm"] = False
    return values


SBP = st.one_of(st.sampled_from([0.0, 60.0, 69.0, 70.0, 71.0, 79.0, 80.0, 88.0, 89.0, 90.0, 91.0, 120.0, 300.0]), st.floats(0, 300))
USUAL_SBP = st.one_of(st.sampled_from([40.0, 100.0, 120.0, 150.0, 200.0, 300.0]), st.floats(40, 300))
AGE = st.one_of(st.sampled_from([0.0, 0.05, 0.5, 1.0, 5.0, 9.5, 10.0, 10.5, 11.0, 17.0, 40.0]), st.floats(0, 120))


@st.composite
def partial_findings(draw: st.DrawFn) -> EpisodeFindings:
    """Findings with any field possibly unrecorded."""
    maybe = lambda strategy: draw(st.one_of(st.none(), strategy))  # noqa: E731
    low = maybe(AGE)
    high = None if low is None else draw(st.one_of(st.none(), st.floats(low, max(low, 120.0))))
    values: dict[str, Any] = {name: maybe(st.booleans()) for name in SIGNS}
    values.update(
        age_years_low=low,
        age_years_high=high,
        trigger=maybe(st.sampled_from(TRIGGERS)),
        systolic_bp_mmhg=maybe(SBP),
        baseline_systolic_bp_mmhg=maybe(USUAL_SBP),
    )
    return EpisodeFindings(**_coherent(values))


@st.composite
def completion(draw: st.DrawFn, f: EpisodeFindings) -> EpisodeFindings:
    """One way the unrecorded findings could have been: every None filled in."""
    changes: dict[str, Any] = {name: draw(st.booleans()) for name in SIGNS if getattr(f, name) is None}
    low = 0.0 if f.age_years_low is None else f.age_years_low
    high = 120.0 if f.age_years_high is None else f.age_years_high
    age = draw(st.one_of(st.sampled_from([low, high]), st.floats(low, high)))
    changes.update(age_years_low=age, age_years_high=age)
    if f.trigger is None:
        changes["trigger"] = draw(st.sampled_from(TRIGGERS))
    if f.systolic_bp_mmhg is None:
        changes["systolic_bp_mmhg"] = draw(SBP)
    if f.baseline_systolic_bp_mmhg is None:
        changes["baseline_systolic_bp_mmhg"] = draw(USUAL_SBP)
    joined = {name: changes.get(name, getattr(f, name)) for name in ("dyspnoea_wheeze_bronchospasm", "wheeze_bronchospasm")}
    changes.update({name: value for name, value in _coherent(joined).items() if getattr(f, name) is None})
    return replace(f, **changes)

"""Each screening rule on its own, at its thresholds, on hand-built patient records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastcds.rules.mediators.tryptase import event_threshold_ng_ml
from mastcds.screen import rules as R
from mastcds.screen.records import Episode, PatientRecord, Tryptase

ONSET = datetime(2022, 5, 1, 10, 0, tzinfo=timezone.utc)


def episode(day_offset=0, **findings) -> Episode:
    onset = ONSET + timedelta(days=day_offset)
    values = {"urticaria": None, "angioedema": None, "syncope": None}
    values.update(findings)
    return Episode(onset.date().isoformat(), onset, [f"c{day_offset}"], ["39579001"], **values)


def baseline(value: float, days_after=30) -> Tryptase:
    return Tryptase(f"b{value}", ONSET + timedelta(days=days_after), value, "baseline")


def acute(value: float, ep: Episode, minutes=120.0) -> Tryptase:
    return Tryptase(f"a{value}", ep.onset + timedelta(minutes=minutes), value, "acute", ep, minutes)


def record(**fields) -> PatientRecord:
    fields.setdefault("birth_date", "1970-01-01")
    return PatientRecord("p1", **fields)


def fired(rec: PatientRecord) -> list[str]:
    return [f.rule for f in R.screen_record(rec)]


# -- recurrent anaphylaxis / hypotensive anaphylaxis without a basal tryptase ----------------------
def test_one_urticarial_episode_is_not_enough():
    assert R.recurrent_anaphylaxis_no_baseline(record(episodes=[episode(urticaria=True)])) is None


def test_two_episodes_fire_just_at_the_recurrence_threshold():
    assert R.RECURRENT_EPISODES == 2
    rec = record(episodes=[episode(0, urticaria=True), episode(40, urticaria=True)])
    assert R.recurrent_anaphylaxis_no_baseline(rec).rule == "recurrent-anaphylaxis-no-baseline-tryptase"


def test_a_basal_tryptase_on_record_silences_it():
    rec = record(episodes=[episode(0), episode(40)], tryptase=[baseline(5.0)])
    assert R.recurrent_anaphylaxis_no_baseline(rec) is None


def test_single_syncope_episode_fires_only_when_skin_signs_are_recorded_absent():
    assert R.recurrent_anaphylaxis_no_baseline(
        record(episodes=[episode(syncope=True, urticaria=False, angioedema=False)])) is not None
    assert R.recurrent_anaphylaxis_no_baseline(
        record(episodes=[episode(syncope=True, urticaria=False, angioedema=None)])) is None  # unknown: no guess
    assert R.recurrent_anaphylaxis_no_baseline(
        record(episodes=[episode(syncope=True, urticaria=True, angioedema=False)])) is None


@pytest.mark.parametrize(("sbp", "fires"), [(89.9, True), (90.0, False), (90.1, False)])
def test_adult_hypotension_limit_is_wao_90(sbp, fires):
    ep = episode(urticaria=False, angioedema=False, syncope=False)
    ep.systolic_min = sbp
    assert (R.recurrent_anaphylaxis_no_baseline(record(episodes=[ep])) is not None) is fires


def test_child_hypotension_limit_depends_on_age():
    ep = episode(urticaria=False, angioedema=False, syncope=False)
    ep.systolic_min = 79.0  # limit at 5 years: 70 + 2 x 5 = 80
    assert R.episode_hypotension(record(birth_date="2017-01-01"), ep)
    ep.systolic_min = 80.0
    assert not R.episode_hypotension(record(birth_date="2017-01-01"), ep)


def test_unknown_age_cannot_place_a_child_range_pressure():
    ep = episode()
    ep.systolic_min = 85.0
    assert not R.episode_hypotension(record(birth_date=None), ep)


# -- basal tryptase above the (genotype-aware) limit -----------------------------------------------
@pytest.mark.parametrize(("value", "fires"), [(19.9, False), (20.0, False), (20.1, True)])
def test_basal_tryptase_limit_is_strictly_above_20(value, fires):
    rec = record(tryptase=[baseline(value)])
    assert (R.baseline_tryptase_above_limit(rec) is not None) is fires


@pytest.mark.parametrize(("copies", "value", "fires"), [
    (0, 20.0, False), (0, 20.1, True), (1, 40.0, False), (1, 40.1, True), (2, 60.0, False), (2, 60.3, True),
    (2, 45.0, False),
])
def test_hat_adjustment_uses_the_engine_formula(copies, value, fires):
    rec = record(tryptase=[baseline(value)], extra_alpha_copies=copies)
    assert (R.baseline_tryptase_above_limit(rec) is not None) is fires


def test_latest_basal_tryptase_is_the_one_judged():
    rec = record(tryptase=[baseline(35.0, days_after=10), baseline(8.0, days_after=400)])
    assert R.baseline_tryptase_above_limit(rec) is None


def test_diagnosed_mastocytosis_is_never_flagged():
    rec = record(tryptase=[baseline(80.0)], episodes=[episode(), episode(30)], mastocytosis=["D47.02 (SM)"])
    assert fired(rec) == []


# -- REMA --------------------------------------------------------------------------------------------
def test_rema_fires_when_every_completion_is_at_least_2():
    rec = record(sex="male", episodes=[episode(urticaria=False, angioedema=False, syncope=True)],
                 tryptase=[baseline(16.0)])
    assert R.rema_two_or_more(rec).evidence[0].startswith("REMA 5")


def test_rema_below_cutoff_does_not_fire():
    # female -1, urticaria -2, no syncope 0, BST < 15 -1 = -4
    rec = record(sex="female", episodes=[episode(urticaria=True, angioedema=False, syncope=False)],
                 tryptase=[baseline(5.0)])
    assert R.rema_two_or_more(rec) is None


def test_rema_exactly_2_fires_and_1_does_not():
    # male +1, no skin +1, no syncope 0, BST 15-25 0 = 2
    two = record(sex="male", episodes=[episode(urticaria=False, angioedema=False, syncope=False)], tryptase=[baseline(15.0)])
    one = record(sex="male", episodes=[episode(urticaria=False, angioedema=False, syncope=False)], tryptase=[baseline(14.9)])
    assert R.rema_two_or_more(two) is not None
    assert R.rema_two_or_more(one) is None


def test_rema_with_unknown_items_fires_only_if_certain():
    # sex unknown (-1..+1), no skin +1, syncope unknown (0..3), BST unknown (-1..2): min -1
    rec = record(sex=None, episodes=[episode(urticaria=False, angioedema=False, syncope=None)])
    assert R.rema_two_or_more(rec) is None


def test_rema_needs_an_episode():
    assert R.rema_two_or_more(record(sex="male", tryptase=[baseline(30.0)])) is None


# -- 20% + 2 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("delta", "fires"), [(-0.1, False), (0.0, False), (0.1, True)])
def test_event_rise_boundary_uses_the_engine_threshold(delta, fires):
    ep = episode(urticaria=True)
    value = round(event_threshold_ng_ml(5.0) + delta, 4)
    rec = record(episodes=[ep], tryptase=[acute(value, ep), baseline(5.0)])
    assert (R.event_tryptase_rise_no_workup(rec) is not None) is fires


def test_event_rise_needs_a_baseline_and_no_workup():
    ep = episode(urticaria=True)
    assert R.event_tryptase_rise_no_workup(record(episodes=[ep], tryptase=[acute(30.0, ep)])) is None
    worked_up = record(episodes=[ep], tryptase=[acute(30.0, ep), baseline(5.0)], workup=["observation o1 (LOINC 69548-6)"])
    assert R.event_tryptase_rise_no_workup(worked_up) is None


def test_event_rise_after_4h_still_counts_when_high():
    ep = episode(urticaria=True)
    rec = record(episodes=[ep], tryptase=[acute(30.0, ep, minutes=300), baseline(5.0)])
    assert R.event_tryptase_rise_no_workup(rec) is not None


# -- venom anaphylaxis with hypotension --------------------------------------------------------------
def test_venom_with_hypotension_fires_and_without_does_not():
    ep = episode(urticaria=True)
    ep.venom_codes = ["T63.441A"]
    ep.systolic_min = 80.0
    assert R.venom_anaphylaxis_with_hypotension(record(episodes=[ep])) is not None
    ep.systolic_min = 120.0
    assert R.venom_anaphylaxis_with_hypotension(record(episodes=[ep])) is None
    ep.hypotension_coded = True
    assert R.venom_anaphylaxis_with_hypotension(record(episodes=[ep])) is not None


def test_hypotension_without_venom_is_not_this_rule():
    ep = episode(urticaria=True)
    ep.systolic_min = 70.0
    assert R.venom_anaphylaxis_with_hypotension(record(episodes=[ep])) is None


# -- priority -----------------------------------------------------------------------------------------
def test_priority_is_the_most_urgent_rule():
    findings = [R.Finding("recurrent-anaphylaxis-no-baseline-tryptase"), R.Finding("baseline-tryptase-above-limit-no-sm")]
    assert R.priority(findings) == R.PRIORITY_HIGH
    assert R.priority(findings[:1]) == R.PRIORITY_LOW


@given(value=st.floats(min_value=0, max_value=500, allow_nan=False), copies=st.integers(min_value=0, max_value=10))
def test_basal_rule_agrees_with_hat_adjusted_limit(value, copies):
    rec = record(tryptase=[baseline(value)], extra_alpha_copies=copies)
    assert (R.baseline_tryptase_above_limit(rec) is not None) is (value / (1 + copies) > 20)


@given(st.lists(st.tuples(st.sampled_from([True, False, None]), st.sampled_from([True, False, None]),
                          st.sampled_from([True, False, None])), max_size=3),
       st.sampled_from(["male", "female", None]), st.one_of(st.none(), st.floats(0, 200)))
def test_a_recorded_mastocytosis_diagnosis_always_silences_every_rule(findings, sex, bst):
    episodes = [episode(30 * n, urticaria=u, angioedema=a, syncope=s) for n, (u, a, s) in enumerate(findings)]
    tryptase = [baseline(bst)] if bst is not None else []
    rec = record(sex=sex, episodes=episodes, tryptase=tryptase, mastocytosis=["D47.02 (SM)"])
    assert fired(rec) == []
    rec.mastocytosis = []
    if not episodes and (bst is None or bst <= 20):
        assert fired(rec) == []

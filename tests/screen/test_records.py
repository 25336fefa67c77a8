"""From a patient's facts to their record: episodes, findings, vital signs, tryptase context and units."""

from __future__ import annotations

import pytest

from mastcds.screen import codes as C
from mastcds.screen import rules as R
from mastcds.screen.records import build_record, parse_instant
from mastcds.screen.types import FACT_COLUMNS, Fact


def cond(cid, code, onset, system=C.SNOMED, pid="p1", verification=None):
    return Fact(pid, "condition", cid, onset=onset, verification=verification, system=system, code=code)


def obs(oid, code, system=C.LOINC, pid="p1", status="final", **fields):
    return Fact(pid, "observation", oid, status=status, system=system, code=code, **fields)


def systolic(oid, value, effective=None, focus=None, pid="p1", status="final"):
    return Fact(pid, "systolic", oid, status=status, effective=effective, value=value, focus=focus)


def patient(pid="p1", gender=None, birth_date=None):
    return Fact(pid, "patient", pid, gender=gender, birth_date=birth_date)


def _order(fact: Fact) -> tuple:
    """FACT_ORDER in Python: every column, nulls first (what the engines' SQL gives the rules)."""
    return tuple((value is not None, value) for value in fact)


def one(conditions=(), observations=(), patients=()):
    return build_record("p1", sorted([*patients, *conditions, *observations], key=_order))


def test_the_python_order_is_the_engines_order():
    assert Fact._fields == FACT_COLUMNS


def test_same_day_conditions_are_one_episode_with_venom_and_hypotension():
    rec = one([cond("c1", "39579001", "2022-05-01T10:00:00Z"),
               cond("c2", "T78.2XXA", "2022-05-01T10:05:00Z", system=C.ICD10CM),
               cond("c3", "T63.441A", "2022-05-01T10:00:00Z", system=C.ICD10CM),
               cond("c4", "I95.9", "2022-05-01", system=C.ICD10CM)])
    assert len(rec.episodes) == 1
    assert rec.episodes[0].venom_codes == ["T63.441A"]
    assert rec.episodes[0].hypotension_coded


def test_follow_up_encounter_codes_are_not_new_episodes():
    rec = one([cond("c1", "T78.2XXA", "2022-05-01", system=C.ICD10CM),
               cond("c2", "T78.2XXD", "2022-06-01", system=C.ICD10CM)])
    assert [e.day for e in rec.episodes] == ["2022-05-01"]


def test_refuted_conditions_are_ignored():
    rec = one([cond("c1", "39579001", "2022-05-01", verification="refuted"), cond("c2", "39579001", "2023-05-01")])
    assert [e.day for e in rec.episodes] == ["2023-05-01"]


def test_findings_attach_to_their_episode_by_focus():
    rec = one([cond("c1", "39579001", "2022-05-01T10:00:00Z")],
              [obs("o1", C.URTICARIA.code, system=C.SNOMED, value_code=C.ABSENT.code, focus="c1"),
               obs("o2", C.SYNCOPE.code, system=C.SNOMED, value_code=C.PRESENT.code, focus="c1"),
               systolic("o3", 82.0, focus="c1"), systolic("o4", 95.0, focus="c1")])
    ep = rec.episodes[0]
    assert (ep.urticaria, ep.syncope, ep.angioedema, ep.systolic_min) == (False, True, None, 82.0)


def test_tryptase_within_24h_of_onset_is_acute_and_later_is_baseline():
    rec = one([cond("c1", "39579001", "2022-05-01T10:00:00Z")],
              [obs("o1", C.TRYPTASE.code, value=15.0, unit="ng/mL", effective="2022-05-01T12:00:00Z"),
               obs("o2", C.TRYPTASE.code, value=4.0, unit="ug/L", effective="2022-05-02T10:00:00Z")])
    contexts = {t.observation_id: (t.context, t.minutes_after_onset) for t in rec.tryptase}
    assert contexts == {"o1": ("acute", 120.0), "o2": ("baseline", None)}


def test_23h59_after_onset_is_still_acute():
    rec = one([cond("c1", "39579001", "2022-05-01T10:00:00Z")],
              [obs("o1", C.TRYPTASE.code, value=15.0, unit="ng/mL", effective="2022-05-02T09:59:00Z")])
    assert rec.tryptase[0].context == "acute"


def test_explicit_sample_context_wins_over_timing():
    rec = one([cond("c1", "39579001", "2022-05-01T10:00:00Z")],
              [obs("o1", C.TRYPTASE.code, value=5.0, unit="ng/mL", effective="2022-05-01T12:00:00Z", context="baseline")])
    assert rec.tryptase[0].context == "baseline"


def test_unreadable_tryptase_is_reported_not_guessed():
    rec = one(observations=[obs("o1", C.TRYPTASE.code, value=5.0, unit="mmol/L", effective="2022-01-01"),
                            obs("o2", C.TRYPTASE.code, effective="2022-01-01"),
                            obs("o3", C.TRYPTASE.code, value=5.0, unit="ng/mL")])
    assert rec.tryptase == []
    assert len(rec.unusable) == 3
    assert "mmol/L" in rec.unusable[0]


def test_unit_variants_convert_exactly():
    rec = one(observations=[obs("o1", C.TRYPTASE.code, value=21.5, unit=None, unit_text="µg/L", effective="2022-01-01")])
    assert rec.tryptase[0].value_ng_ml == 21.5


def test_genotype_workup_and_diagnosis():
    rec = one([cond("c1", "D47.02", "2020", system=C.ICD10CM)],
              [obs("o1", C.TPSAB1_EXTRA_ALPHA_COPIES.code, system=C.TPSAB1_EXTRA_ALPHA_COPIES.system, value_integer=2),
               obs("o2", C.VARIANT_ASSESSMENT.code)])
    assert rec.extra_alpha_copies == 2
    assert rec.mastocytosis == ["D47.02 (SM)"]
    assert len(rec.workup) == 2


def test_mcas_diagnosis_is_a_workup_but_not_mastocytosis():
    rec = one([cond("c1", "D89.42", "2020", system=C.ICD10CM)])
    assert rec.mastocytosis == [] and rec.workup == ["diagnosis D89.42"]


def test_partial_dates_parse_to_their_start():
    assert parse_instant("2021").month == 1
    assert parse_instant("2021-07").month == 7
    assert parse_instant("2021-07-03T10:00:00+02:00").hour == 10
    assert parse_instant("garbage") is None


def test_age_range_from_partial_birth_date():
    rec = one(patients=[patient(gender="male", birth_date="2000")])
    low, high = rec.age_range_years(parse_instant("2010-06-01"))
    assert 9.4 < low < 9.5 and 10.4 < high < 10.5


def test_a_pressure_without_focus_belongs_to_the_episode_of_its_day():
    rec = one([cond("c1", "39579001", "2022-05-01T10:00:00Z")],
              [systolic("o1", 84.0, effective="2022-05-01T10:20:00Z"), systolic("o2", 70.0, effective="2022-05-02T09:00:00Z"),
               systolic("o3", 60.0, effective="2022-05-01T11:00:00Z", focus="other-condition")])
    assert rec.episodes[0].systolic_min == 84.0


def test_a_pressure_of_an_ignored_status_or_infinite_is_not_used():
    rec = one([cond("c1", "39579001", "2022-05-01T10:00:00Z")],
              [systolic("o1", 60.0, effective="2022-05-01", status="entered-in-error"),
               systolic("o2", float("-inf"), effective="2022-05-01")])
    assert rec.episodes[0].systolic_min is None
    assert rec.unusable == ["systolic pressure o2: -inf is not a finite number"]


@pytest.mark.parametrize(("value", "reason"), [
    (float("inf"), "inf is not a finite number"),  # JSON 1e999 (issue 16 item 17)
    (-5.0, "-5 ng/mL is outside 0 to 100000 ng/mL"),
    (100000.5, "100000 ng/mL is outside 0 to 100000 ng/mL"),
])
def test_an_impossible_tryptase_is_unusable_not_flagged(value, reason):
    rec = one([cond("c1", "39579001", "2022-05-01T10:00:00Z")],
              [obs("o1", C.TRYPTASE.code, value=value, unit="ng/mL", effective="2022-07-01T10:00:00Z")])
    assert rec.tryptase == []
    assert reason in rec.unusable[0]
    assert "baseline-tryptase-above-limit-no-sm" not in [f.rule for f in R.screen_record(rec)]


def test_a_negative_tryptase_no_longer_stops_the_run():
    """Regression: -5 ng/mL reached REMA, which raises on a negative tryptase, and the whole screening stopped."""
    rec = one([cond("c1", "39579001", "2022-05-01T10:00:00Z"), cond("c2", "39579001", "2022-09-01T10:00:00Z")],
              [obs("o1", C.TRYPTASE.code, value=-5.0, unit="ng/mL", effective="2022-07-01T10:00:00Z")])
    assert [f.rule for f in R.screen_record(rec)] == ["recurrent-anaphylaxis-no-baseline-tryptase"]


def test_duplicate_patients_that_disagree_leave_sex_and_birth_date_unknown():
    rec = one(patients=[patient(gender="male", birth_date="1970"), patient(gender="female", birth_date="1970")])
    assert (rec.sex, rec.birth_date) == (None, "1970")

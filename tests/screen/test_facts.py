"""What the SQL leaves out cannot change what the rules decide.

The rule input (:func:`mastcds.screen.facts.rule_input_query`) keeps only candidate patients and
the blood pressures of their episodes; on generated facts, the rules over what it keeps give every
patient exactly the summary the rules give over all their facts, and a patient it leaves out has
no finding and no unusable result. Its pieces (the anaphylaxis codes, the "routine tryptase" test,
the sure-instant pattern) agree with the Python they stand for.
"""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastcds.screen import codes as C
from mastcds.screen.facts import SURE_INSTANT, anaphylaxis_condition, rule_input_query, unit_one_spellings
from mastcds.screen.patients import summarize, summarize_facts
from mastcds.screen.pipeline import screen_export
from mastcds.screen.records import build_record, is_anaphylaxis, parse_instant
from mastcds.screen.types import FACT_COLUMNS, FACT_ORDER, FACT_TYPES, Fact
from mastcds.units import to_canonical

DAYS = ["2022-05-01", "2022-05-02", "2022-05-03"]
instants = st.one_of(st.sampled_from(DAYS), st.builds(lambda d, h: f"{d}T{h:02d}:00:00Z", st.sampled_from(DAYS),
                                                    st.integers(0, 23)),
                     st.sampled_from(["2022", "2022-05", "2022-02-29", "garbage", "2022-05-01T10:00:00+02:00", None]))
conditions = st.builds(
    lambda pid, cid, coding, onset, verification: Fact(pid, "condition", cid, onset=onset, verification=verification,
                                                       system=coding[0], code=coding[1]),
    st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(["c1", "c2", "c3"]),
    st.sampled_from([(C.SNOMED, "39579001"), (C.ICD10CM, "T78.2XXA"), (C.ICD10CM, "T78.2XXD"), (C.ICD10, "T78.2"),
                     (C.ICD10CM, "T63.441A"), (C.ICD10CM, "I95.9"), (C.ICD10CM, "D47.02"), (C.ICD10CM, "I10")]),
    instants, st.sampled_from([None, "confirmed", "refuted"]))
tryptases = st.builds(
    lambda pid, oid, value, unit, context, effective, status: Fact(
        pid, "observation", oid, status=status, effective=effective, value=value, unit=unit, context=context,
        system=C.LOINC, code=C.TRYPTASE.code),
    st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(["o1", "o2", "o3", "o4"]),
    st.one_of(st.none(), st.sampled_from([-1.0, 0.0, 5.0, 19.9, 20.0, 20.1, 45.0, float("inf")])),
    st.sampled_from([None, "ng/mL", "ug/L", "mg/dL", "µg/l"]), st.sampled_from([None, "baseline", "acute", "other"]),
    instants, st.sampled_from(["final", "entered-in-error"]))
others = st.one_of(
    st.builds(lambda pid, oid, value, effective, focus: Fact(pid, "systolic", oid, status="final", effective=effective,
                                                             value=value, focus=focus),
              st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(["s1", "s2"]),
              st.sampled_from([70.0, 85.0, 120.0, float("-inf")]), instants, st.sampled_from([None, "", "c1", "c2"])),
    st.builds(lambda pid, oid, code, value_code, focus: Fact(pid, "observation", oid, status="final", focus=focus,
                                                             value_code=value_code, system=C.SNOMED, code=code),
              st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(["f1", "f2"]),
              st.sampled_from([C.URTICARIA.code, C.SYNCOPE.code, C.ANGIOEDEMA.code]),
              st.sampled_from([C.PRESENT.code, C.ABSENT.code]), st.sampled_from(["c1", "c2"])),
    st.builds(lambda pid, gender, birth: Fact(pid, "patient", pid, gender=gender, birth_date=birth),
              st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(["male", "female", None]),
              st.sampled_from(["1970-01-01", "2015", None])),
    st.builds(lambda pid, copies: Fact(pid, "observation", "g", status="final", value_integer=copies,
                                       system=C.TPSAB1_EXTRA_ALPHA_COPIES.system, code=C.TPSAB1_EXTRA_ALPHA_COPIES.code),
              st.sampled_from(["p1", "p2", "p3"]), st.integers(0, 3)),
)


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect()
    columns = ", ".join(f"{name} {FACT_TYPES.get(name, 'VARCHAR')}" for name in FACT_COLUMNS)
    con.execute(f"CREATE TABLE generated ({columns})")
    return con


def _python_order(fact: Fact) -> tuple:
    return tuple((value is not None, value) for value in fact)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(conditions, tryptases, others), max_size=14))
def test_the_rule_input_keeps_whatever_can_change_a_summary(duck, facts):
    duck.execute("DELETE FROM generated")
    if facts:
        duck.executemany(f"INSERT INTO generated VALUES ({', '.join('?' * len(FACT_COLUMNS))})", facts)
    rows = duck.execute(f"SELECT * FROM ({rule_input_query('generated', 'duckdb')}) r ORDER BY {FACT_ORDER}").fetchall()
    kept = {summary["patient_id"]: summary for summary in summarize_facts(rows)}
    for pid in {f.patient_id for f in facts}:
        everything = summarize(build_record(pid, sorted((f for f in facts if f.patient_id == pid), key=_python_order)))
        if pid in kept:
            assert kept[pid] == everything
        else:
            assert (everything["priority"], everything["unusable"]) == (None, 0), everything


@given(st.sampled_from([C.SNOMED, C.ICD10CM, C.ICD10, "http://other"]),
       st.one_of(st.sampled_from(["39579001", "417516000", "35001004", "T78.2", "T78.2XXA", "T78.2XXD", "T78.2XXS",
                                  "T88.6XXS", "T80.52XA", "T80.5", "T78.2XX", "t78.2XXA", "", "T63.441A"]),
                 st.text("T78.2XADS0139", max_size=9)))
def test_the_anaphylaxis_sql_is_the_records_test(duck, system, code):
    found = duck.execute(f"SELECT coalesce({anaphylaxis_condition()}, FALSE) FROM (SELECT ? AS system, ? AS code)",
                         [system, code]).fetchone()[0]
    assert found == is_anaphylaxis(system, code)


@given(st.from_regex(re.compile(SURE_INSTANT), fullmatch=True))
def test_a_sure_instant_is_one_the_records_read(text):
    assert parse_instant(text) is not None


def test_the_routine_units_convert_with_factor_one():
    assert {"ng/mL", "ug/L", "µg/L"} <= set(unit_one_spellings())
    assert all(to_canonical("tryptase", 7.0, unit) == 7.0 for unit in unit_one_spellings())


# -- the DuckDB engine reads only the candidates' lines unless it keeps a state: the same result -----

resources = st.one_of(
    st.builds(lambda pid, n, value, unit, extension, effective, status: {
        "resourceType": "Observation", "id": f"t{n}", "status": status, "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": C.LOINC, "code": C.TRYPTASE.code}]}, "effectiveDateTime": effective,
        "valueQuantity": {"value": value, "code": unit}, **extension},
        st.sampled_from(["p1", "p2", "p3"]), st.integers(0, 9), st.sampled_from([3.0, 19.5, 20.0, 24.0, -2.0]),
        st.sampled_from(["ng/mL", "ug/L", "mg/L", ""]),
        st.sampled_from([{}, {"extension": [{"url": C.EXT_SAMPLE_CONTEXT, "valueCode": "acute"}]}]),
        st.sampled_from(["2022-05-01T10:30:00Z", "2022-06-30T08:00:00Z", "2022-02-29", "2022"]),
        st.sampled_from(["final", "cancelled"])),
    st.builds(lambda pid, n, systolic: {
        "resourceType": "Observation", "id": f"bp{n}", "status": "final", "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": C.LOINC, "code": "85354-9"}]}, "effectiveDateTime": "2022-05-01T10:20:00Z",
        "component": [{"code": {"coding": [{"system": C.LOINC, "code": C.SYSTOLIC_BP.code}]},
                       "valueQuantity": {"value": systolic}}]},
        st.sampled_from(["p1", "p2", "p3"]), st.integers(0, 9), st.sampled_from([70, 120])),
    st.builds(lambda pid, n, subject: {
        "resourceType": "Observation", "id": f"s{n}", "status": "final", "subject": subject,
        "code": {"coding": [{"system": C.LOINC, "code": C.TRYPTASE.code}]}, "effectiveDateTime": "2022-06-30",
        "valueQuantity": {"value": 30, "code": "ng/mL"}},
        st.sampled_from(["p1", "p2"]), st.integers(0, 9),
        st.sampled_from([[{"reference": "Patient/p1"}], {"reference": "Patient\\/p2"}, {}])),
)


@settings(max_examples=15, deadline=None)
@given(st.lists(resources, max_size=8), st.sets(st.sampled_from(["p1", "p2", "p3"])))
def test_reading_only_the_candidates_lines_changes_nothing(tmp_path_factory, observations, episodes):
    folder = tmp_path_factory.mktemp("export")
    (folder / "Observation.ndjson").write_text("".join(json.dumps(r) + "\n" for r in observations))
    (folder / "Condition.ndjson").write_text("".join(json.dumps({
        "resourceType": "Condition", "id": f"c-{pid}", "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": "2022-05-01T10:00:00Z", "code": {"coding": [{"system": C.SNOMED, "code": "39579001"}]}}) + "\n"
        for pid in sorted(episodes)))
    (folder / "Patient.ndjson").write_text("".join(json.dumps({"resourceType": "Patient", "id": pid, "gender": "male"})
                                                   + "\n" for pid in ("p1", "p2", "p3")))
    lean = screen_export(folder, folder / "lean.csv")
    full = screen_export(folder, folder / "full.csv", keep_state=True)
    assert (folder / "lean.csv").read_bytes() == (folder / "full.csv").read_bytes()
    assert (lean.flagged, lean.candidates, lean.unusable_results, lean.malformed) == (
        full.flagged, full.candidates, full.unusable_results, full.malformed)

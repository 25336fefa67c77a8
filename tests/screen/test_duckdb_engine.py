"""The DuckDB engine's NDJSON path: a text pre-pass and parallel line numbering must give exactly the
rows of the in-memory view (the path the SQL on FHIR suite checks) and every malformed line at its
number."""

from __future__ import annotations

import json

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastcds.screen.duckdb_engine import run_duckdb
from mastcds.screen.pipeline import Malformed
from mastcds.screen.runner import duckdb_resources
from mastcds.screen.viewdef import compile_view
from mastcds.screen.views import screening_prefilters, screening_views
from tests.screen.ndjson_rows import file_rows

CODES = ["21582-2", "8480-6", "39579001", "271594007", "x"]
codings = st.lists(st.fixed_dictionaries({"system": st.sampled_from(["http://loinc.org", "http://snomed.info/sct"]),
                                          "code": st.sampled_from(CODES)}), max_size=3)
observations = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Observation", "Observation", "Condition"]),
     "id": st.text("abc123", min_size=1, max_size=5)},
    optional={
        "code": st.fixed_dictionaries({}, optional={"coding": codings}),
        "subject": st.fixed_dictionaries({"reference": st.sampled_from(["Patient/p1", "p2"])}),
        "valueQuantity": st.fixed_dictionaries({"value": st.floats(0, 100, allow_nan=False)}),
        "focus": st.lists(st.fixed_dictionaries({"reference": st.sampled_from(["Condition/c1", "Patient/p"])}), max_size=2),
        "note": st.lists(st.fixed_dictionaries({"text": st.sampled_from(CODES + ['"focus"'])}), max_size=1),
    })
MALFORMED = ['{"broken', "[1]", "5", "null", "{}", '{"resourceType":null}', '{"id":"no-type"}',
             '{"resourceType":null,"resourceType":"Observation"}', '{"a":1} {"b":2}']


def _line(item, escape: bool) -> str:
    """A resource as one NDJSON line; ``escape`` writes the codes' last character as a JSON escape."""
    if isinstance(item, str):
        return item
    text = json.dumps(item, separators=(",", ":") if escape else (", ", ": "))
    if escape:
        for code in CODES:
            text = text.replace(f'"{code}"', f'"{code[:-1]}\\u{ord(code[-1]):04x}"')
    return text


@pytest.fixture(scope="module")
def duck():
    return duckdb.connect()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.one_of(observations, st.sampled_from(MALFORMED)), st.booleans()), min_size=1, max_size=8))
def test_ndjson_rows_are_the_in_memory_rows_and_every_malformed_line(duck, tmp_path_factory, items):
    path = tmp_path_factory.mktemp("ndjson") / "Observation.ndjson"
    path.write_text("".join(_line(item, escape) + "\n" for item, escape in items), encoding="utf-8")
    compiled = compile_view(screening_views()["Observation"], "duckdb")
    duckdb_resources(duck, [item for item, _ in items if isinstance(item, dict)])
    expected = sorted(map(repr, duck.execute(compiled.query("resources")).fetchall()))
    for prefilter in (None, screening_prefilters()["Observation"]):
        rows = file_rows(duck, compiled, path, prefilter)
        assert sorted(repr(row[3:]) for row in rows if not row[1]) == expected
        assert [row[0] for row in rows if row[1]] == [n for n, (item, _) in enumerate(items, 1) if isinstance(item, str)]
    engine = run_duckdb({"Observation": [path]}, screening_views(), prefilters=screening_prefilters())
    assert sorted(repr(tuple(row.values())) for row in engine.observations) == expected
    assert engine.malformed == [Malformed(path.name, n) for n, (item, _) in enumerate(items, 1) if isinstance(item, str)]


def test_line_numbers_hold_across_the_parallel_scan(tmp_path):
    """A file larger than several reader buffers (each about 32 MB), scanned by two threads."""
    path = tmp_path / "Observation.ndjson"
    broken, tryptase, lines = set(range(7, 1_700_000, 99_991)), set(range(50, 1_700_000, 170_003)), []
    for n in range(1, 1_700_000):
        if n in broken:
            lines.append('{"broken')
        elif n in tryptase:
            lines.append(f'{{"resourceType":"Observation","id":"t{n}","code":{{"coding":[{{"system":"http://loinc.org",'
                         f'"code":"21582-2"}}]}},"subject":{{"reference":"Patient/p{n}"}}}}')
        else:
            lines.append(f'{{"resourceType":"Observation","id":"o{n}"}}')
    path.write_text("\n".join(lines) + "\n")
    result = run_duckdb({"Observation": [path]}, screening_views(), prefilters=screening_prefilters(), threads=2)
    assert result.malformed == [Malformed(path.name, n) for n in sorted(broken)]
    assert [row["observation_id"] for row in result.observations] == [f"t{n}" for n in sorted(tryptase)]


def test_only_candidate_patients_go_through_the_patient_view(tmp_path):
    """The engine picks Patient lines by id, which holds because the view's patient_id is the id."""
    patient_view = screening_views()["Patient"]["select"][0]["column"][0]
    assert (patient_view["name"], patient_view["path"]) == ("patient_id", "getResourceKey()")
    (tmp_path / "Patient.ndjson").write_text(
        '{"resourceType":"Patient","id":"p1","gender":"female"}\n{"resourceType":"Patient","id":"p2"}\n'
        '{"id":"p1"}\n{"broken\n{"resourceType": "Patient", "id": "p1", "birthDate": "1970"}\n')
    (tmp_path / "Condition.ndjson").write_text(
        '{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p1"},'
        '"code":{"coding":[{"system":"http://snomed.info/sct","code":"39579001"}]}}\n')
    files = {t: [tmp_path / f"{t}.ndjson"] for t in ("Patient", "Condition")}
    result = run_duckdb(files, screening_views(), prefilters=screening_prefilters())
    assert result.patients == [{"patient_id": "p1", "gender": "female", "birth_date": None},
                                {"patient_id": "p1", "gender": None, "birth_date": "1970"}]
    assert result.malformed == [Malformed("Patient.ndjson", 3), Malformed("Patient.ndjson", 4)]

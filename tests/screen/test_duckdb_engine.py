"""The DuckDB engine's NDJSON path: a text test and parallel line numbering must give the rows of
the in-memory view (the path the SQL on FHIR suite checks) and every malformed line at its number."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastcds.screen import duckdb_engine
from mastcds.screen.duckdb_engine import apply_view, connect, read_lines
from mastcds.screen.ndjson import READ_BUFFER_BYTES
from mastcds.screen.pipeline import screen_export
from mastcds.screen.runner import duckdb_resources
from mastcds.screen.types import Malformed
from mastcds.screen.viewdef import compile_view
from mastcds.screen.views import screening_codes, screening_views
from tests.screen.hostile import write_hostile_export

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
        "component": st.lists(st.fixed_dictionaries({"code": st.fixed_dictionaries({"coding": codings})}), max_size=2),
        "note": st.lists(st.fixed_dictionaries({"text": st.sampled_from(CODES + ['"code":"8480-6"'])}), max_size=1),
    })
MALFORMED = ['{"broken', "[1]", "5", "null", "{}", '{"resourceType":null}', '{"id":"no-type"}', '{"resourceType":5}',
             '{"resourceType":null,"resourceType":"Observation"}', '{"a":1} {"b":2}']


def _line(item, style: int) -> str:
    """A resource as one NDJSON line: compact, spaced, or with the codes' last character escaped."""
    if isinstance(item, str):
        return item
    text = json.dumps(item, separators=(",", ":") if style != 1 else (" , ", " : "))
    if style == 2:
        for code in CODES:
            text = text.replace(f'"{code}"', f'"{code[:-1]}\\u{ord(code[-1]):04x}"')
    return text


def _coded(resource: dict, codes: tuple[str, ...]) -> bool:
    """A coding (of the resource or a component) whose code starts with one of ``codes``."""
    codings = [*resource.get("code", {}).get("coding", []),
               *(c for comp in resource.get("component", []) for c in comp["code"]["coding"])]
    return any(c["code"].startswith(codes) for c in codings)


@pytest.fixture(scope="module")
def duck():
    return duckdb.connect()


def _ndjson_rows(path, codes):
    con = connect()
    malformed = read_lines(con, [path], "lines", codes)
    apply_view(con, screening_views()["Observation"], "lines", "rows")
    return sorted(map(repr, con.execute("SELECT * FROM rows").fetchall())), malformed


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.one_of(observations, st.sampled_from(MALFORMED)), st.integers(0, 2)), min_size=1, max_size=8))
def test_ndjson_rows_are_the_in_memory_rows_and_every_malformed_line(duck, tmp_path_factory, items):
    path = tmp_path_factory.mktemp("ndjson") / "Observation.ndjson"
    path.write_text("".join(_line(item, style) + "\n" for item, style in items), encoding="utf-8")
    compiled = compile_view(screening_views()["Observation"], "duckdb")
    resources = [item for item, _ in items if isinstance(item, dict)]
    codes = screening_codes()["Observation"]

    def rows_of(chosen):
        duckdb_resources(duck, chosen)
        return sorted(map(repr, duck.execute(compiled.query("resources")).fetchall()))

    every, malformed = _ndjson_rows(path, None)
    assert every == rows_of(resources)
    expected_bad = [Malformed(path.name, n) for n, (item, _) in enumerate(items, 1) if isinstance(item, str)]
    assert sorted(malformed) == expected_bad
    coded, malformed = _ndjson_rows(path, codes)
    assert set(rows_of([r for r in resources if _coded(r, codes)])) <= set(coded) <= set(every)
    assert sorted(malformed) == expected_bad


def test_line_numbers_hold_across_the_parallel_scan(tmp_path):
    """A file larger than several reader buffers, scanned by two threads."""
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
    assert path.stat().st_size > 2 * READ_BUFFER_BYTES  # three buffers at least
    con = connect(threads=2)
    malformed = read_lines(con, [path], "lines", screening_codes()["Observation"])
    apply_view(con, screening_views()["Observation"], "lines", "rows")
    assert malformed == [Malformed(path.name, n) for n in sorted(broken)]
    assert [r for (r,) in con.execute("SELECT observation_id FROM rows ORDER BY observation_id").fetchall()] == sorted(
        f"t{n}" for n in tryptase)


@pytest.mark.parametrize("threads", [1, 3])
def test_a_view_read_in_parts_per_thread_has_every_row_once(tmp_path, threads):
    """The kept lines of a view with a condition are read as one part per thread (rowid modulo):
    no row lost or doubled, whatever the number of threads."""
    path = tmp_path / "Observation.ndjson"
    path.write_text("".join(
        f'{{"resourceType":"Observation","id":"o{n}","subject":{{"reference":"Patient/p{n % 7}"}},'
        f'"code":{{"coding":[{{"system":"http://loinc.org","code":"21582-2"}},{{"system":"x","code":"{n}"}}]}}}}\n'
        for n in range(50)))
    con = connect(threads=threads)
    read_lines(con, [path], "lines", None)
    apply_view(con, screening_views()["Observation"], "lines", "rows",
               where="json_extract_string(_j, '$.subject.reference') <> 'Patient/p3'")
    rows = con.execute("SELECT observation_id, code FROM rows ORDER BY ALL").fetchall()
    expected = sorted((f"o{n}", code) for n in range(50) if n % 7 != 3 for code in ("21582-2", str(n)))
    assert rows == expected


def test_duckdb_spills_into_a_private_folder_removed_after(monkeypatch, tmp_path):
    """Beyond its memory limit DuckDB writes facts to disk: not into ``.tmp`` in the working
    directory (its default, readable by others), but into a folder of the owner's, removed after."""
    export = write_hostile_export(tmp_path / "export")
    seen = []

    def spy(*args, **kwargs):
        con = connect(*args, **kwargs)
        seen.append(Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0]))
        assert seen[-1].stat().st_mode & 0o777 == 0o700
        return con

    monkeypatch.setattr(duckdb_engine, "connect", spy)
    monkeypatch.chdir(tmp_path)
    screen_export(export, tmp_path / "w.csv", memory_limit="64MB")
    assert len(seen) == 1 and not seen[0].exists()
    assert not (tmp_path / ".tmp").exists()

"""The text test that lets an engine skip a line unparsed keeps every line with a code the screening
reads, however the JSON is spaced; and the codes it knows are every code the facts keep. How a
file ends its first line (which tells DuckDB how to split it) is read right."""

from __future__ import annotations

import gzip
import json
import re

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastcds.screen.ndjson import code_pattern, duckdb_code_test, ends_lines_with_cr
from mastcds.screen.views import condition_codes, observation_codes, screening_codes

spacing = st.sampled_from([(",", ":"), (", ", ": "), (" , ", " : "), (",\t", ":\t")])


@given(st.sampled_from(sorted({c for codes in screening_codes().values() for c in codes})),
       st.text("ABZ09.-", max_size=3), spacing, st.sampled_from(["code", "component"]))
def test_a_line_with_a_read_code_is_never_skipped(code, suffix, separators, where):
    coding = {"system": "http://loinc.org", "code": code + suffix}
    resource = ({"resourceType": "Observation", "code": {"coding": [coding]}} if where == "code" else
                {"resourceType": "Observation", "component": [{"code": {"coding": [coding]}}]})
    line = json.dumps(resource, separators=separators)
    assert re.search(code_pattern((code,)), line)
    assert duckdb.execute(f"SELECT {duckdb_code_test('t', (code,))} FROM (SELECT ? AS t)", [line]).fetchone()[0]


def test_a_json_escape_keeps_the_line():
    line = '{"resourceType":"Observation","code":{"coding":[{"code":"2158\\u0032-2"}]}}'
    assert not re.search(code_pattern(("21582-2",)), line)
    assert duckdb.execute(f"SELECT {duckdb_code_test('t', ('21582-2',))} FROM (SELECT ? AS t)", [line]).fetchone()[0]


def test_a_line_without_the_code_is_skipped():
    line = '{"resourceType":"Observation","code":{"coding":[{"code":"8867-4"}]},"note":[{"text":"21582-2"}]}'
    assert not duckdb.execute(f"SELECT {duckdb_code_test('t', ('21582-2',))} FROM (SELECT ? AS t)", [line]).fetchone()[0]


def test_the_text_test_knows_every_code_the_facts_keep():
    exact, prefixes = condition_codes()
    assert {c for _, c in exact + prefixes} == set(screening_codes()["Condition"])
    assert {c for _, c in observation_codes()} | {"8480-6"} == set(screening_codes()["Observation"])


@pytest.mark.parametrize(("data", "lone_cr"), [
    (b'{"a":1}\n{"b":2}\r\n', False), (b'{"a":1}\r\n{"b":2}\r', False), (b'{"a":1}\r{"b":2}\r\n', True),
    (b'{"a":1}', False), (b"", False), (b'{"a":1}\r', True),
    # the first line end straddles the 64 KiB chunks the file is read in
    (b"x" * (2**16 - 1) + b"\r\n", False), (b"x" * (2**16 - 1) + b"\rx", True),
], ids=["lf", "crlf", "cr", "no-end", "empty", "cr-at-eof", "crlf-across-chunks", "cr-across-chunks"])
@pytest.mark.parametrize("suffix", [".ndjson", ".ndjson.gz"])
def test_a_file_ending_its_first_line_with_a_lone_cr_is_told_apart(tmp_path, data, lone_cr, suffix):
    path = tmp_path / f"Patient{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    assert ends_lines_with_cr(path) is lone_cr

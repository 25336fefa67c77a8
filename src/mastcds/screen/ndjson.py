"""Reading NDJSON lines as the screening counts them, on DuckDB and on Spark alike.

A line is numbered as an editor shows it: lines end at LF, CRLF or a lone CR, and a byte-order
mark at the start of a file is not part of the first line (both engines' readers do this). Then:

* a blank line (nothing, or only spaces and tabs) is skipped, and counted;
* a line longer than :data:`MAX_LINE_BYTES` is malformed, without being parsed;
* a line that is not JSON, not a JSON object, or an object without a string ``resourceType``
  is malformed;
* any other line is a resource.

Malformed lines are reported with their file and number and the run goes on.
"""

from __future__ import annotations

import gzip
from pathlib import Path

# DuckDB's NDJSON reader refuses objects above 16 MiB (its ``maximum_object_size`` default); a
# FHIR resource that large is an attachment gone wrong or an attack, so both engines refuse such
# a line, with its number, before parsing it.
MAX_LINE_BYTES = 16 * 1024 * 1024
# DuckDB's CSV reader hands one buffer to a thread at a time and sizes its buffers from
# ``max_line_size``: left to itself, a 300 MB file is two buffers (one thread most of the scan).
# Two longest lines per buffer keeps every line whole and the threads busy.
READ_BUFFER_BYTES = 2 * MAX_LINE_BYTES
TYPED_LINE = '{"resourceType":"'  # a line starting so has a resourceType: its first key, a string
# No column delimiter: control characters, which JSON allows nowhere unescaped, so a JSON line is
# one column (a line holding this sequence is not JSON and is reported, from its text before it).
_NO_DELIMITER = "\x01\x02\x03\x04"
BLANK_PATTERN = "^[ \t\r]*$"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ends_lines_with_cr(path: Path) -> bool:
    """Whether the first line of the file (``.gz`` read as gzip) ends with a lone CR (classic Mac
    OS), which decides how DuckDB must split its lines (:func:`duckdb_line_reader`)."""
    with (gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")) as handle:
        last = b""
        while chunk := handle.read(1 << 16):
            chunk = last + chunk
            ends = [i for i in (chunk.find(b"\r"), chunk.find(b"\n")) if i >= 0]
            if ends:
                end = min(ends)
                if chunk[end:end + 1] == b"\n":
                    return False
                if end + 1 < len(chunk):
                    return chunk[end + 1:end + 2] != b"\n"
                last = chunk[end:]  # a CR at the end of the chunk: the next byte decides
            else:
                last = b""
        return bool(last)


def duckdb_line_reader(rejects: str, *, lone_cr: bool = False) -> str:
    """DuckDB table function over one file (parameter 1: its path): a row (``line``) per line in
    file order, blank lines NULL or blank; lines over :data:`MAX_LINE_BYTES` are left out and
    recorded in the table ``rejects`` with their numbers (see :func:`duckdb_line_numbers`).

    DuckDB's reader left to itself splits a CRLF into two lines when the file's first line ends
    with a lone LF (the numbers then drift from the editor's); told that lines end with CRLF, it
    splits at LF and CRLF alike. ``lone_cr`` (:func:`ends_lines_with_cr`): the file's lines end
    with a lone CR, which only its own mode splits right.
    """
    new_line = "" if lone_cr else ", new_line='\\r\\n'"
    return (f"read_csv(?, columns={{'line': 'VARCHAR'}}, delim={_quote(_NO_DELIMITER)}, quote='', escape='', "
            f"header=false, auto_detect=false, strict_mode=false, max_line_size={MAX_LINE_BYTES}, "
            f"buffer_size={READ_BUFFER_BYTES}, "
            f"ignore_errors=true, store_rejects=true, rejects_table={_quote(rejects)}, "
            f"rejects_scan={_quote(rejects + '_scans')}{new_line})")


def code_pattern(codes: tuple[str, ...]) -> str:
    """A regular expression (RE2 and Java alike) found in a JSON text that holds a member
    ``"code"`` whose string starts with one of ``codes``: every coding with such a code, unless the
    text uses a JSON escape (a line holding a backslash is kept whatever this says)."""
    def literal(code: str) -> str:
        if any(c in code for c in "[]^\\"):
            raise ValueError(f"code {code!r} cannot be written in the pattern")
        return "".join(c if c.isalnum() else f"[{c}]" for c in code)

    return f'"code"[ \t\r]*:[ \t\r]*"({"|".join(literal(c) for c in codes)})'


def duckdb_code_test(text: str, codes: tuple[str, ...]) -> str:
    """DuckDB SQL: ``text`` may hold a coding with one of ``codes`` (:func:`code_pattern`, or a JSON escape)."""
    return f"(contains({text}, '\\') OR regexp_matches({text}, {_quote(code_pattern(codes))}))"


def duckdb_kept_text(codes: tuple[str, ...] | None) -> str:
    """SQL over ``line``: its text when it is a resource that may hold a coding with one of
    ``codes`` (any resource when None), ``'null'`` when malformed, else NULL (blank or skipped).

    A skipped line costs a validity check and a text test (:func:`duckdb_code_test`).
    """
    kept = "TRUE" if codes is None else duckdb_code_test("line", codes)
    # Most lines start as a resource does; only the others are tested for blankness and for a
    # resourceType somewhere else.
    return (f"CASE WHEN line IS NULL THEN NULL WHEN starts_with(line, {_quote(TYPED_LINE)}) THEN "
            f"(CASE WHEN NOT json_valid(line) THEN 'null' WHEN {kept} THEN line END) "
            f"WHEN regexp_full_match(line, {_quote(BLANK_PATTERN)}) THEN NULL "
            f"WHEN NOT json_valid(line) OR json_type(line, '$.resourceType') IS DISTINCT FROM 'VARCHAR' THEN 'null' "
            f"WHEN {kept} THEN line END")


def duckdb_line_numbers(con, rejects: str) -> tuple[str, list[int]]:
    """SQL of a kept row's line number from its ``rowid``, and the numbers of the rejected lines.

    The reader leaves rejected lines out, so row ``k`` (from 0) is line ``k + 1`` plus the number
    of rejected lines before it: the ``i``-th rejected line (from 1), ``r``, comes before row
    ``k`` exactly when ``r - i <= k``.
    """
    rejected = [int(n) for (n,) in con.execute(f"SELECT line FROM {rejects} ORDER BY line").fetchall()]
    if not rejected:
        return "rowid + 1", []
    gaps = ", ".join(str(r - i) for i, r in enumerate(rejected, 1))
    return f"rowid + 1 + len(list_filter([{gaps}], lambda g: g <= rowid))", rejected


def spark_line_classes(spark_column: str = "value") -> str:
    """Spark SQL over a text line: 0 blank, 1 resource, 2 malformed (see the module docstring)."""
    v = spark_column
    typed = (f"(startswith({v}, {_quote(TYPED_LINE)}) OR "
             f"schema_of_variant(variant_get(try_parse_json({v}), '$.resourceType')) <=> 'STRING')")
    return (f"CASE WHEN {v} RLIKE {_quote(BLANK_PATTERN)} THEN 0 WHEN octet_length({v}) > {MAX_LINE_BYTES} THEN 2 "
            f"WHEN try_parse_json({v}) IS NULL OR NOT {typed} THEN 2 ELSE 1 END")

"""Strict JSON from outside (issue 16, items 11 and 16): non-finite numbers, lone surrogates and deep nesting are problems with a path."""

from __future__ import annotations

import json

import pytest

from mastcds.json_input import MAX_DEPTH, NON_FINITE_MESSAGE, JsonInputError, parse_json


def _problems(text: str | bytes) -> list[tuple[str, object, str]]:
    with pytest.raises(JsonInputError) as caught:
        parse_json(text)
    return [(p.path, p.value, p.message) for p in caught.value.problems]


@pytest.mark.parametrize("written", ["NaN", "Infinity", "-Infinity", "1e309", "-1e309", "1" * 310, "1" * 5000])
def test_numbers_json_cannot_carry_are_refused_with_their_path(written: str) -> None:
    assert _problems(f'{{"patient": {{"weight_kg": 70}}, "lab_results": [{{"value": {written}}}]}}') == [
        ("lab_results[0].value", written, NON_FINITE_MESSAGE)
    ]


def test_the_largest_finite_numbers_are_numbers() -> None:
    assert parse_json('{"a": 1.7976931348623157e308, "b": -1e308, "c": ' + "9" * 309 + "}")["b"] == -1e308


def test_lone_surrogates_in_values_and_keys_are_refused_and_pairs_kept() -> None:
    assert sorted(path for path, _, _ in _problems('{"notes": "\\ud800", "ok": "\\ud83d\\ude00", "\\udc01": 1}')) == ["\\udc01", "notes"]
    assert parse_json('{"ok": "\\ud83d\\ude00"}') == {"ok": "\U0001f600"}


def test_nesting_at_and_beyond_the_limit() -> None:
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    assert parse_json(nested(MAX_DEPTH)) is not None
    assert [message for _, _, message in _problems(nested(MAX_DEPTH + 1))] == [f"nested deeper than {MAX_DEPTH} levels"]


@pytest.mark.parametrize("text", ["[" * 100_000, b"[" * 100_000, '{"a":' * 100_000])
def test_a_hundred_thousand_levels_are_one_problem_not_a_recursion_error(text: str | bytes) -> None:
    ((path, _, message),) = _problems(text)
    assert path == "" and f"deeper than {MAX_DEPTH}" in message


def test_not_json_and_not_utf8_are_one_problem_each() -> None:
    assert "not valid JSON" in _problems("{")[0][2]
    assert _problems(b'{"a": "\xc3"}') == [("", None, "not UTF-8 text")]
    assert json.dumps(parse_json('{"a": [1, 2.5, "x", null, true]}')) == '{"a": [1, 2.5, "x", null, true]}'

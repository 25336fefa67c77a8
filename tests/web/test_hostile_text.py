"""Hostile text through every free-text field, read back through every view, export and report (issue 16, "Done when").

Whatever text arrives (lone surrogates, control characters, mathtext, Markdown,
HTML, spreadsheet formulas, bidi overrides), the API either refuses it with a
field-level 422 or stores it; and text the store accepts can be read back
exactly and shown by every page, figure, report, export and FHIR Bundle
without a 500 or a traceback.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mastcds import evaluate
from mastcds.case import load_case
from mastcds.cli import app as cli
from mastcds.fhir.bundle import export_bundle
from mastcds.web.api.admin import audit_csv
from mastcds.web.api.models import AuditOut
from tests.security.test_text_and_bounds import TEXT_FIELDS, _document_with, _shown
from tests.web.conftest import Web, seed_case

HOSTILE = [
    "\ud800", "a\udfffb", "a\x00b", "\x1b[31mred\x1b[0m", "bell\x07", "tab\tand\nnew line\r\n", "\x0b\x0c\x1c\x1f\x7f\x85",
    r"$\undefinedcommand$", "$x^2$ and $$", "\\$", "[phish](https://evil.example/login)", "**bold** _it_ `code`",
    "<script>alert(1)</script>", "</title><img src=x onerror=alert(1)>", "{{ 7*7 }}{% raw %}", "%s%n%x",
    "=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
    "\u202eevil.exe", "\ufeffbom", "\U0001f600 emoji", "é\u0301 combining", "\uffff\ufffe", "",
]
_keys = itertools.count(1)
JSON = {"content-type": "application/json"}
READ_PAGES = ("", "/evaluation", "/history", "/edit", "/timeline.svg", "/report.html", "/case.json")
READ_API = ("", "/case", "/history", "/episodes", "/lab-results", "/treatments", "/timeline", "/evaluations")


def _stored_or_refused(web: Web, document: dict[str, Any]) -> str | None:
    """The key the text was stored under, or None after checking the refusal names a field."""
    key = f"hostile-{next(_keys)}"
    body = json.dumps({**document, "id": key})  # ASCII JSON: lone surrogates travel as escapes
    response = web.api("clinician").post("/api/v1/patients", content=body, headers=JSON)
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        assert all(problem["path"] for problem in response.json()["problems"])
        response.json()  # the answer itself is valid JSON
        return None
    return key


def _read_everything(web: Web, key: str, expected: dict[str, Any], *, pdf: bool) -> None:
    api = web.api("clinician")
    stored = api.get(f"/api/v1/patients/{key}/case").json()
    assert stored == {"schema": "mastcds-case/1", **load_case({**expected, "id": key}).to_document()}  # read back exactly
    for suffix in READ_API:
        assert api.get(f"/api/v1/patients/{key}{suffix}").status_code == 200, suffix
    assert api.post(f"/api/v1/patients/{key}/evaluations").status_code == 201
    assert api.get(f"/api/v1/patients/{key}/report", params={"format": "html"}).status_code == 200
    browser = web.browser("clinician")
    for suffix in READ_PAGES:
        assert browser.get(f"/patients/{key}{suffix}").status_code == 200, suffix
    if pdf:
        assert api.get(f"/api/v1/patients/{key}/report", params={"format": "pdf"}).status_code == 200
    case = load_case(stored)
    json.dumps(export_bundle(case, evaluate(stored)), ensure_ascii=False).encode("utf-8")


def _command_line_reads(web: Web, key: str, tmp: Path) -> None:
    runner = CliRunner()
    for args in (["patient", "show", key], ["patient", "history", key], ["patient", "export", key], ["fhir", "export", key],
                 ["report", key, "--out", str(tmp / f"{key}.html")]):
        result = runner.invoke(cli, [*args, "--db", web.store.url], env={"MASTCDS_USER": "hostile-tests"})
        assert result.exit_code == 0, (args, result.output, result.stderr)


FIELDS = [path for path, _ in TEXT_FIELDS if path[-1] not in ("unit", "episode_id") and path != ("id",)]
"""Every free-text field but the unit (must be one mastcds converts), a lab's episode id (must name an episode) and the id (the key)."""


def _storable(text: str) -> bool:
    return "\x00" not in text and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t)[:24] for t in HOSTILE])
def test_hostile_text_in_each_field_is_stored_or_refused_naming_the_field(web: Web, text: str) -> None:
    for path in FIELDS:
        key = _stored_or_refused(web, _document_with(path, text))
        assert (key is not None) == _storable(text), (_shown(path), text)


def test_every_storable_hostile_text_is_read_back_and_shown_everywhere(web: Web, tmp_path: Path) -> None:
    """Each field holds a different hostile text, in turn, until every text has been in a field; then every view, once."""
    storable = [text for text in HOSTILE if _storable(text)]
    for start in range(0, len(storable), len(FIELDS)):
        document = seed_case()
        for path, text in zip(FIELDS, itertools.cycle(storable[start:] + storable[:start])):
            document = _with(document, path, text)
        key = _stored_or_refused(web, document)
        assert key is not None
        _read_everything(web, key, document, pdf=start == 0)
        _command_line_reads(web, key, tmp_path)


_any_text = st.text(st.characters(codec=None, categories=None), max_size=40)
_hostile_text = st.one_of(st.sampled_from(HOSTILE), _any_text, st.builds("".join, st.lists(st.sampled_from(HOSTILE), max_size=4)))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_hostile_text, min_size=1, max_size=len(FIELDS)))
def test_any_text_the_store_accepts_can_be_read_back_and_shown_everywhere(web: Web, texts: list[str]) -> None:
    document = seed_case()
    for path, text in zip(FIELDS, texts):
        document = _with(document, path, text)
    key = _stored_or_refused(web, document)
    if key is not None:
        _read_everything(web, key, document, pdf=False)


def _with(document: dict[str, Any], path: tuple[Any, ...], value: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node: Any = changed
    for step in path[:-1]:
        if isinstance(step, str) and step not in node:
            node[step] = {}
        node = node[step]
    node[path[-1]] = value
    return changed


@given(st.lists(_hostile_text, min_size=6, max_size=6))
def test_no_audit_csv_cell_is_a_formula(cells: list[str]) -> None:
    row = AuditOut(id=1, at="2026-01-01T00:00:00Z", actor=cells[0], action=cells[1], patient_key=cells[2], detail=cells[3])
    for record in csv.reader(io.StringIO(audit_csv([row]))):
        for cell in record:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")

"""The view compiler beyond the official suite: the FHIR-model fast path must give exactly the rows
of the generic path, the project's views compile on both engines, and errors name the problem."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastcds.screen import fhirpath
from mastcds.screen.runner import duckdb_resources
from mastcds.screen.viewdef import ViewError, compile_view
from mastcds.screen.views import VIEW_FILES, screening_views, view_definition

codings = st.lists(st.fixed_dictionaries({"system": st.sampled_from(["http://loinc.org", "http://snomed.info/sct"]),
                                          "code": st.sampled_from(["21582-2", "8480-6", "39579001", "x"])}), max_size=3)
observations = st.fixed_dictionaries(
    {"resourceType": st.just("Observation"), "id": st.text("abc123", min_size=1, max_size=5)},
    optional={
        "status": st.sampled_from(["final", "entered-in-error"]),
        "code": st.fixed_dictionaries({}, optional={"coding": codings}),
        "subject": st.fixed_dictionaries({"reference": st.sampled_from(["Patient/p1", "Group/g", "p2"])}),
        "valueQuantity": st.fixed_dictionaries({}, optional={"value": st.floats(0, 100, allow_nan=False),
                                                             "code": st.sampled_from(["ng/mL", "ug/L"])}),
        "valueInteger": st.integers(0, 10),
        "effectiveDateTime": st.sampled_from(["2021", "2021-05-01T10:00:00Z"]),
        "focus": st.lists(st.fixed_dictionaries({"reference": st.sampled_from(["Condition/c1", "Patient/p"])}), max_size=2),
        "extension": st.lists(st.fixed_dictionaries({
            "url": st.sampled_from(["https://mastcds.org/fhir/StructureDefinition/sample-context", "other"]),
            "valueCode": st.sampled_from(["baseline", "acute"])}), max_size=2),
    })


@pytest.fixture(scope="module")
def duck():
    return duckdb.connect()


def _rows(con, view, use_model):
    compiled = compile_view(view, "duckdb", use_model=use_model)
    return sorted(map(repr, con.execute(compiled.query("resources")).fetchall()))


@settings(max_examples=60, deadline=None)
@given(st.lists(observations, min_size=1, max_size=5))
def test_model_fast_path_matches_generic_navigation(duck, resources):
    duckdb_resources(duck, resources)
    view = screening_views()["Observation"]
    assert _rows(duck, view, True) == _rows(duck, view, False)


@pytest.mark.parametrize("resource_type", sorted(VIEW_FILES))
@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_project_views_compile_without_the_whole_resource(resource_type, dialect):
    compiled = compile_view(screening_views()[resource_type], dialect)
    assert compiled.columns and not compiled.uses_resource
    assert view_definition(resource_type)["resourceType"] == "ViewDefinition"


@pytest.mark.parametrize(("view", "message"), [
    ({"resource": "Patient", "select": [{"column": [{"name": "x", "path": "name.foo("}]}]}, "column x"),
    ({"resource": "Patient", "select": [{"column": [{"name": "1x", "path": "id"}]}]}, "column name"),
    ({"resource": "Patient", "select": [{"column": [{"name": "a", "path": "id"}, {"name": "a", "path": "id"}]}]}, "unique"),
    ({"resource": "Patient", "select": [{"column": [{"name": "a", "path": "id.descendants()"}]}]}, "descendants"),
    ({"resource": "patient", "select": [{"column": [{"name": "a", "path": "id"}]}]}, "resource"),
    ({"resource": "Patient", "select": []}, "select"),
])
def test_invalid_views_say_what_is_wrong(view, message):
    with pytest.raises(ViewError, match=message):
        compile_view(view)


@pytest.mark.parametrize(("text", "expected"), [
    ("a.b", fhirpath.Member(fhirpath.Member(None, "a"), "b")),
    ("1 + 2 * 3", fhirpath.Binary("+", fhirpath.Literal(1), fhirpath.Binary("*", fhirpath.Literal(2), fhirpath.Literal(3)))),
    ("a = 'x' or b", fhirpath.Binary("or", fhirpath.Binary("=", fhirpath.Member(None, "a"), fhirpath.Literal("x")),
                                     fhirpath.Member(None, "b"))),
    ("'it\\'s'", fhirpath.Literal("it's")),
    ("name[0]", fhirpath.Index(fhirpath.Member(None, "name"), fhirpath.Literal(0))),
])
def test_parser_precedence_and_literals(text, expected):
    assert fhirpath.parse(text) == expected


@pytest.mark.parametrize("text", ["", "a.", "a..b", "(a", "a b", "@@", "1 +"])
def test_parser_rejects_broken_expressions(text):
    with pytest.raises(fhirpath.FhirPathError):
        fhirpath.parse(text)

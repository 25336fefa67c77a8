"""lowBoundary() and highBoundary() beyond the SQL on FHIR suite: the FHIRPath specification's examples,
negative decimals, precisions out of range, partial dates, time zones, bad values and bad calls; the
same answers on DuckDB and Spark; and properties of the decimal and date boundaries.

Expected values come from FHIRPath 3.0.0 (STU), Utility functions, lowBoundary()/highBoundary()
(https://build.fhir.org/ig/HL7/FHIRPath/), and the FHIRPath test suite's cases of the same names
(FHIR/fhir-test-cases, r4/fhirpath tests). Where that suite and the definition disagree the
definition wins and the test says so.
"""

from __future__ import annotations

import calendar
import datetime
import json
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastcds.screen.runner import duckdb_resources, run_view_duckdb, run_view_spark, spark_resources
from mastcds.screen.viewdef import ViewError, compile_view

RESOURCES = {
    "Observation": {"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"},
                    "valueQuantity": {"value": -1.587}, "issued": "2015-02-07T13:28:17.239+02:00",
                    "effectiveDateTime": "2010-10-10",
                    "component": [{"code": {"text": "a"}, "valueTime": "12:34"},
                                  {"code": {"text": "b"}, "valueDateTime": "2014-01-01T08:05+08:00"},
                                  {"code": {"text": "c"}, "valueDateTime": "2014-01-01T08:05:17.5Z"},
                                  {"code": {"text": "d"}, "valueTime": "12:34:56.1234"},
                                  {"code": {"text": "e"}, "valueTime": "25:00:00"},
                                  {"code": {"text": "f"}, "valueQuantity": {"value": 1.5e-3}},
                                  {"code": {"text": "g"}, "valueQuantity": {"value": 1e-18}},
                                  {"code": {"text": "h"}, "valueInteger": 120},
                                  {"code": {"text": "i"}, "valueDateTime": "2014"},
                                  {"code": {"text": "j"}, "valueQuantity": {"value": 1.0}}]},
    "Patient": {"resourceType": "Patient", "id": "p", "birthDate": "1970-06",
                "address": [{"period": {"start": "2024-02", "end": "2023-02-30"}},
                            {"period": {"start": "1970", "end": "1970-13"}}],
                "contact": [{"period": {"start": "1970-06-15T10:00:00Z"}}],
                "unknownDate": "2014-05", "unknownNumber": 1.5, "unknownTime": "10:30",
                "unknownInstant": "2014-05-01T10:00Z"},
}


def _component(letter: str, path: str) -> str:
    return f"component.where(code.text = '{letter}').{path}"


# (resource, FHIRPath, column type, expected value; None = empty)
CASES = [
    # The specification's decimal examples (its "(-1.587).highBoundary(0) // 1" is a typo for -1).
    ("Patient", "1.587.lowBoundary()", "decimal", 1.5865),
    ("Patient", "1.587.lowBoundary(6)", "decimal", 1.5865),
    ("Patient", "1.587.lowBoundary(2)", "decimal", 1.58),
    ("Patient", "1.587.lowBoundary(0)", "decimal", 1),
    ("Patient", "1.587.highBoundary()", "decimal", 1.5875),
    ("Patient", "1.587.highBoundary(2)", "decimal", 1.59),
    ("Patient", "1.587.highBoundary(0)", "decimal", 2),
    # Negative decimals: the low end moves away from zero, the high end towards it.
    ("Patient", "(-1.587).lowBoundary()", "decimal", -1.5875),
    ("Patient", "(-1.587).lowBoundary(6)", "decimal", -1.5875),
    ("Patient", "(-1.587).lowBoundary(2)", "decimal", -1.59),
    ("Patient", "(-1.587).lowBoundary(0)", "decimal", -2),
    ("Patient", "(-1.587).highBoundary()", "decimal", -1.5865),
    ("Patient", "(-1.587).highBoundary(2)", "decimal", -1.58),
    ("Patient", "(-1.587).highBoundary(0)", "decimal", -1),
    ("Observation", "valueQuantity.value.lowBoundary(2)", "decimal", -1.59),
    ("Observation", "valueQuantity.value.highBoundary()", "decimal", -1.5865),
    ("Patient", "(-120).lowBoundary(2)", "decimal", -120.5),
    ("Patient", "(-120).highBoundary(2)", "decimal", -119.5),
    # Integers are decimals with no digit after the point.
    ("Patient", "1.lowBoundary(0)", "decimal", 0),
    ("Patient", "1.highBoundary(0)", "decimal", 2),
    ("Patient", "1.lowBoundary(5)", "decimal", 0.5),
    ("Patient", "1.highBoundary()", "decimal", 1.5),
    ("Patient", "120.lowBoundary(2)", "decimal", 119.5),
    ("Observation", _component("h", "value.ofType(integer).highBoundary()"), "decimal", 120.5),
    ("Patient", "12.587.lowBoundary(2)", "decimal", 12.58),
    ("Patient", "12.587.highBoundary(2)", "decimal", 12.59),
    # A written fraction counts at least one digit (the suite's 1.0 -> 0.95) ...
    ("Observation", _component("j", "value.ofType(Quantity).value.lowBoundary()"), "decimal", 0.95),
    ("Patient", "1.0.highBoundary()", "decimal", 1.05),
    # ... but further trailing zeros never reach SQL: 12.500 reads as 12.5 (the FHIRPath suite wants 12.4995).
    ("Patient", "12.500.lowBoundary(4)", "decimal", 12.45),
    # Rounded outwards, so the result encloses the value: the FHIRPath suite's 0.0034.highBoundary(1) = 0.0
    # and (-0.0034).lowBoundary(1) = -0.0 would lie on the wrong side of the value itself.
    ("Patient", "0.0034.lowBoundary(1)", "decimal", 0),
    ("Patient", "0.0034.highBoundary(1)", "decimal", 0.1),
    ("Patient", "(-0.0034).lowBoundary(1)", "decimal", -0.1),
    ("Patient", "(-0.0034).highBoundary(1)", "decimal", 0),
    # An exponent counts: 1.5e-3 has four digits after the point.
    ("Observation", _component("f", "value.ofType(Quantity).value.lowBoundary()"), "decimal", 0.00145),
    # Precision out of range: empty, never an error.
    ("Patient", "1.587.lowBoundary(-1)", "decimal", None),
    ("Patient", "(-1.587).lowBoundary(-1)", "decimal", None),
    ("Patient", "1.587.highBoundary(-1)", "decimal", None),
    ("Patient", "1.587.lowBoundary(18)", "decimal", 1.5865),
    ("Patient", "1.587.lowBoundary(19)", "decimal", None),
    ("Patient", "1.587.lowBoundary(32)", "decimal", None),
    ("Patient", "(-1.587).highBoundary(39)", "decimal", None),
    # A value finer than the implementation can bound (half its last digit needs 19 digits): empty.
    ("Observation", _component("g", "value.ofType(Quantity).value.lowBoundary()"), "decimal", None),
    # Partial dates: the missing month and day filled with the least / greatest (February of a leap year).
    ("Patient", "birthDate.lowBoundary()", "date", "1970-06-01"),
    ("Patient", "birthDate.highBoundary()", "date", "1970-06-30"),
    ("Patient", "birthDate.lowBoundary(4)", "date", "1970"),
    ("Patient", "birthDate.highBoundary(6)", "date", "1970-06"),
    ("Patient", "birthDate.lowBoundary(10)", "date", None),
    ("Patient", "birthDate.lowBoundary(5)", "date", None),
    ("Patient", "address[0].period.start.highBoundary()", "dateTime", "2024-02-29T23:59:59.999-12:00"),
    ("Patient", "address[0].period.start.highBoundary(8)", "dateTime", "2024-02-29"),
    ("Patient", "address[1].period.start.lowBoundary(6)", "dateTime", "1970-01"),
    ("Patient", "address[1].period.start.highBoundary(8)", "dateTime", "1970-12-31"),
    # Not a date: empty.
    ("Patient", "address[0].period.end.lowBoundary()", "dateTime", None),
    ("Patient", "address[1].period.end.highBoundary()", "dateTime", None),
    # A dateTime without a time zone takes the earliest (+14:00) or the latest (-12:00) ...
    ("Observation", "effective.ofType(dateTime).lowBoundary()", "dateTime", "2010-10-10T00:00:00.000+14:00"),
    ("Observation", "effective.ofType(dateTime).highBoundary()", "dateTime", "2010-10-10T23:59:59.999-12:00"),
    ("Observation", _component("i", "value.ofType(dateTime).lowBoundary()"), "dateTime",
     "2014-01-01T00:00:00.000+14:00"),
    ("Observation", _component("i", "value.ofType(dateTime).highBoundary(12)"), "dateTime", "2014-12-31T23:59-12:00"),
    # ... one with a zone keeps it.
    ("Observation", _component("b", "value.ofType(dateTime).lowBoundary(17)"), "dateTime",
     "2014-01-01T08:05:00.000+08:00"),
    ("Observation", _component("b", "value.ofType(dateTime).highBoundary(17)"), "dateTime",
     "2014-01-01T08:05:59.999+08:00"),
    ("Observation", _component("b", "value.ofType(dateTime).highBoundary(10)"), "dateTime", "2014-01-01T08+08:00"),
    ("Observation", _component("b", "value.ofType(dateTime).lowBoundary(8)"), "dateTime", "2014-01-01"),
    ("Observation", _component("c", "value.ofType(dateTime).lowBoundary()"), "dateTime", "2014-01-01T08:05:17.500Z"),
    ("Observation", _component("c", "value.ofType(dateTime).highBoundary()"), "dateTime", "2014-01-01T08:05:17.599Z"),
    ("Observation", _component("c", "value.ofType(dateTime).highBoundary(14)"), "dateTime", "2014-01-01T08:05:17Z"),
    ("Patient", "contact.period.start.highBoundary()", "dateTime", "1970-06-15T10:00:00.999Z"),
    ("Observation", "issued.lowBoundary()", "instant", "2015-02-07T13:28:17.239+02:00"),
    ("Observation", "issued.highBoundary()", "instant", "2015-02-07T13:28:17.239+02:00"),
    ("Observation", _component("c", "value.ofType(dateTime).lowBoundary(16)"), "dateTime", None),
    # Times.
    ("Observation", _component("a", "value.ofType(time).lowBoundary()"), "time", "12:34:00.000"),
    ("Observation", _component("a", "value.ofType(time).highBoundary()"), "time", "12:34:59.999"),
    ("Observation", _component("a", "value.ofType(time).highBoundary(2)"), "time", "12"),
    ("Observation", _component("a", "value.ofType(time).lowBoundary(6)"), "time", "12:34:00"),
    ("Observation", _component("d", "value.ofType(time).highBoundary()"), "time", "12:34:56.123"),
    ("Observation", _component("a", "value.ofType(time).lowBoundary(17)"), "time", None),
    ("Observation", _component("e", "value.ofType(time).lowBoundary()"), "time", None),
    # Nothing in, nothing out.
    ("Patient", "deceased.ofType(dateTime).lowBoundary()", "dateTime", None),
    # Elements the model does not know: a number is a decimal, a string a time, date or dateTime by its shape.
    ("Patient", "unknownNumber.lowBoundary()", "decimal", 1.45),
    ("Patient", "unknownDate.highBoundary()", "string", "2014-05-31"),
    ("Patient", "unknownTime.lowBoundary()", "string", "10:30:00.000"),
    ("Patient", "unknownInstant.highBoundary()", "string", "2014-05-01T10:00:59.999Z"),
    # A constant keeps its type; the precision may be any Integer expression.
    ("Patient", "%day.highBoundary()", "date", "2024-02-29"),
    ("Patient", "%day.lowBoundary(%digits)", "date", "2024"),
]
CONSTANTS = [{"name": "day", "valueDate": "2024-02"}, {"name": "digits", "valueInteger": 4}]


def _view(resource: str, columns: list[tuple[str, str]]) -> dict:
    column = [{"name": f"c{k}", "path": path, "type": type_} for k, (path, type_) in enumerate(columns)]
    return {"resource": resource, "constant": CONSTANTS, "select": [{"column": column}]}


def _value(value):
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect()
    for resource in RESOURCES.values():
        duckdb_resources(con, [resource], resource["resourceType"])
    yield con
    con.close()


def _duck_value(con, resource: str, path: str, type_: str, use_model: bool = True):
    compiled = compile_view(_view(resource, [(path, type_)]), "duckdb", use_model=use_model)
    _, rows = run_view_duckdb(con, compiled, resource)
    assert len(rows) == 1
    return rows[0][0]


@pytest.mark.parametrize("use_model", [True, False], ids=["model-paths", "generic-navigation"])
@pytest.mark.parametrize(("resource", "path", "type_", "expected"), CASES, ids=[c[1] for c in CASES])
def test_boundary_on_duckdb(duck, resource, path, type_, expected, use_model):
    """Generic navigation (no JSON paths from the model) still knows a date from a dateTime."""
    assert _value(_duck_value(duck, resource, path, type_, use_model)) == _value(expected)


@pytest.mark.spark
def test_boundaries_are_the_same_on_spark(spark):
    """Every case above on Spark, ten columns a query (a Spark query costs a second or two; much wider
    ones take Catalyst longer than several narrow ones)."""
    got, expected = {}, {}
    for resource in RESOURCES:
        cases = [c for c in CASES if c[0] == resource]
        source = spark_resources(spark, [RESOURCES[resource]], f"boundary_{resource}")
        for start in range(0, len(cases), 10):
            chunk = cases[start:start + 10]
            _, rows = run_view_spark(spark, _view(resource, [(path, type_) for _, path, type_, _ in chunk]), source)
            got.update({path: _value(value) for (_, path, _, _), value in zip(chunk, rows[0], strict=True)})
            expected.update({path: _value(value) for _, path, _, value in chunk})
    assert got == expected


@pytest.mark.parametrize(("resource", "path", "message"), [
    ("Patient", "gender.lowBoundary()", "not code"),
    ("Patient", "'2014'.lowBoundary()", "not String"),
    ("Patient", "true.highBoundary()", "not Boolean"),
    ("Observation", "valueQuantity.lowBoundary()", "not Quantity"),
    ("Patient", "1.587.lowBoundary(1.5)", "takes an Integer precision"),
    ("Patient", "1.587.lowBoundary(2, 3)", "lowBoundary() with 2 argument"),
])
def test_a_call_the_function_does_not_define_names_the_problem(resource, path, message):
    with pytest.raises(ViewError, match=re.escape(message)):
        run_view_duckdb(duckdb.connect(), _view(resource, [(path, "string")]), "nothing")


def test_more_than_one_value_is_an_error(duck):
    with pytest.raises(duckdb.Error, match=r"lowBoundary\(\) applied to more than one value"):
        _duck_value(duck, "Patient", "address.period.start.lowBoundary()", "dateTime")


# -- properties ------------------------------------------------------------------------------------

def _decimal_text(mantissa: int, scale: int) -> str:
    """The JSON the engines see for mantissa x 10^-scale: a shortest float repr, or an integer."""
    return str(mantissa) if scale == 0 else repr(float(Decimal(mantissa).scaleb(-scale)))


def _reference(text: str, precision: int, high: bool) -> Decimal:
    """The definition in exact decimal arithmetic: the value's span, rounded outwards to ``precision`` digits."""
    with localcontext() as context:
        context.prec = 60
        value = Decimal(text)
        digits = max(-value.normalize().as_tuple().exponent, 0 if text.lstrip("-").isdigit() else 1)
        half = Decimal(5).scaleb(-digits - 1)
        edge = value + half if high else value - half
        return edge.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_CEILING if high else ROUND_FLOOR)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-10**12, 10**12), st.integers(0, 9), st.integers(0, 18), st.booleans()),
                min_size=1, max_size=8))
def test_decimal_boundaries_are_exact_and_enclose_the_value(duck, numbers):
    texts = [_decimal_text(mantissa, scale) for mantissa, scale, _, _ in numbers]
    resources = [{"resourceType": "Observation", "id": str(k), "valueQuantity": {"value": json.loads(text)}}
                 for k, text in enumerate(texts)]
    source = duckdb_resources(duck, resources, "decimals")
    for (_, _, precision, high), text, k in zip(numbers, texts, range(len(texts)), strict=True):
        path = f"value.ofType(Quantity).value.{'high' if high else 'low'}Boundary({precision})"
        view = {"resource": "Observation", "where": [{"path": f"id = '{k}'"}],
                "select": [{"column": [{"name": "b", "path": path, "type": "decimal"}]}]}
        (got,), = run_view_duckdb(duck, view, source)[1]
        expected = _reference(text, precision, high)
        assert got == float(expected), (text, precision, high)
        value = Decimal(text)
        assert (float(expected) >= value) if high else (float(expected) <= value)


dates = st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31))


@settings(max_examples=60, deadline=None)
@given(dates, st.sampled_from([4, 7, 10]))
def test_a_partial_date_spans_its_first_to_its_last_day(duck, day, length):
    partial = day.isoformat()[:length]
    source = duckdb_resources(duck, [{"resourceType": "Patient", "id": "p", "birthDate": partial}], "dates")
    view = {"resource": "Patient", "select": [{"column": [
        {"name": "low", "path": "birthDate.lowBoundary()", "type": "date"},
        {"name": "high", "path": "birthDate.highBoundary()", "type": "date"}]}]}
    (low, high), = run_view_duckdb(duck, view, source)[1]
    month = int(partial[5:7]) if length >= 7 else 12
    last = calendar.monthrange(day.year, month)[1]
    assert low == (partial + "-01-01")[:10]
    assert high == {4: f"{partial}-12-31", 7: f"{partial}-{last:02d}", 10: partial}[length]
    assert datetime.date.fromisoformat(low) <= day <= datetime.date.fromisoformat(high)

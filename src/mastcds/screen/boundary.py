"""FHIRPath ``lowBoundary()`` and ``highBoundary()`` as SQL that DuckDB and Spark both run.

Definitions: FHIRPath 3.0.0 (STU), Utility functions, "lowBoundary([precision: Integer])" and
"highBoundary([precision: Integer])" (https://build.fhir.org/ig/HL7/FHIRPath/): the least / greatest
possible value of a Decimal, Date, DateTime or Time to the given precision; without a precision the
type's greatest (8 decimal digits, 8 for a Date, 17 for a DateTime, 9 for a Time); a precision the
implementation cannot give yields empty. Temporal precisions count digits: a Date has 4 (year), 6
(month) or 8 (day), a DateTime also 10 (hour), 12 (minute), 14 (second) or 17 (millisecond), a
Time 2, 4, 6 or 9. A DateTime without a time zone takes the earliest (+14:00) or latest (-12:00).

A decimal's own precision is how many digits follow its point: 1.587 spans [1.5865, 1.5875], and
the boundary at precision p is that span's end rounded outwards to p digits (floor for the low,
ceiling for the high end), so the result always encloses the value. Both engines' JSON readers drop
trailing zeros before SQL sees a number (1.50 reads as 1.5), so a decimal written with a fraction
counts at least one digit (1.0 spans [0.95, 1.05]) and further trailing zeros are not seen.
"""

from __future__ import annotations

from mastcds.screen.dialects import Dialect

DEFAULT_PRECISION = {"decimal": 8, "date": 8, "dateTime": 17, "time": 9}
# Decimals are computed exactly as DECIMAL(37, 18): 19 integer digits (a FHIR decimal has at most 18) and
# 18 after the point, so a value with up to 17 digits after its point has its half-step, and precisions
# 0-18 can be given. Anything else is beyond this implementation: the result is empty.
DECIMAL_SQL = "DECIMAL(37, 18)"
MAX_DECIMAL_PRECISION = 18
MAX_DECIMAL_SCALE = MAX_DECIMAL_PRECISION - 1

# Regular expressions of FHIR's date, dateTime and time (https://hl7.org/fhir/R4B/datatypes.html#primitive),
# also allowing FHIRPath's partial times (an hour, or hour and minute, with or without a zone).
_YEAR = "((?:[0-9](?:[0-9](?:[0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000))"
_MONTH, _DAY = "(0[1-9]|1[0-2])", "(0[1-9]|[12][0-9]|3[01])"
_CLOCK = r"([01][0-9]|2[0-3])(?::([0-5][0-9])(?::([0-5][0-9]|60)(?:\.([0-9]+))?)?)?"
_ZONE = "(Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_PATTERNS = {
    "date": f"^{_YEAR}(?:-{_MONTH}(?:-{_DAY})?)?$",
    "dateTime": f"^{_YEAR}(?:-{_MONTH}(?:-{_DAY}(?:T{_CLOCK}{_ZONE}?)?)?)?$",
    "time": f"^{_CLOCK}$",
}
_DATE_PRECISIONS = (4, 6, 8)
_CLOCK_PRECISIONS = (2, 4, 6, 9)
_FRACTION_DIGITS = r"\.([0-9]*?)0*(?:[eE]|$)"  # digits after the point, trailing zeros dropped
_EXPONENT = "[eE]([+-]?[0-9]+)$"


def decimal_boundary(d: Dialect, text: str, integer: str, precision: str | None, high: bool) -> str:
    """SQL DOUBLE: the boundary of the number written ``text`` (SQL string; ``integer``: SQL Boolean,
    true when it was written without point or exponent), NULL when it cannot be given."""
    p = str(DEFAULT_PRECISION["decimal"]) if precision is None else f"CAST({precision} AS INT)"

    def dec(sql: str) -> str:
        return f"CAST({sql} AS {DECIMAL_SQL})"

    def at_precision(t: str, scale: str) -> str:
        half = f"TRY_CAST('0.' || repeat('0', {scale}) || '5' AS {DECIMAL_SQL})"
        unit = f"TRY_CAST(CASE WHEN {p} = 0 THEN '1' ELSE '0.' || repeat('0', {p} - 1) || '1' END AS {DECIMAL_SQL})"
        edge = dec(f"TRY_CAST({t} AS {DECIMAL_SQL}) {'+' if high else '-'} {half}")
        # Round the span's end outwards to p digits: ``%`` truncates towards zero in both engines.
        return d.let(edge, lambda e: d.let(unit, lambda u: d.let(f"{e} % {u}", lambda r: (
            f"CAST({dec(f'{e} - {r}')} {'+' if high else '-'} "
            f"CASE WHEN {r} {'>' if high else '<'} 0 THEN {u} ELSE {dec('0')} END AS DOUBLE)"))))

    def body(t: str) -> str:
        fraction = f"coalesce(length({d.regexp_group(t, _FRACTION_DIGITS, 1)}), 0)"
        exponent = f"coalesce(TRY_CAST({d.regexp_group(t, _EXPONENT, 1)} AS INT), 0)"
        scale = f"CAST(greatest({fraction} - {exponent}, CASE WHEN {integer} THEN 0 ELSE 1 END) AS INT)"
        return d.let(scale, lambda s: (
            f"CASE WHEN {p} BETWEEN 0 AND {MAX_DECIMAL_PRECISION} AND {s} <= {MAX_DECIMAL_SCALE} "
            f"THEN {at_precision(t, s)} END"))

    return d.let(text, body)


def temporal_boundary(d: Dialect, text: str, kind: str, precision: str | None, high: bool) -> str:
    """SQL string: the boundary of ``text`` read as a FHIR ``kind`` (date, dateTime or time); NULL
    when ``text`` is not one or the precision is not one the type has."""
    pattern = _PATTERNS[kind]
    p = str(DEFAULT_PRECISION[kind]) if precision is None else precision

    def body(t: str) -> str:
        def part(group: int, low_fill: str, high_fill: str) -> str:
            return f"coalesce({d.regexp_group(t, pattern, group)}, {d.quote(high_fill if high else low_fill)})"

        def fraction(group: int) -> str:
            return f"rpad(coalesce({d.regexp_group(t, pattern, group)}, ''), 3, {d.quote('9' if high else '0')})"

        def clock(first: int) -> list[str]:
            hour, minute, second = part(first, "00", "23"), part(first + 1, "00", "59"), part(first + 2, "00", "59")
            return [hour, f"{hour} || ':' || {minute}", f"{hour} || ':' || {minute} || ':' || {second}",
                    f"{hour} || ':' || {minute} || ':' || {second} || '.' || {fraction(first + 3)}"]

        first = d.regexp_group(t, pattern, 1)  # the year, or a time's hour: NULL when ``t`` does not match
        if kind == "time":
            times = dict(zip(_CLOCK_PRECISIONS, clock(1), strict=True))
            return f"CASE WHEN {first} IS NOT NULL THEN {_by_precision(p, times)} END"
        year = first
        month = part(2, "01", "12")
        if high:  # the month's last day: 28 to 31, always two digits
            last = f"CAST(day(last_day(TRY_CAST({year} || '-' || {month} || '-01' AS DATE))) AS {d.sql_type('str')})"
            day = f"coalesce({d.regexp_group(t, pattern, 3)}, {last})"
        else:
            day = part(3, "01", "01")

        def on(date: str) -> str:
            dates = dict(zip(_DATE_PRECISIONS, [year, f"{year} || '-' || {month}", date], strict=True))
            if kind == "dateTime":
                zone = part(8, "+14:00", "-12:00")
                times = (f"{date} || 'T' || {c} || {zone}" for c in clock(4))
                dates.update(zip((10, 12, 14, 17), times, strict=True))
            return f"CASE WHEN TRY_CAST({date} AS DATE) IS NOT NULL THEN {_by_precision(p, dates)} END"

        return d.let(f"{year} || '-' || {month} || '-' || {day}", on)

    return d.let(text, body)


def _by_precision(precision: str, results: dict[int, str]) -> str:
    return f"CASE {precision} " + " ".join(f"WHEN {k} THEN {v}" for k, v in results.items()) + " END"

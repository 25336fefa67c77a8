"""SQL from the screening views' rows to facts, and from facts to what the rules must see.

Both engines run this SQL (DuckDB and Spark SQL; the few spellings that differ are in
``_REGEX``), so what reaches the rules is the same on both. Nothing here decides a clinical
question: the SQL only leaves out rows that cannot change what the rules in
:mod:`mastcds.screen.rules` decide, and the thresholds it uses are the rules' own constants.

* :func:`facts_query` turns the view rows into facts (:data:`~mastcds.screen.types.FACT_SCHEMA`):
  the Patient, Condition and Observation rows the rules read, and every systolic pressure.
* :func:`rule_input_query` keeps the facts of the patients some rule could fire for, with the
  systolic pressures joined to their anaphylaxis episode (by ``focus``, or by day).

A patient with neither an anaphylaxis Condition nor a tryptase that could matter is left out:
every rule needs an episode, except the basal-tryptase rule (which needs a basal value above
:data:`~mastcds.screen.rules.BASAL_TRYPTASE_LIMIT_NG_ML`) and the event-tryptase rule (which
needs a tryptase marked acute, since without an episode no tryptase is taken as acute). A
tryptase "cannot matter" only when the records would read it as a usable basal value at or below
the limit: a value in a unit the converter maps with factor 1, a sampling time it parses, and no
acute context (:func:`routine_tryptase`). Everything else goes to the rules, which decide.
"""

from __future__ import annotations

from mastcds.screen import codes as C
from mastcds.screen.records import IGNORED_STATUSES, TRYPTASE_RANGE
from mastcds.screen.rules import BASAL_TRYPTASE_LIMIT_NG_ML
from mastcds.screen.types import FACT_COLUMNS, KIND_CONDITION, KIND_OBSERVATION, KIND_PATIENT, KIND_SYSTOLIC
from mastcds.screen.views import condition_codes, observation_codes
from mastcds.units import UnitError, to_canonical

# A FHIR dateTime that records.parse_instant surely reads: a full date that every year has (so not
# 29 February) with an optional time and zone. Anything else goes to the rules, which decide.
SURE_INSTANT = ("^[1-9][0-9]{3}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
                "(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]))?$")
_REGEX = {"duckdb": "regexp_matches({text}, {pattern})", "spark": "({text} RLIKE {pattern})"}
# The set of a group's non-null values, and whether it holds an item.
_SETS = {"duckdb": ("list_distinct(list({}))", "list_contains({items}, {item})"),
         "spark": ("collect_set({})", "array_contains({items}, {item})")}
# Spellings senders use for the tryptase units the converter maps with factor 1; only those it
# confirms are used (so the SQL cannot accept a unit the converter refuses).
_UNIT_SPELLINGS = ("ng/mL", "ng/ml", "NG/ML", "ng/ML", "ug/L", "ug/l", "UG/L", "µg/L", "μg/L", "µg/l", "μg/l",
                   "mcg/L", "mcg/l")


def _quote(text: str) -> str:
    if "'" in text or "\\" in text:
        raise ValueError(f"SQL literal {text!r} needs escaping, which DuckDB and Spark spell differently")
    return f"'{text}'"


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(_quote(v) for v in values)})"


def unit_one_spellings() -> tuple[str, ...]:
    """The spellings of :data:`_UNIT_SPELLINGS` the converter maps to ng/mL with factor exactly 1."""
    kept = []
    for spelling in _UNIT_SPELLINGS:
        try:
            if to_canonical("tryptase", 1.0, spelling) == 1.0:
                kept.append(spelling)
        except UnitError:
            continue
    return tuple(kept)


def _null(sql_type: str) -> str:
    return f"CAST(NULL AS {sql_type})"


def _fact(kind: str, resource_id: str, **columns: str) -> str:
    """One SELECT list in the order of FACT_SCHEMA; columns not given are typed NULLs."""
    types = {"value": "DOUBLE", "value_integer": "BIGINT"}
    names = ("gender", "birth_date", "onset", "recorded", "verification", "status", "effective", "value", "unit",
             "unit_text", "value_code", "value_integer", "focus", "context", "system", "code")
    values = [f"{columns.get(n, _null(types.get(n, 'STRING')))} AS {n}" for n in names]
    return ", ".join(["patient_id", f"{_quote(kind)} AS kind", f"{resource_id} AS resource_id", *values])


def _pairs(exact: list[tuple[str, str]], prefixes: list[tuple[str, str]] = ()) -> str:
    """SQL: the row's (system, code) is one of ``exact`` or starts with one of ``prefixes``.

    The exact pairs are grouped by system into IN lists: a chain of some sixty ORs cost both
    engines' planners more than the query's run on a small export."""
    by_system: dict[str, list[str]] = {}
    for system, code in exact:
        by_system.setdefault(system, []).append(code)
    tests = [f"(system = {_quote(s)} AND {_in('code', codes)})" for s, codes in by_system.items()]
    tests += [f"(system = {_quote(s)} AND code LIKE {_quote(p + '%')})" for s, p in prefixes]
    return "(" + " OR ".join(tests) + ")"


def facts_query(conditions: str, observations: str, patients: str) -> str:
    """Facts from the three view relations (columns as in ``views/*.json``): the coding rows with
    a code the rules read (:func:`~mastcds.screen.views.condition_codes`,
    :func:`~mastcds.screen.views.observation_codes`), a systolic pressure per Observation with one,
    and every patient."""
    plain_systolic = f"(system = {_quote(C.SYSTOLIC_BP.system)} AND code = {_quote(C.SYSTOLIC_BP.code)})"
    observed = {n: n for n in ("status", "effective", "unit", "unit_text", "value_code", "focus", "context", "system",
                               "code")}
    return " UNION ALL ".join([
        f"SELECT {_fact(KIND_PATIENT, 'patient_id', gender='gender', birth_date='birth_date')} "
        f"FROM {patients} WHERE patient_id IS NOT NULL",
        f"SELECT {_fact(KIND_CONDITION, 'condition_id', onset='onset', recorded='recorded', verification='verification', system='system', code='code')} "
        f"FROM {conditions} WHERE patient_id IS NOT NULL AND {_pairs(*condition_codes())}",
        f"SELECT {_fact(KIND_OBSERVATION, 'observation_id', value='CAST(value AS DOUBLE)', value_integer='CAST(value_integer AS BIGINT)', **observed)} "
        f"FROM {observations} WHERE patient_id IS NOT NULL AND {_pairs(observation_codes())}",
        # A systolic pressure once per Observation, whichever of its codings brought it.
        f"SELECT DISTINCT {_fact(KIND_SYSTOLIC, 'observation_id', status='status', effective='effective', focus='focus', value=f'CAST(CASE WHEN {plain_systolic} THEN value ELSE systolic END AS DOUBLE)')} "
        f"FROM {observations} WHERE patient_id IS NOT NULL AND (({plain_systolic} AND value IS NOT NULL) "
        f"OR systolic IS NOT NULL)",
    ])


def anaphylaxis_condition() -> str:
    """SQL over a fact's ``system`` and ``code``: what records.is_anaphylaxis accepts, in SQL."""
    prefixes = " OR ".join(f"code LIKE {_quote(p + '%')}" for p in C.ANAPHYLAXIS_ICD_INITIAL)
    later = f"(system = {_quote(C.ICD10CM)} AND length(code) = 8 AND substr(code, 8, 1) IN ('D', 'S'))"
    return (f"((system = {_quote(C.SNOMED)} AND {_in('code', C.ANAPHYLAXIS_SNOMED)}) OR "
            f"({_in('system', (C.ICD10CM, C.ICD10))} AND ({prefixes}) AND NOT {later}))")


def routine_tryptase(dialect: str, *, status: str = "status", value: str = "value",
                     unit: str = "coalesce(nullif(unit, ''), unit_text)", context: str = "context",
                     effective: str = "effective") -> str:
    """SQL over a tryptase, never NULL: true when the rules would read it, without an episode, as a
    usable basal value at or below the limit (or ignore it for its status). The arguments are the
    SQL of its columns (by default those of a fact; records reads the unit code, else its text)."""
    regex = _REGEX[dialect]
    return (f"coalesce({_in(status, sorted(IGNORED_STATUSES))} OR ("
            f"{value} BETWEEN {float(TRYPTASE_RANGE.low)!r} AND {BASAL_TRYPTASE_LIMIT_NG_ML!r} "
            f"AND {_in(unit, unit_one_spellings())} "
            f"AND ({context} IS NULL OR {context} <> 'acute') "
            f"AND {regex.format(text=effective, pattern=_quote(SURE_INSTANT))}), FALSE)")


def rule_input_query(facts: str, dialect: str) -> str:
    """The facts the rules must see (see the module docstring), in no particular order.

    Per patient (one aggregate): whether they have an anaphylaxis Condition or a tryptase that is
    not routine, and the ids and days of their anaphylaxis Conditions, to which a systolic pressure
    is joined by its ``focus`` or, without one, by its day.
    """
    tryptase = (f"kind = {_quote(KIND_OBSERVATION)} AND system = {_quote(C.TRYPTASE.system)} "
                f"AND code = {_quote(C.TRYPTASE.code)}")
    anaphylaxis = f"kind = {_quote(KIND_CONDITION)} AND {anaphylaxis_condition()}"
    collect, has = _SETS[dialect]
    day = "substr(coalesce(nullif(onset, ''), recorded), 1, 10)"
    candidate = f"max(CASE WHEN ({anaphylaxis}) OR ({tryptase} AND NOT {routine_tryptase(dialect)}) THEN 1 ELSE 0 END)"
    return (
        f"SELECT {', '.join('f.' + c for c in FACT_COLUMNS)} FROM {facts} f JOIN ("
        f"SELECT patient_id, {collect.format(f'CASE WHEN {anaphylaxis} THEN resource_id END')} AS _episodes, "
        f"{collect.format(f'CASE WHEN {anaphylaxis} THEN {day} END')} AS _days FROM {facts} "
        f"GROUP BY patient_id HAVING {candidate} = 1) p ON p.patient_id = f.patient_id "
        f"WHERE CASE WHEN f.kind <> {_quote(KIND_SYSTOLIC)} THEN TRUE "
        f"WHEN coalesce(f.focus, '') <> '' THEN coalesce({has.format(items='p._episodes', item='f.focus')}, FALSE) "
        f"ELSE coalesce({has.format(items='p._days', item='substr(f.effective, 1, 10)')}, FALSE) END")


_LINE_PATHS = ("$.status", "$.valueQuantity.value", "$.valueQuantity.code", "$.valueQuantity.unit",
               "$.effectiveDateTime", "$.subject.reference")


def candidate_references(conditions: str, observation_lines: str) -> str:
    """DuckDB SQL: a superset of the references (``Patient/<id>``) of the patients
    :func:`rule_input_query` will keep, known before the Observation view runs (which then parses
    only those patients' lines, when no state is kept).

    ``conditions``: the Condition view's rows; ``observation_lines``: the kept Observation lines
    (``_j``). A patient is in when a Condition of theirs is an anaphylaxis, or a line of theirs may
    hold a tryptase :func:`routine_tryptase` would not call routine, read straight from the line's
    text (one parse) with the JSON functions the view uses: a line that mentions the sample-context
    extension counts as acute, one with a JSON escape counts whatever it holds. A line whose
    subject is not a plain reference is parsed whatever this says (see :func:`observation_line_needed`).
    """
    t = "_t"
    cheap = routine_tryptase(
        "duckdb", status=f"({t}[1] ->> '$')", value=f"TRY_CAST({t}[2] AS DOUBLE)",
        unit=f"coalesce(nullif({t}[3] ->> '$', ''), {t}[4] ->> '$')",
        context=f"CASE WHEN contains(_j, {_quote(C.EXT_SAMPLE_CONTEXT)}) THEN 'acute' END", effective=f"({t}[5] ->> '$')")
    paths = ", ".join(_quote(path) for path in _LINE_PATHS)
    escaped = "contains(_j, '\\')"
    return (f"SELECT 'Patient/' || patient_id AS ref FROM {conditions} WHERE patient_id IS NOT NULL "
            f"AND {anaphylaxis_condition()} UNION SELECT {t}[6] ->> '$' FROM ("
            f"SELECT _j, json_extract(_j, [{paths}]) AS {t} FROM {observation_lines} "
            f"WHERE {escaped} OR contains(_j, {_quote(C.TRYPTASE.code)})) WHERE {escaped} OR NOT {cheap}")


def observation_line_needed(candidates: str) -> str:
    """DuckDB SQL over a kept Observation line ``_j``: its subject is a reference in
    ``candidates`` (a relation of ``ref``), or not a plain reference (the view decides)."""
    return f"coalesce(json_extract_string(_j, '$.subject.reference') IN (SELECT ref FROM {candidates}), TRUE)"


def patient_line_needed(candidates: str) -> str:
    """DuckDB SQL over a kept Patient line ``_j``: the patient's reference is in ``candidates``."""
    return f"coalesce('Patient/' || json_extract_string(_j, '$.id') IN (SELECT ref FROM {candidates}), TRUE)"

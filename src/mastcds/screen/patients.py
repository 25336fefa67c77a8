"""Facts sorted by patient -> one summary per patient: the step both engines run.

DuckDB streams its facts here from this process; Spark runs the same function on its executors
(``mapInArrow``, through :func:`arrow_summaries`), so one source of truth decides for both and only
the summaries leave it. The input must hold each patient's rows together, in
:data:`~mastcds.screen.types.FACT_ORDER`; memory is one batch plus one patient's rows.
"""

from __future__ import annotations

import gc
import itertools
import json
import operator
from collections.abc import Iterable, Iterator

from mastcds.screen.records import PatientRecord, build_record
from mastcds.screen.rules import RULES, priority, screen_record
from mastcds.screen.types import FACT_COLUMNS, FACT_TYPES, SUMMARY_COLUMNS, SUMMARY_TYPES, Fact

OUTPUT_BATCH_PATIENTS = 4096
_ARROW_TYPES = {"double": "float64", "bigint": "int64", "int": "int32"}


def summarize(record: PatientRecord) -> dict:
    """The summary row of one patient: the worklist columns when a rule fires, and the unusable count."""
    summary = {"patient_id": record.patient_id, "priority": None, "rules": None, "rule_count": None,
               "evidence": None, "unusable": len(record.unusable)}
    findings = screen_record(record)
    if findings:
        evidence = {f.rule: {"title": RULES[f.rule].title, "source": RULES[f.rule].source, "evidence": f.evidence}
                    for f in findings}
        if record.unusable:
            evidence["unusable-results"] = {"evidence": record.unusable}
        summary.update(priority=priority(findings), rules=";".join(f.rule for f in findings), rule_count=len(findings),
                       evidence=json.dumps(evidence, ensure_ascii=False, sort_keys=True))
    return summary


def summarize_facts(rows: Iterable[tuple]) -> Iterator[dict]:
    """A summary for each patient of ``rows`` (tuples in the order of :class:`~mastcds.screen.types.Fact`).

    The cyclic garbage collector is paused meanwhile: records and summaries hold no reference
    cycles (reference counting frees them), and its passes over the objects of a long run cost
    10-25% of the rules' time (dense 100k export: 0.33-0.40 s with it, 0.29-0.30 s without).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        for patient_id, group in itertools.groupby(map(Fact._make, rows), key=operator.itemgetter(0)):
            if patient_id is not None:
                yield summarize(build_record(patient_id, list(group)))
    finally:
        if collecting:
            gc.enable()


def arrow_schema(columns: tuple[str, ...], types: dict[str, str]):
    """The Arrow schema of a table of ``columns`` (text unless ``types`` says double, bigint or int)."""
    import pyarrow as pa

    return pa.schema([(name, getattr(pa, _ARROW_TYPES.get(types.get(name, ""), "string"))()) for name in columns])


def arrow_summaries(batches: Iterable) -> Iterator:
    """:func:`summarize_facts` over Arrow record batches of facts, as Arrow record batches (Spark's
    ``mapInArrow``)."""
    import pyarrow as pa

    schema = arrow_schema(SUMMARY_COLUMNS, SUMMARY_TYPES)
    rows = (row for batch in batches
            for row in zip(*(batch.column(name).to_pylist() for name in FACT_COLUMNS)))
    done: list[dict] = []
    for summary in summarize_facts(rows):
        done.append(summary)
        if len(done) >= OUTPUT_BATCH_PATIENTS:
            yield pa.RecordBatch.from_pylist(done, schema=schema)
            done = []
    if done:
        yield pa.RecordBatch.from_pylist(done, schema=schema)


def fact_schema():
    """The Arrow schema of the facts."""
    return arrow_schema(FACT_COLUMNS, FACT_TYPES)

"""What the screening engines hand back, and the shapes of the tables they pass between stages.

A module of its own so that dependencies run one way: the pipeline imports the engines, the
engines import these types, and nothing here imports either.

Three tables cross from SQL to Python and back, on DuckDB and on Spark alike:

* **facts** (:class:`Fact`): the rows of the screening views, one table for every resource type,
  marked by ``kind``. They are what the rules read, and what an incremental run keeps.
* **summaries** (:data:`SUMMARY_COLUMNS`): one row per patient the rules looked at, with the
  worklist columns filled when a rule fired.
* **worklist** (:data:`WORKLIST_COLUMNS`): the flagged patients, most urgent first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# One fact per row of a screening view; ``kind`` says which view. A systolic pressure is its own
# kind (whether the Observation is a plain 8480-6 or a blood-pressure panel's component).
KIND_PATIENT, KIND_CONDITION, KIND_OBSERVATION, KIND_SYSTOLIC = "patient", "condition", "observation", "systolic"


class Fact(NamedTuple):
    """One fact (a tuple: the rules read millions of them). Text unless :data:`FACT_TYPES` says otherwise."""

    patient_id: str | None
    kind: str
    resource_id: str | None
    gender: str | None = None
    birth_date: str | None = None
    onset: str | None = None
    recorded: str | None = None
    verification: str | None = None
    status: str | None = None
    effective: str | None = None
    value: float | None = None
    unit: str | None = None
    unit_text: str | None = None
    value_code: str | None = None
    value_integer: int | None = None
    focus: str | None = None
    context: str | None = None
    system: str | None = None
    code: str | None = None


FACT_COLUMNS = Fact._fields
FACT_TYPES = {"value": "double", "value_integer": "bigint"}  # every other column is text
# The order facts reach the rules in, on every engine (SQL, both dialects): by patient, then every
# column, nulls first. The rules depend on it only where the data contradicts itself.
FACT_ORDER = ", ".join(f"{name} ASC NULLS FIRST" for name in FACT_COLUMNS)

WORKLIST_COLUMNS = ("patient_id", "priority", "rules", "rule_count", "evidence")
# A patient the rules looked at: the worklist columns (null when no rule fired), and how many of
# their results could not be used.
SUMMARY_COLUMNS = (*WORKLIST_COLUMNS, "unusable")
SUMMARY_TYPES = {"priority": "int", "rule_count": "int", "unusable": "int"}  # every other column is text


@dataclass(frozen=True, order=True)
class Malformed:
    """A line that is not a FHIR resource (not JSON, not an object, no resourceType, or too long)."""

    file: str
    line: int


@dataclass
class ScreenResult:
    """What a screening run did; the worklist itself is in the file it wrote."""

    out: str
    flagged: int
    candidates: int
    unusable_results: int
    malformed: list[Malformed]
    files: dict[str, list[str]] = field(default_factory=dict)
    skipped_files: list[str] = field(default_factory=list)
    state: str | None = None
    rescreened: int | None = None  # patients screened again by an incremental run (None: a full run)

"""FHIR R4 resources -> a mastcds-case/1 document.

What FHIR codes (Patient, coded Observations, Conditions, medications) comes
from the resources; what it cannot code (bone-marrow histology, skin, organ
findings, most episode details) comes from an optional case document that the
FHIR values are laid over. Every resource is accounted for: a value that
cannot be used (unit not convertible, implausible) is a :class:`Problem`; a
code mastcds does not read is counted in ``unmapped``; a decision the mapping
had to take is a note. Nothing is dropped silently.

Mapping conventions (the export in :mod:`mastcds.fhir.from_case` writes the same):

* an anaphylaxis Condition is an episode; Observations pointing at it through
  ``focus`` or sharing its ``encounter`` belong to that episode (systolic BP,
  acute tryptase, findings such as syncope or urticaria valued Present/Absent);
* a dated lab Observation is a ``lab_results`` row; an undated one is the
  "current value" the criteria use (``labs``); without one, the current value
  is the latest row on or before the evaluation date (:func:`current_row`);
* a tryptase not linked to an episode is a baseline sample, unless it was
  drawn on the day of an episode or the day after (then its context is
  unknown); the export's sample-context extension overrides both;
* ICD-10-CM anaphylaxis codes with 7th character D or S are later encounters
  for an episode already counted, not new episodes;
* a date that is no calendar date (month 13, 30 February, a year outside
  1900-2100: :func:`mastcds.case.calendar_problem`) is a Problem. A birth or
  onset date is then unknown; a lab result, KIT result or treatment is not
  used, since undated it would read as the current value or as ongoing;
* Patients sharing an id are one patient (a CDS client may send it twice).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mastcds.case import CASE_SCHEMA_ID, Problem, date_key, load_case
from mastcds.fhir import codes
from mastcds.fhir.dates import (EXPECTED, completed_years, current_row, date_problem, effective_date, effective_element,
                                partial_date, usable_rows)
from mastcds.units import LAB_SPECS, UnitError, accepted_units, to_canonical

# isinstance(x, _OBJECT): the C check of dict first (the ABC check alone took 3% of a CDS Hooks call), with
# the tuple made once rather than built at each check (4.5% of the import)
_OBJECT = (dict, Mapping)
_NO_TYPE = "resource whose resourceType is not a string"
_SKIPPED_STATUSES = {"entered-in-error", "cancelled", "registered", "not-taken", "draft"}
_MEDICATION_TYPES = ("MedicationStatement", "MedicationRequest")
_NOT_A_DIAGNOSIS = frozenset({"entered-in-error", "refuted"})  # Condition.verificationStatus codes
_LAB_FIELDS = {
    "tryptase": "baseline_tryptase_ng_ml",
    "ige_total": "ige_total_iu_ml",
    "hemoglobin": "hemoglobin_g_dl",
    "platelets": "platelets_10e9_l",
    "neutrophils": "neutrophils_10e9_l",
    "alkaline_phosphatase": "alkaline_phosphatase_u_l",
    "albumin": "albumin_g_l",
    "beta2_microglobulin": "beta2_microglobulin_mg_l",
    "leukocytes": "leukocytes_10e9_l",
    "eosinophils": "eosinophils_10e9_l",
    "monocytes": "monocytes_10e9_l",
    "urine_n_methylhistamine": "urine_n_methylhistamine_ug_g_creatinine",
    "urine_11b_pgf2a": "urine_11b_pgf2a_ng_g_creatinine",
    "urine_lte4": "urine_lte4_pg_mg_creatinine",
}
_SYSTOLIC_RANGE = (0.0, 300.0)  # mastcds-case/1 episodes[].systolic_bp_mmhg
_DOSE_RANGE = (0.0, 100000.0)  # mastcds-case/1 treatments[].dose_mg
_MG_PER_UNIT = {"mg": 1.0, "g": 1000.0, "ug": 0.001}
# timing.repeat (frequency, period, periodUnit) -> the case's interval words
_INTERVALS = {
    (1, 4, "wk"): "q4w", (1, 2, "wk"): "q2w", (1, 1, "wk"): "weekly", (1, 1, "d"): "daily",
    (2, 1, "d"): "bid", (3, 1, "d"): "tid", (4, 1, "d"): "qid",
}
COMPUTED_TAG = {"system": f"{codes.MASTCDS_CANONICAL}/CodeSystem/provenance", "code": "computed",
                "display": "Computed by mastcds from the findings"}


@dataclass
class FhirImport:
    """The case built from FHIR, and an account of every resource that did not make it in."""

    case: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    unmapped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    recorded_diagnoses: list[str] = field(default_factory=list)


def resources_in(document: Any) -> list[dict[str, Any]]:
    """The resources of a Bundle (searchset Bundles nested in it opened too), or the resource itself.

    Each is the document's own dict, read and never changed by the callers (copying each cost 1% of a CDS Hooks
    call's import); a copy only to add an entry's fullUrl (as ``__fullUrl``) or to make a dict of another Mapping.
    """
    if not isinstance(document, _OBJECT):
        return []
    if document.get("resourceType") != "Bundle":
        return [document if type(document) is dict else dict(document)] if "resourceType" in document else []
    found: list[dict[str, Any]] = []
    for entry in _list(document.get("entry")):
        if isinstance(entry, _OBJECT):
            resource = entry.get("resource")
            if isinstance(resource, _OBJECT):
                if resource.get("resourceType") == "Bundle":
                    found.extend(resources_in(resource))
                elif isinstance(entry.get("fullUrl"), str):
                    found.append({**resource, "__fullUrl": entry["fullUrl"]})
                else:
                    found.append(resource if type(resource) is dict else dict(resource))
    return found


def _where(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType', 'resource')}/{resource.get('id', '?')}"


def _is_number(value: Any) -> bool:
    """A JSON number (a boolean is an int to Python, not a number to JSON)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_float(number: float) -> float:
    """A JSON number as a float; an integer beyond any float is infinite, and so outside every range."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def _shown(value: Any) -> str:
    """A sender's value in a note, as JSON and cut short as a Problem shows it."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _listed(found: Iterable[Any]) -> list[str]:
    """Codes for a message, as text and sorted: a sender's codes may mix types (None, numbers), which do not sort."""
    return sorted(str(code) for code in found if code is not None and code != "")


def _content(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource without the Bundle entry's fullUrl that :func:`resources_in` adds to it."""
    return {key: value for key, value in resource.items() if key != "__fullUrl"}


def _code_label(concept: Any) -> str:
    first = next(iter(codes.codings_of(concept)), None)
    if first is None:
        text = concept.get("text") if isinstance(concept, _OBJECT) else None
        return f"text {text!r}" if text else "no code"
    return f"{first.get('system', '?')}|{first.get('code', '?')}"


def _list(value: Any) -> list[Any]:
    """A JSON array element, or nothing when the sender put something else there."""
    return value if isinstance(value, list) else []


def _map(value: Any) -> Mapping[str, Any]:
    """A JSON object element, or an empty one when the sender put something else there."""
    return value if isinstance(value, _OBJECT) else {}


def _ref(value: Any) -> str | None:
    """The reference of a Reference element, or None when it is absent or malformed."""
    if value is None:  # absent, the common case: decided before the Mapping ABC check
        return None
    reference = value.get("reference") if isinstance(value, _OBJECT) else None
    return reference if isinstance(reference, str) else None


class _Importer:
    def __init__(self, resources: Iterable[Mapping[str, Any]], patient_id: str | None, evaluation_date: str | None) -> None:
        self.out = FhirImport(case={})
        # in document order; the caller's own dicts, read and never changed: a resource the import would change or
        # tell apart by identity is copied (a copy of each resource cost 2% of the import)
        self.resources: list[dict[str, Any]] = []
        self.by_ref: dict[str, dict[str, Any]] = {}
        self.by_type: defaultdict[Any, list[dict[str, Any]]] = defaultdict(list)  # resourceType -> its resources, in order
        for resource in resources:
            if type(resource) is dict:  # exact type first: 0.5 us per call
                r = resource
            elif isinstance(resource, Mapping):
                r = dict(resource)
            else:
                self.out.unmapped["entry that is not a resource (no JSON object)"] += 1
                continue
            kind = r.get("resourceType")
            if "__fullUrl" in r and not isinstance(r["__fullUrl"], str):
                r = _content(r)  # not from resources_in, which writes only a Bundle entry's fullUrl string
            elif kind == "Patient":
                r = dict(r)  # the same Patient sent twice is two copies to _one_copy_per_patient, not one object
            try:
                self.by_type[kind].append(r)
            except TypeError:  # a list or object as resourceType
                self.out.unmapped[_NO_TYPE] += 1
                continue
            self.resources.append(r)
            rid = r.get("id")
            if isinstance(rid, str):
                self.by_ref[f"{kind}/{rid}"] = r
            if "__fullUrl" in r:
                self.by_ref[r["__fullUrl"]] = r
        for kind, found in self.by_type.items():
            if not isinstance(kind, str):  # absent, null, a number: of no type the import reads
                self.out.unmapped[_NO_TYPE] += len(found)
        if len(self.by_type.get("Patient", ())) > 1:
            self._one_copy_per_patient()
        self.patient = self._pick_patient(patient_id)
        self.evaluation_date = evaluation_date  # bounds the current values; None when unreadable (then a Problem)
        if evaluation_date is not None and partial_date(evaluation_date) != evaluation_date:
            self.out.problems.append(Problem("evaluation_date", evaluation_date, date_problem(evaluation_date) or EXPECTED))
            self.evaluation_date = None
        self.episodes: dict[str, dict[str, Any]] = {}  # key: Condition ref
        self.episode_by_encounter: dict[str, str] = {}
        self.focus_episodes: dict[str, dict[str, Any] | None] = {}  # Observation.focus reference -> its episode

    # ---------------------------------------------------------------- helpers
    def problem(self, resource: Mapping[str, Any], element: str, value: Any, message: str) -> None:
        self.out.problems.append(Problem(f"{_where(resource)}.{element}", value, message))

    def unreadable(self, resource: Mapping[str, Any], element: str, value: Any) -> bool:
        """Whether a date element is present but no real date (month 13, 30 February...); if so, a Problem names it."""
        problem = date_problem(value)
        if problem is None:
            return False
        self.problem(resource, element, value, problem)
        return True

    def unreadable_effective(self, resource: Mapping[str, Any]) -> bool:
        """:meth:`unreadable` for the effective[x] element an Observation's date is read from."""
        return self.unreadable(resource, *effective_element(resource))

    def well_formed(self, resource: Mapping[str, Any], element: str, codings: list[Mapping[str, Any]],
                    read: tuple[str, ...] = ("system", "code")) -> list[Mapping[str, Any]]:
        """The codings of ``element`` but the malformed ones (:func:`codes.malformed` on the ``read`` parts), each noted."""
        kept = []
        for coding in codings:
            if codes.malformed(coding, read):
                self.out.notes.append(f"{_where(resource)}.{element}: coding {_shown(coding)} has a list or object "
                                      f"as its {' or '.join(read)}; not read as a code")
            else:
                kept.append(coding)
        return kept

    def codes_in(self, resource: Mapping[str, Any], element: str) -> set[Any]:
        """The codes of a CodeableConcept element's codings once a set of them failed: a malformed code left out, noted."""
        codings = codes.codings_of(resource.get(element))
        return {c.get("code") for c in self.well_formed(resource, element, codings, ("code",))}

    def resolve(self, reference: str | None) -> dict[str, Any] | None:
        if reference is None:
            return None
        found = self.by_ref.get(reference)
        if found is not None:
            return found
        tail = "/".join(reference.rstrip("/").split("/")[-2:])  # absolute URL -> Type/id
        return self.by_ref.get(tail)

    def _one_copy_per_patient(self) -> None:
        """Keeps the first of the Patients that share an id, and points every reference to a later copy at it.

        A CDS client sends the patient in its own prefetch and often again in a
        search Bundle; two copies would be two patients, and every resource
        about the patient would seem to be about another.
        """
        first: dict[str, dict[str, Any]] = {}
        copies: set[int] = set()  # id() of the later copies
        for patient in self.by_type["Patient"]:
            rid = patient.get("id")
            original = first.setdefault(rid, patient) if isinstance(rid, str) else patient
            if original is patient:
                continue
            copies.add(id(patient))
            if _content(patient) != _content(original):
                self.out.notes.append(f"{_where(patient)} appears again with a different content; the first copy kept")
            for key, target in self.by_ref.items():
                if target is patient:
                    self.by_ref[key] = original
        if copies:
            self.by_type["Patient"] = [p for p in self.by_type["Patient"] if id(p) not in copies]
            self.resources = [r for r in self.resources if id(r) not in copies]

    def _pick_patient(self, patient_id: str | None) -> dict[str, Any] | None:
        patients = self.by_type.get("Patient", [])
        if patient_id is not None:
            chosen = [p for p in patients if p.get("id") == patient_id]
            if not chosen:
                self.out.notes.append(f"no Patient/{patient_id} among the resources: sex and birth date unknown")
            return chosen[0] if chosen else None
        if len(patients) > 1:
            self.out.problems.append(
                Problem("Bundle", [_where(p) for p in patients][:5], "holds several patients; name the one to import")
            )
            return None
        return patients[0] if patients else None

    def usable(self, resource: Mapping[str, Any]) -> bool:
        """A resource about the chosen patient (one with no subject is taken as about them), not withdrawn nor
        mastcds's own output; others are counted or noted. (One method, not two: a call less for each resource.)"""
        reference = _ref(resource.get("subject")) or _ref(resource.get("patient"))
        patient = self.patient
        # an exact reference to the patient, the usual one, is found without the call to resolve
        if not (reference is None or patient is None or self.by_ref.get(reference) is patient
                or self.resolve(reference) is patient):
            self.out.unmapped[f"{resource.get('resourceType')} about another or unresolvable subject"] += 1
            return False
        status = resource.get("status")
        if isinstance(status, str) and status in _SKIPPED_STATUSES:
            self.out.notes.append(f"{_where(resource)}: status {status}, not used")
            return False
        meta = resource.get("meta")
        if meta is None:
            return True
        tags = meta.get("tag") if isinstance(meta, _OBJECT) else None
        # a computed tag marks mastcds's own evaluation output, not a finding
        return not (isinstance(tags, list) and any(isinstance(t, _OBJECT) and t.get("system") == COMPUTED_TAG["system"]
                                                    for t in tags))

    # ---------------------------------------------------------------- patient
    def patient_section(self) -> dict[str, Any]:
        section: dict[str, Any] = {}
        if self.patient is None:
            return section
        gender = self.patient.get("gender")
        if gender in ("male", "female"):
            section["sex"] = gender
        elif gender is not None:
            self.out.notes.append(f"{_where(self.patient)}: gender {gender!r} is not a sex at birth; sex left unknown")
        birth = partial_date(self.patient.get("birthDate"))
        if birth is not None:
            section["birth_date"] = birth
        else:
            self.unreadable(self.patient, "birthDate", self.patient.get("birthDate"))
        return section

    # ---------------------------------------------------------------- conditions
    def conditions(self, case: dict[str, Any]) -> None:
        for resource in self.by_type.get("Condition", []):
            if not self.usable(resource):
                continue
            try:
                verification = {c.get("code") for c in codes.codings_of(resource.get("verificationStatus"))}
            except TypeError:  # a list or object as a code
                verification = self.codes_in(resource, "verificationStatus")
            if verification & _NOT_A_DIAGNOSIS:
                self.out.notes.append(f"{_where(resource)}: verification {', '.join(_listed(verification))}, not used")
                continue
            kind = codes.condition_kind(codes.codings_of(resource.get("code")))
            if kind is None:
                self.out.unmapped[f"Condition {_code_label(resource.get('code'))}"] += 1
                continue
            what, detail = kind
            if what == "anaphylaxis":
                self.episode(resource)
            elif what == "anaphylaxis-follow-up":
                self.out.notes.append(f"{_where(resource)}: {detail} is a later encounter for an episode, not a new one")
            elif what == "history-of-anaphylaxis":
                self.out.notes.append(f"{_where(resource)}: history of anaphylaxis recorded without episode dates")
                self.out.recorded_diagnoses.append("history of anaphylaxis")
            elif what == "mast-cell":
                self.out.recorded_diagnoses.append(detail)
            elif what == "neoplasm":
                previous = case.get("associated_hematologic_neoplasm")
                if previous is not None and previous != detail:
                    self.out.notes.append(f"{_where(resource)}: a second neoplasm {detail} besides {previous}; kept {previous}")
                else:
                    case["associated_hematologic_neoplasm"] = detail

    def episode(self, resource: dict[str, Any]) -> None:
        episode_id = None
        for identifier in _list(resource.get("identifier")):
            if isinstance(identifier, _OBJECT) and identifier.get("system") == codes.MASTCDS_EPISODE_ID:
                episode_id = identifier.get("value")
        episode_id = episode_id or resource.get("id") or f"condition-{len(self.episodes) + 1}"
        episode: dict[str, Any] = {"id": str(episode_id)}
        onset = partial_date(resource.get("onsetDateTime"))
        if onset is None and not self.unreadable(resource, "onsetDateTime", resource.get("onsetDateTime")) \
                and isinstance(resource.get("onsetPeriod"), Mapping):
            onset = partial_date(resource["onsetPeriod"].get("start"))
            if onset is None:
                self.unreadable(resource, "onsetPeriod.start", resource["onsetPeriod"].get("start"))
        if onset is not None:
            episode["date"] = onset
        else:
            self.out.notes.append(f"{_where(resource)}: anaphylaxis without an onset date")
        key = f"Condition/{resource.get('id')}"
        self.episodes[key] = episode
        if "__fullUrl" in resource:
            self.episodes[resource["__fullUrl"]] = episode
        encounter = _ref(resource.get("encounter"))
        if encounter is not None:
            self.episode_by_encounter[encounter] = key

    def linked_episode(self, resource: Mapping[str, Any]) -> dict[str, Any] | None:
        """The episode of an Observation: its first focus naming one, else its encounter's (the episodes all read)."""
        for focus in _list(resource.get("focus")):
            reference = _ref(focus)
            if reference is None:
                continue
            try:
                episode = self.focus_episodes[reference]
            except KeyError:  # each reference resolved once: most Observations of an episode name it (2% of the import)
                episode = self.focus_episodes[reference] = self.episode_named(reference)
            if episode is not None:
                return episode
        encounter = _ref(resource.get("encounter"))
        if encounter is not None and encounter in self.episode_by_encounter:
            return self.episodes[self.episode_by_encounter[encounter]]
        return None

    def episode_named(self, reference: str) -> dict[str, Any] | None:
        target = self.resolve(reference)
        if target is None:
            return None
        episode = self.episodes.get(f"Condition/{target.get('id')}")
        return self.episodes.get(target.get("__fullUrl")) if episode is None else episode

    # ---------------------------------------------------------------- observations
    def quantity(self, resource: Mapping[str, Any], element: str, quantity: Any,
                 test: str) -> tuple[float, str, float] | None:
        """(value, unit, value in the canonical unit) of a Quantity convertible for ``test``, or None after recording the problem."""
        number = quantity.get("value") if isinstance(quantity, _OBJECT) else None
        if not isinstance(number, (int, float)) or isinstance(number, bool):
            self.problem(resource, element, quantity, "expected a Quantity with a numeric value")
            return None
        spec = LAB_SPECS[test]
        try:
            value = float(number)
        except OverflowError:  # a JSON integer beyond any float, and so beyond every range
            self.problem(resource, f"{element}.value", number, f"{test} must lie in {spec.low:g}-{spec.high:g} {spec.canonical}")
            return None
        unit = quantity.get("code") if quantity.get("system") == codes.UCUM else None
        unit = unit or quantity.get("unit")
        if not isinstance(unit, str) or not unit:
            self.problem(resource, element, value, f"no unit; accepted UCUM units for {test}: {', '.join(accepted_units(test))}")
            return None
        try:
            canonical = to_canonical(test, value, unit)
        except UnitError as error:
            self.problem(resource, f"{element}.code", unit, f"unit not convertible for {test}; accepted: {', '.join(error.accepted)}")
            return None
        if not spec.low <= canonical <= spec.high:
            self.problem(resource, f"{element}.value", value,
                         f"{test} must lie in {spec.low:g}-{spec.high:g} {spec.canonical}")
            return None
        return value, unit, canonical

    def observations(self, case: dict[str, Any]) -> None:
        rows: list[dict[str, Any]] = []
        undated: dict[str, float | None] = {}
        for resource in self.by_type.get("Observation", []):
            if not self.usable(resource):
                continue
            codings = codes.codings_of(resource.get("code"))
            try:
                kind = codes.observation_kind(codings)
            except TypeError:  # a list or object as a coding's system or code (malformed): looked up without it
                codings = self.well_formed(resource, "code", codings)
                kind = codes.observation_kind(codings)
            if kind is None:
                self.out.unmapped[f"Observation {_code_label(resource.get('code'))}"] += 1
                continue
            what, detail = kind
            if what == "lab":
                self.lab(resource, detail, case, rows, undated)
            elif what == "kit-variant":
                self.kit_variant(resource, case)
            elif what == "blood-pressure":
                self.systolic_bp(resource, codings)
            else:
                self.finding(resource, detail)
        self.current_values(case, rows, undated)
        if rows:
            case["lab_results"] = rows

    def sample_context(self, resource: Mapping[str, Any]) -> str | None:
        for extension in _list(resource.get("extension")):
            if isinstance(extension, _OBJECT) and extension.get("url") == codes.EXT_SAMPLE_CONTEXT:
                value = extension.get("valueCode")
                if value in ("baseline", "acute", "unknown"):
                    return value
        return None

    def lab(self, resource: dict[str, Any], test: str, case: dict[str, Any],
            rows: list[dict[str, Any]], undated: dict[str, float | None]) -> None:
        date = effective_date(resource)
        if date is None and self.unreadable_effective(resource):
            return  # neither a dated row nor, as an undated value would be, the current value
        if date is None and "valueQuantity" not in resource and "dataAbsentReason" in resource:
            # mastcds's export: "the current value is unknown", although rows exist
            undated[test] = None
            return
        read = self.quantity(resource, "valueQuantity", resource.get("valueQuantity"), test)
        if read is None:
            return
        value, unit, canonical = read
        episode = self.linked_episode(resource)
        context = self.sample_context(resource)
        if test == "tryptase" and episode is not None:
            # an EHR's linked sample is both a series row and the episode's acute value;
            # mastcds's own export says which one it wrote (context extension)
            if context is None or date is None:
                peak = episode.get("acute_tryptase_ng_ml")
                episode["acute_tryptase_ng_ml"] = canonical if peak is None else max(peak, canonical)
            if date is None:
                return
            context = context or "acute"
        if date is None:
            if test in undated:
                self.out.notes.append(f"{_where(resource)}: a second undated {test}; the later one in the bundle kept")
            undated[test] = canonical
            return
        if test == "tryptase" and context is None:
            context = self.tryptase_context(resource, date)
        row: dict[str, Any] = {"test": test, "value": value, "unit": unit, "date": date}
        if context is not None:
            row["context"] = context
        if episode is not None:
            row["episode_id"] = episode["id"]
        rows.append(row)

    def tryptase_context(self, resource: Mapping[str, Any], date: str) -> str:
        if len(date) == 10:
            drawn = dt.date(*date_key(date))
            for episode in self.episodes.values():
                onset = episode.get("date")
                if onset is not None and len(onset) == 10 and 0 <= (drawn - dt.date(*date_key(onset))).days <= 1:
                    self.out.notes.append(
                        f"{_where(resource)}: tryptase drawn within a day of the episode of {onset}; context unknown"
                    )
                    return "unknown"
        return "baseline"

    def current_values(self, case: dict[str, Any], rows: list[dict[str, Any]], undated: dict[str, float | None]) -> None:
        rows_of: dict[str, list[dict[str, Any]]] = {}  # test -> its rows, in document order
        for row in rows:
            rows_of.setdefault(row["test"], []).append(row)
        labs: dict[str, Any] = {}
        for test, name in _LAB_FIELDS.items():
            if test in undated:
                labs[name] = undated[test]
                continue
            if test not in rows_of:
                continue
            row = current_row(usable_rows(test, rows_of[test]), self.evaluation_date)
            if row is not None:
                labs[name] = to_canonical(test, row["value"], row["unit"])
        if labs:
            case["labs"] = labs
        weight = undated.get("weight")
        if "weight" not in undated and "weight" in rows_of:
            row = current_row(usable_rows("weight", rows_of["weight"]), self.evaluation_date)
            weight = None if row is None else to_canonical("weight", row["value"], row["unit"])
        if weight is not None:
            case.setdefault("patient", {})["weight_kg"] = weight
        vaf = undated.get("kit_d816v_vaf")
        if vaf is not None:
            case.setdefault("molecular", {}).setdefault("kit_d816v_vaf_percent", vaf)

    def kit_variant(self, resource: dict[str, Any], case: dict[str, Any]) -> None:
        gene, change, vaf = None, None, None
        for component in _list(resource.get("component")):
            if not isinstance(component, _OBJECT):
                continue
            ccodes = codes.codings_of(component.get("code"))
            values = [str(c.get("code", "")) for c in codes.codings_of(component.get("valueCodeableConcept"))]
            text = component.get("valueString") or _map(component.get("valueCodeableConcept")).get("text")
            if codes.GENE_STUDIED.in_codings(ccodes):
                gene = codes.KIT_GENE.code if codes.KIT_GENE.code in values or text == "KIT" else (values or [text])[0]
            elif codes.AMINO_ACID_CHANGE.in_codings(ccodes):
                change = (values or [text])[0]
            elif codes.LAB_TESTS["kit_d816v_vaf"].in_codings(ccodes):
                quantity = component.get("valueQuantity")
                if isinstance(quantity, _OBJECT) and quantity.get("code") == "1" and _is_number(quantity.get("value")):
                    # a decimal fraction (UCUM "1"), as the Genomics Reporting IG allows
                    if 0 <= quantity["value"] <= 1:
                        vaf = round(float(quantity["value"]) * 100, 10)
                    else:
                        self.problem(resource, "component.valueQuantity.value", quantity["value"],
                                     "a variant allele fraction (unit 1) must lie in 0-1")
                else:
                    read = self.quantity(resource, "component.valueQuantity", quantity, "kit_d816v_vaf")
                    if read is not None:
                        vaf = read[2]
        short = (change or "").split(":")[-1]
        if gene != codes.KIT_GENE.code or short not in (codes.KIT_D816V_PROTEIN_CHANGE, "p.D816V"):
            self.out.unmapped[f"Observation {codes.VARIANT_ASSESSMENT.code} gene {gene} change {change}"] += 1
            return
        try:
            present = {c.get("code") for c in codes.codings_of(resource.get("valueCodeableConcept"))}
        except TypeError:  # a list or object as a code
            present = self.codes_in(resource, "valueCodeableConcept")
        if codes.PRESENT.code in present:
            status = "detected"
        elif codes.ABSENT.code in present:
            status = "not_detected"
        else:
            self.problem(resource, "valueCodeableConcept", _listed(present),
                         f"expected {codes.PRESENT.code} Present or {codes.ABSENT.code} Absent")
            return
        date = effective_date(resource)
        if date is None and self.unreadable_effective(resource):
            return  # a result of unknown date cannot be ordered against the others
        date = date or ""
        molecular = case.setdefault("molecular", {})
        if molecular.get("_date", "") > date:
            self.out.notes.append(f"{_where(resource)}: an older KIT D816V result; the latest kept")
            return
        molecular.update({"_date": date, "kit_d816v": status})
        if vaf is not None:
            molecular["kit_d816v_vaf_percent"] = vaf
        sample = self.specimen_kind(resource)
        if sample is not None:
            molecular["kit_d816v_sample"] = sample

    def specimen_kind(self, resource: Mapping[str, Any]) -> str | None:
        reference = _ref(resource.get("specimen"))
        if reference is None:
            return None
        specimen = None
        if reference.startswith("#"):
            specimen = next((c for c in _list(resource.get("contained"))
                             if isinstance(c, _OBJECT) and c.get("id") == reference[1:]), None)
        else:
            specimen = self.resolve(reference)
        for coding in codes.codings_of(_map(specimen).get("type")):
            for kind, code in codes.SPECIMEN_TYPES.items():
                if code.matches(coding):
                    return kind
        self.out.unmapped[f"Specimen {_code_label(_map(specimen).get('type'))}"] += 1
        return None

    def systolic_bp(self, resource: Mapping[str, Any], codings: list[Mapping[str, Any]]) -> None:
        quantity = resource.get("valueQuantity") if codes.SYSTOLIC_BP.in_codings(codings) else None
        for component in _list(resource.get("component")):
            if isinstance(component, _OBJECT) and codes.SYSTOLIC_BP.in_codings(codes.codings_of(component.get("code"))):
                quantity = component.get("valueQuantity")
        episode = self.linked_episode(resource)
        if quantity is None:
            return
        if episode is None:
            self.out.notes.append(f"{_where(resource)}: systolic blood pressure not linked to an anaphylaxis episode, not used")
            return
        unit = quantity.get("code") or quantity.get("unit") if isinstance(quantity, _OBJECT) else None
        value = quantity.get("value") if isinstance(quantity, _OBJECT) else None
        if unit not in (codes.MMHG, "mmHg") or not isinstance(value, (int, float)) or isinstance(value, bool):
            self.problem(resource, "valueQuantity", quantity, f"expected a systolic pressure in {codes.MMHG}")
            return
        if not _SYSTOLIC_RANGE[0] <= value <= _SYSTOLIC_RANGE[1]:
            self.problem(resource, "valueQuantity.value", value, "systolic pressure must lie in 0-300 mm[Hg]")
            return
        lowest = episode.get("systolic_bp_mmhg")
        episode["systolic_bp_mmhg"] = float(value) if lowest is None else min(lowest, float(value))

    def finding(self, resource: Mapping[str, Any], field_name: str) -> None:
        episode = self.linked_episode(resource)
        if episode is None:
            self.out.notes.append(f"{_where(resource)}: {field_name} not linked to an anaphylaxis episode, not used")
            return
        value = resource.get("valueBoolean")
        if isinstance(value, bool):
            episode[field_name] = value
            return
        try:
            present = {c.get("code") for c in codes.codings_of(resource.get("valueCodeableConcept"))}
        except TypeError:  # a list or object as a code
            present = self.codes_in(resource, "valueCodeableConcept")
        if codes.PRESENT.code in present:
            episode[field_name] = True
        elif codes.ABSENT.code in present:
            episode[field_name] = False
        else:
            self.problem(resource, "value[x]", _listed(present),
                         f"expected {codes.PRESENT.code} Present, {codes.ABSENT.code} Absent or a boolean")

    # ---------------------------------------------------------------- medications
    def medications(self, case: dict[str, Any]) -> None:
        if not any(kind in self.by_type for kind in _MEDICATION_TYPES):
            return
        treatments: list[dict[str, Any]] = []
        for resource in self.resources:  # both kinds, in document order
            if resource.get("resourceType") not in _MEDICATION_TYPES:
                continue
            if not self.usable(resource):
                continue
            concept = resource.get("medicationCodeableConcept")
            if concept is None:
                medication = self.resolve(_ref(resource.get("medicationReference")))
                concept = _map(medication).get("code")
            drug = self.drug_name(concept)
            if drug is None:
                self.out.unmapped[f"{resource['resourceType']} {_code_label(concept)}"] += 1
                continue
            treatment = self.treatment(resource, drug)
            if treatment is not None:
                treatments.append(treatment)
        if treatments:
            case["treatments"] = treatments

    def drug_name(self, concept: Any) -> str | None:
        for coding in codes.codings_of(concept):
            if coding.get("system") == codes.MASTCDS_DRUG and isinstance(coding.get("code"), str):
                return coding["code"]
        text = concept.get("text") if isinstance(concept, _OBJECT) else None
        return codes.drug_for(codes.codings_of(concept), text)

    def treatment(self, resource: Mapping[str, Any], drug: str) -> dict[str, Any] | None:
        period = _map(resource.get("effectivePeriod"))
        # the first of these the sender wrote is the start; an unreadable start or end leaves the
        # treatment out (with the Problem) rather than moving its start or making it ongoing
        for element, value in (("effectivePeriod.start", period.get("start")),
                               ("effectiveDateTime", resource.get("effectiveDateTime")), ("authoredOn", resource.get("authoredOn"))):
            if value is not None:
                break
        start, end = partial_date(value), partial_date(period.get("end"))
        if (start is None and self.unreadable(resource, element, value)) or \
                (end is None and self.unreadable(resource, "effectivePeriod.end", period.get("end"))):
            return None
        if start is None:
            self.out.notes.append(f"{_where(resource)}: {drug} without a start date, not used")
            return None
        treatment: dict[str, Any] = {"drug": drug, "start_date": start}
        if end is not None:
            treatment["end_date"] = end
        dosage = first_dosage(resource)
        dose = self.dose_mg(resource, dosage)
        if dose is not None:
            treatment["dose_mg"] = dose
        interval = self.interval(dosage)
        if interval is not None:
            treatment["interval"] = interval
        for reason in _list(resource.get("reasonCode")):
            if isinstance(reason, _OBJECT) and (reason.get("text") or codes.codings_of(reason)):
                indication = reason.get("text") or codes.codings_of(reason)[0].get("display")
                if indication is not None and not isinstance(indication, str):
                    self.out.notes.append(f"{_where(resource)}.reasonCode: {_shown(indication)} is no text; indication left unknown")
                    indication = None
                treatment["indication"] = indication
                break
        return treatment

    def dose_mg(self, resource: Mapping[str, Any], dosage: Mapping[str, Any]) -> float | None:
        dose, unread = dosage_dose_mg(dosage)
        if unread is not None:
            self.out.notes.append(f"{_where(resource)}: dose {unread} is not a mass; dose left unknown")
        if dose is not None and not _DOSE_RANGE[0] <= dose <= _DOSE_RANGE[1]:
            element = "dosage" if "dosage" in resource else "dosageInstruction"
            self.problem(resource, f"{element}.doseAndRate.doseQuantity.value", dose,
                         f"a dose must lie in {_DOSE_RANGE[0]:g}-{_DOSE_RANGE[1]:g} mg")
            return None
        return dose

    def interval(self, dosage: Mapping[str, Any]) -> str | None:
        return dosage_interval(dosage)


def first_dosage(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    """The first Dosage of a MedicationStatement (dosage) or MedicationRequest (dosageInstruction)."""
    dosages = resource.get("dosage") or _list(resource.get("dosageInstruction"))
    return dosages[0] if isinstance(dosages, list) and dosages and isinstance(dosages[0], _OBJECT) else {}


def dosage_dose_mg(dosage: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """(dose in mg, None), or (None, "value unit") for a dose that is not a mass, or (None, None)."""
    dose_and_rate = dosage.get("doseAndRate")
    if isinstance(dose_and_rate, _OBJECT):  # seen in the CDS Hooks library's own order-select example
        dose_and_rate = [dose_and_rate]
    for item in _list(dose_and_rate):
        quantity = item.get("doseQuantity") if isinstance(item, _OBJECT) else None
        if not isinstance(quantity, _OBJECT):
            continue
        unit = quantity.get("code") or quantity.get("unit")
        value = quantity.get("value")
        if isinstance(unit, str) and unit in _MG_PER_UNIT and _is_number(value):
            return _as_float(value) * _MG_PER_UNIT[unit], None
        return None, f"{value} {unit}"
    return None, None


def dosage_interval(dosage: Mapping[str, Any]) -> str | None:
    """The case's interval words (q4w, daily, prn...) for a Dosage, else its text."""
    if dosage.get("asNeededBoolean") is True:
        return "prn"
    repeat = _map(_map(dosage.get("timing")).get("repeat"))
    try:
        interval = _INTERVALS.get((repeat.get("frequency", 1), repeat.get("period"), repeat.get("periodUnit")))
    except TypeError:  # a list or object in the repeat: no interval of the table
        interval = None
    if interval is not None:
        return interval
    text = dosage.get("text")
    return text if isinstance(text, str) and text else None


def _overlay(merged: dict[str, Any], fhir: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """The case document with the FHIR values laid over it (FHIR wins; each replaced value is noted).

    ``merged`` is changed in place: the caller passes a document of its own.
    """
    for key, value in fhir.items():
        if key == "episodes":
            by_id = {e.get("id"): e for e in merged.get("episodes", []) if isinstance(e, dict)}
            for episode in value:
                if episode["id"] in by_id:
                    target = by_id[episode["id"]]
                    for field_name, item in episode.items():
                        if target.get(field_name) not in (None, item):
                            notes.append(f"episodes[{episode['id']}].{field_name}: FHIR {item!r} replaces {target[field_name]!r}")
                        target[field_name] = item
                else:
                    merged.setdefault("episodes", []).append(episode)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            for field_name, item in value.items():
                if merged[key].get(field_name) not in (None, item):
                    notes.append(f"{key}.{field_name}: FHIR {item!r} replaces {merged[key][field_name]!r}")
                merged[key][field_name] = item
        else:
            if key in ("lab_results", "treatments") and merged.get(key):
                notes.append(f"{key}: the {len(value)} from FHIR replace the case document's {len(merged[key])}")
            elif merged.get(key) not in (None, value) and not isinstance(value, list):
                notes.append(f"{key}: FHIR {value!r} replaces {merged[key]!r}")
            merged[key] = value
    return merged


def case_from_resources(
    resources: Iterable[Mapping[str, Any]],
    *,
    patient_id: str | None = None,
    base_case: Mapping[str, Any] | None = None,
    evaluation_date: str | None = None,
    today: str | None = None,
) -> FhirImport:
    """A mastcds-case/1 document from FHIR resources, laid over ``base_case`` when given.

    ``evaluation_date`` (default: the base case's) bounds which lab row is the
    current value (one that is no date is a Problem and bounds nothing);
    ``today`` (a full date) is the day the age is computed on when the case
    has no evaluation date (the CDS service passes it).
    Raises :class:`mastcds.case.CaseError` only if ``base_case`` itself is invalid.
    """
    if base_case is not None:
        load_case(dict(base_case))  # the base must be valid on its own
    evaluation_date = evaluation_date or (base_case or {}).get("evaluation_date")
    importer = _Importer(resources, patient_id, evaluation_date)
    fhir: dict[str, Any] = {}
    patient = importer.patient_section()
    if patient:
        fhir["patient"] = patient
    importer.conditions(fhir)
    importer.observations(fhir)
    importer.medications(fhir)
    episodes = [e for key, e in importer.episodes.items() if key.startswith("Condition/")]
    if episodes:
        fhir["episodes"] = episodes
    if "molecular" in fhir:
        fhir["molecular"].pop("_date", None)
    out = importer.out
    # the returned case shares nothing with the caller's objects: the base case, the
    # identifier value and the evaluation date go in as copies (a new base needs none)
    base = copy.deepcopy(dict(base_case)) if base_case is not None else {"schema": CASE_SCHEMA_ID, "patient": {}}
    if base.get("id") is None and importer.patient is not None and isinstance(importer.patient.get("id"), str):
        base["id"] = importer.patient["id"]
        for identifier in _list(importer.patient.get("identifier")):
            if isinstance(identifier, _OBJECT) and identifier.get("system") == codes.MASTCDS_CASE_ID:
                base["id"] = copy.deepcopy(identifier.get("value"))
    if evaluation_date is not None:
        base["evaluation_date"] = copy.deepcopy(evaluation_date)
    case = _overlay(base, fhir, out.notes)
    patient_section = case.setdefault("patient", {})
    if patient_section.get("age_years") is None:
        on = importer.evaluation_date if case.get("evaluation_date") else today  # no age on an unreadable date
        age = completed_years(patient_section.get("birth_date"), on)
        if age is not None:
            patient_section["age_years"] = age
    out.case = case
    return out


def case_from_bundle(bundle: Mapping[str, Any], **options: Any) -> FhirImport:
    """:func:`case_from_resources` over the resources of a Bundle."""
    if not isinstance(bundle, _OBJECT) or bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType") if isinstance(bundle, _OBJECT) else type(bundle).__name__
        result = FhirImport(case={})
        result.problems.append(Problem("resourceType", found, "expected a FHIR Bundle"))
        return result
    return case_from_resources(resources_in(bundle), **options)

"""What every FHIR mapper shares: the resources indexed by type and reference, the chosen patient, and the account.

:class:`ImportContext` holds the resources of one import and the
:class:`FhirImport` account that every mapper (``read/patient.py``,
``condition.py``, ``observation.py``, ``findings.py``, ``medication.py``,
``allergy.py``, ``report.py``) writes to: a value that cannot be used is a
:class:`Problem` naming the resource, a code mastcds does not read is counted
in ``unmapped``, a decision the mapping took is a note. Nothing is dropped
silently.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mastcds.case import Problem
from mastcds.fhir import codes
from mastcds.fhir.dates import EXPECTED, date_problem, effective_element, partial_date
from mastcds.units import LAB_SPECS, UnitError, accepted_units, to_canonical

# isinstance(x, OBJECT): the C check of dict first (the ABC check alone took 3% of a CDS Hooks call), with
# the tuple made once rather than built at each check (4.5% of the import)
OBJECT = (dict, Mapping)
_NO_TYPE = "resource whose resourceType is not a string"
_SKIPPED_STATUSES = {"entered-in-error", "cancelled", "registered", "not-taken", "draft"}
# Resource types a mapper reads (Specimen and Medication through the references to them)
READ_TYPES = frozenset({"Patient", "Observation", "Condition", "MedicationStatement", "MedicationRequest",
                        "MedicationAdministration", "AllergyIntolerance", "DiagnosticReport", "Specimen", "Medication"})
COMPUTED_TAG = {"system": f"{codes.MASTCDS_CANONICAL}/CodeSystem/provenance", "code": "computed",
                "display": "Computed by mastcds from the findings"}


@dataclass
class FhirImport:
    """The case built from FHIR, and an account of every resource that did not make it in.

    ``fatal``: the document as a whole cannot be imported (not a Bundle,
    several patients, an evaluation date that is no date). ``problems``: one
    value of one resource that cannot be used (a unit that does not convert, a
    value out of range, a date that is no date), each naming its resource; the
    rest of the Bundle is imported. ``unmapped``: what mastcds does not read,
    counted by resource type and code. ``read``: the resources used, by type.
    """

    case: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    unmapped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    recorded_diagnoses: list[str] = field(default_factory=list)
    recorded_allergies: list[str] = field(default_factory=list)
    fatal: list[Problem] = field(default_factory=list)
    read: Counter[str] = field(default_factory=Counter)


def resources_in(document: Any) -> list[dict[str, Any]]:
    """The resources of a Bundle (searchset Bundles nested in it opened too), or the resource itself.

    Each is the document's own dict, read and never changed by the callers (copying each cost 1% of a CDS Hooks
    call's import); a copy only to add an entry's fullUrl (as ``__fullUrl``) or to make a dict of another Mapping.
    """
    if not isinstance(document, OBJECT):
        return []
    if document.get("resourceType") != "Bundle":
        return [document if type(document) is dict else dict(document)] if "resourceType" in document else []
    found: list[dict[str, Any]] = []
    for entry in as_list(document.get("entry")):
        if isinstance(entry, OBJECT):
            resource = entry.get("resource")
            if isinstance(resource, OBJECT):
                if resource.get("resourceType") == "Bundle":
                    found.extend(resources_in(resource))
                elif isinstance(entry.get("fullUrl"), str):
                    found.append({**resource, "__fullUrl": entry["fullUrl"]})
                else:
                    found.append(resource if type(resource) is dict else dict(resource))
    return found


def is_computed(resource: Mapping[str, Any]) -> bool:
    """Whether a resource is mastcds's own evaluation output (tagged computed), not a finding."""
    meta = resource.get("meta")
    tags = meta.get("tag") if isinstance(meta, OBJECT) else None
    return isinstance(tags, list) and any(isinstance(t, OBJECT) and t.get("system") == COMPUTED_TAG["system"]
                                          for t in tags)


def where(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType', 'resource')}/{resource.get('id', '?')}"


def is_number(value: Any) -> bool:
    """A JSON number (a boolean is an int to Python, not a number to JSON)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def as_float(number: float) -> float:
    """A JSON number as a float; an integer beyond any float is infinite, and so outside every range."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def shown(value: Any) -> str:
    """A sender's value in a note, as JSON and cut short as a Problem shows it."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def listed(found: Iterable[Any]) -> list[str]:
    """Codes for a message, as text and sorted: a sender's codes may mix types (None, numbers), which do not sort."""
    return sorted(str(code) for code in found if code is not None and code != "")


def content(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource without the Bundle entry's fullUrl that :func:`resources_in` adds to it."""
    return {key: value for key, value in resource.items() if key != "__fullUrl"}


def code_label(concept: Any) -> str:
    first = next(iter(codes.codings_of(concept)), None)
    if first is None:
        text = concept.get("text") if isinstance(concept, OBJECT) else None
        return f"text {text!r}" if text else "no code"
    return f"{first.get('system', '?')}|{first.get('code', '?')}"


def as_list(value: Any) -> list[Any]:
    """A JSON array element, or nothing when the sender put something else there."""
    return value if isinstance(value, list) else []


def as_map(value: Any) -> Mapping[str, Any]:
    """A JSON object element, or an empty one when the sender put something else there."""
    return value if isinstance(value, OBJECT) else {}


def ref(value: Any) -> str | None:
    """The reference of a Reference element, or None when it is absent or malformed."""
    if value is None:  # absent, the common case: decided before the Mapping ABC check
        return None
    reference = value.get("reference") if isinstance(value, OBJECT) else None
    return reference if isinstance(reference, str) else None


class ImportContext:
    """The resources of one import, indexed, and the account the mappers write to."""

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
                r = content(r)  # not from resources_in, which writes only a Bundle entry's fullUrl string
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
        self.evaluation_date_given = evaluation_date is not None  # by the caller: the Bundle's own is then ignored
        self.explicitly_unknown: set[str] = set()  # field paths an Observation gives as unknown (dataAbsentReason)
        if evaluation_date is not None and partial_date(evaluation_date) != evaluation_date:
            self.out.fatal.append(Problem("evaluation_date", evaluation_date, date_problem(evaluation_date) or EXPECTED))
            self.evaluation_date = None
        self.episodes: dict[str, dict[str, Any]] = {}  # key: Condition ref
        self.episode_keys: dict[int, str] = {}  # id() of an episode -> its Condition's id
        self.episode_by_encounter: dict[str, str] = {}
        self.focus_episodes: dict[str, dict[str, Any] | None] = {}  # Observation.focus reference -> its episode
        self.computed = 0  # resources of a mastcds evaluation (tagged computed), left out

    def count_unread_types(self) -> None:
        """Counts in ``unmapped`` every resource of a type no mapper reads (Encounter, Procedure, Immunization...)."""
        for kind, found in self.by_type.items():
            if isinstance(kind, str) and kind not in READ_TYPES:
                for resource in found:
                    if is_computed(resource):
                        self.computed += 1
                    else:
                        self.out.unmapped[f"{kind} (a resource type mastcds does not read)"] += 1
        if self.computed:
            self.out.notes.append(f"{self.computed} resource(s) of a mastcds evaluation (tagged computed) left out: "
                                  "conclusions are not findings")

    def withdrawn(self, resource: Mapping[str, Any], refused: frozenset[str]) -> bool:
        """Whether the resource's verificationStatus is one of ``refused`` (refuted, entered-in-error); if so, noted."""
        try:
            verification = {c.get("code") for c in codes.codings_of(resource.get("verificationStatus"))}
        except TypeError:  # a list or object as a code
            verification = self.codes_in(resource, "verificationStatus")
        if verification & refused:
            self.out.notes.append(f"{where(resource)}: verification {', '.join(listed(verification))}, not used")
            return True
        return False

    def same_day_episode(self, when: str | None) -> dict[str, Any] | None:
        """The one anaphylaxis episode of that full date, or None (no date, a partial date, none or several)."""
        if when is None or len(when) != 10:
            return None
        same = [e for key, e in self.episodes.items() if key.startswith("Condition/") and e.get("date") == when]
        return same[0] if len(same) == 1 else None

    def problem(self, resource: Mapping[str, Any], element: str, value: Any, message: str) -> None:
        self.out.problems.append(Problem(f"{where(resource)}.{element}", value, message))

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
                self.out.notes.append(f"{where(resource)}.{element}: coding {shown(coding)} has a list or object "
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
            if content(patient) != content(original):
                self.out.notes.append(f"{where(patient)} appears again with a different content; the first copy kept")
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
            self.out.fatal.append(
                Problem("Bundle", [where(p) for p in patients][:5], "holds several patients; name the one to import")
            )
            return None
        return patients[0] if patients else None

    def usable(self, resource: Mapping[str, Any]) -> bool:
        """A resource about the chosen patient (one with no subject is taken as about them), not withdrawn nor
        mastcds's own output; others are counted or noted. (One method, not two: a call less for each resource.)"""
        reference = ref(resource.get("subject")) or ref(resource.get("patient"))
        patient = self.patient
        # an exact reference to the patient, the usual one, is found without the call to resolve
        if not (reference is None or patient is None or self.by_ref.get(reference) is patient
                or self.resolve(reference) is patient):
            self.out.unmapped[f"{resource.get('resourceType')} about another or unresolvable subject"] += 1
            return False
        status = resource.get("status")
        if isinstance(status, str) and status in _SKIPPED_STATUSES:
            self.out.notes.append(f"{where(resource)}: status {status}, not used")
            return False
        if resource.get("meta") is not None and is_computed(resource):
            self.computed += 1
            return False
        return True

    def linked_episode(self, resource: Mapping[str, Any]) -> dict[str, Any] | None:
        """The episode of an Observation: its first focus naming one, else its encounter's (the episodes all read)."""
        for focus in as_list(resource.get("focus")):
            reference = ref(focus)
            if reference is None:
                continue
            try:
                episode = self.focus_episodes[reference]
            except KeyError:  # each reference resolved once: most Observations of an episode name it (2% of the import)
                episode = self.focus_episodes[reference] = self.episode_named(reference)
            if episode is not None:
                return episode
        encounter = ref(resource.get("encounter"))
        if encounter is not None and encounter in self.episode_by_encounter:
            return self.episodes[self.episode_by_encounter[encounter]]
        return None

    def episode_named(self, reference: str) -> dict[str, Any] | None:
        target = self.resolve(reference)
        if target is None:
            return None
        episode = self.episodes.get(f"Condition/{target.get('id')}")
        return self.episodes.get(target.get("__fullUrl")) if episode is None else episode

    def quantity(self, resource: Mapping[str, Any], element: str, quantity: Any,
                 test: str) -> tuple[float, str, float] | None:
        """(value, unit, value in the canonical unit) of a Quantity convertible for ``test``, or None after recording the problem."""
        number = quantity.get("value") if isinstance(quantity, OBJECT) else None
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
            self.problem(resource, f"{element}.code", unit, f"unit not convertible for {test}; accepted: {', '.join(error.accepted)}"
                         " and every UCUM spelling or power-of-ten multiple of them")
            return None
        text = quantity.get("unit")
        if isinstance(text, str) and text != unit:
            # the sender's own spelling (mastcds's export writes the case's unit there) when it means the same
            try:
                if to_canonical(test, value, text) == canonical:
                    unit = text
            except UnitError:
                pass
        if not spec.low <= canonical <= spec.high:
            self.problem(resource, f"{element}.value", value,
                         f"{test} must lie in {spec.low:g}-{spec.high:g} {spec.canonical}")
            return None
        return value, unit, canonical

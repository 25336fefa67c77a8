"""Synthetic FHIR Bulk Data exports with planted screening cases and a ground-truth file.

Each patient follows one profile: background (most), a planted positive for one screening rule,
or a planted negative that looks close (urticarial anaphylaxis, tryptase 19.9, diagnosed SM...).
Planted patients carry the exact set of rules expected to fire, so a test can check that every one
is found and no negative is flagged. Resources are written as NDJSON text from templates (not
dicts) so a million patients take about a minute.

The export's shape (``SHAPES``) sets what the background patients have:

* ``mixed``: 6-12 common lab results each, a few tryptases (the original benchmark export);
* ``vitals``: a health system's export, dominated by US Core vital signs (about 40 per patient,
  blood pressure as a panel with components, about 25 kB of NDJSON per patient);
* ``dense``: every patient has 10 results of tests near the screening (tryptase, IgE, haemoglobin,
  platelets, ALP, weight, systolic pressure) at random dates and 5% an anaphylaxis episode with
  urticaria, so most patients have a screening row (the stress case).
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from mastcds.fhir.codes import BP_PANEL
from mastcds.screen import codes as C

GROUND_TRUTH = "ground_truth.json"
SHAPES = ("mixed", "vitals", "dense")
RESOURCE_TYPES = ("Patient", "Condition", "Observation")
MALFORMED_PER_FILE_MIN = 2
MALFORMED_PER_PATIENTS = 200_000  # one more malformed line per file for every this many patients


@dataclass(frozen=True)
class Profile:
    name: str
    rate: float  # fraction of all patients
    expected: tuple[str, ...]  # screening rules that must fire (empty: must not be flagged)


# Rule ids are those of mastcds.screen.rules; rates are per patient.
PROFILES = (
    Profile("recurrent-anaphylaxis", 0.002, ("recurrent-anaphylaxis-no-baseline-tryptase",)),
    # REMA is >= 2 here whatever the tryptase: no skin signs +1, syncope +3, sex and tryptase at worst -2.
    Profile("syncope-without-skin", 0.001, ("recurrent-anaphylaxis-no-baseline-tryptase", "rema-2-or-more")),
    Profile("high-baseline-tryptase", 0.002, ("baseline-tryptase-above-limit-no-sm",)),
    Profile("hat-adjusted-high", 0.0005, ("baseline-tryptase-above-limit-no-sm",)),
    Profile("rema-high", 0.001, ("rema-2-or-more",)),
    Profile("event-tryptase-rise", 0.001, ("event-tryptase-20-plus-2-no-workup",)),
    Profile("venom-hypotension", 0.001, ("venom-anaphylaxis-with-hypotension",)),
    Profile("urticarial-anaphylaxis", 0.002, ()),
    Profile("tryptase-19.9", 0.001, ()),
    Profile("diagnosed-sm", 0.001, ()),
    Profile("rise-below-threshold", 0.001, ()),
    Profile("rise-worked-up", 0.0005, ()),
    Profile("venom-normotensive", 0.001, ()),
    Profile("hat-adjusted-normal", 0.0005, ()),
)

_EPOCH = datetime(2015, 1, 1, tzinfo=timezone.utc)
_ABSENT = f'{{"coding":[{{"system":"{C.LOINC}","code":"{C.ABSENT.code}"}}]}}'
_PRESENT = f'{{"coding":[{{"system":"{C.LOINC}","code":"{C.PRESENT.code}"}}]}}'
_BACKGROUND_LABS = (  # (LOINC, UCUM, low, high): common results that bulk up a real export
    ("29463-7", "kg", 45, 110), ("718-7", "g/dL", 11, 17), ("777-3", "10*3/uL", 150, 400),
    ("8480-6", "mm[Hg]", 100, 150), ("6768-6", "U/L", 40, 120), ("19113-0", "[IU]/mL", 5, 300),
)
# The reviewer's stress export: tests a clinical engine reads, at random dates (LOINC, UCUM, low, high).
_DENSE_LABS = (
    (C.TRYPTASE.code, "ng/mL", 1.5, 11), ("19113-0", "[IU]/mL", 5, 300), ("718-7", "g/dL", 11, 17),
    ("777-3", "10*3/uL", 150, 400), ("6768-6", "U/L", 40, 120), ("29463-7", "kg", 45, 110),
    (C.SYSTOLIC_BP.code, "mm[Hg]", 100, 150),
)
_US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-"
_UCUM = "http://unitsofmeasure.org"
# US Core vital signs: LOINC, display, UCUM, profile; then the plausible range the values are drawn from.
_VITAL_SIGNS = (
    ("8867-4", "Heart rate", "/min", "heart-rate", 55, 110), ("9279-1", "Respiratory rate", "/min", "respiratory-rate", 12, 22),
    ("8310-5", "Body temperature", "Cel", "body-temperature", 36.1, 37.8),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "pulse-oximetry", 94, 100),
    ("29463-7", "Body weight", "kg", "body-weight", 45, 110), ("8302-2", "Body height", "cm", "body-height", 150, 195),
    ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "bmi", 18, 35),
)
_VITALS = tuple((loinc, low, high) for loinc, _d, _u, _p, low, high in _VITAL_SIGNS)


def _vital_template(profile: str, loinc: str, display: str, value: str) -> str:
    """An Observation line as a str.format template (fields oid, pid, stamp and those in ``value``)."""
    return ('{{"resourceType":"Observation","id":"{oid}","meta":{{"profile":["' + _US_CORE + profile + '"]}},'
            '"status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category",'
            '"code":"vital-signs","display":"Vital Signs"}}],"text":"Vital Signs"}}],"code":{{"coding":[{{"system":"'
            + C.LOINC + '","code":"' + loinc + '","display":"' + display + '"}}],"text":"' + display + '"}},'
            '"subject":{{"reference":"Patient/{pid}"}},{stamp},' + value + '}}')


def _quantity_template(field: str, unit: str) -> str:
    return '"valueQuantity":{{"value":{' + field + '},"unit":"' + unit + '","system":"' + _UCUM + '","code":"' + unit + '"}}'


_VITAL_TEMPLATES = tuple(_vital_template(profile, loinc, display, _quantity_template("value", unit))
                         for loinc, display, unit, profile, _low, _high in _VITAL_SIGNS)
_BP_TEMPLATE = _vital_template("blood-pressure", BP_PANEL.code, BP_PANEL.display, '"component":[' + ",".join(
    '{{"code":{{"coding":[{{"system":"' + C.LOINC + '","code":"' + code + '","display":"' + name + '"}}]}},'
    + _quantity_template(field, "mm[Hg]") + "}}"
    for code, name, field in ((C.SYSTOLIC_BP.code, "Systolic blood pressure", "systolic"),
                              ("8462-4", "Diastolic blood pressure", "diastolic"))) + "]")


def _visit_stamp(pid: str, moment: datetime) -> str:
    """The encounter, effective and issued elements of the results of one visit."""
    return (f'"encounter":{{"reference":"Encounter/e{pid}-{moment:%Y%m%d}"}},"effectiveDateTime":"{_when(moment)}",'
            f'"issued":"{_when(moment + timedelta(minutes=5))}"')


_BACKGROUND_CONDITIONS = (("I10", "Essential (primary) hypertension"), ("E11.9", "Type 2 diabetes mellitus without complications"),
                          ("J45.909", "Unspecified asthma, uncomplicated"))


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Writer:
    """Builds one patient's lines per resource type, numbering them as the files will."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.lines: dict[str, list[str]] = {t: [] for t in RESOURCE_TYPES}
        self.counts = dict.fromkeys(RESOURCE_TYPES, 0)
        self.serial = 0
        self.malformed: list[dict] = []

    def add(self, resource_type: str, line: str) -> None:
        self.lines[resource_type].append(line)
        self.counts[resource_type] += 1

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def garbage(self, resource_type: str) -> None:
        """A truncated line, as a crashed exporter leaves it; recorded with its line number."""
        self.add(resource_type, f'{{"resourceType":"{resource_type}","id":"broken-{self.serial}","sub')
        self.malformed.append({"file": f"{resource_type}.ndjson", "line": self.counts[resource_type]})

    # -- resources -------------------------------------------------------------------------
    def patient(self, pid: str, gender: str | None, birth: str | None) -> None:
        fields = [f'"resourceType":"Patient","id":"{pid}"']
        if gender:
            fields.append(f'"gender":"{gender}"')
        if birth:
            fields.append(f'"birthDate":"{birth}"')
        self.add("Patient", "{" + ",".join(fields) + "}")

    def condition(self, pid: str, codings: list[tuple[str, str]], onset: datetime | None,
                  recorded: datetime | None = None) -> str:
        cid = self.next_id("c")
        coding = ",".join(f'{{"system":"{s}","code":"{c}"}}' for s, c in codings)
        line = (f'{{"resourceType":"Condition","id":"{cid}","subject":{{"reference":"Patient/{pid}"}},'
                f'"code":{{"coding":[{coding}]}}')
        if onset is not None:
            line += f',"onsetDateTime":"{_when(onset)}"'
        if recorded is not None:
            line += f',"recordedDate":"{_when(recorded)}"'
        self.add("Condition", line + "}")
        return cid

    def quantity(self, pid: str, loinc: str, value: float | None, unit: str, when: datetime | None,
                 focus: str | None = None, context: str | None = None, system: str = C.LOINC) -> None:
        oid = self.next_id("o")
        line = (f'{{"resourceType":"Observation","id":"{oid}","status":"final",'
                f'"code":{{"coding":[{{"system":"{system}","code":"{loinc}"}}]}},'
                f'"subject":{{"reference":"Patient/{pid}"}}')
        if when is not None:
            line += f',"effectiveDateTime":"{_when(when)}"'
        if value is None:
            line += ',"dataAbsentReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/data-absent-reason","code":"error"}]}'
        else:
            line += f',"valueQuantity":{{"value":{value},"unit":"{unit}","system":"http://unitsofmeasure.org","code":"{unit}"}}'
        if focus:
            line += f',"focus":[{{"reference":"Condition/{focus}"}}]'
        if context:
            line += f',"extension":[{{"url":"{C.EXT_SAMPLE_CONTEXT}","valueCode":"{context}"}}]'
        self.add("Observation", line + "}")

    def vital(self, pid: str, template: str, value: float, stamp: str) -> None:
        """A US Core vital sign from one of ``_VITAL_TEMPLATES`` (its code, category and profile),
        with ``stamp`` from :func:`_visit_stamp`."""
        self.add("Observation", template.format(oid=self.next_id("o"), pid=pid, stamp=stamp, value=value))

    def blood_pressure(self, pid: str, systolic: float, diastolic: float, stamp: str) -> None:
        """A US Core blood-pressure panel (85354-9): systolic and diastolic as components, no focus."""
        self.add("Observation", _BP_TEMPLATE.format(oid=self.next_id("o"), pid=pid, stamp=stamp, systolic=systolic,
                                                    diastolic=diastolic))

    def finding(self, pid: str, code: C.Code, present: bool, when: datetime, focus: str) -> None:
        oid = self.next_id("o")
        self.add("Observation", (
            f'{{"resourceType":"Observation","id":"{oid}","status":"final",'
            f'"code":{{"coding":[{{"system":"{code.system}","code":"{code.code}"}}]}},'
            f'"subject":{{"reference":"Patient/{pid}"}},"effectiveDateTime":"{_when(when)}",'
            f'"valueCodeableConcept":{_PRESENT if present else _ABSENT},"focus":[{{"reference":"Condition/{focus}"}}]}}'))

    def coded(self, pid: str, code: C.Code | str, value_codeable: str | None = None, value_integer: int | None = None,
              when: datetime | None = None) -> None:
        oid = self.next_id("o")
        system, value = (code.system, code.code) if isinstance(code, C.Code) else (C.LOINC, code)
        line = (f'{{"resourceType":"Observation","id":"{oid}","status":"final",'
                f'"code":{{"coding":[{{"system":"{system}","code":"{value}"}}]}},"subject":{{"reference":"Patient/{pid}"}}')
        if when is not None:
            line += f',"effectiveDateTime":"{_when(when)}"'
        if value_codeable is not None:
            line += f',"valueCodeableConcept":{value_codeable}'
        if value_integer is not None:
            line += f',"valueInteger":{value_integer}'
        self.add("Observation", line + "}")


class _Patient:
    """One patient's story: helpers that write an episode, a baseline or an acute tryptase.

    In the ``vitals`` shape an episode's blood pressure is a panel taken the same day (no focus),
    as an emergency department records it; otherwise a systolic pressure focused on the episode.
    """

    def __init__(self, writer: _Writer, pid: str, gender: str, shape: str = "mixed"):
        self.w, self.pid, self.gender, self.shape = writer, pid, gender, shape
        self.rng = writer.rng
        self.onsets: list[datetime] = []

    def moment(self) -> datetime:
        return _EPOCH + timedelta(minutes=self.rng.randrange(0, 60 * 24 * 365 * 8))

    def episode(self, onset: datetime, *, urticaria: bool | None, angioedema: bool | None = False,
                syncope: bool | None = False, sbp: float | None = None, venom: bool = False) -> str:
        if self.rng.random() < 0.5:
            codings = [(C.SNOMED, C.ANAPHYLAXIS_SNOMED[0])]
        else:
            codings = [(C.ICD10CM, "T78.2XXA")]
        if venom:
            codings.append((C.ICD10CM, self.rng.choice(("T63.441A", "T63.451A", "T63.461A"))))
        cid = self.w.condition(self.pid, codings, onset)
        self.onsets.append(onset)
        for code, present in ((C.URTICARIA, urticaria), (C.ANGIOEDEMA, angioedema), (C.SYNCOPE, syncope)):
            if present is not None:
                self.w.finding(self.pid, code, present, onset, cid)
        if sbp is not None and self.shape == "vitals":
            end_of_day = onset.replace(hour=23, minute=59, second=0)
            stamp = _visit_stamp(self.pid, min(onset + timedelta(minutes=20), end_of_day))
            self.w.blood_pressure(self.pid, sbp, round(sbp * 0.6), stamp)
        elif sbp is not None:
            self.w.quantity(self.pid, C.SYSTOLIC_BP.code, sbp, "mm[Hg]", onset + timedelta(minutes=20), focus=cid)
        return cid

    def away_from_episodes(self) -> datetime:
        """A moment at least two days from every episode onset: a background result that no rule
        should read as drawn during a reaction."""
        while True:
            moment = self.moment()
            if all(abs(moment - onset) > timedelta(days=2) for onset in self.onsets):
                return moment

    def tryptase(self, value: float, when: datetime, context: str | None) -> None:
        unit = self.rng.choice(("ng/mL", "ug/L"))
        if context is not None and self.rng.random() < 0.5:
            context = None  # the engine must infer it from the timing
        self.w.quantity(self.pid, C.TRYPTASE.code, value, unit, when, context=context)

    def baseline(self, value: float, after: datetime | None = None) -> None:
        when = (after + timedelta(days=self.rng.randrange(3, 300))) if after else self.moment()
        self.tryptase(value, when, "baseline")

    def acute(self, value: float, onset: datetime) -> None:
        self.tryptase(value, onset + timedelta(minutes=self.rng.randrange(60, 200)), "acute")


def _plant(p: _Patient, profile: str) -> None:
    """Write the clinical story of one planted profile (see PROFILES)."""
    rng, onset = p.rng, p.moment()
    if profile == "recurrent-anaphylaxis":
        p.episode(onset, urticaria=True)
        p.episode(onset + timedelta(days=rng.randrange(30, 700)), urticaria=True)
    elif profile == "syncope-without-skin":
        p.episode(onset, urticaria=False, angioedema=False, syncope=True)
    elif profile == "high-baseline-tryptase":
        p.baseline(round(rng.uniform(20.1, 80), 1))
    elif profile == "hat-adjusted-high":
        p.w.coded(p.pid, C.TPSAB1_EXTRA_ALPHA_COPIES, value_integer=1)
        p.baseline(round(rng.uniform(40.5, 58), 1))  # /2 > 20; also above the raw 20
    elif profile == "rema-high":
        # Male, no skin signs, syncope, BST 15-25 (0 points): REMA 1 + 1 + 3 = 5.
        p.gender = "male"
        p.episode(onset, urticaria=False, angioedema=False, syncope=True)
        p.baseline(round(rng.uniform(15, 19), 1), after=onset)
    elif profile == "event-tryptase-rise":
        p.episode(onset, urticaria=True)
        baseline = round(rng.uniform(3, 8), 1)
        p.acute(round(baseline * 1.2 + 2 + rng.uniform(1, 10), 1), onset)
        p.baseline(baseline, after=onset)
    elif profile == "venom-hypotension":
        p.episode(onset, urticaria=False, angioedema=False, syncope=False, sbp=rng.randrange(60, 85), venom=True)
        p.baseline(round(rng.uniform(3, 9), 1), after=onset)
    elif profile == "urticarial-anaphylaxis":
        p.episode(onset, urticaria=True, sbp=rng.randrange(100, 140))
    elif profile == "tryptase-19.9":
        p.baseline(19.9)
    elif profile == "diagnosed-sm":
        p.w.condition(p.pid, [(C.ICD10CM, "D47.02")], onset - timedelta(days=30))
        p.episode(onset, urticaria=False, syncope=True)
        p.episode(onset + timedelta(days=90), urticaria=False, syncope=True)
        p.baseline(round(rng.uniform(25, 90), 1), after=onset)
    elif profile == "rise-below-threshold":
        p.episode(onset, urticaria=True)
        baseline = round(rng.uniform(3, 8), 1)
        p.acute(round(baseline * 1.2 + 2 - 0.2, 1), onset)
        p.baseline(baseline, after=onset)
    elif profile == "rise-worked-up":
        p.episode(onset, urticaria=True)
        baseline = round(rng.uniform(3, 8), 1)
        p.acute(round(baseline * 1.2 + 2 + 5, 1), onset)
        p.baseline(baseline, after=onset)
        p.w.coded(p.pid, C.VARIANT_ASSESSMENT, value_codeable=_ABSENT, when=onset + timedelta(days=60))
    elif profile == "venom-normotensive":
        p.episode(onset, urticaria=True, sbp=rng.randrange(110, 140), venom=True)
        p.baseline(round(rng.uniform(3, 9), 1), after=onset)
    elif profile == "hat-adjusted-normal":
        p.w.coded(p.pid, C.TPSAB1_EXTRA_ALPHA_COPIES, value_integer=2)
        p.baseline(round(rng.uniform(40, 59), 1))  # /3 < 20
    else:
        raise ValueError(f"unknown profile {profile!r}")


def _background(p: _Patient) -> None:
    """Ordinary results; a few with missing fields, none that any screening rule should flag."""
    rng = p.rng
    for _ in range(rng.randrange(6, 13)):
        loinc, unit, low, high = rng.choice(_BACKGROUND_LABS)
        value = None if rng.random() < 0.01 else round(rng.uniform(low, high), 1)
        when = None if rng.random() < 0.01 else p.moment()
        p.w.quantity(p.pid, loinc, value, unit, when)
    if rng.random() < 0.03:
        p.tryptase(round(rng.uniform(1.5, 11), 1), p.moment(), None)
    if rng.random() < 0.005:
        p.w.quantity(p.pid, C.TRYPTASE.code, None, "ng/mL", p.moment())
    if rng.random() < 0.3:
        code, _name = rng.choice(_BACKGROUND_CONDITIONS)
        onset = None if rng.random() < 0.1 else p.moment()
        p.w.condition(p.pid, [(C.ICD10CM, code)], onset, recorded=p.moment())


def _background_vitals(p: _Patient, *, planted: bool = False) -> None:
    """3-6 visits with a full set of US Core vital signs, a few lab results, sometimes a tryptase."""
    rng = p.rng
    for _ in range(rng.randrange(3, 7)):
        stamp = _visit_stamp(p.pid, p.away_from_episodes())
        p.w.blood_pressure(p.pid, rng.randrange(100, 150), rng.randrange(60, 95), stamp)
        for (_loinc, low, high), template in zip(_VITALS, _VITAL_TEMPLATES, strict=True):
            p.w.vital(p.pid, template, round(rng.uniform(low, high), 1), stamp)
    for _ in range(rng.randrange(1, 4)):
        loinc, unit, low, high = rng.choice(_BACKGROUND_LABS)
        p.w.quantity(p.pid, loinc, round(rng.uniform(low, high), 1), unit, p.away_from_episodes())
    if not planted and rng.random() < 0.01:
        p.tryptase(round(rng.uniform(1.5, 11), 1), p.away_from_episodes(), None)
    if not planted and rng.random() < 0.3:
        code, _name = rng.choice(_BACKGROUND_CONDITIONS)
        p.w.condition(p.pid, [(C.ICD10CM, code)], p.moment(), recorded=p.moment())


def _background_dense(p: _Patient, *, planted: bool = False) -> None:
    """10 results of tests near the screening at random dates; 5% one urticarial anaphylaxis.

    Planted patients get no extra tryptase (it could become their latest basal value)."""
    rng = p.rng
    if not planted and rng.random() < 0.05:
        p.episode(p.moment(), urticaria=True)
    tests = _DENSE_LABS[1:] if planted else _DENSE_LABS
    for _ in range(10):
        loinc, unit, low, high = rng.choice(tests)
        p.w.quantity(p.pid, loinc, round(rng.uniform(low, high), 1), unit, p.away_from_episodes())
    if not planted and rng.random() < 0.3:
        code, _name = rng.choice(_BACKGROUND_CONDITIONS)
        p.w.condition(p.pid, [(C.ICD10CM, code)], p.moment(), recorded=p.moment())


def synthesize(patients: int, out: Path, *, seed: int = 42, gzip_output: bool = False, progress=None,
               shape: str = "mixed") -> dict:
    """Write ``patients`` patients as a Bulk Data export of ``shape`` (see ``SHAPES``) into ``out``
    with a ground-truth file; returns it."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    writer = _Writer(rng)
    suffix = ".ndjson.gz" if gzip_output else ".ndjson"
    opener = (lambda p: gzip.open(p, "wt", encoding="utf-8", compresslevel=1)) if gzip_output else (
        lambda p: open(p, "w", encoding="utf-8"))
    handles = {t: opener(out / f"{t}{suffix}") for t in RESOURCE_TYPES}
    malformed_total = MALFORMED_PER_FILE_MIN + patients // MALFORMED_PER_PATIENTS
    malformed_at = {t: set(rng.sample(range(patients), min(patients, malformed_total))) for t in RESOURCE_TYPES}
    thresholds, total = [], 0.0
    for profile in PROFILES:
        total += profile.rate
        thresholds.append((total, profile))
    planted: dict[str, dict] = {}
    try:
        for n in range(patients):
            pid = f"p{n}"
            for resource_type in RESOURCE_TYPES:
                if n in malformed_at[resource_type]:
                    writer.garbage(resource_type)
            draw = rng.random()
            profile = next((p for limit, p in thresholds if draw < limit), None)
            gender = rng.choice(("male", "female"))
            story = _Patient(writer, pid, gender, shape)
            if profile is None:
                {"mixed": _background, "vitals": _background_vitals, "dense": _background_dense}[shape](story)
                missing = rng.random() < 0.002
                writer.patient(pid, None if missing else gender, None if missing else f"{rng.randrange(1940, 2005)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 9)}")
            else:
                _plant(story, profile.name)
                if shape == "mixed":
                    _background_labs_only(story)
                else:
                    {"vitals": _background_vitals, "dense": _background_dense}[shape](story, planted=True)
                writer.patient(pid, story.gender, f"{rng.randrange(1950, 2000)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 9)}")
                planted[pid] = {"profile": profile.name, "expected_rules": list(profile.expected)}
            if n % 5000 == 4999 or n == patients - 1:
                for resource_type, lines in writer.lines.items():
                    if lines:
                        handles[resource_type].write("\n".join(lines) + "\n")
                        lines.clear()
                if progress is not None:
                    progress(n + 1)
    finally:
        for handle in handles.values():
            handle.close()
    for entry in writer.malformed:
        entry["file"] = entry["file"].replace(".ndjson", suffix)
    truth = {
        "patients": patients,
        "seed": seed,
        "shape": shape,
        "resources": dict(writer.counts),
        "profiles": {p.name: {"rate": p.rate, "expected_rules": list(p.expected)} for p in PROFILES},
        "planted": planted,
        "malformed": writer.malformed,
    }
    (out / GROUND_TRUTH).write_text(json.dumps(truth, indent=1))
    return truth


def _background_labs_only(p: _Patient) -> None:
    """Planted patients get ordinary labs too, so they do not stand out by their volume."""
    rng = p.rng
    for _ in range(rng.randrange(4, 9)):
        loinc, unit, low, high = rng.choice(_BACKGROUND_LABS)
        p.w.quantity(p.pid, loinc, round(rng.uniform(low, high), 1), unit, p.moment())

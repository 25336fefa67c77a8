"""From one patient's facts (the rows of the screening views) to their record.

Both engines hand over the same facts, grouped by patient; everything after that is plain Python
shared by both (on Spark it runs on the executors), so the worklists cannot drift apart. An
episode is an anaphylaxis Condition; Conditions, findings and vital signs of the same patient on
the same day belong to it.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from mastcds.screen import codes as C
from mastcds.screen.types import KIND_CONDITION, KIND_OBSERVATION, KIND_PATIENT, KIND_SYSTOLIC, Fact
from mastcds.units import LAB_SPECS, UnitError, to_canonical

# A basal tryptase is drawn at least 24 h after any reaction (docs/criteria-reference.md §1.3,
# Beyens et al., Diagnostics 2023); a sample inside that window belongs to the reaction.
BASELINE_MIN_HOURS_AFTER_REACTION = 24
IGNORED_STATUSES = frozenset({"entered-in-error", "cancelled"})
# What a tryptase can physically be (mastcds.units: ranges catch misplaced decimals and wrong units).
TRYPTASE_RANGE = LAB_SPECS["tryptase"]
_MASTOCYTOSIS = frozenset(C.MASTOCYTOSIS_DIAGNOSES)
_ANAPHYLAXIS_SNOMED = frozenset(C.ANAPHYLAXIS_SNOMED)
_WORKUP_LOINC = frozenset(C.WORKUP_LOINC)
IGNORED_VERIFICATION = frozenset({"entered-in-error", "refuted"})


@dataclass
class Episode:
    """One anaphylaxis episode; findings are None when not recorded."""

    day: str
    onset: datetime | None
    condition_ids: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    venom_codes: list[str] = field(default_factory=list)
    urticaria: bool | None = None
    angioedema: bool | None = None
    syncope: bool | None = None
    systolic_min: float | None = None
    hypotension_coded: bool = False


@dataclass
class Tryptase:
    observation_id: str
    when: datetime | None
    value_ng_ml: float
    context: str  # "baseline" or "acute"
    episode: Episode | None = None
    minutes_after_onset: float | None = None


@dataclass
class PatientRecord:
    patient_id: str
    sex: str | None = None
    birth_date: str | None = None
    episodes: list[Episode] = field(default_factory=list)
    tryptase: list[Tryptase] = field(default_factory=list)
    extra_alpha_copies: int | None = None
    workup: list[str] = field(default_factory=list)  # what shows a work-up was done
    mastocytosis: list[str] = field(default_factory=list)  # recorded mastocytosis diagnoses
    unusable: list[str] = field(default_factory=list)  # results that could not be read, and why

    @functools.cached_property
    def baselines(self) -> list[Tryptase]:
        """Basal tryptases, oldest first (read by the rules once the record is built)."""
        return sorted((t for t in self.tryptase if t.context == "baseline"), key=_when_key)

    def age_range_years(self, on: datetime | None) -> tuple[float | None, float | None]:
        """Lowest and highest age the recorded (possibly partial) birth date allows on that day."""
        if on is None or not self.birth_date:
            return None, None
        parts = self.birth_date.split("-")
        try:
            year = int(parts[0])
            first = date(year, int(parts[1]) if len(parts) > 1 else 1, int(parts[2][:2]) if len(parts) > 2 else 1)
            last = date(year, int(parts[1]) if len(parts) > 1 else 12, int(parts[2][:2]) if len(parts) > 2 else 28)
        except (ValueError, IndexError):
            return None, None
        day = on.date()
        return max(0.0, (day - last).days / 365.25), max(0.0, (day - first).days / 365.25)


def _when_key(item: Tryptase) -> datetime:
    return item.when or datetime.min.replace(tzinfo=timezone.utc)


def parse_instant(text: str | None) -> datetime | None:
    """A FHIR dateTime as an aware datetime (partial dates at their start, UTC when no zone)."""
    if not text:
        return None
    try:
        if len(text) == 4:
            return datetime(int(text), 1, 1, tzinfo=timezone.utc)
        if len(text) == 7:
            return datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=timezone.utc)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def is_anaphylaxis(system: str | None, code: str | None) -> bool:
    if not code:
        return False
    if system == C.SNOMED:
        return code in _ANAPHYLAXIS_SNOMED
    if system in (C.ICD10CM, C.ICD10):
        later = system == C.ICD10CM and len(code) == 8 and code[-1] in "DS"  # subsequent / sequela
        return code.startswith(C.ANAPHYLAXIS_ICD_INITIAL) and not later
    return False


def _is_venom(system: str | None, code: str | None) -> bool:
    return system == C.ICD10CM and bool(code) and code.startswith(C.HYMENOPTERA_VENOM_ICD10CM_PREFIXES)


def _agreed(values: list[str | None]) -> str | None:
    """The value duplicate Patient resources agree on; None when they disagree (unknown, not a guess)."""
    known = {v for v in values if v}
    return known.pop() if len(known) == 1 else None


def build_record(patient_id: str, rows: list[Fact]) -> PatientRecord:
    """One patient's record from their facts (:class:`~mastcds.screen.types.Fact`), in
    the order :data:`~mastcds.screen.types.FACT_ORDER` gives them (which fixes, for example, which
    of two same-day Conditions dates the episode), so every engine builds the same record."""
    rec = PatientRecord(patient_id)
    by_kind: dict[str, list[Fact]] = {KIND_PATIENT: [], KIND_CONDITION: [], KIND_OBSERVATION: [], KIND_SYSTOLIC: []}
    for row in rows:
        by_kind[row.kind].append(row)
    rec.sex = _agreed([r.gender if r.gender in ("male", "female") else None for r in by_kind[KIND_PATIENT]])
    rec.birth_date = _agreed([r.birth_date for r in by_kind[KIND_PATIENT]])

    by_condition: dict[str, Episode] = {}
    day_events: dict[str, dict] = defaultdict(lambda: {"venom": [], "hypotension": False})
    for row in by_kind[KIND_CONDITION]:
        if row.verification in IGNORED_VERIFICATION:
            continue
        system, code = row.system, row.code
        when_text = row.onset or row.recorded
        day = when_text[:10] if when_text else None
        label = C.RECORDED_MAST_CELL_DIAGNOSES.get((system, code))
        if (system, code) in _MASTOCYTOSIS:
            rec.mastocytosis.append(f"{code} ({label})")
        if label is not None and f"diagnosis {code}" not in rec.workup:
            rec.workup.append(f"diagnosis {code}")
        if day is None:
            continue
        if _is_venom(system, code):
            day_events[day]["venom"].append(code)
        if system == C.HYPOTENSION_ICD10CM.system and code == C.HYPOTENSION_ICD10CM.code:
            day_events[day]["hypotension"] = True
        if is_anaphylaxis(system, code):
            episode = next((e for e in rec.episodes if e.day == day), None)
            if episode is None:
                episode = Episode(day, parse_instant(when_text))
                rec.episodes.append(episode)
            if row.resource_id not in episode.condition_ids:
                episode.condition_ids.append(row.resource_id)
            episode.codes.append(code)
            by_condition[row.resource_id] = episode
    for episode in rec.episodes:
        events = day_events.get(episode.day)
        if events:
            episode.venom_codes = sorted(set(events["venom"]))
            episode.hypotension_coded = events["hypotension"]
    rec.episodes.sort(key=lambda e: e.day)

    for row in by_kind[KIND_SYSTOLIC]:
        if row.status not in IGNORED_STATUSES and row.value is not None:
            _add_systolic(rec, row, by_condition)
    findings = {C.URTICARIA.code: "urticaria", C.ANGIOEDEMA.code: "angioedema", C.SYNCOPE.code: "syncope"}
    tryptase_rows = []
    for row in by_kind[KIND_OBSERVATION]:
        if row.status in IGNORED_STATUSES:
            continue
        system, code = row.system, row.code
        episode = by_condition.get(row.focus) if row.focus else None
        if system == C.SNOMED and code in findings and episode is not None:
            if row.value_code in (C.PRESENT.code, C.ABSENT.code):
                setattr(episode, findings[code], row.value_code == C.PRESENT.code)
        elif system == C.LOINC and code == C.TRYPTASE.code:
            tryptase_rows.append(row)
        elif system == C.TPSAB1_EXTRA_ALPHA_COPIES.system and code == C.TPSAB1_EXTRA_ALPHA_COPIES.code:
            if row.value_integer is not None and 0 <= row.value_integer <= 10:
                rec.extra_alpha_copies = int(row.value_integer)
        elif system == C.LOINC and code in _WORKUP_LOINC:
            rec.workup.append(f"observation {row.resource_id} (LOINC {code})")
    for row in tryptase_rows:
        _add_tryptase(rec, row)
    return rec


def _add_systolic(rec: PatientRecord, row: Fact, by_condition: dict[str, Episode]) -> None:
    """A systolic pressure belongs to the episode its ``focus`` names, or without a focus to the
    episode of its day (as same-day Conditions do): a vital sign taken on the day of an
    anaphylaxis is taken for it. One that is not a finite number is reported, not used; one that
    belongs to no episode is not read."""
    if row.focus:
        episode = by_condition.get(row.focus)
    else:
        day = row.effective[:10] if row.effective else None
        episode = next((e for e in rec.episodes if e.day == day), None) if day else None
    if episode is None:
        return
    if not math.isfinite(row.value):
        rec.unusable.append(f"systolic pressure {row.resource_id}: {row.value} is not a finite number")
        return
    episode.systolic_min = row.value if episode.systolic_min is None else min(episode.systolic_min, row.value)


def _add_tryptase(rec: PatientRecord, row: Fact) -> None:
    oid = row.resource_id
    if row.value is None:
        rec.unusable.append(f"tryptase {oid}: no value")
        return
    if not math.isfinite(row.value):  # JSON such as 1e999 reads as infinity
        rec.unusable.append(f"tryptase {oid}: {row.value} is not a finite number")
        return
    unit = row.unit or row.unit_text
    try:
        value = float(to_canonical("tryptase", row.value, unit or ""))
    except UnitError as error:
        rec.unusable.append(f"tryptase {oid}: {error}")
        return
    if not TRYPTASE_RANGE.low <= value <= TRYPTASE_RANGE.high:
        rec.unusable.append(f"tryptase {oid}: {value:g} ng/mL is outside {TRYPTASE_RANGE.low:g} to "
                            f"{TRYPTASE_RANGE.high:g} ng/mL (a wrong unit or decimal point)")
        return
    when = parse_instant(row.effective)
    context = row.context if row.context in ("baseline", "acute") else None
    episode, minutes = None, None
    if when is not None:
        for candidate in rec.episodes:
            if candidate.onset is None:
                continue
            elapsed = (when - candidate.onset).total_seconds() / 60
            if 0 <= elapsed < BASELINE_MIN_HOURS_AFTER_REACTION * 60:
                episode, minutes = candidate, elapsed
    if context is None:
        if when is None:
            rec.unusable.append(f"tryptase {oid}: no sampling time, baseline or acute unknown")
            return
        context = "acute" if episode is not None else "baseline"
    if context == "acute" and episode is None:
        episode = _latest_before(rec.episodes, when)
        if episode is not None and episode.onset is not None and when is not None:
            minutes = (when - episode.onset).total_seconds() / 60
    rec.tryptase.append(Tryptase(oid, when, value, context, episode, minutes))


def _latest_before(episodes: list[Episode], when: datetime | None) -> Episode | None:
    if when is None:
        return None
    earlier = [e for e in episodes if e.onset is not None and e.onset <= when <= e.onset + timedelta(days=2)]
    return earlier[-1] if earlier else None

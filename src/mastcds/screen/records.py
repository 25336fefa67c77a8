"""From the flat rows of the screening views to one record per candidate patient.

Both engines hand over the same rows (conditions and observations with a screening code, and
the patients they concern); everything after that is plain Python shared by both, so the
worklists cannot drift apart. An episode is an anaphylaxis Condition; Conditions and findings
of the same patient on the same day belong to it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from mastcds.screen import codes as C
from mastcds.units import UnitError, to_canonical

# A basal tryptase is drawn at least 24 h after any reaction (docs/criteria-reference.md §1.3,
# Beyens et al., Diagnostics 2023); a sample inside that window belongs to the reaction.
BASELINE_MIN_HOURS_AFTER_REACTION = 24
IGNORED_STATUSES = frozenset({"entered-in-error", "cancelled"})
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

    @property
    def baselines(self) -> list[Tryptase]:
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


def _is_anaphylaxis(system: str | None, code: str | None) -> bool:
    if not code:
        return False
    if system == C.SNOMED:
        return code in C.ANAPHYLAXIS_SNOMED
    if system in (C.ICD10CM, C.ICD10):
        later = system == C.ICD10CM and len(code) == 8 and code[-1] in "DS"  # subsequent / sequela
        return code.startswith(C.ANAPHYLAXIS_ICD_INITIAL) and not later
    return False


def _is_venom(system: str | None, code: str | None) -> bool:
    return system == C.ICD10CM and bool(code) and code.startswith(C.HYMENOPTERA_VENOM_ICD10CM_PREFIXES)


def build_records(patients: list[dict], conditions: list[dict], observations: list[dict]) -> list[PatientRecord]:
    """One record per patient with any screening row, sorted by patient id."""
    records: dict[str, PatientRecord] = {}

    def record(pid: str) -> PatientRecord:
        if pid not in records:
            records[pid] = PatientRecord(pid)
        return records[pid]

    for row in patients:
        if row["patient_id"]:
            rec = record(row["patient_id"])
            rec.sex = row["gender"] if row["gender"] in ("male", "female") else None
            rec.birth_date = row["birth_date"]

    by_condition: dict[str, Episode] = {}
    day_events: dict[tuple[str, str], dict] = defaultdict(lambda: {"venom": [], "hypotension": False})
    for row in sorted(conditions, key=lambda r: (r["patient_id"] or "", r["condition_id"] or "", r["system"] or "", r["code"] or "")):
        pid = row["patient_id"]
        if not pid or row["verification"] in IGNORED_VERIFICATION:
            continue
        rec = record(pid)
        system, code = row["system"], row["code"]
        when_text = row["onset"] or row["recorded"]
        day = when_text[:10] if when_text else None
        label = C.RECORDED_MAST_CELL_DIAGNOSES.get((system, code))
        if (system, code) in C.MASTOCYTOSIS_DIAGNOSES:
            rec.mastocytosis.append(f"{code} ({label})")
        if label is not None and f"diagnosis {code}" not in rec.workup:
            rec.workup.append(f"diagnosis {code}")
        if day is None:
            continue
        if _is_venom(system, code):
            day_events[(pid, day)]["venom"].append(code)
        if system == C.HYPOTENSION_ICD10CM.system and code == C.HYPOTENSION_ICD10CM.code:
            day_events[(pid, day)]["hypotension"] = True
        if _is_anaphylaxis(system, code):
            episode = next((e for e in rec.episodes if e.day == day), None)
            if episode is None:
                episode = Episode(day, parse_instant(when_text))
                rec.episodes.append(episode)
            if row["condition_id"] not in episode.condition_ids:
                episode.condition_ids.append(row["condition_id"])
            episode.codes.append(code)
            by_condition[row["condition_id"]] = episode
    for rec in records.values():
        for episode in rec.episodes:
            events = day_events.get((rec.patient_id, episode.day))
            if events:
                episode.venom_codes = sorted(set(events["venom"]))
                episode.hypotension_coded = events["hypotension"]
        rec.episodes.sort(key=lambda e: e.day)

    findings = {C.URTICARIA.code: "urticaria", C.ANGIOEDEMA.code: "angioedema", C.SYNCOPE.code: "syncope"}
    tryptase_rows = []
    for row in sorted(observations, key=lambda r: (r["patient_id"] or "", r["observation_id"] or "", r["system"] or "", r["code"] or "")):
        pid = row["patient_id"]
        if not pid or row["status"] in IGNORED_STATUSES:
            continue
        rec = record(pid)
        system, code = row["system"], row["code"]
        episode = by_condition.get(row["focus"]) if row["focus"] else None
        if system == C.SNOMED and code in findings and episode is not None:
            if row["value_code"] in (C.PRESENT.code, C.ABSENT.code):
                setattr(episode, findings[code], row["value_code"] == C.PRESENT.code)
        elif system == C.LOINC and code == C.SYSTOLIC_BP.code and episode is not None and row["value"] is not None:
            episode.systolic_min = row["value"] if episode.systolic_min is None else min(episode.systolic_min, row["value"])
        elif system == C.LOINC and code == C.TRYPTASE.code:
            tryptase_rows.append((rec, row))
        elif system == C.TPSAB1_EXTRA_ALPHA_COPIES.system and code == C.TPSAB1_EXTRA_ALPHA_COPIES.code:
            if row["value_integer"] is not None and 0 <= row["value_integer"] <= 10:
                rec.extra_alpha_copies = int(row["value_integer"])
        elif system == C.LOINC and code in C.WORKUP_LOINC:
            rec.workup.append(f"observation {row['observation_id']} (LOINC {code})")
    for rec, row in tryptase_rows:
        _add_tryptase(rec, row)
    return [records[pid] for pid in sorted(records)]


def _add_tryptase(rec: PatientRecord, row: dict) -> None:
    oid = row["observation_id"]
    if row["value"] is None:
        rec.unusable.append(f"tryptase {oid}: no value")
        return
    unit = row["unit"] or row["unit_text"]
    try:
        value = float(to_canonical("tryptase", row["value"], unit or ""))
    except UnitError as error:
        rec.unusable.append(f"tryptase {oid}: {error}")
        return
    when = parse_instant(row["effective"])
    context = row["context"] if row["context"] in ("baseline", "acute") else None
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

"""An export A, a _since export B that adds and changes resources, and A∪B (A with B applied), for the
incremental tests of both engines."""

from __future__ import annotations

import json
from pathlib import Path

from mastcds.screen import codes as C
from mastcds.screen.synth import synthesize

TYPES = ("Patient", "Condition", "Observation")


def _lines(folder: Path, resource_type: str) -> list[str]:
    return (folder / f"{resource_type}.ndjson").read_text().splitlines()


def _key(line: str) -> str | None:
    try:
        return json.loads(line).get("id")
    except ValueError:
        return None


def _condition(cid: str, pid: str, onset: str, *codings: tuple[str, str]) -> str:
    return json.dumps({"resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{pid}"},
                       "onsetDateTime": onset, "code": {"coding": [{"system": s, "code": c} for s, c in codings]}})


def _finding(oid: str, pid: str, code: str, focus: str, present: bool) -> str:
    value = C.PRESENT.code if present else C.ABSENT.code
    return json.dumps({"resourceType": "Observation", "id": oid, "status": "final", "subject": {"reference": f"Patient/{pid}"},
                       "code": {"coding": [{"system": C.SNOMED, "code": code}]}, "focus": [{"reference": f"Condition/{focus}"}],
                       "valueCodeableConcept": {"coding": [{"system": C.LOINC, "code": value}]}})


def build(root: Path, patients: int = 1200, seed: int = 21) -> dict[str, Path]:
    """Folders A, B and AB under ``root``; returns them with what B changes, for the assertions."""
    a, b, ab = root / "A", root / "B", root / "AB"
    truth = synthesize(patients, a, seed=seed)
    planted = truth["planted"]
    urticarial = sorted(p for p, v in planted.items() if v["profile"] == "urticarial-anaphylaxis")[:2]
    high = sorted(p for p, v in planted.items() if v["profile"] == "high-baseline-tryptase")[:1]
    observations = _lines(a, "Observation")
    high_tryptase = next(line for line in observations
                         if f'"Patient/{high[0]}"' in line and C.TRYPTASE.code in line)
    background = "p1" if "p1" not in planted else "p2"
    # A: a low blood pressure without a focus, on a day with no episode yet (for B's episode).
    bp = json.dumps({"resourceType": "Observation", "id": "bp-late", "status": "final",
                     "subject": {"reference": f"Patient/{background}"}, "effectiveDateTime": "2020-03-03T09:40:00Z",
                     "code": {"coding": [{"system": C.LOINC, "code": "85354-9"}]},
                     "component": [{"code": {"coding": [{"system": C.LOINC, "code": C.SYSTOLIC_BP.code}]},
                                    "valueQuantity": {"value": 78, "unit": "mm[Hg]", "code": "mm[Hg]"}}]})
    with (a / "Observation.ndjson").open("a") as handle:
        handle.write(bp + "\n")
    changed = json.loads(high_tryptase)
    changed["status"] = "entered-in-error"
    new = {
        "Patient": [json.dumps({"resourceType": "Patient", "id": "new-1", "gender": "female", "birthDate": "1980-02-02"})],
        "Condition": [
            # a second episode for patients with one: recurrent anaphylaxis
            *(_condition(f"late-{pid}", pid, "2023-04-05T12:00:00Z", (C.SNOMED, C.ANAPHYLAXIS_SNOMED[0])) for pid in urticarial),
            # venom anaphylaxis on the day of A's low blood pressure, without skin signs
            _condition("late-venom", background, "2020-03-03T09:00:00Z", (C.ICD10CM, "T78.2XXA"), (C.ICD10CM, "T63.441A")),
        ],
        "Observation": [
            json.dumps(changed),  # the high basal tryptase was entered in error
            _finding("late-u", background, C.URTICARIA.code, "late-venom", False),
            _finding("late-a", background, C.ANGIOEDEMA.code, "late-venom", False),
            json.dumps({"resourceType": "Observation", "id": "new-t", "status": "final",
                        "subject": {"reference": "Patient/new-1"}, "effectiveDateTime": "2023-01-01T08:00:00Z",
                        "code": {"coding": [{"system": C.LOINC, "code": C.TRYPTASE.code}]},
                        "valueQuantity": {"value": 31, "unit": "ng/mL", "code": "ng/mL"}}),
            '{"resourceType":"Observation","id":"cut',  # a malformed line in B
        ],
    }
    b.mkdir()
    ab.mkdir()
    for resource_type in TYPES:
        (b / f"{resource_type}.ndjson").write_text("".join(line + "\n" for line in new[resource_type]))
        replaced = {_key(line) for line in new[resource_type]} - {None}
        kept = [line for line in _lines(a, resource_type) if _key(line) not in replaced]
        (ab / f"{resource_type}.ndjson").write_text("".join(line + "\n" for line in kept + new[resource_type]))
    return {"A": a, "B": b, "AB": ab, "recurrent": urticarial, "unflagged": high, "venom": [background],
            "new": ["new-1"]}

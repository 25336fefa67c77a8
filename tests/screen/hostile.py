"""Exports with the lines real files have (issue 17 §5, issue 16 item 17), shared by the engines' tests."""

from __future__ import annotations

import json
from pathlib import Path

from mastcds.screen import codes as C
from mastcds.screen.ndjson import MAX_LINE_BYTES

TRYPTASE = {"system": C.LOINC, "code": C.TRYPTASE.code}

# Patient.ndjson, byte for byte: (text, is it malformed). Lines 6, 7, 8 and 11 are; the blank and
# whitespace-only lines (3, 5, 9) are counted and skipped; a BOM, CRLF and leading spaces are fine.
PATIENT_LINES = [
    ('\ufeff{"resourceType":"Patient","id":"a","gender":"male"}\r\n', False),
    ('{"resourceType":"Patient","id":"b","gender":"male"}\r\n', False),
    ("\r\n", False),
    ('{"resourceType":"Patient","id":"c","gender":"male"}\n', False),
    ("   \t \n", False),
    ('{"resourceType":"Pat\n', True),
    ('[{"resourceType":"Patient","id":"d"}]\n', True),
    ('{"id":"e"}\n', True),
    ("\n", False),
    ('{"resourceType":"Patient","id":"f","gender":"female"}\n', False),
    ('{"resourceType": 5, "id": "g"}\n', True),
    ('  {"resourceType":"Patient","id":"h","gender":"male"}\n', False),
    ('{"resourceType":"Patient","id":"i","gender":"male"}', False),
]
MALFORMED_PATIENT_LINES = [n for n, (_, bad) in enumerate(PATIENT_LINES, 1) if bad]


def tryptase(oid: str, pid: str, value: str) -> str:
    """A basal tryptase line with ``value`` written as JSON text (so that 1e999 stays 1e999)."""
    return ('{"resourceType":"Observation","id":"%s","status":"final","subject":{"reference":"Patient/%s"},'
            '"code":{"coding":[%s]},"effectiveDateTime":"2023-01-10T08:00:00Z",'
            '"valueQuantity":{"value":%s,"unit":"ng/mL","code":"ng/mL"}}' % (oid, pid, json.dumps(TRYPTASE), value))


def _condition(cid: str) -> str:
    """A Condition the screening does not read (essential hypertension), to fill a line."""
    return ('{"resourceType":"Condition","id":"%s","subject":{"reference":"Patient/b"},'
            '"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]}}' % cid)


# Line ends mixed within a file: LF first, then CRLF (DuckDB's reader split each CRLF in two), and a
# file whose lines end with a lone CR; a truncated line last in each.
CONDITION_FILES = {
    "Condition.ndjson": f"{_condition('c1')}\n{_condition('c2')}\r\n\r\n{_condition('c3')}\r\n"
                        '{"resourceType":"Condition","id":\r\n',
    "Condition.2.ndjson": f"{_condition('c4')}\r\r{_condition('c5')}\r" + '{"resourceType":"Con\r',
}


def write_hostile_export(folder: Path) -> Path:
    """Patients a, b, c, f, h and i have a basal tryptase above 20 ng/mL: each is flagged when read.
    Observation.ndjson also has, at line 2, a resource longer than DuckDB's 16 MB object limit, at
    line 3 a tryptase of 1e999 (infinity) for patient a, which must be unusable, not flagged, and at
    line 4 a truncated line (numbered past the long one)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Patient.ndjson").write_bytes("".join(text for text, _ in PATIENT_LINES).encode("utf-8"))
    huge = json.dumps({"resourceType": "Observation", "id": "huge", "subject": {"reference": "Patient/b"},
                       "code": {"coding": [TRYPTASE]}, "note": [{"text": "x" * (MAX_LINE_BYTES + 10)}]})
    lines = [tryptase("t-b", "b", "25"), huge, tryptase("t-inf", "a", "1e999"), '{"resourceType":"Observation","id":"tr']
    lines += [tryptase(f"t-{pid}", pid, "30") for pid in "cfhi"]
    lines += [tryptase("t-x", "x", "1e999")]  # patient x has only an infinite tryptase: not flagged
    (folder / "Observation.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, text in CONDITION_FILES.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    return folder


FLAGGED = {"b", "c", "f", "h", "i"}
EXPECTED_MALFORMED = [("Condition.2.ndjson", 4), ("Condition.ndjson", 5), ("Observation.ndjson", 2),
                      ("Observation.ndjson", 4)] + [("Patient.ndjson", n) for n in MALFORMED_PATIENT_LINES]

"""Synthetic exports with planted cases: every planted case found with exactly its rules, no
negative flagged, every malformed line counted at its file and line; plain and gzip."""

from __future__ import annotations

import json

import pytest

from mastcds.screen.pipeline import screen_export
from mastcds.screen.synth import GROUND_TRUTH, PROFILES, synthesize

PATIENTS = 6000


@pytest.fixture(scope="module", params=[False, True], ids=["ndjson", "gzip"])
def export(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gzip" if request.param else "plain")
    synthesize(PATIENTS, folder, seed=11, gzip_output=request.param)
    return folder, screen_export(folder)


def _truth(folder):
    return json.loads((folder / GROUND_TRUTH).read_text())


def test_every_planted_case_is_found_with_exactly_its_rules(export):
    folder, result = export
    truth = _truth(folder)
    fired = {row["patient_id"]: sorted(row["rules"].split(";")) for row in result.worklist}
    positives = {pid: sorted(p["expected_rules"]) for pid, p in truth["planted"].items() if p["expected_rules"]}
    assert positives, "the export must plant positives"
    assert {pid: fired.get(pid) for pid in positives} == positives
    flagged_negatives = [pid for pid in fired if pid not in positives]
    assert flagged_negatives == []


def test_malformed_lines_are_counted_exactly(export):
    folder, result = export
    truth = _truth(folder)
    assert sorted((m.file, m.line) for m in result.malformed) == sorted((m["file"], m["line"]) for m in truth["malformed"])


def test_every_profile_is_planted_in_a_moderate_export(export):
    planted = {p["profile"] for p in _truth(export[0])["planted"].values()}
    assert planted == {p.name for p in PROFILES}


def test_same_seed_writes_the_same_export(tmp_path):
    synthesize(300, tmp_path / "a", seed=5)
    synthesize(300, tmp_path / "b", seed=5)
    for name in ("Patient.ndjson", "Condition.ndjson", "Observation.ndjson", GROUND_TRUTH):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_worklist_is_ordered_by_priority(export):
    worklist = export[1].worklist
    assert [row["priority"] for row in worklist] == sorted(row["priority"] for row in worklist)
    assert all(json.loads(row["evidence"]) for row in worklist)

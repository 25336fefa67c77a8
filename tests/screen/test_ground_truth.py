"""Synthetic exports with planted cases: every planted case found with exactly its rules, no
negative flagged, every malformed line counted at its file and line; plain and gzip; each shape."""

from __future__ import annotations

import csv
import gzip
import json

import pytest

from mastcds.screen.pipeline import screen_export
from mastcds.screen.synth import GROUND_TRUTH, PROFILES, SHAPES, synthesize

EXPORTS = [("mixed", False, 6000), ("mixed", True, 6000), ("vitals", False, 2500), ("dense", False, 4000)]


@pytest.fixture(scope="module", params=EXPORTS, ids=["mixed", "mixed-gzip", "vitals", "dense"])
def export(request, tmp_path_factory):
    shape, gzipped, patients = request.param
    folder = tmp_path_factory.mktemp(shape)
    synthesize(patients, folder / "export", seed=11, gzip_output=gzipped, shape=shape)
    result = screen_export(folder / "export", folder / "worklist.csv")
    worklist = list(csv.DictReader((folder / "worklist.csv").open(encoding="utf-8")))
    return folder / "export", result, worklist


def _truth(folder):
    return json.loads((folder / GROUND_TRUTH).read_text())


def test_every_planted_case_is_found_with_exactly_its_rules(export):
    folder, _, worklist = export
    truth = _truth(folder)
    fired = {row["patient_id"]: sorted(row["rules"].split(";")) for row in worklist}
    positives = {pid: sorted(p["expected_rules"]) for pid, p in truth["planted"].items() if p["expected_rules"]}
    assert positives, "the export must plant positives"
    assert {pid: fired.get(pid) for pid in positives} == positives
    flagged_negatives = [pid for pid in fired if pid not in positives]
    assert flagged_negatives == []


def test_malformed_lines_are_counted_exactly(export):
    folder, result, _ = export
    truth = _truth(folder)
    assert sorted((m.file, m.line) for m in result.malformed) == sorted((m["file"], m["line"]) for m in truth["malformed"])


def test_every_profile_is_planted_in_a_moderate_export(tmp_path):
    truth = synthesize(6000, tmp_path, seed=11)
    assert {p["profile"] for p in truth["planted"].values()} == {p.name for p in PROFILES}


@pytest.mark.parametrize("shape", SHAPES)
def test_same_seed_writes_the_same_export(tmp_path, shape):
    synthesize(300, tmp_path / "a", seed=5, shape=shape)
    synthesize(300, tmp_path / "b", seed=5, shape=shape)
    for name in ("Patient.ndjson", "Condition.ndjson", "Observation.ndjson", GROUND_TRUTH):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_the_shapes_differ_as_documented(tmp_path):
    sizes = {}
    for shape in SHAPES:
        truth = synthesize(400, tmp_path / shape, seed=3, shape=shape)
        sizes[shape] = truth["resources"]["Observation"] / 400
    assert sizes["vitals"] > 30 > sizes["dense"] >= 10 > sizes["mixed"] - 4
    panel = next(json.loads(line) for line in (tmp_path / "vitals" / "Observation.ndjson").open()
                 if "85354-9" in line)
    assert panel["component"][0]["code"]["coding"][0]["code"] == "8480-6"


def test_worklist_is_ordered_by_priority(export):
    worklist = export[2]
    assert [int(row["priority"]) for row in worklist] == sorted(int(row["priority"]) for row in worklist)
    assert all(json.loads(row["evidence"]) for row in worklist)


def test_gzip_exports_are_gzip(export):
    folder = export[0]
    for path in folder.glob("*.ndjson.gz"):
        with gzip.open(path, "rt") as handle:
            assert handle.readline()

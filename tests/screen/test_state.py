"""Incremental screening on DuckDB (Spark's twin is in test_spark_engine): a full run over A∪B equals
a run over A continued with B; a state that cannot be continued is refused with the reason."""

from __future__ import annotations

import csv
import json

import pytest

from mastcds.screen.pipeline import screen_export
from mastcds.screen.state import MANIFEST, StateError, state_dir_for
from tests.screen import incremental


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    return incremental.build(tmp_path_factory.mktemp("incremental"))


def _rows(path):
    return {row["patient_id"]: row for row in csv.DictReader(path.open(encoding="utf-8"))}


@pytest.mark.parametrize("same_folder", [True, False], ids=["in-place", "new-folder"])
def test_a_then_b_equals_a_full_run_over_both(exports, tmp_path, same_folder):
    full = screen_export(exports["AB"], tmp_path / "full.csv")
    first = screen_export(exports["A"], tmp_path / "night.csv", keep_state=True)
    out = tmp_path / ("night.csv" if same_folder else "next.csv")
    then = screen_export(exports["B"], out, since=first.state)
    assert out.read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert (then.flagged, then.candidates, then.unusable_results) == (full.flagged, full.candidates,
                                                                      full.unusable_results)
    assert [(m.file, m.line) for m in then.malformed] == [("Observation.ndjson", 5)]
    before, after = _rows(tmp_path / "full.csv"), _rows(out)
    assert then.rescreened < first.candidates  # only the patients B touches
    assert set(exports["recurrent"]) | set(exports["venom"]) | set(exports["new"]) <= set(after)
    assert not set(exports["unflagged"]) & set(after)
    assert "systolic 78 mmHg" in after[exports["venom"][0]]["evidence"]  # A's pressure, B's episode
    assert before == after
    if not same_folder:
        assert json.loads((tmp_path / "night.state" / MANIFEST).read_text())["runs"] == [
            {"facts": "facts-000001.parquet", "keys": None}]  # the first state is left as it was


def test_a_second_incremental_run_goes_on_from_the_first(exports, tmp_path):
    screen_export(exports["A"], tmp_path / "w.csv", keep_state=True)
    screen_export(exports["B"], tmp_path / "w.csv", since=str(tmp_path / "w.state"))
    again = screen_export(exports["B"], tmp_path / "w.csv", since=str(tmp_path / "w.state"))
    screen_export(exports["AB"], tmp_path / "full.csv")
    assert (tmp_path / "w.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert len(json.loads((tmp_path / "w.state" / MANIFEST).read_text())["runs"]) == 3
    assert again.rescreened > 0


def test_the_state_sits_next_to_the_worklist():
    assert state_dir_for("/x/y/worklist.csv") == "/x/y/worklist.state"
    assert state_dir_for("s3a://bucket/w.parquet") == "s3a://bucket/w.state"


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m.update(fingerprint="0" * 64), "another version of the screening"),
    (lambda m: m.update(engine="spark"), "written by the spark engine"),
    (lambda m: m.update(format="other/1"), "state format"),
])
def test_a_state_that_cannot_be_continued_is_refused(exports, tmp_path, change, message):
    screen_export(exports["A"], tmp_path / "w.csv", keep_state=True)
    manifest = tmp_path / "w.state" / MANIFEST
    data = json.loads(manifest.read_text())
    change(data)
    manifest.write_text(json.dumps(data))
    with pytest.raises(StateError, match=message):
        screen_export(exports["B"], tmp_path / "w.csv", since=str(tmp_path / "w.state"))


def test_a_folder_without_a_state_is_refused(exports, tmp_path):
    with pytest.raises(StateError, match="no state.json"):
        screen_export(exports["B"], tmp_path / "w.csv", since=str(tmp_path))


def test_the_worklist_and_the_state_are_their_owners_alone(exports, tmp_path):
    """Patient ids and facts: private whatever the umask (as the record store's files are)."""
    screen_export(exports["A"], tmp_path / "w.parquet", keep_state=True)
    assert (tmp_path / "w.parquet").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "w.state").stat().st_mode & 0o777 == 0o700
    assert {path.stat().st_mode & 0o777 for path in (tmp_path / "w.state").iterdir()} == {0o600}

"""The worklist files: CSV byte for byte as Arrow's CSV writer gives it, Parquet with Arrow's schema."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from mastcds.screen.types import WORKLIST_COLUMNS
from mastcds.screen.worklist import write_worklist

SCHEMA = pa.schema([("patient_id", pa.string()), ("priority", pa.int32()), ("rules", pa.string()),
                    ("rule_count", pa.int32()), ("evidence", pa.string())])
ROWS = [
    {"patient_id": "p1", "priority": 1, "rules": "a;b", "rule_count": 2,
     "evidence": '{"a": {"evidence": ["tryptase 27 ng/mL, \\"basal\\"\\nline"], "title": "αβ ≥ 20"}}'},
    {"patient_id": "p,2", "priority": 3, "rules": "c", "rule_count": 1, "evidence": "{}"},
]


@pytest.mark.parametrize("rows", [ROWS, []], ids=["rows", "empty"])
def test_csv_is_what_arrow_writes(tmp_path, rows):
    write_worklist(rows, tmp_path / "w.csv")
    reference = tmp_path / "arrow.csv"
    pcsv.write_csv(pa.table({n: [r[n] for r in rows] for n in WORKLIST_COLUMNS}, schema=SCHEMA), reference)
    assert (tmp_path / "w.csv").read_bytes() == reference.read_bytes()
    assert not (tmp_path / "w.csv.partial").exists()


@pytest.mark.parametrize("rows", [ROWS, []], ids=["rows", "empty"])
def test_parquet_has_the_arrow_schema_and_the_rows(tmp_path, rows):
    write_worklist(rows, tmp_path / "it's.parquet")
    table = pq.read_table(tmp_path / "it's.parquet")
    assert table.schema == SCHEMA
    assert table.to_pylist() == rows


def test_other_suffixes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="csv or .parquet"):
        write_worklist(ROWS, tmp_path / "w.txt")
    assert list(tmp_path.iterdir()) == []

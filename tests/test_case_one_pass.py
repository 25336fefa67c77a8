"""A case the schema refuses still has its impossible dates reported, in the same pass."""

from __future__ import annotations

import pytest

from mastcds.case import CaseError, load_case


def test_schema_and_calendar_problems_come_together() -> None:
    document = {
        "patient": {"age_years": 200, "birth_date": "1990-02-30"},
        "evaluation_date": "2011-13",
        "episodes": [{"date": "2011-02-29", "urticaria": "yes"}],
        "treatments": [{"drug": "x", "start_date": "2011-04-31"}],
    }
    with pytest.raises(CaseError) as raised:
        load_case(document)
    paths = {p.path for p in raised.value.problems}
    assert paths == {
        "patient.age_years", "episodes[0].urticaria",  # the schema's
        "evaluation_date", "patient.birth_date", "episodes[0].date", "treatments[0].start_date",  # the calendar's
    }


def test_a_date_the_schema_refuses_is_reported_once() -> None:
    with pytest.raises(CaseError) as raised:
        load_case({"patient": {}, "evaluation_date": "11-2011", "bone_marrow": {"biopsy_date": "2011-00"}, "x": 1})
    paths = [p.path for p in raised.value.problems]
    assert sorted(paths) == ["bone_marrow.biopsy_date", "evaluation_date", "x"]

"""The pydantic case model accepts exactly what case.schema.json accepts."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mastcds.case import Case, CaseError, KitSampleResult, case_schema, load_case, load_case_text
from tests.schema_strategy import documents

ROOT = Path(__file__).resolve().parents[1]
SEED = json.loads((ROOT / "examples" / "seed-case.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(case_schema())


def model_accepts(document: object) -> bool:
    try:
        Case.model_validate(document)
    except ValidationError:
        return False
    return True


def test_packaged_schema_is_the_published_contract() -> None:
    shipped = json.loads((ROOT / "src" / "mastcds" / "data" / "case.schema.json").read_text(encoding="utf-8"))
    assert shipped == case_schema()
    assert shipped["$id"] == "mastcds-case/1"


def test_seed_case_is_valid_both_ways_and_round_trips() -> None:
    assert VALIDATOR.is_valid(SEED)
    case = load_case(SEED)
    assert case.to_document() == SEED


INVALID = [
    ({}, "patient"),
    ({"patient": {}, "unknown_field": 1}, "unknown_field"),
    ({"patient": {"age_years": "31"}}, "patient.age_years"),
    ({"patient": {"age_years": 121}}, "patient.age_years"),
    ({"patient": {"age_years": -0.1}}, "patient.age_years"),
    ({"patient": {"weight_kg": True}}, "patient.weight_kg"),
    ({"patient": {"weight_kg": 0.4}}, "patient.weight_kg"),
    ({"patient": {"sex": "m"}}, "patient.sex"),
    ({"patient": {}, "schema": "mastcds-case/2"}, "schema"),
    ({"patient": {}, "evaluation_date": "11/09/2011"}, "evaluation_date"),
    ({"patient": {}, "evaluation_date": "2011-9"}, "evaluation_date"),
    ({"patient": {}, "skin": {"lesions": "papular"}}, "skin.lesions"),
    ({"patient": {}, "skin": None}, "skin"),
    ({"patient": {}, "bone_marrow": {"cd25": "yes"}}, "bone_marrow.cd25"),
    ({"patient": {}, "bone_marrow": {"infiltration_percent": 101}}, "bone_marrow.infiltration_percent"),
    ({"patient": {}, "molecular": {"tpsab1_extra_alpha_copies": 1.5}}, "molecular.tpsab1_extra_alpha_copies"),
    ({"patient": {}, "molecular": {"tpsab1_extra_alpha_copies": 11}}, "molecular.tpsab1_extra_alpha_copies"),
    ({"patient": {}, "molecular": {"kit_d816v": "positive"}}, "molecular.kit_d816v"),
    ({"patient": {}, "labs": {"baseline_tryptase_ng_ml": -1}}, "labs.baseline_tryptase_ng_ml"),
    ({"patient": {}, "episodes": [{"trigger": "wasp"}]}, "episodes[0].trigger"),
    ({"patient": {}, "episodes": [{"epinephrine_doses": 51}]}, "episodes[0].epinephrine_doses"),
    ({"patient": {}, "lab_results": [{"test": "tryptase", "value": 5, "unit": "ng/mL"}]}, "lab_results[0].date"),
    ({"patient": {}, "lab_results": [{"test": "histamine", "value": 5, "unit": "ng/mL", "date": "2011"}]}, "lab_results[0].test"),
    ({"patient": {}, "treatments": [{"drug": "omalizumab"}]}, "treatments[0].start_date"),
]


@pytest.mark.parametrize(("document", "path"), INVALID, ids=[p for _, p in INVALID])
def test_invalid_documents_are_rejected_by_both_with_the_field_named(document: dict, path: str) -> None:
    assert not VALIDATOR.is_valid(document)
    assert not model_accepts(document)
    with pytest.raises(CaseError) as caught:
        load_case(document)
    assert any(problem.path == path for problem in caught.value.problems), caught.value.problems


def test_json_integers_may_be_written_with_a_zero_fraction() -> None:
    document = {"patient": {}, "molecular": {"tpsab1_extra_alpha_copies": 2.0}}
    assert VALIDATOR.is_valid(document)
    assert load_case(document).molecular.tpsab1_extra_alpha_copies == 2


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], deadline=None)
@given(documents(case_schema()))
def test_every_schema_valid_document_is_accepted_by_the_model(document: dict) -> None:
    assert VALIDATOR.is_valid(document)
    assert model_accepts(document)


_ASCII_DATE = st.from_regex(r"\A[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?\Z")
_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 200), st.floats(-5, 500, allow_nan=False),
    st.sampled_from(["male", "detected", "none", "mastocytoma", "2011-09", "abc", "hymenoptera_venom"]),
)


def _mutations(document: dict) -> st.SearchStrategy[dict]:
    """The seed case with one field replaced by a random value: sometimes valid, sometimes not."""
    paths: list[tuple] = []

    def walk(node: object, prefix: tuple) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append(prefix + (key,))
                walk(value, prefix + (key,))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, prefix + (index,))

    walk(document, ())

    @st.composite
    def mutate(draw: st.DrawFn) -> dict:
        path = draw(st.sampled_from(paths))
        result = copy.deepcopy(document)
        node = result
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = draw(st.one_of(_LEAVES, _ASCII_DATE))
        return result

    return mutate()


@settings(max_examples=400, deadline=None)
@given(_mutations(SEED))
def test_model_and_schema_agree_on_mutated_documents(document: dict) -> None:
    assert model_accepts(document) == VALIDATOR.is_valid(document)


def test_not_json_is_a_clear_error() -> None:
    with pytest.raises(CaseError) as caught:
        load_case_text("{not json")
    assert "not valid JSON" in str(caught.value)


@pytest.mark.parametrize(
    ("lab", "path", "fragment"),
    [
        ({"test": "hemoglobin", "value": 6.2, "unit": "mmol/L", "date": "2011"}, "lab_results[0].unit", "accepted"),
        ({"test": "tryptase", "value": -3, "unit": "ng/mL", "date": "2011"}, "lab_results[0].value", "0-100000"),
        ({"test": "hemoglobin", "value": 400, "unit": "g/L", "date": "2011"}, "lab_results[0].value", "after conversion"),
        ({"test": "tryptase", "value": 5, "unit": "ng/mL", "date": "2011-13"}, "lab_results[0].date", "month"),
        ({"test": "tryptase", "value": 5, "unit": "ng/mL", "date": "2011-02-29"}, "lab_results[0].date", "day"),
        ({"test": "tryptase", "value": 5, "unit": "ng/mL", "date": "0000"}, "lab_results[0].date", "year"),
        ({"test": "tryptase", "value": 5, "unit": "ng/mL", "date": "1899-12-31"}, "lab_results[0].date", "year"),
        ({"test": "tryptase", "value": 5, "unit": "ng/mL", "date": "2101-01"}, "lab_results[0].date", "year"),
        ({"test": "tryptase", "value": 5, "unit": "ng/mL", "date": "2011", "episode_id": "x"}, "lab_results[0].episode_id", "no episode"),
    ],
)
def test_impossible_values_are_clear_errors(lab: dict, path: str, fragment: str) -> None:
    with pytest.raises(CaseError) as caught:
        load_case({"patient": {}, "lab_results": [lab]})
    problem = next(p for p in caught.value.problems if p.path == path)
    assert fragment in problem.message


def test_end_date_before_start_is_an_error_but_same_partial_period_is_not() -> None:
    with pytest.raises(CaseError) as caught:
        load_case({"patient": {}, "treatments": [{"drug": "omalizumab", "start_date": "2012-01", "end_date": "2011-12-31"}]})
    assert caught.value.problems[0].path == "treatments[0].end_date"
    load_case({"patient": {}, "treatments": [{"drug": "omalizumab", "start_date": "2012-01-15", "end_date": "2012-01"}]})


def test_duplicate_episode_ids_are_rejected() -> None:
    with pytest.raises(CaseError) as caught:
        load_case({"patient": {}, "episodes": [{"id": "e1"}, {"id": "e1"}]})
    assert caught.value.problems[0].path == "episodes[1].id"


def test_leap_day_is_a_real_date() -> None:
    load_case({"patient": {}, "evaluation_date": "2012-02-29"})


def test_first_and_last_accepted_years() -> None:
    load_case({"patient": {"birth_date": "1900-01-01"}, "evaluation_date": "2100-12-31"})


def test_an_impossible_treatment_date_is_reported_alone_not_also_as_end_before_start() -> None:
    for start, end, path in [("2012-13", "2011", "treatments[0].start_date"), ("2012-01", "2011-02-30", "treatments[0].end_date")]:
        with pytest.raises(CaseError) as caught:
            load_case({"patient": {}, "treatments": [{"drug": "omalizumab", "start_date": start, "end_date": end}]})
        assert [p.path for p in caught.value.problems] == [path]


def test_end_before_start_is_judged_per_treatment() -> None:
    treatments = [{"drug": "omalizumab", "start_date": "2012", "end_date": "1899"}] + [
        {"drug": "omalizumab", "start_date": "2012-01", "end_date": "2012"} for _ in range(9)
    ] + [{"drug": "omalizumab", "start_date": "2012-01", "end_date": "2011-12-31"}]
    treatments[1] = {"drug": "omalizumab", "start_date": "2012-02", "end_date": "2012-01"}
    with pytest.raises(CaseError) as caught:
        load_case({"patient": {}, "treatments": treatments})
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("treatments[0].end_date", "year must be 1900-2100"),
        ("treatments[1].end_date", "end date is before the start date 2012-02"),
        ("treatments[10].end_date", "end date is before the start date 2012-01"),
    ]


def test_a_checked_case_cannot_be_changed_and_its_absent_sections_are_unknown() -> None:
    case = load_case({"patient": {"sex": "male"}, "labs": {"baseline_tryptase_ng_ml": 50.9}})
    with pytest.raises(ValidationError, match="frozen"):
        case.patient.sex = "female"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        case.skin = case.skin  # type: ignore[misc]
    other = load_case({"patient": {}})
    for section in ("skin", "bone_marrow", "molecular", "organs", "mediator_symptoms"):
        assert all(value is None for value in getattr(case, section).model_dump().values()), section
        assert getattr(other, section) == getattr(case, section)
    assert case.to_document() == {"patient": {"sex": "male"}, "labs": {"baseline_tryptase_ng_ml": 50.9}}


def test_every_semantic_problem_of_a_document_with_its_path_value_and_message() -> None:
    document = {
        "evaluation_date": "2023-02-30", "patient": {"birth_date": "1899"}, "bone_marrow": {"biopsy_date": "2020-13"},
        "episodes": [{"id": "a", "date": "2021-04-31"}, {"id": "a"}, {"date": "2021"}],
        "lab_results": [
            {"test": "tryptase", "value": 5, "unit": "ng/mL", "date": "2019-02-29", "context": "acute", "episode_id": "b"},
            {"test": "tryptase", "value": 5, "unit": "mg", "date": "2019"},
            {"test": "tryptase", "value": 200000, "unit": "ug/L", "date": "2019"},
            {"test": "hemoglobin", "value": 40, "unit": "g/dL", "date": "2019"},
        ],
        "treatments": [
            {"drug": "x", "start_date": "2020-05", "end_date": "2020-04-30"},
            {"drug": "y", "start_date": "2020-00", "end_date": "2019"},
            {"drug": "z", "start_date": "2020", "end_date": "2020-02-30"},
        ],
    }
    with pytest.raises(CaseError) as error:
        load_case(document)
    assert [(p.path, p.value, p.message) for p in error.value.problems] == [
        ("evaluation_date", "2023-02-30", "day must be 01-28 in that month"),
        ("patient.birth_date", "1899", "year must be 1900-2100"),
        ("bone_marrow.biopsy_date", "2020-13", "month must be 01-12"),
        ("episodes[0].date", "2021-04-31", "day must be 01-30 in that month"),
        ("episodes[1].id", "a", "episode ids must be unique"),
        ("lab_results[0].date", "2019-02-29", "day must be 01-28 in that month"),
        ("lab_results[0].episode_id", "b", "no episode in this case has that id"),
        ("lab_results[1].unit", "mg", "unit not accepted for tryptase; accepted: ng/ml, ug/l"),
        ("lab_results[2].value", 200000.0, "tryptase must lie in 0-100000 ng/mL (after conversion from ug/L)"),
        ("lab_results[3].value", 40.0, "hemoglobin must lie in 0-30 g/dL"),
        ("treatments[0].end_date", "2020-04-30", "end date is before the start date 2020-05"),
        ("treatments[1].start_date", "2020-00", "month must be 01-12"),
        ("treatments[2].end_date", "2020-02-30", "day must be 01-29 in that month"),
    ]


# ------------------------------------------------ issue 15: fields that say the same thing twice must agree


def _seed_with(**sections: dict) -> dict:
    document = json.loads(json.dumps(SEED))
    for section, values in sections.items():
        if isinstance(values, dict):
            document.setdefault(section, {}).update(values)
        else:
            document[section] = values
    return document


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"molecular": {"kit_d816v_bone_marrow": "not_detected"}}, "molecular.kit_d816v"),
        ({"molecular": {"kit_d816v_bone_marrow_vaf_percent": 3}}, "molecular.kit_d816v_vaf_percent"),
        ({"molecular": {"kit_d816v_peripheral_blood": "not_detected", "kit_d816v_peripheral_blood_vaf_percent": 1}},
         "molecular.kit_d816v_peripheral_blood_vaf_percent"),
        ({"bone_marrow": {"largest_aggregate_mast_cells": 14}}, "bone_marrow.largest_aggregate_mast_cells"),
        ({"bone_marrow": {"atypical_morphology_over_25_percent": True, "spindle_atypical_mast_cells_percent": 25}},
         "bone_marrow.spindle_atypical_mast_cells_percent"),
        ({"bone_marrow": {"atypical_morphology_over_25_percent": False, "spindle_atypical_mast_cells_percent": 25.1}},
         "bone_marrow.spindle_atypical_mast_cells_percent"),
        ({"bone_marrow": {"cytopenia_or_cytosis": False}, "labs": {"hemoglobin_g_dl": 11}}, "bone_marrow.cytopenia_or_cytosis"),
        ({"bone_marrow": {"cytopenia_or_cytosis": True},
          "labs": {"hemoglobin_g_dl": 15, "platelets_10e9_l": 250, "neutrophils_10e9_l": 4, "leukocytes_10e9_l": 7,
                   "eosinophils_10e9_l": 0.2, "monocytes_10e9_l": 0.3}}, "bone_marrow.cytopenia_or_cytosis"),
        ({"associated_hematologic_neoplasm_lineage": "myeloid"}, "associated_hematologic_neoplasm_lineage"),
        ({"associated_hematologic_neoplasm": "CLL", "associated_hematologic_neoplasm_lineage": "myeloid"},
         "associated_hematologic_neoplasm_lineage"),
        ({"organs": {"large_osteolysis": True}}, "organs.large_osteolysis"),
    ],
)
def test_contradicting_fields_are_refused_naming_the_field(changes: dict, path: str) -> None:
    with pytest.raises(CaseError) as caught:
        load_case(_seed_with(**changes))
    assert [p.path for p in caught.value.problems] == [path]


@pytest.mark.parametrize(
    "changes",
    [
        {"molecular": {"kit_d816v_bone_marrow": "detected", "kit_d816v_bone_marrow_vaf_percent": 0.5}},  # the same twice
        {"bone_marrow": {"largest_aggregate_mast_cells": 15}},
        {"bone_marrow": {"atypical_morphology_over_25_percent": True, "spindle_atypical_mast_cells_percent": 25.1}},
        {"bone_marrow": {"cytopenia_or_cytosis": True}, "labs": {"hemoglobin_g_dl": 11}},
        {"associated_hematologic_neoplasm": "CMML", "associated_hematologic_neoplasm_lineage": "myeloid"},
    ],
)
def test_agreeing_fields_are_accepted(changes: dict) -> None:
    load_case(_seed_with(**changes))


@pytest.mark.parametrize(
    ("episode", "accepted"),
    [
        ({"dyspnoea_wheeze_bronchospasm": True, "dyspnoea": True, "wheeze_bronchospasm": False}, True),
        ({"dyspnoea_wheeze_bronchospasm": True}, True),
        ({"dyspnoea_wheeze_bronchospasm": False, "dyspnoea": True}, False),
        ({"dyspnoea_wheeze_bronchospasm": True, "dyspnoea": False, "wheeze_bronchospasm": False}, False),
    ],
)
def test_the_lumped_respiratory_finding_agrees_with_the_separate_ones(episode: dict, accepted: bool) -> None:
    document = _seed_with(episodes=[{"id": "x", **episode}])
    if accepted:
        load_case(document)
    else:
        with pytest.raises(CaseError) as caught:
            load_case(document)
        assert caught.value.problems[0].path == "episodes[0].dyspnoea_wheeze_bronchospasm"


def test_the_single_kit_result_is_read_as_its_samples_result() -> None:
    case = load_case(SEED)
    assert case.molecular.kit_d816v_in("bone_marrow") == KitSampleResult("detected", 0.5)
    assert case.molecular.kit_d816v_in("peripheral_blood") == KitSampleResult(None, None)
    unplaced = load_case(_seed_with(molecular={"kit_d816v_sample": None}))
    assert unplaced.molecular.kit_d816v_unplaced() == KitSampleResult("detected", 0.5)

"""The code tables: ICD-10-CM codes exist with the title we give them; look-ups find what they should."""

from __future__ import annotations

import pytest

from mastcds.fhir import codes
from mastcds.units import LAB_SPECS, to_canonical

cm = pytest.importorskip("simple_icd_10_cm")


def _all_codes() -> list[codes.Code]:
    found: list[codes.Code] = [
        *codes.LAB_TESTS.values(),
        *codes.SPECIMEN_TYPES.values(),
        *codes.EPISODE_FINDINGS.values(),
        *(c for group in codes.CATEGORY_CODES.values() for c in group),
        *codes.MCAS_CODES.values(),
        *(code for _prefix, icd, snomed in codes.HEMATOLOGIC_NEOPLASMS.values() for code in (icd, snomed)),
        *(code for code, _label in codes.MAST_CELL_DIAGNOSES),
        *(c for group in codes.DRUG_CODES.values() for c in group),
        codes.ANAPHYLAXIS, codes.ANAPHYLAXIS_ICD10CM, codes.HISTORY_OF_ANAPHYLAXIS,
        codes.HEREDITARY_ALPHA_TRYPTASEMIA, codes.SYSTOLIC_BP, codes.VARIANT_ASSESSMENT,
    ]
    return found


@pytest.mark.parametrize("code", [c for c in _all_codes() if c.system == codes.ICD10CM], ids=lambda c: c.code)
def test_every_icd10cm_code_is_in_the_cdc_release_with_our_title(code: codes.Code) -> None:
    assert cm.is_valid_item(code.code)
    assert cm.get_description(code.code).lower() == code.display.lower()


@pytest.mark.parametrize("system, code", [k for k in codes.RECORDED_MAST_CELL_DIAGNOSES if k[0] == codes.ICD10CM])
def test_every_recorded_diagnosis_icd10cm_code_exists(system: str, code: str) -> None:
    assert cm.is_valid_item(code)


@pytest.mark.parametrize("name", list(codes.HEMATOLOGIC_NEOPLASMS))
def test_neoplasm_prefix_is_the_parent_of_the_exported_code(name: str) -> None:
    prefix, code, snomed = codes.HEMATOLOGIC_NEOPLASMS[name]
    assert code.code.startswith(prefix) and cm.is_valid_item(prefix)
    assert codes.condition_kind([code.coding()]) == ("neoplasm", name)
    assert codes.condition_kind([snomed.coding()]) == ("neoplasm", name)


def test_every_code_names_a_source_and_a_known_verification() -> None:
    for code in _all_codes():
        assert code.source and code.display and code.verification in ("verified", "secondary")


def test_canonical_ucum_units_are_accepted_by_the_unit_converter() -> None:
    for test, unit in codes.CANONICAL_UCUM.items():
        assert test in codes.LAB_TESTS
        assert to_canonical(test, 1.0, unit) == 1.0, LAB_SPECS[test].canonical


def test_lab_lookup_finds_each_test_by_its_code() -> None:
    for test, code in codes.LAB_TESTS.items():
        assert codes.lab_test_for([{"system": code.system, "code": code.code}]) == test
    assert codes.lab_test_for([{"system": codes.LOINC, "code": "4548-4"}]) is None
    # the same code in another system is another concept
    assert codes.lab_test_for([{"system": codes.SNOMED, "code": "21582-2"}]) is None


@pytest.mark.parametrize(
    "coding, expected",
    [
        ({"system": codes.SNOMED, "code": "39579001"}, ("anaphylaxis", "39579001")),
        ({"system": codes.ICD10CM, "code": "T78.2XXA"}, ("anaphylaxis", "T78.2XXA")),
        ({"system": codes.ICD10CM, "code": "T78.2XXD"}, ("anaphylaxis-follow-up", "T78.2XXD")),
        ({"system": codes.ICD10CM, "code": "T78.01XS"}, ("anaphylaxis-follow-up", "T78.01XS")),
        ({"system": codes.ICD10, "code": "T78.2"}, ("anaphylaxis", "T78.2")),
        ({"system": codes.ICD10CM, "code": "Z87.892"}, ("history-of-anaphylaxis", "Z87.892")),
        ({"system": codes.ICD10CM, "code": "D47.02"}, ("mast-cell", "SM")),
        ({"system": codes.ICD10, "code": "C96.2"}, ("mast-cell", "malignant mast cell neoplasm")),
        ({"system": codes.ORPHA, "code": "98848"}, ("mast-cell", "ISM")),
        ({"system": codes.ICD10CM, "code": "C93.11"}, ("neoplasm", "CMML")),
        ({"system": codes.ICD10, "code": "D46.2"}, ("neoplasm", "MDS")),
        ({"system": codes.ICD10CM, "code": "E11.9"}, None),
        ({"system": codes.SNOMED, "code": "D47.02"}, None),
    ],
)
def test_condition_kind(coding: dict, expected: tuple | None) -> None:
    assert codes.condition_kind([coding]) == expected


@pytest.mark.parametrize(
    "coding, text, expected",
    [
        ({"system": codes.ATC, "code": "R03DX05"}, None, "omalizumab"),
        ({"system": codes.RXNORM, "code": "1657212"}, None, "omalizumab"),
        ({"system": codes.ATC, "code": "R06AE07"}, "cetirizine", "h1_antihistamine"),
        ({"system": codes.ATC, "code": "A02BA03"}, "famotidine", "h2_antihistamine"),
        ({"system": codes.ATC, "code": "R03DC03"}, None, "leukotriene_antagonist"),
        ({"system": codes.ATC, "code": "H02AB06"}, None, "glucocorticoid"),
        ({"system": codes.ATC, "code": "C01CA24"}, "Epinephrine 0.3 mg auto-injector", "epinephrine_autoinjector"),
        ({"system": codes.ATC, "code": "C01CA24"}, "epinephrine 1 mg/mL ampoule", "epinephrine"),
        ({"system": codes.ATC, "code": "L01XE39"}, None, "midostaurin"),
        ({"system": codes.ATC, "code": "L01EX18"}, None, "avapritinib"),
        ({"system": codes.ATC, "code": "R03DX"}, None, None),
        ({"system": codes.RXNORM, "code": "617993"}, None, None),
    ],
)
def test_drug_for(coding: dict, text: str | None, expected: str | None) -> None:
    assert codes.drug_for([coding], text) == expected


def test_is_omalizumab_by_code_or_name() -> None:
    assert codes.is_omalizumab({"coding": [{"system": codes.ATC, "code": "R03DX05"}]})
    assert codes.is_omalizumab({"text": "XOLAIR 150 mg prefilled syringe"})
    assert codes.is_omalizumab({"coding": [{"system": "urn:local", "code": "9", "display": "Omalizumab inj"}]})
    assert not codes.is_omalizumab({"text": "Amoxicillin 500 mg"})
    assert not codes.is_omalizumab(None)


def test_observation_kind_table_holds_every_read_code_once() -> None:
    from mastcds.fhir import fields

    expected = len(codes.LAB_TESTS) + 1 + 2  # labs, variant, pressures
    assert len(codes._OBSERVATION_BY_CODE) == expected  # no code read as two kinds
    assert len(fields.BY_CODE) == len(fields.FIELDS)  # each field its own code
    assert not set(fields.BY_CODE) & set(codes._OBSERVATION_BY_CODE)


@pytest.mark.parametrize(
    "codings, expected",
    [
        ([codes.EPISODE_FINDINGS["urticaria"].coding(), codes.LAB_TESTS["albumin"].coding()], ("lab", "albumin")),
        ([codes.EPISODE_FINDINGS["urticaria"].coding()], None),  # a finding of the field table
        ([codes.BP_PANEL.coding(), codes.VARIANT_ASSESSMENT.coding()], ("kit-variant", codes.VARIANT_ASSESSMENT.code)),
        ([codes.EPISODE_FINDINGS["pruritus"].coding(), codes.BP_PANEL.coding(), codes.SYSTOLIC_BP.coding()],
         ("blood-pressure", codes.BP_PANEL.code)),
        ([{"system": codes.SNOMED, "code": "21582-2"}], None),
        ([], None),
    ],
)
def test_observation_kind_ranks_lab_variant_pressure_finding(codings: list, expected: tuple | None) -> None:
    assert codes.observation_kind(codings) == expected
    if expected is not None and expected[0] == "lab":
        assert codes.lab_test_for(codings) == expected[1]


def test_in_codings_is_any_match() -> None:
    codings = [{"system": codes.SNOMED, "code": "8480-6"}, codes.BP_PANEL.coding(), codes.SYSTOLIC_BP.coding()]
    assert codes.SYSTOLIC_BP.in_codings(codings) and codes.BP_PANEL.in_codings(codings)
    assert not codes.SYSTOLIC_BP.in_codings(codings[:2]) and not codes.SYSTOLIC_BP.in_codings([])


@pytest.mark.parametrize(("concept", "expected"), [
    (None, []),
    ("8480-6", []),
    ({"text": "blood pressure"}, []),
    ({"coding": {"code": "8480-6"}}, []),
    ({"coding": []}, []),
    ({"coding": [{"code": "a"}, {"code": "b"}]}, [{"code": "a"}, {"code": "b"}]),
    ({"coding": ["a", {"code": "b"}, None, 3, {"code": "c"}]}, [{"code": "b"}, {"code": "c"}]),
])
def test_codings_of_keeps_the_json_objects_of_a_concept_in_order(concept: object, expected: list) -> None:
    assert codes.codings_of(concept) == expected


wc = pytest.importorskip("simple_icd_10")


@pytest.mark.parametrize("code", [c for c in _all_codes() if c.system == codes.ICD10], ids=lambda c: c.code)
def test_every_who_icd10_code_is_in_the_2019_release_with_our_title(code: codes.Code) -> None:
    assert wc.is_valid_item(code.code)
    assert wc.get_description(code.code).lower() == code.display.lower()


@pytest.mark.parametrize(
    "coding, label",
    [
        ({"system": codes.SNOMED, "code": "397016004"}, "SM"),  # Systemic mast cell disease
        ({"system": codes.SNOMED, "code": "397012002"}, "CM"),
        ({"system": codes.ICDO3, "code": "9741/3"}, "SM"),
        ({"system": codes.ICDO3, "code": "9741/1"}, "ISM"),
        ({"system": codes.ICDO3, "code": "9742/3"}, "MCL"),
        ({"system": codes.ICDO3, "code": "9740/1"}, "mast cell neoplasm"),
        ({"system": codes.ICD10, "code": "D47.0"}, "mast cell neoplasm"),
        ({"system": codes.ORPHA, "code": "79456"}, "CM"),
    ],
)
def test_the_one_diagnosis_table_reads_every_terminology(coding: dict, label: str) -> None:
    """Regression (issue 17 §2): a SNOMED CT mastocytosis diagnosis was not recognised."""
    assert codes.condition_kind([coding]) == ("mast-cell", label)


@pytest.mark.parametrize(
    "coding, text, expected",
    [
        ({"system": codes.RXNORM, "code": "1870230"}, None, "epinephrine_autoinjector"),
        ({"system": codes.RXNORM, "code": "1660014"}, None, "epinephrine"),
        ({"system": codes.ATC, "code": "A07EB01"}, None, "cromolyn"),
        ({"system": codes.ATC, "code": "A02BC01"}, None, "proton_pump_inhibitor"),
        ({"system": codes.ATC, "code": "L03AB11"}, None, "interferon_alpha"),
        ({"system": codes.ATC, "code": "L03AB07"}, None, None),  # interferon beta-1a: not interferon alpha
        ({"system": codes.ATC, "code": "V01AA07"}, None, "venom_immunotherapy"),
        ({"system": codes.ATC, "code": "N02BA01"}, None, "aspirin"),
    ],
)
def test_ladder_drugs_by_rxnorm_and_atc(coding: dict, text: str | None, expected: str | None) -> None:
    """Regression (issue 17 §2): RxNorm 1870230 (auto-injector) and 1660014 were "not read"."""
    assert codes.drug_for([coding], text) == expected


def test_every_ladder_drug_has_a_code() -> None:
    import json
    from importlib import resources

    ladder = json.loads(resources.files("mastcds.rules.treatment").joinpath("tables", "treatment_ladder.json").read_text())
    drugs = {o["drug"] for step in ladder["anti_mediator_steps"] for o in step["options"]}
    drugs |= {c["drug"] for c in ladder["cytoreduction"]} | {ladder["venom_immunotherapy"]["drug"]}
    assert drugs <= set(codes.DRUG_CODES)


def test_bee_venom_is_hymenoptera_venom() -> None:
    assert codes.allergen_trigger([{"system": codes.SNOMED, "code": "288328004"}]) == ("hymenoptera_venom", "Bee venom")
    assert codes.allergen_trigger([{"system": codes.SNOMED, "code": "39579001"}]) is None

"""The quick calculators, on the page and over the API: the rules' answers, the case schema's bounds."""

from __future__ import annotations

import math

import pytest

from mastcds.rules.dosing.omalizumab import TABLES, omalizumab_dose
from mastcds.rules.anaphylaxis.rema import rema_score
from mastcds.web import calculators
from mastcds.web.problems import InputError
from tests.web.conftest import Web

OMALIZUMAB = "/api/v1/calculators/omalizumab"
REMA = "/api/v1/calculators/rema"
RISE = "/api/v1/calculators/tryptase-rise"


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize(("ige", "weight"), [(25, 106), (100, 70), (250, 65), (700, 150), (1500, 30)])
def test_omalizumab_is_the_rule_s_dose(web: Web, table: str, ige: float, weight: float) -> None:
    response = web.api("viewer").get(OMALIZUMAB, params={"ige_iu_ml": ige, "weight_kg": weight, "table": table})
    assert response.status_code == 200
    assert response.json() == omalizumab_dose(ige, weight, table).as_dict()


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [("ige_iu_ml", -0.001, False), ("ige_iu_ml", 0, True), ("ige_iu_ml", 100000, True), ("ige_iu_ml", 100000.001, False),
     ("weight_kg", 0.499, False), ("weight_kg", 0.5, True), ("weight_kg", 400, True), ("weight_kg", 400.001, False),
     ("age_years", -0.1, False), ("age_years", 0, True), ("age_years", 120, True), ("age_years", 120.1, False)],
)
def test_omalizumab_bounds(web: Web, field: str, value: float, ok: bool) -> None:
    params = {"ige_iu_ml": 100, "weight_kg": 70, field: value}
    response = web.api("viewer").get(OMALIZUMAB, params=params)
    assert response.status_code == (200 if ok else 422)
    if not ok:
        assert response.json()["problems"][0]["path"] == field


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(web: Web, value: float) -> None:
    assert web.api("viewer").get(OMALIZUMAB, params={"ige_iu_ml": str(value), "weight_kg": 70}).status_code == 422
    with pytest.raises(InputError):
        calculators.omalizumab(value, 70, TABLES[0])


def test_unknown_table_and_syringes_are_refused(web: Web) -> None:
    assert web.api("viewer").get(OMALIZUMAB, params={"ige_iu_ml": 100, "weight_kg": 70, "table": "jp"}).status_code == 422
    with pytest.raises(InputError) as refused:
        calculators.omalizumab(100, 70, "jp", syringes="300")
    assert {p.path for p in refused.value.problems} == {"table", "syringes"}


@pytest.mark.parametrize("sex", ["male", "female", None])
@pytest.mark.parametrize("skin", [True, False, None])
@pytest.mark.parametrize("syncope", [True, False, None])
@pytest.mark.parametrize("tryptase", [14.9, 15, 25, 25.1, None])
def test_rema_is_the_rule_s_score(web: Web, sex: str | None, skin: bool | None, syncope: bool | None, tryptase: float | None) -> None:
    params = {k: v for k, v in {"sex": sex, "urticaria_or_angioedema": skin, "presyncope_or_syncope": syncope,
                                "baseline_tryptase_ng_ml": tryptase}.items() if v is not None}
    answer = web.api("viewer").get(REMA, params=params).json()
    expected = rema_score(sex, skin, syncope, tryptase)
    assert (answer["score"], answer["min"], answer["max"], answer["clonal_likely"]) == (
        expected.score, expected.min, expected.max, expected.clonal_likely
    )
    assert answer["items"] == [item.as_dict() for item in expected.items]


@pytest.mark.parametrize(
    ("acute", "status"),
    [(63.07, "not_met"), (63.08, "not_met"), (63.09, "met")],
)
def test_tryptase_rise_at_the_seed_patient_s_threshold(web: Web, acute: float, status: str) -> None:
    answer = web.api("viewer").get(RISE, params={"baseline_tryptase_ng_ml": 50.9, "acute_tryptase_ng_ml": acute, "minutes_after_onset": 90}).json()
    assert answer["threshold_ng_ml"] == 63.08
    assert answer["rise"]["status"] == status


def test_tryptase_threshold_alone(web: Web) -> None:
    answer = web.api("viewer").get(RISE, params={"baseline_tryptase_ng_ml": 10}).json()
    assert answer["threshold_ng_ml"] == 14.0 and answer["rise"]["status"] == "unknown"
    assert web.api("viewer").get(RISE).status_code == 422


def test_calculator_page_results(web: Web) -> None:
    client = web.browser("viewer")
    dose = client.get("/calculators", params={"calculator": "omalizumab", "ige_iu_ml": "100", "weight_kg": "70", "table": "eu-smpc-asthma"})
    expected = omalizumab_dose(100, 70, "eu-smpc-asthma")
    assert f"{expected.dose_mg} mg every {expected.interval_weeks} weeks" in dose.text
    rema = client.get("/calculators", params={"calculator": "rema", "sex": "male", "urticaria_or_angioedema": "false",
                                              "presyncope_or_syncope": "true", "baseline_tryptase_ng_ml": "50,9"})
    assert "REMA 7" in rema.text and "clonal mast cell disease likely" in rema.text
    rise = client.get("/calculators", params={"calculator": "tryptase", "baseline_tryptase_ng_ml": "50.9"})
    assert "Threshold <strong>63.08 ng/mL</strong>" in rise.text


def test_calculator_page_errors_are_beside_their_fields(web: Web) -> None:
    client = web.browser("viewer")
    page = client.get("/calculators", params={"calculator": "omalizumab", "ige_iu_ml": "abc", "weight_kg": "", "table": "eu-smpc-asthma"})
    assert 'id="omalizumab-ige_iu_ml-error">enter a number, e.g. 12.5' in page.text
    assert 'id="omalizumab-weight_kg-error">required' in page.text
    out_of_range = client.get("/calculators", params={"calculator": "tryptase", "baseline_tryptase_ng_ml": "-1"})
    assert 'id="tryptase-baseline_tryptase_ng_ml-error">must lie in 0-100000 ng/mL' in out_of_range.text


def test_the_omalizumab_calculator_warns_of_off_label_use_as_the_command_line_does(web: Web) -> None:
    from markupsafe import escape

    client = web.browser("viewer")
    page = client.get("/calculators", params={"calculator": "omalizumab", "ige_iu_ml": "100", "weight_kg": "70"})
    off_label = next(w for w in omalizumab_dose(100, 70, indication_off_label=True).warnings if w.startswith("off-label"))
    assert str(escape(off_label)) in page.text
    asthma = client.get("/calculators", params={"calculator": "omalizumab", "ige_iu_ml": "100", "weight_kg": "70", "indication": "asthma"})
    assert "off-label: omalizumab has no label indication" not in asthma.text


@pytest.mark.parametrize(("weight", "strength"), [("20", "0.15 mg"), ("106", "0.3 mg")])
def test_the_adrenaline_calculator_is_the_rule_s_strength(web: Web, weight: str, strength: str) -> None:
    from mastcds.rules.dosing.epinephrine import epinephrine_autoinjector

    page = web.browser("viewer").get("/calculators", params={"calculator": "epinephrine", "weight_kg": weight})
    expected = epinephrine_autoinjector(float(weight), None)
    assert f"<strong>{expected.dose_mg:g} mg</strong>, 2 devices" in page.text and strength.startswith(f"{expected.dose_mg:g}")
    assert 'id="epinephrine"' in web.browser("viewer").get("/calculators").text


def test_the_adrenaline_calculator_refuses_what_a_patient_cannot_weigh(web: Web) -> None:
    page = web.browser("viewer").get("/calculators", params={"calculator": "epinephrine", "weight_kg": "401"})
    assert 'id="epinephrine-weight_kg-error">must lie in 0.5-400 kg' in page.text
    with pytest.raises(InputError):
        calculators.epinephrine(70, None, "mars")


def test_rema_s_caveat_stands_beside_the_calculated_score(web: Web) -> None:
    from mastcds.rules.anaphylaxis.rema import POPULATION

    page = web.browser("viewer").get("/calculators", params={"calculator": "rema", "sex": "male"}).text
    assert page.index("REMA between") < page.index(str(__import__("markupsafe").escape(POPULATION))) < page.index("Male")

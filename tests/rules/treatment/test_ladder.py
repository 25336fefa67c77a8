"""The usual-escalation ladder: where a patient stands, next options, cytoreduction by variant, safety warnings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastcds.rules.treatment.ladder import TreatmentRecord, drug_class, ladder, treatment_plan


def current(drug: str, dose: float | None = None) -> TreatmentRecord:
    return TreatmentRecord(drug=drug, status="current", dose_mg=dose)


def test_the_ladder_is_labelled_usual_escalation_not_a_guideline() -> None:
    plan = treatment_plan(["ISM"], [], [])
    assert plan["label"] == "usual escalation (not a guideline)"
    assert "not as a guideline" in plan["note"]


def test_every_option_in_the_data_has_a_source_and_a_known_step_order() -> None:
    data = ladder()
    assert [step["step"] for step in data["anti_mediator_steps"]] == [0, 1, 2, 3, 4]
    for step in data["anti_mediator_steps"]:
        for option in step["options"]:
            assert option["source"] and option["drug"] and option["name"]
    for option in data["cytoreduction"]:
        assert option["source"] and option["dose"] and option["for"]
    assert data["venom_immunotherapy"]["source"]


def test_nothing_recorded_offers_steps_0_and_1() -> None:
    anti = treatment_plan(None, [], [])["anti_mediator"]
    assert anti["current_step"] is None
    assert [(o["step"], o["drug"]) for o in anti["next_options"]] == [(0, "epinephrine_autoinjector"), (1, "h1_antihistamine")]


def test_h1_current_is_step_1_with_step_2_and_up_dosing_next() -> None:
    anti = treatment_plan(["ISM"], [], [current("cetirizine"), current("epinephrine_autoinjector")])["anti_mediator"]
    assert anti["current_step"] == 1
    drugs = [(o["step"], o["drug"], o["name"]) for o in anti["next_options"]]
    assert (2, "h2_antihistamine", "H2 antihistamine (famotidine)") in drugs
    assert (2, "proton_pump_inhibitor", "proton-pump inhibitor") in drugs
    assert any(step == 1 and "4 x" in name for step, _, name in drugs)
    assert not any(step >= 3 for step, _, _ in drugs)
    assert not any(drug == "epinephrine_autoinjector" for _, drug, _ in drugs)


def test_seed_like_patient_stands_at_step_4() -> None:
    records = [current(d) for d in ("glucocorticoid", "h1_antihistamine", "h2_antihistamine", "leukotriene_antagonist",
                                    "omalizumab", "epinephrine_autoinjector")]
    anti = treatment_plan(None, ["none_identified"], records)["anti_mediator"]
    assert anti["current_step"] == 4
    assert {o["drug"] for o in anti["next_options"]} == {"proton_pump_inhibitor", "cromolyn", "aspirin", "h1_antihistamine"}


def test_a_stopped_drug_is_offered_again_as_reconsider() -> None:
    anti = treatment_plan(None, [], [TreatmentRecord("h1_antihistamine", "ended", end_date="2012")])["anti_mediator"]
    option = next(o for o in anti["next_options"] if o["drug"] == "h1_antihistamine")
    assert "reconsider" in option["why"]
    assert anti["steps"][1]["options"][0]["status"] == "ended"


def test_not_started_treatments_do_not_count() -> None:
    anti = treatment_plan(None, [], [TreatmentRecord("omalizumab", "not_started")])["anti_mediator"]
    assert anti["current_step"] is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Cetirizine", "h1_antihistamine"), ("famotidine", "h2_antihistamine"), ("montelukast", "leukotriene_antagonist"),
     ("Sodium cromoglicate", "cromolyn"), ("prednisolone", "glucocorticoid"), ("Xolair", "omalizumab"),
     ("avapritinib", "avapritinib"), ("some-new-drug", "some_new_drug")],
)
def test_generic_names_map_to_schema_classes(name: str, expected: str) -> None:
    assert drug_class(name) == expected


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        (["ISM"], {"avapritinib_ism"}),
        (["BMM"], {"avapritinib_ism"}),
        (["SSM"], {"interferon_alpha", "cladribine"}),
        (["ASM"], {"midostaurin", "avapritinib_advanced", "interferon_alpha", "cladribine"}),
        (["SM-AHN"], {"midostaurin", "avapritinib_advanced", "interferon_alpha", "cladribine"}),
        (["SM-AMN"], {"midostaurin", "avapritinib_advanced", "interferon_alpha", "cladribine"}),
        (["MCL"], {"midostaurin", "avapritinib_advanced", "interferon_alpha", "cladribine"}),
        (["CM"], set()),
        (["none"], set()),
        (["ISM", "MCL"], {"avapritinib_ism", "midostaurin", "avapritinib_advanced", "interferon_alpha", "cladribine"}),
    ],
)
def test_cytoreductive_options_by_variant(categories: list[str], expected: set[str]) -> None:
    section = treatment_plan(categories, [], [])["cytoreduction"]
    assert {option["id"] for option in section["options"]} == expected
    for option in section["options"]:
        assert set(option["for_possible_categories"]) <= set(categories)


def test_unknown_variant_lists_no_cytoreduction_but_says_why() -> None:
    section = treatment_plan(None, [], [current("midostaurin", 100)])["cytoreduction"]
    assert section["options"] == [] and "undetermined" in section["note"]
    assert section["current"] == ["midostaurin"]


@pytest.mark.parametrize(
    ("category", "drug", "dose", "warning"),
    [
        ("ISM", "midostaurin", 100, "mismatch"),
        ("ISM", "midostaurin", None, "mismatch"),
        ("BMM", "midostaurin", 50, "mismatch"),
        ("ISM", "avapritinib", 200, "mismatch"),
        ("ISM", "avapritinib", 100, "mismatch"),
        ("ISM", "avapritinib", 99.9, "exceeds"),
        ("ISM", "avapritinib", 25.1, "exceeds"),
        ("ISM", "avapritinib", 25, None),
        ("ISM", "avapritinib", None, None),
        ("ASM", "midostaurin", 100, None),
        ("ASM", "avapritinib", 200, None),
        ("SSM", "avapritinib", 200, None),
    ],
)
def test_dose_indication_mismatch(category: str, drug: str, dose: float | None, warning: str | None) -> None:
    warnings = treatment_plan([category], [], [current(drug, dose)])["warnings"]
    if warning is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warning in warnings[0] and category in warnings[0]


def test_mismatch_only_for_current_treatments_and_determinate_non_advanced_category() -> None:
    assert treatment_plan(["ISM"], [], [TreatmentRecord("midostaurin", "ended", 100)])["warnings"] == []
    assert treatment_plan(["ISM", "MCL"], [], [current("midostaurin", 100)])["warnings"] == []
    assert treatment_plan(None, [], [current("midostaurin", 100)])["warnings"] == []


def test_no_hymenoptera_episode_no_vit_section() -> None:
    assert treatment_plan(["ISM"], ["drug", None], [])["venom_immunotherapy"] is None


def test_venom_anaphylaxis_in_sm_recommends_lifelong_vit() -> None:
    plan = treatment_plan(["ISM"], ["hymenoptera_venom"], [])
    venom = plan["venom_immunotherapy"]
    assert venom["status"] == "not_recorded" and venom["lifelong"] is True
    assert "lifelong" in venom["advice"] and venom["source"]
    assert plan["warnings"] == []


def test_vit_current_in_sm_continues_lifelong() -> None:
    venom = treatment_plan(["SSM"], ["hymenoptera_venom"], [current("venom_immunotherapy")])["venom_immunotherapy"]
    assert venom["advice"] == "continue lifelong"


def test_vit_stopped_in_sm_warns() -> None:
    records = [TreatmentRecord("venom_immunotherapy", "ended", start_date="2015", end_date="2020-05")]
    warnings = treatment_plan(["ISM"], ["hymenoptera_venom"], records)["warnings"]
    assert len(warnings) == 1 and "stopped (ended 2020-05)" in warnings[0] and "lifelong" in warnings[0]
    assert "if SM is confirmed" not in warnings[0]


def test_vit_stopped_with_sm_undetermined_warns_conditionally() -> None:
    records = [TreatmentRecord("vit", "ended", end_date="2020")]
    plan = treatment_plan(None, ["hymenoptera_venom"], records)
    assert "if SM is confirmed" in plan["warnings"][0]
    assert plan["venom_immunotherapy"]["lifelong"] is None


def test_vit_stopped_without_sm_is_not_a_warning() -> None:
    plan = treatment_plan(["none"], ["hymenoptera_venom"], [TreatmentRecord("venom_immunotherapy", "ended", end_date="2020")])
    assert plan["warnings"] == [] and plan["venom_immunotherapy"]["lifelong"] is False


DRUGS = ["h1_antihistamine", "h2_antihistamine", "cromolyn", "omalizumab", "glucocorticoid", "midostaurin",
         "avapritinib", "venom_immunotherapy", "epinephrine_autoinjector", "cetirizine", "other"]
CATEGORIES = ["none", "CM", "BMM", "ISM", "SSM", "ASM", "SM-AHN", "SM-AMN", "MCL", "MCS"]


@given(
    st.none() | st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True),
    st.lists(st.none() | st.sampled_from(["hymenoptera_venom", "drug", "none_identified"]), max_size=3),
    st.lists(
        st.builds(TreatmentRecord, st.sampled_from(DRUGS), st.sampled_from(["current", "ended", "not_started"]),
                  st.none() | st.floats(min_value=0, max_value=1000, allow_nan=False)),
        max_size=6,
    ),
)
def test_the_current_step_is_the_highest_current_drug_and_next_options_are_never_current(categories, triggers, records) -> None:
    plan = treatment_plan(categories, triggers, records)
    anti = plan["anti_mediator"]
    current_classes = {drug_class(r.drug) for r in records if r.status == "current"}
    steps_in_use = [s["step"] for s in anti["steps"] if any(o["drug"] in current_classes for o in s["options"])]
    assert anti["current_step"] == (max(steps_in_use) if steps_in_use else None)
    reach = 1 if anti["current_step"] is None else anti["current_step"] + 1
    for option in anti["next_options"]:
        assert option["step"] <= reach and option["source"]
        assert option["drug"] not in current_classes or option["drug"] == "h1_antihistamine"
    assert (plan["venom_immunotherapy"] is None) == ("hymenoptera_venom" not in triggers)

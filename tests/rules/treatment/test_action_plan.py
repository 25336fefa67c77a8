"""The emergency action plan's rules: what each section says, from what the record holds, in plain language."""

from __future__ import annotations

import re

import pyphen
import pytest

from mastcds.rules.treatment.action_plan import (
    DEVICES_CARRIED,
    MATITO_2015,
    MHRA_2023,
    SECOND_DOSE_AFTER_MINUTES,
    WRITTEN_PLAN,
    Medicine,
    Reaction,
    action_plan,
)

READING_GRADE_MAX = 8.0
"""Flesch-Kincaid grade 8 or below: the level plain-language health material is written to (US NIH/AMA advice)."""
_HYPHENATOR = pyphen.Pyphen(lang="en_US")


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade: 0.39 × words per sentence + 11.8 × syllables per word − 15.59 (syllables by hyphenation)."""
    sentences = [s for s in re.split(r"[.!?:\n]+", text) if re.search(r"[A-Za-z]", s)]
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    syllables = sum(max(1, len(_HYPHENATOR.positions(word.lower())) + 1) for word in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * syllables / len(words) - 15.59


def plan(**changes: object) -> object:
    given: dict[str, object] = {
        "autoinjector_mg": 0.3,
        "reactions": [Reaction("none_identified", None, "2010"), Reaction("hymenoptera_venom", "wasp", "2015")],
        "medicines": [Medicine("omalizumab", 300, "q4w"), Medicine("h1_antihistamine", None, "bid"), Medicine("epinephrine_autoinjector")],
        "mastocytosis": True,
        "anaphylaxis_before": True,
    }
    given.update(changes)
    return action_plan(**given)  # type: ignore[arg-type]


def section(result: object, title: str) -> tuple[str, ...]:
    return next(s.lines for s in result.sections if s.title == title)  # type: ignore[attr-defined]


def test_the_emergency_comes_first_with_the_strength_two_devices_and_the_second_dose() -> None:
    result = plan()
    first = result.sections[0]
    assert first.title == "In a severe reaction" and MHRA_2023 in first.sources
    text = " ".join(first.lines)
    assert "0.3 mg" in text and f"Carry {DEVICES_CARRIED}" in text and "outer thigh" in text
    assert f"after {SECOND_DOSE_AFTER_MINUTES} minutes" in text and "ambulance" in text and "Lie down" in text


def test_without_a_strength_the_doctor_chooses_and_two_are_still_carried() -> None:
    text = " ".join(section(plan(autoinjector_mg=None), "In a severe reaction"))
    assert "doctor will choose the strength" in text and "mg" not in text.split("Carry")[0]


def test_recorded_triggers_are_named_and_unknown_ones_counted() -> None:
    lines = section(plan(), "What set off your reactions")
    assert "a bee or wasp sting (wasp)" in lines[0] and lines[1] == "Avoid these."
    assert "No cause was found for one reaction" in lines[2]
    assert section(plan(reactions=[]), "What set off your reactions") == (
        "No reaction is recorded yet. Tell your doctor about any reaction you have.",
    )


def test_medicines_as_prescribed_without_the_auto_injector() -> None:
    lines = section(plan(), "Your medicines for mast cell symptoms")
    assert lines[0] == "Omalizumab 300 mg, every 4 weeks." and lines[1] == "Antihistamine (H1), twice a day."
    assert not any("epinephrine" in line or "auto-injector" in line for line in lines)
    assert "No daily medicine is recorded" in section(plan(medicines=[]), "Your medicines for mast cell symptoms")[0]


@pytest.mark.parametrize(("mastocytosis", "advised"), [(True, True), (False, False), (None, False)])
def test_premedication_is_advised_only_in_mastocytosis_whose_studies_it_rests_on(mastocytosis: bool | None, advised: bool) -> None:
    result = plan(mastocytosis=mastocytosis)
    procedures = next(s for s in result.sections if s.title == "Before an operation or a scan")
    assert ("1 hour before" in " ".join(procedures.lines)) is advised
    assert (MATITO_2015 in procedures.sources) is advised
    assert any("bring your auto-injectors" in line for line in procedures.lines)


def test_an_earlier_anaphylaxis_is_named_as_the_risk_it_is() -> None:
    assert any("had anaphylaxis" in line for line in section(plan(), "Before an operation or a scan"))
    assert not any("had anaphylaxis" in line for line in section(plan(anaphylaxis_before=False), "Before an operation or a scan"))


def test_every_piece_of_advice_cites_a_source_and_the_plan_starts_with_why_a_written_plan() -> None:
    result = plan()
    assert result.sources[0] == WRITTEN_PLAN
    for s in result.sections:
        if s.title in ("In a severe reaction", "Before an operation or a scan"):
            assert s.sources


@pytest.mark.parametrize("mastocytosis", [True, False])
def test_the_words_a_patient_reads_are_plain(mastocytosis: bool) -> None:
    grade = reading_grade(plan(mastocytosis=mastocytosis).text())
    assert grade <= READING_GRADE_MAX, grade


def test_the_reading_grade_measure_tells_plain_from_dense() -> None:
    assert reading_grade("Use it now. Call for help. Lie down.") < 3
    assert reading_grade("Perioperative anaphylactoid hypersensitivity necessitates multidisciplinary premedication considerations.") > 12

"""The compiler's table of the FHIR R4B model says what the fhir.resources models say."""

from __future__ import annotations

import pytest

from mastcds.screen.model import element_info, model_element_info, model_table
from mastcds.screen.r4b_elements import ELEMENTS


def test_table_is_what_the_models_give():
    assert model_table() == ELEMENTS, "regenerate it: python -m mastcds.screen.model"


def test_every_type_an_element_leads_to_is_in_the_table():
    children = {entry.lstrip("*") for entries in ELEMENTS.values() for entry in entries.values()} - {""}
    assert children - set(ELEMENTS) == set()


@pytest.mark.parametrize(("type_name", "element"), [
    ("Observation", "code"), ("Observation", "focus"), ("Observation", "valueQuantity"), ("Observation", "status"),
    ("CodeableConcept", "coding"), ("Patient", "name"), ("Patient", "contained"), ("Patient", "nope"),
    ("Patient", "birth-date"), ("NoSuchType", "code"), (None, "code"), ("ObservationComponent", "code"),
])
def test_lookup_matches_the_models(type_name, element):
    assert element_info(type_name, element) == model_element_info(type_name, element)

"""The compiler's table of the FHIR R4B model says what the fhir.resources models say."""

from __future__ import annotations

import pytest

from mastcds.screen.model import element_info, model_element_info, model_table
from mastcds.screen.r4b_elements import ELEMENTS


def test_table_is_what_the_models_give():
    assert model_table() == ELEMENTS, "regenerate it: python -m mastcds.screen.model"


def test_every_type_an_element_leads_to_is_in_the_table():
    children = {entry.lstrip("*") for entries in ELEMENTS.values() for entry in entries.values()}
    complex_types = {name for name in children if name[:1].isupper()}
    assert complex_types - set(ELEMENTS) == set()


def test_every_primitive_is_named_as_fhir_spells_it():
    """lowBoundary() and highBoundary() read a date as a Date and a dateTime as a DateTime: the table must say which."""
    primitives = {entry.lstrip("*") for entries in ELEMENTS.values() for entry in entries.values()} - set(ELEMENTS)
    assert primitives == {"base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id",
                          "instant", "integer", "markdown", "oid", "positiveInt", "string", "time", "unsignedInt",
                          "uri", "url", "uuid", "xhtml"}
    assert element_info("Patient", "birthDate") == (False, "date")
    assert element_info("Observation", "valueDateTime") == (False, "dateTime")
    assert element_info("Timing", "event") == (True, "dateTime")


@pytest.mark.parametrize(("type_name", "element"), [
    ("Observation", "code"), ("Observation", "focus"), ("Observation", "valueQuantity"), ("Observation", "status"),
    ("CodeableConcept", "coding"), ("Patient", "name"), ("Patient", "contained"), ("Patient", "nope"),
    ("Patient", "birth-date"), ("NoSuchType", "code"), (None, "code"), ("ObservationComponent", "code"),
    ("Patient", "birthDate"), ("Observation", "issued"), ("Quantity", "value"), ("Narrative", "div"),
    ("AccountGuarantor", "onHold"), ("ElementDefinition", "defaultValueUuid"), ("Attachment", "data"),
])
def test_lookup_matches_the_models(type_name, element):
    assert element_info(type_name, element) == model_element_info(type_name, element)

"""The patient-view service on EHR data the FHIR import once crashed on or misread: same cards, or a card saying what was not used."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mastcds.fhir import codes
from mastcds.web.cds_hooks import PATIENT_VIEW
from tests.web.conftest import Web
from tests.web.test_cds_hooks import (
    SEED,
    check_response,
    patient_view,
    prefetched,
    sandbox_api,
    seed_resources,
    summaries,
)

SEED_CARDS = [  # the seed patient without its KIT result (tests/web/test_cds_hooks.py)
    "REMA score 7: clonal mast cell disease likely - consider a bone marrow biopsy and KIT D816V",
    "Baseline tryptase 50.9 ng/mL > 20 without a mastocytosis work-up",
]
PROBLEMS_CARD = "1 FHIR value(s) could not be used by mastcds (unit, range or date)"


@pytest.fixture
def api(web: Web) -> TestClient:
    return sandbox_api(web.store)


def cards_for(api: TestClient, prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.post(f"/cds-services/{PATIENT_VIEW}", json=patient_view(prefetch))
    assert response.status_code == 200, response.text
    return check_response(response.json())


def without_kit() -> dict[str, Any]:
    return seed_resources(drop=(codes.VARIANT_ASSESSMENT.code,))


@pytest.mark.parametrize("full_url", [None, f"http://ehr.example/fhir/Patient/{SEED['id']}"])
def test_the_patient_also_in_the_observations_bundle_still_gives_the_seed_cards(api: TestClient, full_url: str | None) -> None:
    found = without_kit()
    data = prefetched(found)
    entry: dict[str, Any] = {"resource": copy.deepcopy(found["patient"])}
    if full_url is not None:
        entry["fullUrl"] = full_url
    data["observations"]["entry"].insert(0, entry)
    assert summaries(cards_for(api, data)) == SEED_CARDS
    data["conditions"]["entry"].append(copy.deepcopy(entry))  # and a third copy
    assert summaries(cards_for(api, data)) == SEED_CARDS



def _tryptase(rid: str, **elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final", "subject": {"reference": f"Patient/{SEED['id']}"},
            "code": {"coding": [codes.LAB_TESTS["tryptase"].coding()]},
            "valueQuantity": {"value": 90, "system": codes.UCUM, "code": "ug/L"}, **elements}


@pytest.mark.parametrize("date", ["2011-13", "2011-09-31", "2011-02-29"])
def test_a_date_that_is_no_date_is_reported_on_a_card_and_the_rest_still_read(api: TestClient, date: str) -> None:
    found = without_kit()
    found["observations"].append(_tryptase("bad-date", effectiveDateTime=date))
    cards = cards_for(api, prefetched(found))
    assert summaries(cards) == [*SEED_CARDS, PROBLEMS_CARD]
    assert "Observation/bad-date.effectiveDateTime" in re.sub(r"\\(.)", r"\1", cards[2]["detail"])  # Markdown escapes


def test_a_list_as_a_code_is_no_code_and_the_rest_still_read(api: TestClient) -> None:
    found = without_kit()
    malformed = _tryptase("malformed", effectiveDateTime="2011-09")
    malformed["code"]["coding"] = [{"system": codes.LOINC, "code": ["21582-2"]}]
    found["observations"].append(malformed)
    found["conditions"][0]["verificationStatus"] = {"coding": [{"system": codes.CONDITION_VERIFICATION, "code": {"x": 1}}]}
    assert summaries(cards_for(api, prefetched(found))) == SEED_CARDS

"""The patient-view service on EHR data the FHIR import once crashed on or misread: same cards, or a card saying what was not used."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mastcds.fhir import codes
from mastcds.web.cds_auth import CdsSettings
from mastcds.web.cds_hooks import PATIENT_VIEW, cds_hooks_router
from tests.web.test_cds_hooks import (
    SEED,
    check_response,
    patient_view,
    prefetched,
    seed_resources,
    summaries,
)

SEED_CARDS = [  # the seed patient without its KIT result (tests/web/test_cds_hooks.py)
    "REMA score 7: clonal mast cell disease likely - consider a bone marrow biopsy and KIT D816V",
    "Baseline tryptase 50.9 ng/mL > 20 without a mastocytosis work-up",
]
PROBLEMS_CARD = "1 FHIR value(s) could not be used by mastcds (unit or range)"


@pytest.fixture
def api() -> TestClient:
    app = FastAPI()
    app.include_router(cds_hooks_router(CdsSettings(sandbox=True)))
    return TestClient(app)


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


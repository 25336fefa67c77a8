"""Stateless evaluation and the quick calculators, over JSON: nothing is stored, nothing audited."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query

from mastcds import evaluate as evaluate_document
from mastcds.rules.dosing.omalizumab import EU_ASTHMA, SYRINGE_CHOICES, SYRINGES_LABEL, TABLES
from mastcds.web import calculators
from mastcds.web.api.models import RemaOut
from mastcds.web.api.responses import TOOL_ERRORS
from mastcds.web.auth import ApiReader
from mastcds.web.json_body import StrictJsonRoute
from mastcds.web.openapi import API_PREFIX, json_body

router = APIRouter(prefix=API_PREFIX, tags=["tools"], route_class=StrictJsonRoute)

Table = Literal[TABLES]  # type: ignore[valid-type]
Syringes = Literal[SYRINGE_CHOICES]  # type: ignore[valid-type]


def _bounded(field: str, description: str) -> Any:
    (low, high), unit = calculators.BOUNDS[field]
    return Query(ge=low, le=high, description=f"{description}, {unit}")


@router.post(
    "/evaluate",
    responses=TOOL_ERRORS,
    summary="Evaluate a case without storing it",
    description="Answers the evaluation object of docs/evaluation-contract.md (mastcds-evaluation/1).",
    openapi_extra=json_body("Case", "a mastcds-case/1 document"),
)
def evaluate(principal: ApiReader, document: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return evaluate_document(document)


@router.get("/calculators/omalizumab", responses=TOOL_ERRORS, summary="Omalizumab dose from the label tables")
def omalizumab(
    principal: ApiReader,
    ige_iu_ml: Annotated[float, _bounded("ige_iu_ml", "pre-treatment total serum IgE")],
    weight_kg: Annotated[float, _bounded("weight_kg", "body weight")],
    table: Annotated[Table, Query(description="which label's table")] = EU_ASTHMA,
    age_years: Annotated[float | None, _bounded("age_years", "age")] = None,
    syringes: Annotated[Syringes, Query(description="how the dose is split into syringes")] = SYRINGES_LABEL,
) -> dict[str, Any]:
    return calculators.omalizumab(ige_iu_ml, weight_kg, table, age_years=age_years, syringes=syringes)


@router.get("/calculators/rema", response_model=RemaOut, responses=TOOL_ERRORS, summary="REMA clonality score")
def rema(
    principal: ApiReader,
    sex: Annotated[Literal["male", "female"] | None, Query(description="sex at birth; omit if unknown")] = None,
    urticaria_or_angioedema: Annotated[bool | None, Query(description="in any episode; omit if unknown")] = None,
    presyncope_or_syncope: Annotated[bool | None, Query(description="in any episode; omit if unknown")] = None,
    baseline_tryptase_ng_ml: Annotated[float | None, _bounded("baseline_tryptase_ng_ml", "baseline serum tryptase")] = None,
) -> dict[str, Any]:
    return calculators.rema(sex, urticaria_or_angioedema, presyncope_or_syncope, baseline_tryptase_ng_ml)


@router.get("/calculators/tryptase-rise", responses=TOOL_ERRORS, summary="Tryptase 20% + 2 rule")
def tryptase_rise(
    principal: ApiReader,
    baseline_tryptase_ng_ml: Annotated[float, _bounded("baseline_tryptase_ng_ml", "baseline serum tryptase")],
    acute_tryptase_ng_ml: Annotated[float | None, _bounded("acute_tryptase_ng_ml", "tryptase drawn during the event")] = None,
    minutes_after_onset: Annotated[float | None, _bounded("minutes_after_onset", "when the acute sample was drawn")] = None,
) -> dict[str, Any]:
    return calculators.tryptase_rise(baseline_tryptase_ng_ml, acute_tryptase_ng_ml, minutes_after_onset)

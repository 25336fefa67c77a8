"""A hand-written evaluation in the shape of the contract, so the report is tested apart from the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mastcds.case import Case, load_case

ROOT = Path(__file__).resolve().parents[2]
SEED_PATH = ROOT / "examples" / "seed-case.json"


def criterion(cid: str, status: str, reason: str, source: str) -> dict[str, str]:
    return {"id": cid, "status": status, "reason": reason, "source": source}


def guideline(source: str) -> dict[str, Any]:
    return {
        "sm_criteria": "met",
        "category": None,
        "possible_categories": ["ISM", "MCL"],
        "criteria": [
            criterion("major_dense_infiltrates", "met", "multifocal dense infiltrates", source),
            criterion("minor_tryptase_over_20", "met", "50.9 ng/mL > 20", source),
        ],
        "b_findings": [criterion("b_tryptase_over_200", "not_met", "50.9 ng/mL <= 200", source)],
        "c_findings": [criterion("c_cytopenia", "not_met", "no cytopenia <script>", source)],
        "next_tests": [{"test": "aspirate smear mast-cell %", "why": "20% or more would make it MCL"}],
    }


@pytest.fixture
def seed_case() -> Case:
    return load_case(json.loads(SEED_PATH.read_text(encoding="utf-8")))


@pytest.fixture
def seed_evaluation() -> dict[str, Any]:
    return contract_like_seed_evaluation()


def contract_like_seed_evaluation() -> dict[str, Any]:
    """What the contract promises for the seed case (docs/evaluation-contract.md, tests/test_engine.py)."""
    return {
        "schema": "mastcds-evaluation/1",
        "case_id": "seed-omalizumab-ism",
        "engine_version": "0.1.0",
        "editions": {"who2022": "WHO 5th edition", "icc2022": "ICC 2022", "who2016": "WHO 2016"},
        "guidelines": {e: guideline(f"{e} source table") for e in ("who2022", "icc2022", "who2016")},
        "cutaneous": {"status": "met", "subtype": "MPCM", "criteria": [criterion("skin", "met", "lesions", "EAACI 2016")]},
        "mcas": {"status": "unknown", "variant": None, "criteria": []},
        "tryptase": {
            "baseline_ng_ml": 50.9,
            "hat_adjusted_baseline_ng_ml": None,
            "episodes": [{"episode_id": e, "threshold_ng_ml": 63.08, "status": "unknown"} for e in ("e1", "e2", "e3", "e4")],
        },
        "episodes": [
            {"episode_id": e, "anaphylaxis_wao2020": "met", "anaphylaxis_niaid2006": "met", "severity_brown": s}
            for e, s in (("e1", "severe"), ("e2", "severe"), ("e3", "severe"), ("e4", None))
        ],
        "rema": {"score": 7, "min": 7, "max": 7, "clonal_likely": True, "items": [criterion("male", "met", "+1", "Alvarez-Twose 2010")]},
        "omalizumab": {
            "dose_mg": None,
            "interval_weeks": None,
            "table": "eu-smpc-asthma",
            "within_table": False,
            "nearest_cell": {"dose_mg": 300, "interval_weeks": 4},
            "injections": [{"syringe_mg": 150, "count": 2}],
            "warnings": ["IgE below table", "off-label"],
        },
        "epinephrine_autoinjector_mg": 0.3,
        "prognosis": {"ipsm": None, "mars": None},
        "warnings": ["off-label omalizumab"],
    }

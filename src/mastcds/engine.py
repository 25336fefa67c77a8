"""Run every rule on a case and build the evaluation object of the contract (the engine).

``docs/evaluation-contract.md`` (mastcds-evaluation/1) is a promise to
integrators: fields may be added, none renamed or dropped. The sections are
built by :mod:`mastcds.evaluation`; this module only orders them, so the
order of dependencies (SM verdicts before MCAS and prognosis) is visible here.
"""

from __future__ import annotations

from typing import Any

from mastcds import __version__
from mastcds.case import Case, load_case
from mastcds.evaluation import episodes as _episodes
from mastcds.evaluation import sm as _sm
from mastcds.evaluation import treatment as _treatment

EVALUATION_SCHEMA = "mastcds-evaluation/1"
EDITIONS = {
    "who2022": "WHO 5th edition (Khoury et al., Leukemia 2022)",
    "icc2022": "International Consensus Classification (Arber et al., Blood 2022)",
    "who2016": "WHO revised 4th edition (Arber et al., Blood 2016; Valent et al. 2017)",
}


def evaluate_case(case: Case) -> dict[str, Any]:
    """The evaluation of an already checked :class:`Case`."""
    warnings: list[str] = []
    sm_findings = _sm.sm_findings_from_case(case)  # read by two sections: built once
    shared = _episodes.context(case)  # episode ids, baseline tryptase, rises: read by four sections
    results = _sm.guideline_results(case, warnings, sm_findings)
    guidelines = {edition: result.as_dict() for edition, result in results.items()}
    # every category still possible, not only a determinate one: MARS must say so when advanced SM is open
    possible = {edition: result["possible_categories"] for edition, result in guidelines.items()}
    who2022 = guidelines["who2022"]
    return {
        "schema": EVALUATION_SCHEMA,
        "case_id": case.id,
        "engine_version": __version__,
        "editions": EDITIONS,
        "evaluation_date": case.evaluation_date,
        "summary": _sm.summary(results),
        "guidelines": guidelines,
        "cutaneous": _sm.cutaneous(case, warnings, sm_findings),
        "mcas": _episodes.mcas(case, who2022["sm_criteria"], warnings, shared),
        "tryptase": _episodes.tryptase(case, warnings, shared),
        "episodes": _episodes.episodes(case, warnings, shared),
        "rema": _episodes.rema(case, warnings, shared),
        "omalizumab": _treatment.omalizumab(case, warnings),
        "epinephrine_autoinjector_mg": _treatment.epinephrine_autoinjector_mg(case, warnings),
        "prognosis": _treatment.prognosis(case, possible, warnings),
        "treatment": _treatment.treatment_plan(case, who2022["category"], warnings),
        "warnings": list(dict.fromkeys(warnings)),
    }


def evaluate(case: dict[str, Any]) -> dict[str, Any]:
    """The evaluation object (mastcds-evaluation/1) of a case given as its parsed JSON document.

    Raises :class:`mastcds.case.CaseError` when the document is not a valid
    mastcds-case/1 case; a valid case never makes it raise.
    """
    return evaluate_case(load_case(case))

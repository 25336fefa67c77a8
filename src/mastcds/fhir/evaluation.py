"""The evaluation (mastcds-evaluation/1) as FHIR R4: diagnosis Conditions, criteria and REMA Observations, and a ClinicalImpression.

* one Condition per guideline edition whose category is determinate (the
  edition in ``meta.tag``, code system :data:`codes.MASTCDS_EDITION`), coded
  with ICD-10-CM / WHO ICD-10 / ORPHA from :mod:`mastcds.fhir.codes`, and
  ``verificationStatus`` provisional: a classification computed from the
  findings, for a clinician to confirm;
* one Observation per criterion (major/minor criteria, B- and C-findings per
  edition, CM, MCAS, REMA items): met -> ``valueBoolean`` true, not met ->
  false, unknown -> ``dataAbsentReason`` unknown (never false), with the
  reason and the source as notes;
* the REMA score: ``valueInteger``, or ``valueRange`` min-max while items are unknown;
* a ClinicalImpression holding the verdict: ``finding`` the diagnoses and the
  REMA score, ``supportingInfo`` every criterion, ``note`` the warnings.

Every resource is tagged "computed" (see :data:`mastcds.fhir.to_case.COMPUTED_TAG`)
so that importing an export never reads mastcds's own conclusions as findings.
"""

from __future__ import annotations

import copy
from typing import Any

from mastcds.fhir import codes
from mastcds.fhir.from_case import Writer
from mastcds.fhir.to_case import COMPUTED_TAG

_UNKNOWN = {"coding": [{"system": codes.DATA_ABSENT_REASON, "code": "unknown", "display": "Unknown"}]}
_SURVEY = {"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
REMA = codes.Code(codes.MASTCDS_SCORE, "rema", "REMA score (Spanish Network on Mastocytosis)",
                  "Alvarez-Twose et al., J Allergy Clin Immunol 2010;125:1269; docs/anaphylaxis-treatment-reference.md §3.1")
_GROUPS = (("criteria", "criterion"), ("b_findings", "B-finding"), ("c_findings", "C-finding"))


def _edition_tag(edition: str, label: str) -> dict[str, str]:
    return {"system": codes.MASTCDS_EDITION, "code": edition, "display": label}


def _meta(*tags: dict[str, str]) -> dict[str, Any]:
    return {"tag": [dict(COMPUTED_TAG), *tags]}


def _criterion(writer: Writer, criterion: dict[str, Any], subject: str, prefix: str,
               tag: dict[str, str] | None, kind: str) -> str:
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": f"{prefix}-{criterion['id']}",
        "meta": _meta(*([tag] if tag else [])), "status": "final", "category": [copy.deepcopy(_SURVEY)],
        "code": {"coding": [{"system": codes.MASTCDS_CRITERION, "code": str(criterion["id"])}],
                 "text": f"{kind} {criterion['id']}"},
        "subject": {"reference": subject},
    }
    status = criterion.get("status")
    if status == "met":
        resource["valueBoolean"] = True
    elif status == "not_met":
        resource["valueBoolean"] = False
    else:
        resource["dataAbsentReason"] = copy.deepcopy(_UNKNOWN)
    notes = [text for text in (criterion.get("reason"), criterion.get("source") and f"Source: {criterion['source']}") if text]
    if notes:
        resource["note"] = [{"text": str(text)} for text in notes]
    if tag is not None:
        resource["method"] = {"coding": [dict(tag)], "text": tag["display"]}
    return writer.add(resource)


def _diagnosis(writer: Writer, category: str, edition: str, label: str, subject: str,
               evidence: list[str], date: str | None) -> str | None:
    coded = codes.CATEGORY_CODES.get(category)
    if coded is None:
        return None
    resource: dict[str, Any] = {
        "resourceType": "Condition", "id": f"diagnosis-{edition}", "meta": _meta(_edition_tag(edition, label)),
        "clinicalStatus": {"coding": [{"system": codes.CONDITION_CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": codes.CONDITION_VERIFICATION, "code": "provisional"}]},
        "category": [{"coding": [{"system": codes.CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
        "code": {"coding": [c.coding() for c in coded] + [{"system": codes.MASTCDS_CATEGORY, "code": category}],
                 "text": f"{codes.CATEGORY_DISPLAY[category]} ({label})"},
        "subject": {"reference": subject},
        "note": [{"text": f"Classified by mastcds under {label}; to be confirmed by the treating physician."}],
    }
    if date is not None:
        resource["recordedDate"] = date
    if evidence:
        resource["evidence"] = [{"detail": [{"reference": ref} for ref in evidence]}]
    return writer.add(resource)


def _rema(writer: Writer, rema: dict[str, Any], subject: str, items: list[str]) -> str | None:
    if not rema or (rema.get("score") is None and rema.get("min") is None):
        return None
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": "rema-score", "meta": _meta(), "status": "final",
        "category": [copy.deepcopy(_SURVEY)], "code": {"coding": [REMA.coding()], "text": REMA.display},
        "subject": {"reference": subject},
    }
    if rema.get("score") is not None:
        resource["valueInteger"] = int(rema["score"])
    else:
        resource["valueRange"] = {"low": {"value": rema["min"]}, "high": {"value": rema["max"]}}
    likely = rema.get("clonal_likely")
    resource["interpretation"] = [{"text": {True: "clonal mast cell disease likely (score >= 2)",
                                             False: "clonal mast cell disease unlikely (score < 2)",
                                             None: "undetermined: items unknown"}[likely]}]
    if items:
        resource["hasMember"] = [{"reference": ref} for ref in items]
    return writer.add(resource)


def _summary(evaluation: dict[str, Any]) -> str:
    parts = []
    for edition, result in evaluation.get("guidelines", {}).items():
        label = evaluation.get("editions", {}).get(edition, edition)
        category = result.get("category")
        shown = category if category is not None else "undetermined (possible: " + \
            ", ".join(result.get("possible_categories") or ["-"]) + ")"
        parts.append(f"{label}: {shown}")
    rema = evaluation.get("rema") or {}
    if rema.get("score") is not None:
        parts.append(f"REMA score {rema['score']}")
    elif rema.get("min") is not None:
        parts.append(f"REMA score {rema['min']} to {rema['max']} (items unknown)")
    return "; ".join(parts) or "No guideline verdict."


def write_evaluation(writer: Writer, evaluation: dict[str, Any], subject: str) -> str:
    """Adds the evaluation's resources to ``writer``; returns the ClinicalImpression's full URL."""
    editions = evaluation.get("editions", {})
    date = evaluation.get("evaluation_date")
    findings: list[dict[str, Any]] = []
    support: list[str] = []
    for edition, result in evaluation.get("guidelines", {}).items():
        label = editions.get(edition, edition)
        tag = _edition_tag(edition, label)
        refs = [_criterion(writer, c, subject, edition, tag, kind)
                for group, kind in _GROUPS for c in result.get(group) or []]
        support += refs
        category = result.get("category")
        if category not in (None, "none"):
            reference = _diagnosis(writer, "SM-AHN" if category == "SM-AMN" else category,
                                   edition, label, subject, refs, date)
            if reference is not None:
                findings.append({"itemReference": {"reference": reference}, "basis": f"{label}: {category}"})
    for section, kind in (("cutaneous", "CM criterion"), ("mcas", "MCAS criterion")):
        for criterion in (evaluation.get(section) or {}).get("criteria") or []:
            support.append(_criterion(writer, criterion, subject, section, None, kind))
    rema = evaluation.get("rema") or {}
    items = [_criterion(writer, c, subject, "rema", None, "REMA item") for c in rema.get("items") or []]
    support += items
    rema_ref = _rema(writer, rema, subject, items)
    if rema_ref is not None:
        findings.append({"itemReference": {"reference": rema_ref}, "basis": "REMA clonality score"})
    impression: dict[str, Any] = {
        "resourceType": "ClinicalImpression", "id": "evaluation", "meta": _meta(), "status": "completed",
        "description": f"mastcds evaluation, engine {evaluation.get('engine_version', '?')} ({evaluation.get('schema', '')})",
        "subject": {"reference": subject}, "summary": _summary(evaluation),
    }
    if date is not None:
        impression["effectiveDateTime"] = date
    if findings:
        impression["finding"] = findings
    if support:
        impression["supportingInfo"] = [{"reference": ref} for ref in support]
    warnings = [w for w in evaluation.get("warnings") or [] if isinstance(w, str) and w.strip()]
    if warnings:
        impression["note"] = [{"text": w} for w in warnings]
    return writer.add(impression)

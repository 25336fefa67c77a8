"""Condition -> anaphylaxis episodes, recorded mast-cell diagnoses, the associated haematological neoplasm.

Codes come from the one table of :mod:`mastcds.fhir.codes`
(:func:`codes.condition_kind`): SNOMED CT, ICD-10-CM, WHO ICD-10, ICD-O-3 and
ORPHA alike. ICD-10-CM anaphylaxis codes with 7th character D or S are later
encounters for an episode already counted, not new episodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mastcds.fhir import codes
from mastcds.fhir.dates import partial_date
from mastcds.fhir.read.context import OBJECT, ImportContext, as_list, code_label, ref, where

_NOT_A_DIAGNOSIS = frozenset({"entered-in-error", "refuted"})  # Condition.verificationStatus codes


def conditions(ctx: ImportContext, case: dict[str, Any]) -> None:
    for resource in ctx.by_type.get("Condition", []):
        if not ctx.usable(resource):
            continue
        if ctx.withdrawn(resource, _NOT_A_DIAGNOSIS):
            continue
        kind = codes.condition_kind(codes.codings_of(resource.get("code")))
        if kind is None:
            ctx.out.unmapped[f"Condition {code_label(resource.get('code'))}"] += 1
            continue
        ctx.out.read["Condition"] += 1
        what, detail = kind
        if what == "anaphylaxis":
            episode(ctx, resource)
        elif what == "anaphylaxis-follow-up":
            ctx.out.notes.append(f"{where(resource)}: {detail} is a later encounter for an episode, not a new one")
        elif what == "history-of-anaphylaxis":
            ctx.out.notes.append(f"{where(resource)}: history of anaphylaxis recorded without episode dates")
            ctx.out.recorded_diagnoses.append("history of anaphylaxis")
        elif what == "mast-cell":
            ctx.out.recorded_diagnoses.append(detail)
        elif what == "neoplasm":
            previous = case.get("associated_hematologic_neoplasm")
            if previous is not None and previous != detail:
                ctx.out.notes.append(f"{where(resource)}: a second neoplasm {detail} besides {previous}; kept {previous}")
            else:
                case["associated_hematologic_neoplasm"] = detail


def episode_id(ctx: ImportContext, resource: Mapping[str, Any]) -> str | None:
    """The mastcds episode identifier's value (None when it has none: an episode without id), else the resource id."""
    for identifier in as_list(resource.get("identifier")):
        if isinstance(identifier, OBJECT) and identifier.get("system") == codes.MASTCDS_EPISODE_ID:
            value = identifier.get("value")
            return None if value is None else str(value)
    return str(resource.get("id") or f"condition-{len(ctx.episodes) + 1}")


def episode(ctx: ImportContext, resource: dict[str, Any]) -> None:
    found = episode_id(ctx, resource)
    episode: dict[str, Any] = {} if found is None else {"id": found}
    onset = partial_date(resource.get("onsetDateTime"))
    if onset is None and not ctx.unreadable(resource, "onsetDateTime", resource.get("onsetDateTime")) \
            and isinstance(resource.get("onsetPeriod"), Mapping):
        onset = partial_date(resource["onsetPeriod"].get("start"))
        if onset is None:
            ctx.unreadable(resource, "onsetPeriod.start", resource["onsetPeriod"].get("start"))
    if onset is not None:
        episode["date"] = onset
    else:
        ctx.out.notes.append(f"{where(resource)}: anaphylaxis without an onset date")
    key = f"Condition/{resource.get('id')}"
    ctx.episodes[key] = episode
    ctx.episode_keys[id(episode)] = str(resource.get("id") or key)
    if "__fullUrl" in resource:
        ctx.episodes[resource["__fullUrl"]] = episode
    encounter = ref(resource.get("encounter"))
    if encounter is not None:
        ctx.episode_by_encounter[encounter] = key


def id_of(ctx: ImportContext, episode: dict[str, Any]) -> str:
    """An episode's id for a lab row that points at it: its own, else (an episode exported without one) its Condition's."""
    if "id" not in episode:
        episode["id"] = ctx.episode_keys.get(id(episode), "episode")
    return episode["id"]

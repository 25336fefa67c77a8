"""AllergyIntolerance -> episode triggers (bee venom -> hymenoptera_venom) and recorded allergies.

* a reaction whose manifestation is anaphylaxis is an episode with the
  allergy's trigger: the anaphylaxis Condition of the same day when there is
  one (its trigger set when unknown), else a new episode;
* an allergy without an anaphylactic reaction is listed in
  ``recorded_allergies`` (with its trigger), since the case has no place for
  an allergy outside an episode;
* a substance the code table does not know, with no category telling the
  trigger, is counted as not read; a refuted or entered-in-error allergy is
  noted and not used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mastcds.fhir import codes
from mastcds.fhir.dates import partial_date
from mastcds.fhir.read.context import OBJECT, ImportContext, as_list, code_label

_NOT_AN_ALLERGY = frozenset({"refuted", "entered-in-error"})  # AllergyIntolerance.verificationStatus codes


def _trigger(resource: Mapping[str, Any]) -> tuple[str, str] | None:
    """(trigger, what) of an allergy: by substance code, else by category (food, medication)."""
    concept = resource.get("code")
    found = codes.allergen_trigger(codes.codings_of(concept))
    if found is not None:
        return found
    for category in as_list(resource.get("category")):
        trigger = codes.ALLERGY_CATEGORY_TRIGGERS.get(category) if isinstance(category, str) else None
        if trigger is not None:
            text = concept.get("text") if isinstance(concept, OBJECT) else None
            return trigger, text if isinstance(text, str) and text else category
    return None


def _is_anaphylaxis(reaction: Any) -> bool:
    if not isinstance(reaction, OBJECT):
        return False
    for manifestation in as_list(reaction.get("manifestation")):
        kind = codes.condition_kind(codes.codings_of(manifestation))
        if kind is not None and kind[0] == "anaphylaxis":
            return True
    return False


def allergies(ctx: ImportContext) -> list[dict[str, Any]]:
    """Reads every AllergyIntolerance; returns the episodes its anaphylactic reactions add."""
    added: list[dict[str, Any]] = []
    for resource in ctx.by_type.get("AllergyIntolerance", []):
        if not ctx.usable(resource):
            continue
        if ctx.withdrawn(resource, _NOT_AN_ALLERGY):
            continue
        found = _trigger(resource)
        if found is None:
            ctx.out.unmapped[f"AllergyIntolerance {code_label(resource.get('code'))}"] += 1
            continue
        ctx.out.read["AllergyIntolerance"] += 1
        trigger, what = found
        reactions = [r for r in as_list(resource.get("reaction")) if _is_anaphylaxis(r)]
        if not reactions:
            ctx.out.recorded_allergies.append(f"{what} ({trigger})")
            continue
        for n, reaction in enumerate(reactions, start=1):
            when = partial_date(reaction.get("onset")) or partial_date(resource.get("lastOccurrence"))
            episode = ctx.same_day_episode(when)
            if episode is None:
                episode = {"id": f"{resource.get('id') or 'allergy'}-reaction-{n}"}
                if when is not None:
                    episode["date"] = when
                added.append(episode)
            if episode.get("trigger") is None:
                episode["trigger"] = trigger
                episode.setdefault("trigger_detail", what)
    return added


"""Observation -> lab values (series rows and current values), the KIT D816V result, systolic pressures, and the
findings of the field table (:mod:`mastcds.fhir.read.findings`).

* a dated lab Observation is a ``lab_results`` row; an undated one is the
  "current value" the criteria use (``labs``); without one, the current value
  is the latest row on or before the evaluation date (:func:`current_row`);
* a tryptase not linked to an episode is a baseline sample, unless it was
  drawn on the day of an episode or the day after (then its context is
  unknown); the export's sample-context extension overrides both;
* Observations pointing at an anaphylaxis Condition through ``focus`` or
  sharing its ``encounter`` belong to that episode;
* a value that cannot be used (unit not convertible, out of range, a date that
  is no date) makes that one Observation unusable: a Problem names it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from mastcds.case import date_key
from mastcds.fhir import codes
from mastcds.fhir.dates import current_row, effective_date, usable_rows
from mastcds.fhir.fields import LAB_FIELDS
from mastcds.fhir.read import findings
from mastcds.fhir.read.condition import id_of
from mastcds.fhir.read.context import (OBJECT, ImportContext, as_list, as_map, code_label, is_number, listed, ref,
                                       where)
from mastcds.units import to_canonical

_SYSTOLIC_RANGE = (0.0, 300.0)  # mastcds-case/1 episodes[].systolic_bp_mmhg


def observations(ctx: ImportContext, case: dict[str, Any]) -> None:
    rows: list[dict[str, Any]] = []
    undated: dict[str, float | None] = {}
    for resource in ctx.by_type.get("Observation", []):
        if not ctx.usable(resource):
            continue
        codings = codes.codings_of(resource.get("code"))
        try:
            kind = codes.observation_kind(codings)
        except TypeError:  # a list or object as a coding's system or code (malformed): looked up without it
            codings = ctx.well_formed(resource, "code", codings)
            kind = codes.observation_kind(codings)
        if kind is None:
            field = findings.field_for(codings)
            if field is None:
                ctx.out.unmapped[f"Observation {code_label(resource.get('code'))}"] += 1
            else:
                findings.finding(ctx, resource, field, case)
            continue
        what, detail = kind
        if what == "lab":
            lab(ctx, resource, detail, case, rows, undated)
        elif what == "kit-variant":
            kit_variant(ctx, resource, case)
        else:
            systolic_bp(ctx, resource, codings)
    current_values(ctx, case, rows, undated)
    if rows:
        case["lab_results"] = rows


def sample_context(ctx: ImportContext, resource: Mapping[str, Any]) -> str | None:
    for extension in as_list(resource.get("extension")):
        if isinstance(extension, OBJECT) and extension.get("url") == codes.EXT_SAMPLE_CONTEXT:
            value = extension.get("valueCode")
            if value in ("baseline", "acute", "unknown"):
                return value
    return None


def lab(ctx: ImportContext, resource: dict[str, Any], test: str, case: dict[str, Any],
        rows: list[dict[str, Any]], undated: dict[str, float | None]) -> None:
    date = effective_date(resource)
    if date is None and ctx.unreadable_effective(resource):
        return  # neither a dated row nor, as an undated value would be, the current value
    if date is None and "valueQuantity" not in resource and "dataAbsentReason" in resource:
        # mastcds's export: "the current value is unknown", although rows exist
        ctx.out.read["Observation"] += 1
        undated[test] = None
        return
    read = ctx.quantity(resource, "valueQuantity", resource.get("valueQuantity"), test)
    if read is None:
        return
    value, unit, canonical = read
    ctx.out.read["Observation"] += 1
    episode = ctx.linked_episode(resource)
    context = sample_context(ctx, resource)
    if test == "tryptase" and episode is not None:
        # an EHR's linked sample is both a series row and the episode's acute value;
        # mastcds's own export says which one it wrote (context extension)
        if context is None or date is None:
            peak = episode.get("acute_tryptase_ng_ml")
            episode["acute_tryptase_ng_ml"] = canonical if peak is None else max(peak, canonical)
        if date is None:
            return
        context = context or "acute"
    if date is None:
        if test in undated:
            ctx.out.notes.append(f"{where(resource)}: a second undated {test}; the later one in the bundle kept")
        undated[test] = canonical
        return
    if test == "tryptase" and context is None:
        context = tryptase_context(ctx, resource, date)
    row: dict[str, Any] = {"test": test, "value": value, "unit": unit, "date": date}
    if context is not None:
        row["context"] = context
    if episode is not None:
        row["episode_id"] = id_of(ctx, episode)
    rows.append(row)


def tryptase_context(ctx: ImportContext, resource: Mapping[str, Any], date: str) -> str:
    if len(date) == 10:
        drawn = dt.date(*date_key(date))
        for episode in ctx.episodes.values():
            onset = episode.get("date")
            if onset is not None and len(onset) == 10 and 0 <= (drawn - dt.date(*date_key(onset))).days <= 1:
                ctx.out.notes.append(
                    f"{where(resource)}: tryptase drawn within a day of the episode of {onset}; context unknown"
                )
                return "unknown"
    return "baseline"


def current_values(ctx: ImportContext, case: dict[str, Any], rows: list[dict[str, Any]], undated: dict[str, float | None]) -> None:
    rows_of: dict[str, list[dict[str, Any]]] = {}  # test -> its rows, in document order
    for row in rows:
        rows_of.setdefault(row["test"], []).append(row)
    labs: dict[str, Any] = {}
    for test, name in LAB_FIELDS.items():
        if test in undated:
            labs[name] = undated[test]
            continue
        if test not in rows_of:
            continue
        row = current_row(usable_rows(test, rows_of[test]), ctx.evaluation_date)
        if row is not None:
            labs[name] = to_canonical(test, row["value"], row["unit"])
    if labs:
        case.setdefault("labs", {}).update(labs)  # beside the labs fields the field table carries (circulating mast cells)
    weight = undated.get("weight")
    if "weight" not in undated and "weight" in rows_of:
        row = current_row(usable_rows("weight", rows_of["weight"]), ctx.evaluation_date)
        weight = None if row is None else to_canonical("weight", row["value"], row["unit"])
    if weight is not None:
        case.setdefault("patient", {})["weight_kg"] = weight
    vaf = undated.get("kit_d816v_vaf")
    if vaf is not None:
        case.setdefault("molecular", {}).setdefault("kit_d816v_vaf_percent", vaf)


def kit_variant(ctx: ImportContext, resource: dict[str, Any], case: dict[str, Any]) -> None:
    gene, change, vaf = None, None, None
    for component in as_list(resource.get("component")):
        if not isinstance(component, OBJECT):
            continue
        ccodes = codes.codings_of(component.get("code"))
        values = [str(c.get("code", "")) for c in codes.codings_of(component.get("valueCodeableConcept"))]
        text = component.get("valueString") or as_map(component.get("valueCodeableConcept")).get("text")
        if codes.GENE_STUDIED.in_codings(ccodes):
            gene = codes.KIT_GENE.code if codes.KIT_GENE.code in values or text == "KIT" else (values or [text])[0]
        elif codes.AMINO_ACID_CHANGE.in_codings(ccodes):
            change = (values or [text])[0]
        elif codes.LAB_TESTS["kit_d816v_vaf"].in_codings(ccodes):
            quantity = component.get("valueQuantity")
            if isinstance(quantity, OBJECT) and quantity.get("code") == "1" and is_number(quantity.get("value")):
                # a decimal fraction (UCUM "1"), as the Genomics Reporting IG allows
                if 0 <= quantity["value"] <= 1:
                    vaf = round(float(quantity["value"]) * 100, 10)
                else:
                    ctx.problem(resource, "component.valueQuantity.value", quantity["value"],
                                 "a variant allele fraction (unit 1) must lie in 0-1")
            else:
                read = ctx.quantity(resource, "component.valueQuantity", quantity, "kit_d816v_vaf")
                if read is not None:
                    vaf = read[2]
    short = (change or "").split(":")[-1]
    if gene != codes.KIT_GENE.code or short not in (codes.KIT_D816V_PROTEIN_CHANGE, "p.D816V"):
        ctx.out.unmapped[f"Observation {codes.VARIANT_ASSESSMENT.code} gene {gene} change {change}"] += 1
        return
    try:
        present = {c.get("code") for c in codes.codings_of(resource.get("valueCodeableConcept"))}
    except TypeError:  # a list or object as a code
        present = ctx.codes_in(resource, "valueCodeableConcept")
    status: str | None
    if codes.PRESENT.code in present or codes.PRESENT_SNOMED.code in present:
        status = "detected"
    elif codes.ABSENT.code in present or codes.ABSENT_SNOMED.code in present:
        status = "not_detected"
    elif not present and "dataAbsentReason" in resource:
        status = None  # result unknown: the sample and the allele fraction may still be given
    else:
        ctx.problem(resource, "valueCodeableConcept", listed(present),
                     f"expected {codes.PRESENT.code} Present or {codes.ABSENT.code} Absent")
        return
    date = effective_date(resource)
    if date is None and ctx.unreadable_effective(resource):
        return  # a result of unknown date cannot be ordered against the others
    date = date or ""
    molecular = case.setdefault("molecular", {})
    if molecular.get("_date", "") > date:
        ctx.out.notes.append(f"{where(resource)}: an older KIT D816V result; the latest kept")
        return
    ctx.out.read["Observation"] += 1
    molecular["_date"] = date
    if status is not None:
        molecular["kit_d816v"] = status
    if vaf is not None:
        molecular["kit_d816v_vaf_percent"] = vaf
    sample = specimen_kind(ctx, resource)
    if sample is not None:
        molecular["kit_d816v_sample"] = sample


def specimen_kind(ctx: ImportContext, resource: Mapping[str, Any]) -> str | None:
    reference = ref(resource.get("specimen"))
    if reference is None:
        return None
    specimen = None
    if reference.startswith("#"):
        specimen = next((c for c in as_list(resource.get("contained"))
                         if isinstance(c, OBJECT) and c.get("id") == reference[1:]), None)
    else:
        specimen = ctx.resolve(reference)
    for coding in codes.codings_of(as_map(specimen).get("type")):
        for kind, code in codes.SPECIMEN_TYPES.items():
            if code.matches(coding):
                return kind
    ctx.out.unmapped[f"Specimen {code_label(as_map(specimen).get('type'))}"] += 1
    return None


def systolic_bp(ctx: ImportContext, resource: Mapping[str, Any], codings: list[Mapping[str, Any]]) -> None:
    quantity = resource.get("valueQuantity") if codes.SYSTOLIC_BP.in_codings(codings) else None
    for component in as_list(resource.get("component")):
        if isinstance(component, OBJECT) and codes.SYSTOLIC_BP.in_codings(codes.codings_of(component.get("code"))):
            quantity = component.get("valueQuantity")
    episode = ctx.linked_episode(resource)
    if quantity is None:
        return
    if episode is None:
        ctx.out.notes.append(f"{where(resource)}: systolic blood pressure not linked to an anaphylaxis episode, not used")
        return
    unit = quantity.get("code") or quantity.get("unit") if isinstance(quantity, OBJECT) else None
    value = quantity.get("value") if isinstance(quantity, OBJECT) else None
    if unit not in (codes.MMHG, "mmHg") or not isinstance(value, (int, float)) or isinstance(value, bool):
        ctx.problem(resource, "valueQuantity", quantity, f"expected a systolic pressure in {codes.MMHG}")
        return
    if not _SYSTOLIC_RANGE[0] <= value <= _SYSTOLIC_RANGE[1]:
        ctx.problem(resource, "valueQuantity.value", value, "systolic pressure must lie in 0-300 mm[Hg]")
        return
    ctx.out.read["Observation"] += 1
    lowest = episode.get("systolic_bp_mmhg")
    episode["systolic_bp_mmhg"] = float(value) if lowest is None else min(lowest, float(value))

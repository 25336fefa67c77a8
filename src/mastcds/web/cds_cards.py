"""The cards of the CDS Hooks services: what mastcds tells the clinician in the EHR, from the evaluation of the FHIR data.

Cards are written as the JSON the EHR receives (the :class:`mastcds.web.cds_spec.Card`
shape; the tests validate every answer against it). Text that comes from the
EHR's data (units, displays, values in a problem, a drug's indication) is
escaped before it goes into a card's Markdown ``detail``
(:func:`markdown_text`): a unit reading ``[Renew your password](https://...)``
shows as that text, never as a link.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Mapping
from typing import Any

from mastcds.case import Case, Problem
from mastcds.evaluation import episodes as _episodes
from mastcds.fhir import codes
from mastcds.fhir.to_case import FhirImport, dosage_dose_mg, dosage_interval, first_dosage
from mastcds.rules.mediators.hat import hat_adjusted_tryptase

# ---------------------------------------------------------------- clinical thresholds of the cards
# "Recurrent": more than one episode of anaphylaxis.
RECURRENT_ANAPHYLAXIS_EPISODES = 2
# SM minor criterion: basal serum tryptase > 20 ng/mL (strict), WHO 2016 / WHO 2022 / ICC 2022
# (docs/criteria-reference.md §1.1, §1.3; http://ashpublications.com/view-large/6541824).
BASELINE_TRYPTASE_MINOR_CRITERION_NG_ML = 20.0

SOURCE_WORKUP = {
    "label": "ECNM diagnostic algorithm (Valent et al., Am J Blood Res 2013)",
    "url": "https://pmc.ncbi.nlm.nih.gov/articles/PMC3649810/",
}
SOURCE_REMA = {
    "label": "REMA score (Alvarez-Twose et al., JACI 2010); McMurray et al., Blood 2024",
    "url": "http://identifiers.org/pubmed/20434205",
}
SOURCE_TRYPTASE = {
    "label": "WHO 2022 / ICC 2022 SM minor criterion: basal tryptase > 20 ng/mL",
    "url": "https://pmc.ncbi.nlm.nih.gov/articles/PMC9252913",
}
SOURCE_OMALIZUMAB = {"label": "Xolair EU SmPC section 4.2 dosing tables (via mastcds)"}
TOPIC_SYSTEM = f"{codes.MASTCDS_CANONICAL}/CodeSystem/cds-card-topic"


# ---------------------------------------------------------------- Markdown from the EHR's data
# The ASCII punctuation that means something to CommonMark or GitHub Flavored Markdown (links, images, emphasis, code,
# HTML, entities, headings and list markers, tables, strikethrough, autolinks of URLs, www. and e-mail addresses, math);
# CommonMark lets a backslash escape any of them. "/", ",", ";", "=", "?", "%" and quotes mean nothing outside those.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&:@$^])")
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def markdown_text(text: object) -> str:
    """``text`` (from the EHR's data) as Markdown that renders as exactly that text, on one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))


# ---------------------------------------------------------------- cards
# RFC 9562 version 4: version field 0b0100 (bits 76-79), variant 0b10 (bits 62-63); the other 122 bits random
_UUID4_KEEP = ~((0xF << 76) | (0b11 << 62))
_UUID4_SET = (4 << 76) | (0b10 << 62)


def _card_id() -> str:
    """A random (version 4) UUID for a card or suggestion, drawn from the process's PRNG, not os.urandom.

    The id must be unique (the EHR's feedback names it), not secret: nothing is
    granted by knowing one. ``uuid.uuid4`` made a system call per card, 1-2% of
    a patient-view call each (bench/cds_hooks.py). ``random`` reseeds itself in
    a forked worker, so workers do not repeat each other's ids. The version
    and variant bits are set and the text laid out as ``str(uuid.UUID(int=...,
    version=4))`` does (tests compare the two), without the ``UUID`` object and
    its checks: 1.0% fewer instructions per patient-view call with two cards.
    """
    bits = random.getrandbits(128) & _UUID4_KEEP | _UUID4_SET
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _card(summary: str, indicator: str, source: Mapping[str, str], topic: str, detail: str,
          link: str | None, **extra: Any) -> dict[str, Any]:
    """A card as the JSON the EHR receives (the :class:`Card` shape; tests validate every answer against it).

    Cards are plain dicts, serialised once by orjson: building the pydantic
    models on each call cost about a tenth of the call's CPU, and the service
    fills every field itself.
    """
    card = {
        "uuid": _card_id(), "summary": summary, "detail": detail, "indicator": indicator,
        "source": {**source, "topic": {"system": TOPIC_SYSTEM, "code": topic, "display": topic.replace("-", " ")}},
        **{key: value for key, value in extra.items() if value is not None},
    }
    if link:
        card["links"] = card_links(link)
    return card


def card_links(url: str) -> list[dict[str, str]]:
    return [{"label": "Full mastcds evaluation", "url": url, "type": "absolute"}]


def _work_up_done(case: Mapping[str, Any], imported: FhirImport) -> bool:
    """A mast-cell diagnosis is recorded, or a KIT D816V result or bone-marrow findings exist."""
    recorded = [d for d in imported.recorded_diagnoses if d != "history of anaphylaxis"]
    marrow = case.get("bone_marrow") or {}
    return bool(recorded) or (case.get("molecular") or {}).get("kit_d816v") is not None or any(
        marrow.get(k) is not None for k in ("multifocal_dense_infiltrates", "infiltration_percent", "biopsy_date")
    )


def patient_view_cards(case: Mapping[str, Any], evaluation: Mapping[str, Any], imported: FhirImport,
                       link: str | None) -> list[dict[str, Any]]:
    """The cards for one patient (``evaluation`` needs its rema and tryptase sections); none when nothing applies."""
    cards: list[dict[str, Any]] = []
    episodes = case.get("episodes") or []
    baseline = (case.get("labs") or {}).get("baseline_tryptase_ng_ml")
    worked_up = _work_up_done(case, imported)
    if len(episodes) >= RECURRENT_ANAPHYLAXIS_EPISODES and baseline is None:
        cards.append(_card(
            "Recurrent anaphylaxis without a baseline tryptase: consider measuring it",
            "warning", SOURCE_WORKUP, "baseline-tryptase",
            f"{len(episodes)} anaphylaxis episodes are recorded and no baseline serum tryptase. A baseline "
            "(basal) tryptase, drawn at least 24 h after complete resolution of a reaction, is the first screen "
            "for systemic mastocytosis and hereditary alpha-tryptasemia.", link))
    rema = evaluation.get("rema") or {}
    if rema.get("clonal_likely") is True and not worked_up:
        shown = rema["score"] if rema.get("score") is not None else f">= {rema.get('min')}"
        cards.append(_card(
            f"REMA score {shown}: clonal mast cell disease likely - consider a bone marrow biopsy and KIT D816V",
            "warning", SOURCE_REMA, "rema-score",
            "A REMA score of 2 or more predicts clonal mast cell disease in patients with anaphylaxis "
            "(sex, skin signs during episodes, presyncope/syncope, baseline tryptase). Suggested work-up: "
            "bone marrow biopsy and high-sensitivity KIT D816V; with a baseline tryptase of 11.5 ng/mL or more, "
            "tryptase genotyping (TPSAB1) first.\n\n" + "\n".join(
                f"* {markdown_text(item['reason'])}" for item in rema.get("items") or [] if item.get("reason")), link))
    tryptase = evaluation.get("tryptase") or {}
    adjusted = tryptase.get("hat_adjusted_baseline_ng_ml")
    if (baseline is not None and baseline > BASELINE_TRYPTASE_MINOR_CRITERION_NG_ML and not worked_up
            and (adjusted is None or adjusted > BASELINE_TRYPTASE_MINOR_CRITERION_NG_ML)):
        cards.append(_card(
            f"Baseline tryptase {baseline:g} ng/mL > 20 without a mastocytosis work-up",
            "warning", SOURCE_TRYPTASE, "tryptase-above-20",
            f"A basal serum tryptase above {BASELINE_TRYPTASE_MINOR_CRITERION_NG_ML:g} ng/mL is a minor criterion "
            "of systemic mastocytosis (WHO 2022, ICC 2022), and no mastocytosis diagnosis, KIT D816V result or "
            "bone marrow finding is recorded. Work-up: skin examination, high-sensitivity KIT D816V in blood, "
            "bone marrow biopsy; consider TPSAB1 genotyping for hereditary alpha-tryptasemia.", link))
    if imported.problems:
        cards.append(problems_card(imported.problems, link))
    return cards


def problems_card(problems: list[Problem], link: str | None) -> dict[str, Any]:
    """What the FHIR import could not use (the first 20 problems)."""
    return _card(
        f"{len(problems)} FHIR value(s) could not be used by mastcds (unit, range or date)", "info",
        {"label": "mastcds FHIR import"}, "data-quality",
        "\n".join(f"* {markdown_text(p)}" for p in problems[:20]), link)


def incomplete_card(reasons: list[str], link: str | None) -> dict[str, Any]:
    """The FHIR server's data were not all read (the call's budget ran out): the other cards may miss findings."""
    return _card(
        "Data incomplete: not all of the patient's FHIR data could be read - the cards may miss findings",
        "warning", {"label": "mastcds FHIR client"}, "data-incomplete",
        "mastcds stopped reading the FHIR server before it had everything this service asks for, so the cards "
        "were made from part of the record. Open the chart's results before relying on them (or on their absence).\n\n"
        + "\n".join(f"* {markdown_text(reason)}" for reason in reasons[:20]), link)


def _dose_text(dose: int, weeks: int) -> str:
    return f"{dose} mg every {weeks} weeks"


def _update_dose(order: Mapping[str, Any], dose_mg: int, weeks: int) -> dict[str, Any]:
    updated = copy.deepcopy(dict(order))
    updated["dosageInstruction"] = [{
        "text": f"{_dose_text(dose_mg, weeks)} subcutaneously",
        "timing": {"repeat": {"frequency": 1, "period": weeks, "periodUnit": "wk"}},
        "doseAndRate": [{"doseQuantity": {"value": dose_mg, "unit": "mg", "system": codes.UCUM, "code": "mg"}}],
    }]
    return updated


def _ordered_dose(order: Mapping[str, Any]) -> tuple[float | None, str | None]:
    dosage = first_dosage(order)
    return dosage_dose_mg(dosage)[0], dosage_interval(dosage)


def omalizumab_card(order: Mapping[str, Any], dose: Mapping[str, Any] | None, link: str | None) -> dict[str, Any]:
    """The dose card for one selected omalizumab order (``dose`` is the evaluation's DOSE, or None).

    A suggestion sets only a dose the label table gives for this IgE and
    weight. Outside the table the label gives none: the card informs (the
    warnings say what the nearest cell would be, for reference) and offers
    nothing to click; the dose is the treating specialist's decision.
    """
    if dose is None:
        return _card("Omalizumab: no baseline total IgE or body weight on record - the dose cannot be checked",
                     "warning", SOURCE_OMALIZUMAB, "omalizumab-dose",
                     "The label tables dose omalizumab by the baseline total serum IgE (IU/mL) measured before "
                     "treatment and the body weight (kg). Record both to check this order.", link)
    cell = dose.get("cell") or {}
    within = bool(dose.get("within_table"))
    where = f"IgE {cell.get('ige_band')} IU/mL, weight {cell.get('weight_band')} kg" if cell else "no cell"
    warnings = [str(w) for w in dose.get("warnings") or []]
    lines = [f"* Table: {markdown_text(dose.get('table'))} (" + ("cell" if within else "nearest cell")
             + f": {markdown_text(where)})"]
    injections = ", ".join(f"{i.get('count')} x {i.get('syringe_mg')} mg" for i in dose.get("injections") or [])
    if injections and within:  # outside the table they would be those of the nearest cell: no dose to inject
        lines.append(f"* Injections: {markdown_text(injections)}")
    lines += [f"* Warning: {markdown_text(w)}" for w in warnings]
    if dose.get("source"):
        lines.append(f"* Source: {markdown_text(dose['source'])}")
    target = None
    if not within:
        summary = "Omalizumab: IgE or weight outside the label table - the label gives no dose"
    elif dose.get("dose_mg") is not None and dose.get("interval_weeks") is not None:
        target = (int(dose["dose_mg"]), int(dose["interval_weeks"]))
        summary = f"Omalizumab {_dose_text(*target)} by the label table ({where})"
    else:
        summary = "Omalizumab: the label table gives no dose for this IgE and weight"
    ordered_mg, ordered_interval = _ordered_dose(order)
    suggestions = None
    if target is not None and (ordered_mg, ordered_interval) != (target[0], f"q{target[1]}w"):
        label = f"Set the dose to {_dose_text(*target)}"
        suggestions = [{
            "label": label, "uuid": _card_id(), "isRecommended": True,
            "actions": [{"type": "update", "description": label, "resource": _update_dose(order, *target)}],
        }]
    indicator = "info" if not within or not warnings else "warning"
    return _card(
        summary[:139], indicator, SOURCE_OMALIZUMAB, "omalizumab-dose", "\n".join(lines), link,
        suggestions=suggestions, selectionBehavior="at-most-one" if suggestions else None,
        overrideReasons=[
            {"system": f"{codes.MASTCDS_CANONICAL}/CodeSystem/override-reason", "code": "specialist-dose",
             "display": "Dose set by the treating specialist (off-label use)"},
            {"system": f"{codes.MASTCDS_CANONICAL}/CodeSystem/override-reason", "code": "newer-data",
             "display": "Newer IgE or weight than the record holds"},
        ],
    )




def card_sections(case: Case) -> dict[str, Any]:
    """What the patient-view cards read of the evaluation, built by the engine's own glue: the REMA section and,
    of the tryptase section, the HαT-adjusted baseline.

    Only these are computed on the EHR's call: they take a fraction of a
    millisecond where the full evaluation takes several (see bench/cds_hooks.py).
    The tryptase section's per-episode 20% + 2 rows, which no card reads, cost
    74,000 instructions, 2.6% of a patient-view call (tests check the cards
    against those of the full evaluation).
    """
    adjusted = hat_adjusted_tryptase(_episodes.baseline_tryptase(case), case.molecular.tpsab1_extra_alpha_copies)
    return {"rema": _episodes.rema(case, []), "tryptase": {"hat_adjusted_baseline_ng_ml": adjusted}}


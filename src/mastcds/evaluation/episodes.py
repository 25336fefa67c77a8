"""Glue from a Case to the episode sections of the contract: anaphylaxis, severity, tryptase, REMA, MCAS.

The rules take plain findings; this module decides which recorded values
feed them (which baseline tryptase, which acute sample, the age at each
episode from partial dates) and says so in warnings, without patient
identifiers.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from mastcds.case import Case, Episode, LabResult, date_key, date_key_latest
from mastcds.rules.anaphylaxis import niaid2006 as anaphylaxis_niaid2006
from mastcds.rules.anaphylaxis import severity_brown2004
from mastcds.rules.anaphylaxis import wao2020 as anaphylaxis_wao2020
from mastcds.rules.anaphylaxis.findings import EpisodeFindings
from mastcds.rules.anaphylaxis.rema import CUTOFF_SOURCE as REMA_CUTOFF_SOURCE
from mastcds.rules.anaphylaxis.rema import REMA_CLONAL_CUTOFF, rema_score, rema_summary
from mastcds.rules.logic import MET, UNKNOWN, Criterion, Status, fmt
from mastcds.rules.mediators import mcas as mcas_rules
from mastcds.rules.mediators.hat import HAT_CITATION, hat_adjusted_tryptase
from mastcds.rules.mediators.tryptase import (
    NIH_RATIO_THRESHOLD,
    event_threshold_ng_ml,
    nih_ratio,
    rise_meets_20_plus_2,
)
from mastcds.rules.mediators.urinary import MEDIATORS as URINARY_MEDIATORS
from mastcds.rules.mediators.urinary import urinary_rise
from mastcds.rules.references import reference_dicts

# ---------------------------------------------------------------- identities


def episode_ids(case: Case) -> list[str]:
    """Each episode's id: its own, or "e<position>" (made unique) when it has none."""
    used = {episode.id for episode in case.episodes if episode.id is not None}
    ids: list[str] = []
    for index, episode in enumerate(case.episodes):
        if episode.id is not None:
            ids.append(episode.id)
            continue
        candidate, suffix = f"e{index + 1}", 1
        while candidate in used:
            suffix += 1
            candidate = f"e{index + 1}-{suffix}"
        used.add(candidate)
        ids.append(candidate)
    return ids


# ---------------------------------------------------------------- tryptase values


def _as_date(key: tuple[int, int, int]) -> date:
    return date(*key)


@lru_cache(maxsize=4096)  # pure; bounded because the texts come from case documents
def _day_bounds(text: str) -> tuple[date, date]:
    """The earliest and latest day a (partial) date can be."""
    return _as_date(date_key(text)), _as_date(date_key_latest(text))


def _baseline_with_source(case: Case) -> tuple[float | None, str | None, str | None]:
    """(value in ng/mL, where it came from, its date) by the documented precedence."""
    if case.labs.baseline_tryptase_ng_ml is not None:
        return case.labs.baseline_tryptase_ng_ml, "labs.baseline_tryptase_ng_ml", None
    candidates = [
        (date_key(lab.date), date_key_latest(lab.date), index, lab)
        for index, lab in enumerate(case.lab_results)
        if lab.test == "tryptase" and lab.context == "baseline"
    ]
    if not candidates:
        return None, None, None
    *_, index, lab = max(candidates, key=lambda item: item[:3])
    return lab.canonical_value, f"lab_results[{index}] ({lab.date})", lab.date


def baseline_tryptase(case: Case) -> float | None:
    """Baseline serum tryptase in ng/mL: labs.baseline_tryptase_ng_ml, else the latest baseline lab result."""
    return _baseline_with_source(case)[0]


def _acute_labs_by_episode(case: Case) -> dict[str, list[LabResult]]:
    """The acute tryptase lab results linked to each episode id, in record order (one pass over the labs)."""
    linked: dict[str, list[LabResult]] = {}
    for lab in case.lab_results:
        if lab.test == "tryptase" and lab.context == "acute" and lab.episode_id is not None:
            linked.setdefault(lab.episode_id, []).append(lab)
    return linked


def _acute_tryptase(episode: Episode, linked: list[LabResult]) -> tuple[float | None, float | None, str | None]:
    """(acute value in ng/mL, minutes after onset, where it came from) for one episode.

    The episode's own field wins; otherwise the highest acute lab result
    linked to the episode (``linked``), as the best estimate of the peak (lab
    results carry no sampling time).
    """
    if episode.acute_tryptase_ng_ml is not None:
        return episode.acute_tryptase_ng_ml, episode.acute_tryptase_minutes_after_onset, "episode field"
    if not linked:
        return None, None, None
    return max(lab.canonical_value for lab in linked), None, "lab_results"


def _rise(episode: Episode, linked: list[LabResult], baseline: float | None) -> tuple[Criterion, float | None, float | None, str | None]:
    acute, minutes, source = _acute_tryptase(episode, linked)
    return rise_meets_20_plus_2(acute, baseline, minutes), acute, minutes, source


# ---------------------------------------------------------------- age at an episode


def _years_between(start: date, end: date) -> float:
    """Age in years on ``end`` of someone born on ``start``: whole years plus the fraction of the current one."""

    def birthday(year: int) -> date:  # 29 February falls on the 28th in common years
        day = min(start.day, calendar.monthrange(year, start.month)[1])
        return date(year, start.month, day)

    whole = end.year - start.year - (end < birthday(end.year))
    last = birthday(start.year + whole)
    following = birthday(start.year + whole + 1)
    return whole + (end - last).days / (following - last).days


def age_at_episode(case: Case, episode: Episode) -> tuple[float | None, float | None]:
    """Bounds on the patient's age at the episode, from whatever dates the record has.

    Birth date and episode date bound it directly; otherwise the age at the
    evaluation date is moved back by the time between episode and
    evaluation. Without dates the episode may have happened at any age.
    """
    if episode.date is None:
        return None, None
    first, last = _day_bounds(episode.date)
    birth = case.patient.birth_date
    if birth is not None:
        born_first, born_last = _day_bounds(birth)
        if last < born_first:  # dated before birth: a data error the caller reports
            return None, None
        low = _years_between(born_last, first) if first >= born_last else 0.0
        return low, _years_between(born_first, last)
    age, evaluated = case.patient.age_years, case.evaluation_date
    if age is None or evaluated is None:
        return None, None
    eval_first, eval_last = _day_bounds(evaluated)
    days_per_year = 365.2425
    # age_years counts completed years: the true age at evaluation lies in [age, age + 1)
    low = age - (eval_last - first).days / days_per_year
    high = age + 1 - (eval_first - last).days / days_per_year
    return max(low, 0.0), max(high, 0.0)


def findings(case: Case, episode: Episode) -> EpisodeFindings:
    low, high = age_at_episode(case, episode)
    return EpisodeFindings(
        age_years_low=low,
        age_years_high=high,
        trigger=episode.trigger,
        systolic_bp_mmhg=episode.systolic_bp_mmhg,
        baseline_systolic_bp_mmhg=episode.baseline_systolic_bp_mmhg,
        loss_of_consciousness=episode.loss_of_consciousness,
        presyncope=episode.presyncope,
        urticaria=episode.urticaria,
        angioedema=episode.angioedema,
        flushing=episode.flushing,
        pruritus=episode.pruritus,
        dyspnoea_wheeze_bronchospasm=respiratory_signs(episode),
        wheeze_bronchospasm=episode.wheeze_bronchospasm,
        stridor_or_laryngeal_oedema=episode.stridor_or_laryngeal_oedema,
        hypoxaemia=episode.hypoxaemia,
        abdominal_pain_vomiting_diarrhoea=episode.abdominal_pain_vomiting_diarrhoea,
        cardiac_arrest=episode.cardiac_arrest,
    )


def respiratory_signs(episode: Episode) -> bool | None:
    """Dyspnoea, wheeze or bronchospasm: the joined field, else read from the two recorded apart (``load_case``
    has refused the two ways of recording it disagreeing)."""
    if episode.dyspnoea_wheeze_bronchospasm is not None:
        return episode.dyspnoea_wheeze_bronchospasm
    apart = (episode.dyspnoea, episode.wheeze_bronchospasm)
    if True in apart:
        return True
    return None if None in apart else False


# ---------------------------------------------------------------- work shared by the sections


@dataclass(frozen=True)
class EpisodeContext:
    """What several sections read from one case, worked out once (see :func:`context`)."""

    ids: tuple[str, ...]
    baseline: tuple[float | None, str | None, str | None]  # value, source, date
    rises: tuple[tuple[Criterion, float | None, float | None, str | None], ...]  # _rise per episode


def context(case: Case) -> EpisodeContext:
    """Episode ids, the baseline tryptase and each episode's 20% + 2 rise, for passing to the sections."""
    ids = tuple(episode_ids(case))
    baseline = _baseline_with_source(case)
    linked = _acute_labs_by_episode(case)
    rises = tuple(
        _rise(episode, linked.get(episode_id, []), baseline[0]) for episode, episode_id in zip(case.episodes, ids)
    )
    return EpisodeContext(ids, baseline, rises)


# ---------------------------------------------------------------- sections


def tryptase(case: Case, warnings: list[str], shared: EpisodeContext | None = None) -> dict[str, Any]:
    """The contract's "tryptase" object: baseline, HαT-adjusted baseline, 20% + 2 per episode.

    ``shared`` is :func:`context` of the case when the caller has it already.
    """
    if shared is None:
        shared = context(case)
    baseline, source, baseline_date = shared.baseline
    copies = case.molecular.tpsab1_extra_alpha_copies
    if baseline is not None and baseline_date is not None:
        _warn_baseline_near_episode(case, baseline_date, warnings, shared.ids)
    if baseline is not None and source == "labs.baseline_tryptase_ng_ml":
        _warn_summary_disagrees(case, baseline, warnings)
    # the same for every episode; worked out only when there is one (it refuses a negative baseline)
    threshold = event_threshold_ng_ml(baseline) if baseline is not None and case.episodes else None
    rows = []
    for episode, episode_id, (rise, acute, minutes, acute_source) in zip(case.episodes, shared.ids, shared.rises):
        ratio = nih_ratio(acute, baseline)
        if acute is not None and baseline is None:
            warnings.append(
                f"Episode {episode_id} has an acute tryptase but no baseline is recorded: measure baseline tryptase "
                "(> 24 h after symptoms resolve) to apply the 20% + 2 rule."
            )
        if acute is not None and baseline is not None and minutes is None:
            warnings.append(
                f"Episode {episode_id}: the acute tryptase has no sampling time; a rise counts, but without a rise "
                "the 20% + 2 rule stays open until the time after onset (consensus window 1 to 4 h) is recorded."
            )
        if episode.acute_tryptase_ng_ml is not None and _linked_acute_values(case, episode_id):
            warnings.append(
                f"Episode {episode_id} has an acute tryptase both on the episode and in lab_results; the episode's value was used."
            )
        rows.append(
            {
                "episode_id": episode_id,
                "threshold_ng_ml": threshold,
                "status": rise.status.value,
                "acute_ng_ml": acute,
                "acute_source": acute_source,
                "minutes_after_onset": minutes,
                "reason": rise.reason,
                "source": rise.source,
                "references": reference_dicts(rise.references),
                "nih_ratio": ratio,
                "nih_ratio_above_1_685": None if ratio is None else ratio > NIH_RATIO_THRESHOLD,
            }
        )
    return {
        "baseline_ng_ml": baseline,
        "baseline_source": source,
        "hat_adjusted_baseline_ng_ml": hat_adjusted_tryptase(baseline, copies),
        "hat_adjustment_source": HAT_CITATION.text,
        "hat_adjustment_references": reference_dicts(HAT_CITATION.keys),
        "episodes": rows,
    }


def _linked_acute_values(case: Case, episode_id: str) -> list[float]:
    return [
        lab.canonical_value
        for lab in case.lab_results
        if lab.test == "tryptase" and lab.context == "acute" and lab.episode_id == episode_id
    ]


BASELINE_AGREEMENT_NG_ML = 0.05
"""Half the last digit a tryptase result is reported to (0.1 ng/mL): a larger difference is a disagreement."""


def _warn_summary_disagrees(case: Case, baseline: float, warnings: list[str]) -> None:
    """The current baseline value (labs) against a dated baseline result of the same period.

    The period is the evaluation date's; with none, the latest dated baseline
    result stands for "now". The current value wins by the documented
    precedence, so a disagreement would otherwise pass unseen.
    """
    dated = [lab for lab in case.lab_results if lab.test == "tryptase" and lab.context == "baseline"]
    if not dated:
        return
    if case.evaluation_date is not None:
        first, last = _day_bounds(case.evaluation_date)
        same = [lab for lab in dated if _day_bounds(lab.date)[0] <= last and first <= _day_bounds(lab.date)[1]]
    else:
        latest = max(date_key(lab.date) for lab in dated)
        same = [lab for lab in dated if date_key(lab.date) == latest]
    for lab in same:
        if round(abs(lab.canonical_value - baseline), 9) > BASELINE_AGREEMENT_NG_ML:  # rounded: 10.05 - 10 is 0.0500...07
            warnings.append(
                f"The current baseline tryptase ({fmt(baseline, 'ng/mL')}) differs from the baseline tryptase result "
                f"dated {lab.date} ({fmt(lab.canonical_value, 'ng/mL')}); the current value is used: check which is right."
            )


def _warn_baseline_near_episode(case: Case, baseline_date: str, warnings: list[str], ids: tuple[str, ...]) -> None:
    """A baseline dated on the day of an episode or the day after may not be > 24 h after it."""
    if len(baseline_date) != 10:
        return
    drawn = _as_date(date_key(baseline_date))
    for episode, episode_id in zip(case.episodes, ids):
        if episode.date is not None and len(episode.date) == 10:
            gap = (drawn - _as_date(date_key(episode.date))).days
            if 0 <= gap <= 1:
                warnings.append(
                    f"The baseline tryptase was drawn within a day of episode {episode_id}: check that it was "
                    "taken more than 24 h after the symptoms resolved."
                )


def episodes(case: Case, warnings: list[str], shared: EpisodeContext | None = None) -> list[dict[str, Any]]:
    """Per episode: WAO 2020 and NIAID 2006 verdicts with their criteria, and Brown's grade.

    ``shared`` is :func:`context` of the case when the caller has it already.
    """
    ids = episode_ids(case) if shared is None else shared.ids
    rows = []
    for episode, episode_id in zip(case.episodes, ids):
        f = findings(case, episode)
        wao = anaphylaxis_wao2020.anaphylaxis(f)
        niaid = anaphylaxis_niaid2006.anaphylaxis(f)
        grade = severity_brown2004.severity(f)
        birth = case.patient.birth_date
        if episode.date is not None and birth is not None and date_key_latest(episode.date) < date_key(birth):
            warnings.append(f"Episode {episode_id} is dated {episode.date}, before the birth date; check both dates.")
        elif episode.systolic_bp_mmhg is not None and anaphylaxis_wao2020.low_systolic(f) is UNKNOWN:
            warnings.append(
                f"Episode {episode_id}: whether systolic {fmt(episode.systolic_bp_mmhg, 'mmHg')} is low depends on the "
                "age at the episode, which the dates recorded do not fix (episode date, birth date, or age with evaluation date)."
            )
        if (
            episode.systolic_bp_mmhg is not None
            and episode.baseline_systolic_bp_mmhg is not None
            and episode.systolic_bp_mmhg > episode.baseline_systolic_bp_mmhg + 60
        ):
            warnings.append(
                f"Episode {episode_id}: the lowest systolic BP ({fmt(episode.systolic_bp_mmhg, 'mmHg')}) is far above the "
                f"usual one ({fmt(episode.baseline_systolic_bp_mmhg, 'mmHg')}); check the two fields are not swapped."
            )
        rows.append(
            {
                "episode_id": episode_id,
                "date": episode.date,
                "trigger": episode.trigger,
                "anaphylaxis_wao2020": wao.status.value,
                "anaphylaxis_niaid2006": niaid.status.value,
                "severity_brown": grade.grade,
                "severity_reason": grade.reason,
                "severity_source": grade.source,
                "severity_references": reference_dicts(grade.references),
                "wao2020_criteria": [c.as_dict() for c in wao.criteria],
                "niaid2006_criteria": [c.as_dict() for c in niaid.criteria],
            }
        )
    return rows


def rema_items(case: Case) -> tuple[bool | None, bool | None]:
    """(urticaria or angioedema, presyncope or syncope) over the episodes, the worst episode deciding.

    Only the episodes are used: the REMA items describe the episodes
    ("presyncopal and/or syncopal episodes in the absence of urticaria and
    angioedema", 2010 abstract); the mediator_symptoms section lumps flushing
    and itch with them (skin) and hypotension and tachycardia with syncope
    (cardiovascular), so it cannot stand in for either item.
    """
    episodes = case.episodes
    if not episodes:  # nothing recorded for either item
        return None, None
    skin = _any([value for e in episodes for value in (e.urticaria, e.angioedema)])
    syncope = _any([value for e in episodes for value in (e.presyncope, e.loss_of_consciousness)])
    return skin, syncope


def _any(values: list[bool | None]) -> bool | None:
    """Kleene OR over every episode's findings at once (it is associative): present in any, True; recorded absent
    in all, False; otherwise unknown. One call over a list, not one per episode: 8,800 instructions fewer per call."""
    if True in values:
        return True
    return None if None in values else False


def rema(case: Case, warnings: list[str], shared: EpisodeContext | None = None) -> dict[str, Any]:
    """The contract's "rema" object; warns where the score's population or inputs do not fit.

    ``shared`` is :func:`context` of the case when the caller has it already.
    """
    skin, syncope = rema_items(case)
    baseline = baseline_tryptase(case) if shared is None else shared.baseline[0]
    result = rema_score(case.patient.sex, skin, syncope, baseline)
    lesions = case.skin.lesions
    if lesions is not None and lesions != "none":
        warnings.append(
            "REMA was derived in patients WITHOUT skin lesions of mastocytosis; this patient has skin lesions "
            f"({lesions.replace('_', ' ')}), so the score is shown for information only."
        )
    elif lesions is None:
        warnings.append(
            "REMA applies to patients without skin lesions of mastocytosis; the skin examination is not recorded."
        )
    copies = case.molecular.tpsab1_extra_alpha_copies
    if copies and baseline is not None:
        adjusted = hat_adjusted_tryptase(baseline, copies)
        warnings.append(
            f"REMA uses the raw baseline tryptase ({fmt(baseline, 'ng/mL')}); with {copies} extra α-tryptase "
            f"cop{'y' if copies == 1 else 'ies'} (HαT) part of it is genetic: the HαT-adjusted value is "
            f"{adjusted:.3g} ng/mL."
        )
    return {
        "score": result.score,
        "summary": rema_summary(result, lesions),
        "min": result.min,
        "max": result.max,
        "clonal_likely": result.clonal_likely,
        "items": [item.as_dict() for item in result.items],
        "cutoff": {
            "clonal_likely_from_score": REMA_CLONAL_CUTOFF,
            "source": REMA_CUTOFF_SOURCE.text,
            "references": reference_dicts(REMA_CUTOFF_SOURCE.keys),
        },
        "applicable": None if lesions is None else lesions == "none",
    }


def mcas(case: Case, sm_status_who2022: str, warnings: list[str], shared: EpisodeContext | None = None) -> dict[str, Any]:
    """The contract's "mcas" object: consensus criteria A-C, the variant when determinate, and MMAS.

    ``shared`` is :func:`context` of the case when the caller has it already.
    """
    sm = Status(str(sm_status_who2022))
    if shared is None:
        shared = context(case)
    labs = case.labs
    baselines = (labs.urine_n_methylhistamine_ug_g_creatinine, labs.urine_11b_pgf2a_ng_g_creatinine, labs.urine_lte4_pg_mg_creatinine)
    evidence = [
        mcas_rules.EpisodeMediators(
            episode_id,
            rise[0].status,
            tuple(
                urinary_rise(mediator, acute, baseline).status
                for mediator, acute, baseline in zip(
                    URINARY_MEDIATORS,
                    (
                        episode.acute_urine_n_methylhistamine_ug_g_creatinine,
                        episode.acute_urine_11b_pgf2a_ng_g_creatinine,
                        episode.acute_urine_lte4_pg_mg_creatinine,
                    ),
                    baselines,
                )
            ),
        )
        for episode, episode_id, rise in zip(case.episodes, shared.ids, shared.rises)
    ]
    symptoms = case.mediator_symptoms
    criteria = [
        mcas_rules.criterion_a(
            mcas_rules.MediatorSymptoms(
                skin=symptoms.skin,
                gastrointestinal=symptoms.gastrointestinal,
                cardiovascular=symptoms.cardiovascular,
                respiratory=symptoms.respiratory,
                nasal_ocular=symptoms.nasal_ocular,
            )
        ),
        mcas_rules.criterion_b(evidence),
        mcas_rules.criterion_c(symptoms.responds_to_mediator_therapy),
    ]
    status = mcas_rules.mcas_status(criteria)
    organ = case.other_extracutaneous_organ
    molecular = case.molecular
    unplaced = molecular.kit_d816v_unplaced()
    clonal = mcas_rules.clonal_mast_cells(
        mcas_rules.ClonalityFindings(
            kit_d816v=None if unplaced is None else unplaced.result,
            kit_marrow=molecular.kit_d816v_in("bone_marrow").result,
            kit_blood=molecular.kit_d816v_in("peripheral_blood").result,
            kit_other_organ=molecular.kit_d816v_in("other_extracutaneous").result,
            kit_skin=molecular.kit_d816v_in("skin").result,
            other_activating_kit_mutation=molecular.other_activating_kit_mutation,
            bone_marrow_cd25=case.bone_marrow.cd25,
            other_organ_cd25_cd2_cd30=organ.cd25_cd2_cd30 if organ is not None else None,
            kit_mutation_in_lesional_skin=case.skin.kit_mutation_in_lesional_skin,
        )
    )
    workup = case.allergy_workup
    kind = mcas_rules.variant(
        status, sm, clonal.status, case.skin.lesions, workup.ige_mediated_allergy, workup.other_reactive_disorder
    )
    if status is MET and kind.variant is None:
        warnings.append(
            "MCAS criteria are met but the variant is open: "
            + ("look for an IgE allergy or another reactive disorder (secondary) before calling it idiopathic."
               if "primary" not in kind.possible_variants
               else "a bone marrow study (KIT D816V, CD25) and skin examination decide whether it is clonal.")
        )
    return {
        "status": status.value,
        "summary": mcas_rules.mcas_summary(status, criteria, kind),
        "variant": kind.variant,
        "criteria": [c.as_dict() for c in criteria],
        "possible_variants": kind.possible_variants,
        "monoclonal": kind.monoclonal,
        "clonal_mast_cells": clonal.as_dict(),
        "variant_reason": kind.reason,
        "variant_source": kind.source,
        "variant_references": reference_dicts(kind.references),
    }

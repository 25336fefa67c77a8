"""Anaphylaxis by the World Allergy Organization 2020 criteria (two criteria, either suffices).

Cardona V, et al. World Allergy Organization Anaphylaxis Guidance 2020
(bibliography key ``cardona2020_wao``). The criteria table was read as
reproduced in the McMaster Textbook of Internal Medicine (table 031_0450) and
the child hypotension limits in its Spanish edition (table 034_1813): the
output marks these rules "secondary source".

Acute onset ("minutes to several hours") is taken as given: a mastcds episode
is an acute event, and the guideline sets no numeric limit to check.
"""

from __future__ import annotations

import math
from decimal import Decimal

from mastcds.rules.anaphylaxis.findings import (
    NO_TRIGGER,
    CriteriaResult,
    EpisodeFindings,
    below_age_limit,
    describe_age,
    end_organ_dysfunction,
    gastrointestinal,
    part,
    respiratory_compromise,
    signs,
    skin_mucosal,
    systolic_drop_over,
)
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, Criterion, Status, all_of, any_of, fmt, from_bool
from mastcds.rules.references import cite

CRITERION_1_SOURCE = cite("cardona2020_wao", where="WAO 2020 anaphylaxis criterion 1")
CRITERION_2_SOURCE = cite("cardona2020_wao", where="WAO 2020 anaphylaxis criterion 2")

# Hypotension, WAO 2020 footnote: adults and children >= 10 years SBP < 90 mmHg;
# infants and children < 10 years SBP < 70 mmHg + (2 x age in years); or a
# decrease > 30% from the person's baseline (all ages). Read in the McMaster
# Textbook tables 031_0450 (adult) and 034_1813 (children, Spanish edition).
ADULT_SBP_LIMIT_MMHG = 90.0
CHILD_SBP_BASE_MMHG = 70.0
CHILD_SBP_PER_YEAR_MMHG = 2.0
CHILD_FORMULA_BELOW_AGE_YEARS = 10.0
SBP_DROP_FRACTION = Decimal("0.30")

# Criterion 2 needs "a known or highly probable allergen for that patient".
# Venom, drugs and foods are allergens. Heat, exercise, alcohol and infection
# are cofactors or physical stimuli, not allergens, and may have acted with an
# unrecorded allergen; 'procedure' and 'other' may or may not involve one. WAO's
# own extension of "allergen" to IgE-independent triggers was not verified, so
# those triggers leave criterion 2 open rather than met or excluded.
ALLERGEN_TRIGGERS = frozenset({"hymenoptera_venom", "drug", "food"})


def systolic_limit_mmhg(age_years: float) -> float:
    """The WAO 2020 hypotension limit (SBP strictly below it) at that age."""
    if age_years < CHILD_FORMULA_BELOW_AGE_YEARS:
        return CHILD_SBP_BASE_MMHG + CHILD_SBP_PER_YEAR_MMHG * math.floor(age_years)
    return ADULT_SBP_LIMIT_MMHG


def low_systolic(f: EpisodeFindings) -> Status:
    """SBP below the WAO 2020 age-specific limit (no drop rule)."""
    return below_age_limit(f.systolic_bp_mmhg, f.age_years_low, f.age_years_high, systolic_limit_mmhg)


def hypotension(f: EpisodeFindings) -> tuple[Status, str]:
    """WAO 2020 hypotension: below the age limit, or a fall > 30% from baseline."""
    absolute = low_systolic(f)
    drop = systolic_drop_over(f.systolic_bp_mmhg, f.baseline_systolic_bp_mmhg, SBP_DROP_FRACTION)
    status = any_of(absolute, drop)
    if f.systolic_bp_mmhg is None:
        return status, "lowest systolic BP not recorded"
    words = f"lowest systolic {fmt(f.systolic_bp_mmhg, 'mmHg')}, {describe_age(f)}"
    if absolute is MET:
        words += " (below the age limit)"
    elif absolute is UNKNOWN:
        words += " (the age limit depends on the unknown exact age)"
    if f.baseline_systolic_bp_mmhg is None:
        if status is not MET:
            words += "; usual systolic BP not recorded, so a fall > 30% cannot be excluded"
    else:
        words += f"; usual {fmt(f.baseline_systolic_bp_mmhg, 'mmHg')}, fall > 30%: {'yes' if drop is MET else 'no'}"
    return status, words


def allergen_exposure(trigger: str | None) -> tuple[Status, str]:
    if trigger is None:
        return UNKNOWN, "trigger not recorded"
    if trigger == NO_TRIGGER:
        return NOT_MET, "no trigger identified"
    if trigger in ALLERGEN_TRIGGERS:
        return MET, f"allergen trigger: {trigger.replace('_', ' ')}"
    return UNKNOWN, f"trigger '{trigger}' is not an allergen by itself; an allergen may or may not have been involved"


def _bronchospasm(f: EpisodeFindings) -> Status:
    # WAO criterion 2 names bronchospasm only: the finding recorded apart decides; the joined field (dyspnoea,
    # wheeze or bronchospasm) can only rule it out, as a positive one may be dyspnoea alone.
    if f.wheeze_bronchospasm is not None:
        return MET if f.wheeze_bronchospasm else NOT_MET
    return NOT_MET if f.dyspnoea_wheeze_bronchospasm is False else UNKNOWN


def criterion_1(f: EpisodeFindings, hypotension_result: tuple[Status, str] | None = None) -> Criterion:
    """``hypotension_result`` is :func:`hypotension` of ``f`` when the caller has it already."""
    skin = skin_mucosal(f)
    resp = respiratory_compromise(f)
    bp, bp_words = hypotension(f) if hypotension_result is None else hypotension_result
    organ = end_organ_dysfunction(f)
    gi = gastrointestinal(f)
    status = all_of(skin, any_of(resp, bp, organ, gi))
    reason = "; ".join(
        [
            part("skin/mucosa", skin, signs(f, "urticaria", "angioedema", "flushing", "pruritus")),
            part("respiratory", resp, signs(f, "dyspnoea_wheeze_bronchospasm", "stridor_or_laryngeal_oedema", "hypoxaemia")),
            part("reduced BP", bp, bp_words),
            part("end-organ dysfunction", organ, signs(f, "loss_of_consciousness", "cardiac_arrest")),
            part("severe gastrointestinal", gi, signs(f, "abdominal_pain_vomiting_diarrhoea")),
        ]
    )
    return Criterion("wao2020.criterion_1", status, "Skin/mucosa with respiratory, BP/end-organ or severe GI involvement. " + reason, *CRITERION_1_SOURCE)


def criterion_2(f: EpisodeFindings, hypotension_result: tuple[Status, str] | None = None) -> Criterion:
    """``hypotension_result`` is :func:`hypotension` of ``f`` when the caller has it already."""
    exposure, exposure_words = allergen_exposure(f.trigger)
    bp, bp_words = hypotension(f) if hypotension_result is None else hypotension_result
    broncho = _bronchospasm(f)
    larynx = from_bool(f.stridor_or_laryngeal_oedema)
    status = all_of(exposure, any_of(bp, broncho, larynx))
    if f.wheeze_bronchospasm is not None:
        broncho_words = "wheeze/bronchospasm" if f.wheeze_bronchospasm else "no wheeze/bronchospasm"
    elif f.dyspnoea_wheeze_bronchospasm is False:
        broncho_words = "no dyspnoea/wheeze recorded"
    elif f.dyspnoea_wheeze_bronchospasm:
        broncho_words = "the record joins dyspnoea with wheeze/bronchospasm: record wheeze_bronchospasm apart"
    else:
        broncho_words = "not recorded"
    reason = "; ".join(
        [
            part("known or highly probable allergen", exposure, exposure_words),
            part("hypotension", bp, bp_words),
            part("bronchospasm", broncho, broncho_words),
            part("laryngeal involvement", larynx, signs(f, "stridor_or_laryngeal_oedema")),
        ]
    )
    return Criterion("wao2020.criterion_2", status, "Hypotension, bronchospasm or laryngeal involvement after an allergen. " + reason, *CRITERION_2_SOURCE)


def anaphylaxis(f: EpisodeFindings) -> CriteriaResult:
    """Anaphylaxis highly likely by WAO 2020: criterion 1 or criterion 2."""
    bp = hypotension(f)
    criteria = [criterion_1(f, bp), criterion_2(f, bp)]
    return CriteriaResult(any_of(*(c.status for c in criteria)), criteria)

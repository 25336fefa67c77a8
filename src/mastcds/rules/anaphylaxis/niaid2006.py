"""Anaphylaxis by the NIAID/FAAN 2006 criteria (three criteria, any one suffices).

Sampson HA, et al. Second symposium on the definition and management of
anaphylaxis. J Allergy Clin Immunol 2006;117:391-7 (bibliography key
``sampson2006``). The criteria and reduced-BP table were read as reproduced in
Acute Med Surg (PMC7659525, Table 1) and in two other journals' copies (Int J
Pediatr Neonatal Care 2015; Cleve Clin J Med, for the "likely allergen or other
trigger" wording): the output marks these rules "secondary source".

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
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, Criterion, Status, all_of, any_of, at_least, fmt
from mastcds.rules.references import cite

CRITERION_SOURCES = {n: cite("sampson2006", where=f"NIAID/FAAN 2006 anaphylaxis criterion {n}") for n in (1, 2, 3)}

# Reduced BP, NIAID/FAAN 2006: adults SBP < 90 mmHg or > 30% decrease from
# baseline; infants and children: low age-specific SBP or > 30% decrease;
# low SBP is < 70 mmHg from 1 month to 1 year, < 70 mmHg + (2 x age) from
# 1 to 10 years, < 90 mmHg from 11 to 17 years. No value below 1 month.
# (Acute Med Surg, PMC7659525, Table 1.)
ADULT_SBP_LIMIT_MMHG = 90.0
INFANT_SBP_LIMIT_MMHG = 70.0
CHILD_SBP_BASE_MMHG = 70.0
CHILD_SBP_PER_YEAR_MMHG = 2.0
INFANT_FROM_AGE_YEARS = 1.0 / 12.0
CHILD_FORMULA_FROM_AGE_YEARS = 1.0
ADOLESCENT_FROM_AGE_YEARS = 11.0
SBP_DROP_FRACTION = Decimal("0.30")

# The NIAID footnote extends "allergen" to other triggers: immunologic but
# IgE-independent, or non-immunologic (direct) mast cell activation (the
# footnote as reproduced in Int J Pediatr Neonatal Care 2015; "likely allergen
# or other trigger" as Cleve Clin J Med reproduces criterion 2).
# So any recorded trigger counts as the exposure of criteria 2 and 3.


def systolic_limit_mmhg(age_years: float) -> float | None:
    """The NIAID 2006 low-SBP limit (SBP strictly below it); ``None`` under 1 month."""
    if age_years < INFANT_FROM_AGE_YEARS:
        return None
    if age_years < CHILD_FORMULA_FROM_AGE_YEARS:
        return INFANT_SBP_LIMIT_MMHG
    if age_years < ADOLESCENT_FROM_AGE_YEARS:
        return CHILD_SBP_BASE_MMHG + CHILD_SBP_PER_YEAR_MMHG * math.floor(age_years)
    return ADULT_SBP_LIMIT_MMHG


def reduced_bp(f: EpisodeFindings) -> tuple[Status, str]:
    """NIAID 2006 reduced BP: low age-specific SBP, or a fall > 30% from baseline."""
    absolute = below_age_limit(f.systolic_bp_mmhg, f.age_years_low, f.age_years_high, systolic_limit_mmhg)
    drop = systolic_drop_over(f.systolic_bp_mmhg, f.baseline_systolic_bp_mmhg, SBP_DROP_FRACTION)
    status = any_of(absolute, drop)
    if f.systolic_bp_mmhg is None:
        return status, "lowest systolic BP not recorded"
    words = f"lowest systolic {fmt(f.systolic_bp_mmhg, 'mmHg')}, {describe_age(f)}"
    if absolute is MET:
        words += " (below the age limit)"
    elif absolute is UNKNOWN:
        words += " (the age limit depends on the unknown exact age, or none exists under 1 month)"
    if f.baseline_systolic_bp_mmhg is None:
        if status is not MET:
            words += "; usual systolic BP not recorded, so a fall > 30% cannot be excluded"
    else:
        words += f"; usual {fmt(f.baseline_systolic_bp_mmhg, 'mmHg')}, fall > 30%: {'yes' if drop is MET else 'no'}"
    return status, words


def trigger_exposure(trigger: str | None) -> tuple[Status, str]:
    if trigger is None:
        return UNKNOWN, "trigger not recorded"
    if trigger == NO_TRIGGER:
        return NOT_MET, "no trigger identified"
    return MET, f"recorded trigger: {trigger.replace('_', ' ')} (allergen or other trigger, NIAID footnote)"


def criterion_1(f: EpisodeFindings, reduced_bp_result: tuple[Status, str] | None = None) -> Criterion:
    """``reduced_bp_result`` is :func:`reduced_bp` of ``f`` when the caller has it already."""
    skin = skin_mucosal(f)
    resp = respiratory_compromise(f)
    bp, bp_words = reduced_bp(f) if reduced_bp_result is None else reduced_bp_result
    organ = end_organ_dysfunction(f)
    status = all_of(skin, any_of(resp, bp, organ))
    reason = "; ".join(
        [
            part("skin/mucosa", skin, signs(f, "urticaria", "angioedema", "flushing", "pruritus")),
            part("respiratory", resp, signs(f, "dyspnoea_wheeze_bronchospasm", "stridor_or_laryngeal_oedema", "hypoxaemia")),
            part("reduced BP", bp, bp_words),
            part("end-organ dysfunction", organ, signs(f, "loss_of_consciousness", "cardiac_arrest")),
        ]
    )
    return Criterion(
        "niaid2006.criterion_1",
        status,
        "Skin/mucosa with respiratory compromise or reduced BP/end-organ dysfunction. " + reason,
        *CRITERION_SOURCES[1],
    )


def criterion_2(f: EpisodeFindings, reduced_bp_result: tuple[Status, str] | None = None) -> Criterion:
    """``reduced_bp_result`` is :func:`reduced_bp` of ``f`` when the caller has it already."""
    exposure, exposure_words = trigger_exposure(f.trigger)
    skin = skin_mucosal(f)
    resp = respiratory_compromise(f)
    bp, bp_words = reduced_bp(f) if reduced_bp_result is None else reduced_bp_result
    circulation = any_of(bp, end_organ_dysfunction(f))
    gi = gastrointestinal(f)
    status = all_of(exposure, at_least(2, [skin, resp, circulation, gi]))
    reason = "; ".join(
        [
            part("likely allergen or other trigger", exposure, exposure_words),
            part("skin/mucosa", skin, signs(f, "urticaria", "angioedema", "flushing", "pruritus")),
            part("respiratory", resp, signs(f, "dyspnoea_wheeze_bronchospasm", "stridor_or_laryngeal_oedema", "hypoxaemia")),
            part("reduced BP or associated symptoms", circulation, bp_words + "; " + signs(f, "loss_of_consciousness", "cardiac_arrest")),
            part("persistent gastrointestinal", gi, signs(f, "abdominal_pain_vomiting_diarrhoea")),
        ]
    )
    return Criterion(
        "niaid2006.criterion_2",
        status,
        "Two or more organ systems after a likely allergen or other trigger. " + reason,
        *CRITERION_SOURCES[2],
    )


def criterion_3(f: EpisodeFindings, reduced_bp_result: tuple[Status, str] | None = None) -> Criterion:
    """``reduced_bp_result`` is :func:`reduced_bp` of ``f`` when the caller has it already."""
    exposure, exposure_words = trigger_exposure(f.trigger)
    if exposure is MET:
        exposure_words += "; the recorded trigger is taken as the patient's known allergen"
    bp, bp_words = reduced_bp(f) if reduced_bp_result is None else reduced_bp_result
    status = all_of(exposure, bp)
    reason = "; ".join([part("known allergen or trigger", exposure, exposure_words), part("reduced BP", bp, bp_words)])
    return Criterion(
        "niaid2006.criterion_3",
        status,
        "Reduced BP after a known allergen. " + reason,
        *CRITERION_SOURCES[3],
    )


def anaphylaxis(f: EpisodeFindings) -> CriteriaResult:
    """Anaphylaxis highly likely by NIAID/FAAN 2006: any of criteria 1-3."""
    bp = reduced_bp(f)
    criteria = [criterion_1(f, bp), criterion_2(f, bp), criterion_3(f, bp)]
    return CriteriaResult(any_of(*(c.status for c in criteria)), criteria)

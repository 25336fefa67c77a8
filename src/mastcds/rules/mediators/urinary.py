"""Urinary mast cell mediators as evidence of an event-related rise (MCAS criterion B, when tryptase cannot settle it).

The EU/US consensus names serum tryptase as the preferred marker of criterion B and adds that other
mast cell-derived markers (histamine and its metabolites, PGD2 metabolites, heparin) "have also been
proposed, but are less specific" (Leuk Lymphoma 2020, Table 2, footnote a; ``leuk_lymphoma2020``). It
gives no threshold for them. A Mayo Clinic series (J Allergy Clin Immunol Pract 2023;11:2542-6, PMID
36863614, ``butterfield2023``) measured urinary N-methylhistamine, 2,3-dinor-11β-PGF2α and LTE4 in episodes
that met the tryptase 20% + 2 rule; the lowest acute/baseline ratio of each was about 1.3, which the
authors propose for corroborating MCAS. mastcds reads a ratio of at least 1.3 over the patient's own
baseline, in the same unit and analyte, as a rise: a reading of that study, not a consensus threshold,
and the reason says so.
"""

from __future__ import annotations

from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, Criterion, Status, fmt
from mastcds.rules.references import cite

# acute / baseline >= 1.3 (butterfield2023: the lowest ratio seen with a 20% + 2 tryptase rise)
URINARY_RISE_RATIO = 1.3

MEDIATORS = {
    "n_methylhistamine": ("urinary N-methylhistamine", "ug/g creatinine"),
    "11b_pgf2a": ("urinary 11beta-PGF2alpha (or 2,3-dinor-11beta-PGF2alpha)", "ng/g creatinine"),
    "lte4": ("urinary leukotriene E4", "pg/mg creatinine"),
}

CITATION = cite(
    "leuk_lymphoma2020", "butterfield2023",
    where="MCAS consensus criterion B, Table 2 footnote a: other mediators accepted, less specific; acute/baseline "
    ">= 1.3 as a rise: the lowest ratio in a 2023 series of episodes with a tryptase rise",
)
SOURCE = CITATION.text


def urinary_rise(mediator: str, acute: float | None, baseline: float | None) -> Criterion:
    """Whether the urine collected after an episode shows a rise of ``mediator`` over the baseline, in three values."""
    name, unit = MEDIATORS[mediator]
    criterion_id = f"urine.{mediator}_rise"
    if acute is None or baseline is None:
        missing = " and ".join(word for word, value in (("episode", acute), ("baseline", baseline)) if value is None)
        return Criterion(criterion_id, UNKNOWN, f"{name}: no {missing} value.", *CITATION)
    if acute < 0 or baseline < 0:
        raise ValueError(f"{name} must be >= 0 {unit}")
    status: Status
    if baseline == 0:
        status = MET if acute > 0 else NOT_MET
        ratio_text = "a baseline of 0"
    else:
        ratio = acute / baseline
        status = MET if ratio >= URINARY_RISE_RATIO else NOT_MET
        ratio_text = f"ratio {ratio:.2f}"
    verdict = "a rise" if status is MET else "no rise"
    reason = (
        f"{name} {fmt(acute, unit)} after the episode vs baseline {fmt(baseline, unit)}: {ratio_text}, {verdict} "
        f"(mastcds counts >= {URINARY_RISE_RATIO:g} x baseline, after a 2023 series; the consensus sets no limit)."
    )
    return Criterion(criterion_id, status, reason, *CITATION)

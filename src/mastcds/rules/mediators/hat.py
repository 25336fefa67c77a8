"""Hereditary alpha-tryptasemia (HαT): the genotype adjustment of basal serum tryptase.

WHO 2022 requires the basal serum tryptase (BST) of a known HαT carrier to be
adjusted before it is compared with the SM minor-criterion limit (and the
B-finding limit). The adjustment divides by the number of α-tryptase-encoding
TPSAB1 copies relative to a non-carrier.

Source: Lyons et al., "Incorporating tryptase genotyping into the workup and
diagnosis of mast cell diseases and reactions", J Allergy Clin Immunol Pract
2022;10:1964-73, Table 1 (bibliography key ``lyons2022``); the WHO 2022
requirement (Khoury et al., Leukemia 2022, ``khoury2022``) as the review in
Blood Res 2023 restates it (Table 5, footnote a; ``blood_res2023``).
"""

from __future__ import annotations

from mastcds.rules.references import cite

HAT_CITATION = cite(
    "lyons2022", "khoury2022", "blood_res2023",
    where="HaT adjustment BST / (1 + extra alpha copies), Table 1; WHO 2022 requires it (Table 5, footnote a)",
)
HAT_SOURCE = HAT_CITATION.text


def hat_adjusted_tryptase(baseline_ng_ml: float | None, extra_alpha_copies: int | None) -> float | None:
    """BST / (1 + extra α copies); ``None`` when either input is unknown.

    Without a genotype the raw BST is what the criteria use (WHO 2022 adjusts
    only for *known* HαT), so callers fall back to the raw value themselves.
    """
    if baseline_ng_ml is None or extra_alpha_copies is None:
        return None
    return baseline_ng_ml / (1 + extra_alpha_copies)

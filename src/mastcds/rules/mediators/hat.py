"""Hereditary alpha-tryptasemia (HαT): the genotype adjustment of basal serum tryptase.

WHO 2022 requires the basal serum tryptase (BST) of a known HαT carrier to be
adjusted before it is compared with the SM minor-criterion limit (and the
B-finding limit). The adjustment divides by the number of α-tryptase-encoding
TPSAB1 copies relative to a non-carrier.

Source: "Incorporating tryptase genotyping into the workup and diagnosis of mast
cell diseases and reactions", J Allergy Clin Immunol Pract 2022;10:1964-73,
Table 1 (https://pmc.ncbi.nlm.nih.gov/articles/PMC11837873/table/T1);
WHO 2022 requirement: Khoury et al., Leukemia 2022 (as reproduced in
https://pmc.ncbi.nlm.nih.gov/articles/PMC10133845/table/T5, footnote a).
"""

from __future__ import annotations

HAT_SOURCE = (
    "JACI Pract 2022;10:1964-73 Table 1 (BST / (1 + extra alpha copies)); "
    "WHO 2022 (Khoury, Leukemia 2022) requires the adjustment"
)


def hat_adjusted_tryptase(baseline_ng_ml: float | None, extra_alpha_copies: int | None) -> float | None:
    """BST / (1 + extra α copies); ``None`` when either input is unknown.

    Without a genotype the raw BST is what the criteria use (WHO 2022 adjusts
    only for *known* HαT), so callers fall back to the raw value themselves.
    """
    if baseline_ng_ml is None or extra_alpha_copies is None:
        return None
    return baseline_ng_ml / (1 + extra_alpha_copies)

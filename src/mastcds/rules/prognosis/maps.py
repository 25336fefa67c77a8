"""MAPS, the Mayo Alliance Prognostic System for mastocytosis (Pardanani et al., Blood Adv 2018): not computed.

What the paper's abstract (PubMed Central PMC6234360) gives, and so what is
verified: 580 patients with WHO-defined SM; the clinical model's independent
risk factors age > 60 years, advanced SM, platelets < 150 x10^9/L, anaemia
below the sex-adjusted normal and raised alkaline phosphatase, with their
hazard ratios; ASXL1, RUNX1 and NRAS mutations as adverse; and a hybrid
clinical-molecular model (adverse mutations, advanced SM, thrombocytopenia,
raised ALP, age > 60 years).

What it does not give: the points each factor scores in either model and the
point ranges of the risk groups. Those are in the full text, which could not
be read here; the only copies of points and groups found are an R package
that calls its own three groups a simplification and a calculator repository
whose groups disagree with it. A score without its published table would be
a guess, so the engine computes no part of MAPS and says why.
"""

from __future__ import annotations

SOURCE = (
    "Pardanani A, Shah S, Mannelli F, et al. Mayo alliance prognostic system for mastocytosis: clinical and hybrid "
    "clinical-molecular models. Blood Adv 2018;2(21):2964-2972. doi:10.1182/bloodadvances.2018026245; PMID 30413432"
)
NOT_COMPUTED = (
    f"MAPS ({SOURCE}) is not computed: the abstract gives its risk factors and hazard ratios, but the points per "
    "factor and the risk-group cut-offs of its clinical and hybrid clinical-molecular models could not be checked "
    "against the paper"
)

"""IPSM, the International Prognostic Scoring System for Mastocytosis (Sperr et al., Lancet Haematol 2019): not computed.

IPSM has two models: one for non-advanced mastocytosis (risk factors age and
serum alkaline phosphatase) and one for advanced SM (age, baseline tryptase,
leukocytes, haemoglobin, platelets, skin involvement), each mapping a point
sum to risk groups. A score is only as good as its table, and none of its
numbers could be read where a clinician could check them:

- neither the paper nor its abstract was found in the stored copies of
  PubMed, PubMed Central and publishers' pages searched for this work, nor a
  peer-reviewed table reproducing the model;
- the risk factors and their comparators (age >= 60 years, ALP >= 100 U/L;
  tryptase >= 125 ng/mL, leukocytes >= 16 x10^9/L, Hb <= 11 g/dL, platelets
  <= 100 x10^9/L, no skin involvement) appear only on a patient-information
  site and a calculator site, neither citable to a clinician;
- the points and risk groups appear only on that calculator site, which
  contradicts itself for advanced SM (it puts a score of 0 in both AdvSM-1
  and AdvSM-2 and a score of 1 in no group) and scores skin involvement
  -1 point where the other secondary source names its absence as the risk
  factor, so its group cut-offs cannot be cross-checked either.

So the engine computes no part of IPSM, neither points nor groups nor the
individual risk factors, and says why in the evaluation. To implement it,
read the points, comparators and groups in the paper's own tables, and its
populations (a secondary source says its non-advanced group also held
cutaneous mastocytosis).
"""

from __future__ import annotations

SOURCE = (
    "Sperr WR et al. International prognostic scoring system for mastocytosis (IPSM): "
    "a retrospective cohort study. Lancet Haematol 2019;6(11):e638-e649"
)
NOT_COMPUTED = (
    f"IPSM ({SOURCE}) is not computed: its points and risk groups (IPSM for non-advanced mastocytosis; AdvSM-1 to "
    "AdvSM-4 for advanced SM) could not be checked against the paper or a peer-reviewed reproduction, and the only "
    "reproduction found contradicts itself for advanced SM"
)

"""REMA score: how likely clonal mast cell disease is in mast cell activation without skin lesions.

Álvarez-Twose I, et al. Clinical, biological, and molecular characteristics of
clonal mast cell disorders presenting with systemic mast cell activation
symptoms. J Allergy Clin Immunol 2010;125:1269-78 (bibliography key
``alvarez_twose2010_rema``); validated by the same group in 2012 (Int Arch
Allergy Immunol 2012;157:275-80, ``alvarez_twose2012_rema``).

Verified in the 2010 abstract: the predictors (male sex; presyncope and/or
syncope; absence of urticaria and angioedema; baseline tryptase > 25 µg/L).
Verified elsewhere: the cut-off, score >= 2 (McMurray et al., Blood 2024,
Figure 5; ``mcmurray2024``).
NOT verified against the paper's table (not retrievable): the points and the
lower tryptase band (< 15 µg/L). They are the values commonly quoted
(male +1, female -1; no urticaria/angioedema +1, present -2; presyncope or
syncope +3; tryptase < 15 -1, > 25 +2), which give the seed case 7.
Whether generalised itch belongs to the skin item is also unverified; the
2010 abstract names urticaria and angioedema only, and so does this score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mastcds.rules.logic import MET, NOT_MET, UNKNOWN, Criterion, Status, fmt
from mastcds.rules.references import cite

# The entry is marked secondary: its points are the commonly quoted values, not read in the paper.
ITEM_SOURCE = cite("alvarez_twose2010_rema", where="REMA score item points")
SOURCE = ITEM_SOURCE.text
CUTOFF_SOURCE = cite("mcmurray2024", where="REMA score >= 2: clonal disease likely")

POPULATION = "Only for patients without skin lesions of mastocytosis: REMA was derived in them (Álvarez-Twose 2010)."

REMA_CLONAL_CUTOFF = 2  # score >= 2: clonal disease likely (McMurray, Blood 2024, Fig 5)

MALE_POINTS = 1
FEMALE_POINTS = -1
NO_URTICARIA_ANGIOEDEMA_POINTS = 1
URTICARIA_ANGIOEDEMA_POINTS = -2
PRESYNCOPE_SYNCOPE_POINTS = 3
NO_PRESYNCOPE_SYNCOPE_POINTS = 0
# Baseline tryptase bands: "< 15" and "> 25" ng/mL (= µg/L), both strict;
# 15 to 25 inclusive scores 0. The "> 25" edge is in the 2010 abstract.
TRYPTASE_LOW_NG_ML = 15.0
TRYPTASE_HIGH_NG_ML = 25.0
TRYPTASE_LOW_POINTS = -1
TRYPTASE_MID_POINTS = 0
TRYPTASE_HIGH_POINTS = 2


@dataclass(frozen=True)
class RemaResult:
    """The score, or the range it can take while some items are unknown."""

    score: int | None
    min: int
    max: int
    clonal_likely: bool | None
    items: list[Criterion] = field(default_factory=list)


def _item(ident: str, status: Status, points: tuple[int, ...], words: str) -> tuple[Criterion, tuple[int, ...]]:
    if len(points) == 1:
        shown = f"{points[0]:+d} point{'' if abs(points[0]) == 1 else 's'}"
    else:
        shown = f"between {min(points):+d} and {max(points):+d} points"
    return Criterion(ident, status, f"{words}: {shown}.", *ITEM_SOURCE), points


# Sex and the two episode items take a few fixed values: their criteria are
# worked out once here (a Criterion is immutable) and handed out by the functions below.
_MALE = _item("rema.male_sex", MET, (MALE_POINTS,), "Male")
_FEMALE = _item("rema.male_sex", NOT_MET, (FEMALE_POINTS,), "Female")
_SEX_UNKNOWN = _item("rema.male_sex", UNKNOWN, (MALE_POINTS, FEMALE_POINTS), "Sex not recorded")

_SKIN_ID = "rema.no_urticaria_angioedema"
_NO_URTICARIA_ANGIOEDEMA = _item(
    _SKIN_ID, MET, (NO_URTICARIA_ANGIOEDEMA_POINTS,), "No urticaria or angioedema in the episodes"
)
_URTICARIA_ANGIOEDEMA = _item(_SKIN_ID, NOT_MET, (URTICARIA_ANGIOEDEMA_POINTS,), "Urticaria or angioedema in an episode")
_SKIN_UNKNOWN = _item(
    _SKIN_ID,
    UNKNOWN,
    (NO_URTICARIA_ANGIOEDEMA_POINTS, URTICARIA_ANGIOEDEMA_POINTS),
    "Urticaria/angioedema not recorded for every episode",
)

_SYNCOPE_ID = "rema.presyncope_syncope"
_PRESYNCOPE_SYNCOPE = _item(_SYNCOPE_ID, MET, (PRESYNCOPE_SYNCOPE_POINTS,), "Presyncope or syncope in an episode")
_NO_PRESYNCOPE_SYNCOPE = _item(
    _SYNCOPE_ID, NOT_MET, (NO_PRESYNCOPE_SYNCOPE_POINTS,), "No presyncope or syncope in the episodes"
)
_SYNCOPE_UNKNOWN = _item(
    _SYNCOPE_ID,
    UNKNOWN,
    (PRESYNCOPE_SYNCOPE_POINTS, NO_PRESYNCOPE_SYNCOPE_POINTS),
    "Presyncope/syncope not recorded for every episode",
)


def _sex(sex: str | None) -> tuple[Criterion, tuple[int, ...]]:
    if sex == "male":
        return _MALE
    if sex == "female":
        return _FEMALE
    if sex is None:
        return _SEX_UNKNOWN
    raise ValueError(f"sex must be 'male', 'female' or None (got {sex!r})")


def _skin(present: bool | None) -> tuple[Criterion, tuple[int, ...]]:
    if present is False:
        return _NO_URTICARIA_ANGIOEDEMA
    if present is True:
        return _URTICARIA_ANGIOEDEMA
    return _SKIN_UNKNOWN


def _syncope(present: bool | None) -> tuple[Criterion, tuple[int, ...]]:
    if present is True:
        return _PRESYNCOPE_SYNCOPE
    if present is False:
        return _NO_PRESYNCOPE_SYNCOPE
    return _SYNCOPE_UNKNOWN


def _tryptase(bst: float | None) -> tuple[Criterion, tuple[int, ...]]:
    ident = "rema.baseline_tryptase_over_25"
    if bst is None:
        return _item(
            ident,
            UNKNOWN,
            (TRYPTASE_LOW_POINTS, TRYPTASE_MID_POINTS, TRYPTASE_HIGH_POINTS),
            "Baseline tryptase not recorded",
        )
    if bst < 0:
        raise ValueError(f"baseline tryptase must be >= 0 ng/mL (got {bst:g})")
    if bst > TRYPTASE_HIGH_NG_ML:
        return _item(ident, MET, (TRYPTASE_HIGH_POINTS,), f"Baseline tryptase {fmt(bst, 'ng/mL')} > 25")
    if bst < TRYPTASE_LOW_NG_ML:
        return _item(ident, NOT_MET, (TRYPTASE_LOW_POINTS,), f"Baseline tryptase {fmt(bst, 'ng/mL')} < 15")
    return _item(ident, NOT_MET, (TRYPTASE_MID_POINTS,), f"Baseline tryptase {fmt(bst, 'ng/mL')} within 15-25")


def rema_score(
    sex: str | None,
    urticaria_or_angioedema: bool | None,
    presyncope_or_syncope: bool | None,
    baseline_tryptase_ng_ml: float | None,
) -> RemaResult:
    """The REMA score; with unknown items, ``score`` is ``None`` and min/max span every completion."""
    scored = [_sex(sex), _skin(urticaria_or_angioedema), _syncope(presyncope_or_syncope), _tryptase(baseline_tryptase_ng_ml)]
    low = high = 0
    for _, points in scored:
        low += min(points)
        high += max(points)
    if low >= REMA_CLONAL_CUTOFF:
        likely: bool | None = True
    elif high < REMA_CLONAL_CUTOFF:
        likely = False
    else:
        likely = None
    return RemaResult(low if low == high else None, low, high, likely, [item for item, _ in scored])


def rema_summary(result: RemaResult, skin_lesions: str | None) -> str:
    """The score with what it means, and REMA's caveat beside it: it was derived in patients without skin lesions."""
    head = f"REMA score {result.score}" if result.score is not None else f"REMA score between {result.min} and {result.max}"
    meaning = {
        True: f"{REMA_CLONAL_CUTOFF} or more: a clonal mast cell disorder is likely",
        False: f"below {REMA_CLONAL_CUTOFF}: a clonal mast cell disorder is less likely",
        None: f"whether it reaches {REMA_CLONAL_CUTOFF} (clonal disorder likely) depends on the items not recorded",
    }[result.clonal_likely]
    if skin_lesions is None:
        caveat = " REMA applies to patients without skin lesions of mastocytosis; the skin examination is not recorded."
    elif skin_lesions != "none":
        caveat = (
            " Caveat: REMA was derived in patients without skin lesions of mastocytosis; with skin lesions it is "
            "shown for information only."
        )
    else:
        caveat = ""
    return f"{head} ({meaning}).{caveat}"

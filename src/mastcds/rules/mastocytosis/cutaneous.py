"""Mastocytosis in the skin (MIS) and cutaneous mastocytosis (CM): the 2016 consensus criteria.

Hartmann K, Escribano L, Grattan C, et al. Cutaneous manifestations in patients
with mastocytosis: consensus report of the ECNM, AAAAI and EAACI. J Allergy
Clin Immunol 2016;137:35-45 (bibliography key ``hartmann2016``; only its
abstract was read), as restated in the AIM/ECNM consensus (Valent et al.,
HemaSphere 2021;5:e646, ``valent2021_hemasphere``):

- major criterion: typical skin lesions of mastocytosis with Darier's sign;
- minor criteria: (1) increased mast cell numbers / mast cell infiltrates in a
  biopsy of lesional skin, (2) an activating KIT mutation in lesional skin;
- MIS = the major criterion and at least one minor criterion;
- CM = MIS once SM is excluded (SM criteria not met). In an adult without a
  bone marrow study the diagnosis stays "MIS", provisional.

The criteria table of the JACI paper itself could not be read (only its
abstract); the layout above is the one the case schema follows, and the
bibliography marks the entry as read in the 2021 restatement (secondary).
"""

from __future__ import annotations

from mastcds.rules.logic import NOT_MET, UNKNOWN, Criterion, Status, all_of, any_of, from_bool
from mastcds.rules.mastocytosis.findings import NO_SKIN_LESIONS, TYPICAL_SKIN_LESIONS, SMFindings
from mastcds.rules.references import cite

CITATION = cite("hartmann2016", where="ECNM/AAAAI/EAACI consensus on mastocytosis in the skin: major and minor criteria")
SOURCE = CITATION.text
SUBTYPE_CITATION = cite(
    "leuk_lymphoma2020", "li2023", where="CM variants of WHO 2016 (Table 1) and of WHO 2022 / ICC 2022 (Table 2)"
)
SUBTYPE_SOURCE = SUBTYPE_CITATION.text
MINOR_CRITERIA_NEEDED = 1  # MIS = major + at least one minor (Hartmann 2016)

SUBTYPES = {
    "maculopapular_monomorphic": "MPCM",
    "maculopapular_polymorphic": "MPCM",
    "maculopapular_unspecified": "MPCM",
    "diffuse": "DCM",
    "mastocytoma": "mastocytoma",
}
MPCM_FORMS = {"maculopapular_monomorphic": "monomorphic", "maculopapular_polymorphic": "polymorphic"}

_LESION_WORDS = {
    "maculopapular_monomorphic": "monomorphic maculopapular lesions",
    "maculopapular_polymorphic": "polymorphic maculopapular lesions",
    "maculopapular_unspecified": "maculopapular lesions",
    "diffuse": "diffuse cutaneous involvement",
    "mastocytoma": "mastocytoma",
}


def typical_lesions_status(lesions: str | None) -> Status:
    if lesions is None:
        return UNKNOWN
    return from_bool(lesions in TYPICAL_SKIN_LESIONS)


def major_status(lesions: str | None, darier_sign: bool | None) -> Status:
    return all_of(typical_lesions_status(lesions), from_bool(darier_sign))


def mis_status(
    lesions: str | None,
    darier_sign: bool | None,
    biopsy_infiltrates: bool | None,
    kit_in_lesional_skin: bool | None,
) -> Status:
    """MIS in three values; each input is a separate finding, so Kleene logic is exact here."""
    return all_of(major_status(lesions, darier_sign), any_of(from_bool(biopsy_infiltrates), from_bool(kit_in_lesional_skin)))


def skin_criteria(f: SMFindings) -> list[Criterion]:
    """The major and the two minor CM criteria, each with its reason."""
    if f.lesions is None:
        lesion_text = "skin lesions not recorded"
    elif f.lesions == NO_SKIN_LESIONS:
        lesion_text = "no skin lesions of mastocytosis"
    else:
        lesion_text = _LESION_WORDS[f.lesions]
    darier = {True: "Darier's sign positive", False: "Darier's sign negative", None: "Darier's sign not recorded"}
    major = Criterion(
        "cm_major_typical_lesions_darier",
        major_status(f.lesions, f.darier_sign),
        f"{lesion_text}; {darier[f.darier_sign]}",
        *CITATION,
    )
    biopsy = {
        True: "lesional skin biopsy shows mast cell infiltrates",
        False: "lesional skin biopsy without increased mast cells",
        None: "no lesional skin biopsy recorded",
    }
    kit = {
        True: "activating KIT mutation found in lesional skin",
        False: "no KIT mutation found in lesional skin",
        None: "KIT not tested in lesional skin",
    }
    return [
        major,
        Criterion("cm_minor_skin_infiltrates", from_bool(f.biopsy_mast_cell_infiltrates), biopsy[f.biopsy_mast_cell_infiltrates], *CITATION),
        Criterion("cm_minor_kit_in_lesional_skin", from_bool(f.kit_mutation_in_lesional_skin), kit[f.kit_mutation_in_lesional_skin], *CITATION),
    ]


def subtype(lesions: str | None, mis: Status) -> str | None:
    """MPCM, DCM or mastocytoma from the lesions, unless the skin criteria (``mis``) are not met."""
    if lesions not in SUBTYPES or mis is NOT_MET:
        return None
    return SUBTYPES[lesions]


def mpcm_form(lesions: str | None, mis: Status) -> str | None:
    """Monomorphic (adult type, tends to persist) or polymorphic (children) MPCM, when recorded."""
    if subtype(lesions, mis) != "MPCM":
        return None
    return MPCM_FORMS.get(lesions or "")

"""Mastocytosis in the skin (2016 consensus): major + >= 1 minor, every cell of the table, and the subtypes."""

from __future__ import annotations

import itertools

import pytest

from mastcds.rules.mastocytosis.cutaneous import mis_status, mpcm_form, skin_criteria, subtype
from mastcds.rules.logic import MET, NOT_MET, UNKNOWN
from mastcds.rules.mastocytosis.findings import SMFindings

LESIONS = [
    None,
    "none",
    "maculopapular_monomorphic",
    "maculopapular_polymorphic",
    "maculopapular_unspecified",
    "diffuse",
    "mastocytoma",
]
THREE = (True, False, None)


def expected_mis(lesions, darier, biopsy, kit):
    """The table written out: typical lesions with Darier's sign, and at least one minor criterion."""
    if lesions == "none" or darier is False or (biopsy is False and kit is False):
        return NOT_MET
    if lesions is None or darier is None or (biopsy is not True and kit is not True):
        return UNKNOWN
    return MET


@pytest.mark.parametrize(("lesions", "darier", "biopsy", "kit"), list(itertools.product(LESIONS, THREE, THREE, THREE)))
def test_every_cell_of_the_mis_table(lesions, darier, biopsy, kit) -> None:
    assert mis_status(lesions, darier, biopsy, kit) is expected_mis(lesions, darier, biopsy, kit)
    f = SMFindings(lesions=lesions, darier_sign=darier, biopsy_mast_cell_infiltrates=biopsy, kit_mutation_in_lesional_skin=kit)
    major, infiltrates, kit_skin = skin_criteria(f)
    assert infiltrates.status.value == {True: "met", False: "not_met", None: "unknown"}[biopsy]
    assert kit_skin.status.value == {True: "met", False: "not_met", None: "unknown"}[kit]
    assert all(c.reason and c.source for c in (major, infiltrates, kit_skin))


@pytest.mark.parametrize(
    ("lesions", "code", "form"),
    [
        ("maculopapular_monomorphic", "MPCM", "monomorphic"),
        ("maculopapular_polymorphic", "MPCM", "polymorphic"),
        ("maculopapular_unspecified", "MPCM", None),
        ("diffuse", "DCM", None),
        ("mastocytoma", "mastocytoma", None),
        ("none", None, None),
        (None, None, None),
    ],
)
def test_subtypes(lesions, code, form) -> None:
    status = mis_status(lesions, True, True, None)
    assert subtype(lesions, status) == code and mpcm_form(lesions, status) == form


def test_no_subtype_when_the_skin_criteria_are_not_met() -> None:
    assert subtype("mastocytoma", mis_status("mastocytoma", False, True, None)) is None
    # criteria still open: the lesions already say which form
    assert subtype("diffuse", mis_status("diffuse", True, None, None)) == "DCM"

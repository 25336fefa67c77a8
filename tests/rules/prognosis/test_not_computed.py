"""IPSM and MAPS are not computed: the statement a clinician reads names the paper and what could not be checked."""

from __future__ import annotations

import pytest

from mastcds.rules.prognosis import ipsm, maps


@pytest.mark.parametrize(
    ("module", "citation", "missing"),
    [
        (ipsm, ("Sperr WR", "Lancet Haematol 2019;6(11):e638-e649"), ("points and risk groups", "AdvSM-1 to AdvSM-4")),
        (maps, ("Pardanani A", "Blood Adv 2018;2(21):2964-2972", "PMID 30413432", "doi:10.1182/bloodadvances.2018026245"),
         ("points per factor", "risk-group cut-offs")),
    ],
)
def test_the_reason_cites_the_paper_and_says_what_is_missing(module, citation: tuple[str, ...], missing: tuple[str, ...]) -> None:
    for fragment in citation:
        assert fragment in module.SOURCE and fragment in module.NOT_COMPUTED
    for fragment in missing:
        assert fragment in module.NOT_COMPUTED
    assert "is not computed" in module.NOT_COMPUTED
    assert "://" not in module.NOT_COMPUTED  # no web address: a secondary site is never shown as a source

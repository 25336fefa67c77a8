"""The evaluation page links each source to its DOI or PubMed record and shows no mirror (issue 15 §4)."""

from __future__ import annotations

from tests.sources import problems
from tests.web.conftest import Web


def _page(web: Web, patient_key: str) -> str:
    response = web.browser("viewer").get(f"/patients/{patient_key}/evaluation")
    assert response.status_code == 200
    return response.text


def test_the_evaluation_page_links_sources_and_shows_no_mirror(web: Web, patient_key: str) -> None:
    html = _page(web, patient_key)
    assert not problems(html)
    # the WAO criteria are not on the page; REMA's are, with the paper's PubMed record
    assert '<a class="ref" href="https://pubmed.ncbi.nlm.nih.gov/20434205/" rel="noopener noreferrer">PubMed 20434205</a>' in html
    assert 'href="https://doi.org/10.1016/j.jaci.2015.08.034"' in html  # cutaneous criteria: Hartmann 2016
    assert 'href="https://www.ema.europa.eu/en/medicines/human/EPAR/xolair" rel="noopener noreferrer">EMA product page</a>' in html

"""The bibliography: well-formed identifiers, unique keys, every cited key present, citations printed as Vancouver."""

from __future__ import annotations

import importlib
import json
import pkgutil
import tomllib
from importlib import resources
from urllib.parse import urlsplit

import pytest

import mastcds.rules
from mastcds.rules.references import (
    DOI_PATTERN,
    PMCID_PATTERN,
    PMID_PATTERN,
    REFERENCES,
    Citation,
    Reference,
    bibliography,
    bibliography_lines,
    cite,
    cited_keys,
    full_citation,
    link,
    links,
    load_bibliography,
    reference_dicts,
    short_citation,
    source_text,
)
from tests.sources import ALLOWED_HOSTS, host_allowed

# Works with no DOI, PMID, PMCID or publisher page that could be verified: each is a decision, so a new
# one must be added here on purpose (and the report says why).
WITHOUT_LINK = {
    "valent2017_cancer_res", "blood2013_how_i_treat", "alvarez_twose2012_rema", "jawhar2019_mars", "sperr2019_ipsm",
    "auvi_q_us_pi", "resus_uk2021", "mhra_aai", "uk_aai_practice", "ascia_aai", "przyborowski1940", "ehdsi_mvc",
    "zanotti2022_bmm", "bonadonna2009", "zanotti2015", "okabe_ito2008", "seer_hemelymph", "snomed_ips_free_set",
}


def test_keys_are_the_entries_own_and_unique() -> None:
    assert all(key == entry.key for key, entry in REFERENCES.items()) and len(REFERENCES) > 60
    with pytest.raises(tomllib.TOMLDecodeError):
        load_bibliography('[khoury2022]\ntitle = "a"\n[khoury2022]\ntitle = "b"\n')


def test_an_entry_with_an_unknown_field_names_its_key() -> None:
    with pytest.raises(ValueError, match="bibliography entry 'x2024'.*'jornal'"):
        load_bibliography('[x2024]\nauthors = "Doe J"\ntitle = "T"\ncontainer = "J"\njornal = "J"\n')


@pytest.mark.parametrize("key", sorted(REFERENCES))
def test_identifiers_are_well_formed(key: str) -> None:
    entry = REFERENCES[key]
    assert entry.doi is None or DOI_PATTERN.match(entry.doi), entry.doi
    assert entry.pmid is None or PMID_PATTERN.match(entry.pmid), entry.pmid
    assert entry.pmcid is None or PMCID_PATTERN.match(entry.pmcid), entry.pmcid
    assert entry.title and (entry.authors or "not read" in entry.checked), "a work without authors says why"
    if entry.kind == "label":
        assert entry.section.startswith("section "), "a label is cited by its section"
    for url in links(key):
        assert host_allowed(url), f"{key}: {url} is not a primary publisher or registry"


@pytest.mark.parametrize("key", sorted(REFERENCES))
def test_a_secondary_copy_is_named_in_words_or_by_key(key: str) -> None:
    copy = REFERENCES[key].verified_against
    if copy is None:
        return
    assert "http" not in copy and "/" not in copy.replace("n/a", ""), "the secondary copy is named, never linked"
    assert copy in REFERENCES or " " in copy


def test_works_without_a_link_are_the_known_ones() -> None:
    assert {key for key in REFERENCES if link(key) is None} == WITHOUT_LINK


def test_the_doi_pattern_refuses_what_is_not_a_doi() -> None:
    assert DOI_PATTERN.match("10.1038/s41375-022-01613-1")
    for bad in ("doi:10.1038/x", "https://doi.org/10.1038/x", "10.12/x", "10.1038/ with space"):
        assert not DOI_PATTERN.match(bad)
    assert not PMID_PATTERN.match("0123") and not PMID_PATTERN.match("PMID:123")
    assert not PMCID_PATTERN.match("7115828") and PMCID_PATTERN.match("PMC7115828")


def test_short_citation_is_vancouver_with_the_doi() -> None:
    assert short_citation("khoury2022") == "Khoury JD et al. Leukemia 2022;36:1703-19. doi:10.1038/s41375-022-01613-1"
    assert short_citation("brown2004") == "Brown SGA. J Allergy Clin Immunol 2004;114:371-6. doi:10.1016/j.jaci.2004.04.029"
    assert short_citation("valent2012") == "Valent P et al. Int Arch Allergy Immunol 2012;157:215-25. PMID:22041891"
    assert short_citation("lyons2022").endswith("2022;10:1964-73. PMC11837873")


def test_a_label_is_cited_as_the_regulators_document_and_section() -> None:
    assert short_citation("xolair_eu_smpc") == (
        "Xolair (omalizumab): Summary of Product Characteristics (EPAR product information, Annex I), section 4.2. "
        "European Medicines Agency."
    )
    assert "section 2" in short_citation("xolair_us_pi") and "Food and Drug Administration" in short_citation("xolair_us_pi")
    assert link("xolair_eu_smpc") == "https://www.ema.europa.eu/en/medicines/human/EPAR/xolair"


def test_full_citation_lists_authors_title_and_every_identifier() -> None:
    assert full_citation("valent2017_blood") == (
        "Valent P, Akin C, Metcalfe DD. Mastocytosis: 2016 updated WHO classification and novel emerging treatment "
        "concepts. Blood 2017;129:1420-7. doi:10.1182/blood-2016-09-731893; PMID:28031180; PMC5356454."
    )
    assert full_citation("hartmann2016").endswith(
        "Secondary source: values verified against Valent P et al. HemaSphere 2021;5:e646. "
        "doi:10.1097/HS9.0000000000000646."
    )


def test_links_put_the_doi_first_then_pubmed_then_pmc() -> None:
    assert links("khoury2022") == [
        "https://doi.org/10.1038/s41375-022-01613-1",
        "https://pubmed.ncbi.nlm.nih.gov/35732831/",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC9252913/",
    ]
    assert link("valent2012") == "https://pubmed.ncbi.nlm.nih.gov/22041891/"
    assert link("lyons2022") == "https://pmc.ncbi.nlm.nih.gov/articles/PMC11837873/"


def test_cite_names_the_place_and_marks_a_secondary_source() -> None:
    assert cite("arber2022", where="Table 18") == Citation(
        "Table 18: Arber DA et al. Blood 2022;140:1200-28. doi:10.1182/blood.2022015850", ("arber2022",)
    )
    text = cite("cardona2020_wao", "sampson2006").text
    assert text.startswith("Cardona V et al.") and "; Sampson HA et al." in text
    assert text.endswith("[secondary source: verified against the criteria table as reproduced in the McMaster "
                         "Textbook of Internal Medicine (English and Spanish editions); the criteria table as "
                         "reproduced in Acute Med Surg (PMC7659525, Table 1)]")
    assert "secondary source" not in source_text(["arber2022"])
    assert source_text(["khoury2022"]).endswith("[secondary source: verified against Li JY et al. Cancers (Basel) "
                                                "2023;15:5626. doi:10.3390/cancers15235626]")


def test_cite_refuses_unknown_or_missing_keys() -> None:
    with pytest.raises(KeyError, match="no bibliography entry 'who2099'"):
        cite("khoury2022", "who2099")
    with pytest.raises(ValueError):
        cite()


def test_reference_dicts_are_the_contract_objects_and_fresh_each_time() -> None:
    first = reference_dicts(["hartmann2016"])
    assert first == [{
        "key": "hartmann2016",
        "citation": "Hartmann K et al. J Allergy Clin Immunol 2016;137:35-45. doi:10.1016/j.jaci.2015.08.034",
        "doi": "10.1016/j.jaci.2015.08.034",
        "pmid": None,
        "url": "https://doi.org/10.1016/j.jaci.2015.08.034",
        "secondary": True,
        "verified_against": "Valent P et al. HemaSphere 2021;5:e646. doi:10.1097/HS9.0000000000000646",
    }]
    first[0]["citation"] = "changed by a caller"
    assert reference_dicts(["hartmann2016"])[0]["citation"].startswith("Hartmann K")


def test_cited_keys_walks_an_evaluation_in_order_of_first_appearance() -> None:
    evaluation = {
        "a": {"criteria": [{"references": reference_dicts(["brown2004", "khoury2022"])}]},
        "b": [{"references": reference_dicts(["khoury2022"])}, {"nested": {"references": reference_dicts(["li2023"])}}],
        "c": {"references": [{"key": "not-a-key"}, "junk"], "x": None},
    }
    assert cited_keys(evaluation) == ["brown2004", "khoury2022", "li2023"]
    assert cited_keys([]) == [] and cited_keys(None) == []


def test_bibliography_lines_number_each_work_once_with_its_link() -> None:
    evaluation = {"x": [{"references": reference_dicts(["brown2004"])}, {"references": reference_dicts(["brown2004"])}]}
    assert bibliography_lines(evaluation) == [
        "[1] Brown SGA. Clinical features and severity grading of anaphylaxis. J Allergy Clin Immunol "
        "2004;114:371-6. doi:10.1016/j.jaci.2004.04.029; PMID:15316518. https://doi.org/10.1016/j.jaci.2004.04.029"
    ]
    assert bibliography_lines(evaluation, numbered=False)[0].startswith("[brown2004] Brown SGA.")
    assert [entry["key"] for entry in bibliography(["li2023", "brown2004", "li2023"])] == ["li2023", "brown2004"]


def _citations_in_rules() -> list[tuple[str, Citation]]:
    found = []
    for module in pkgutil.walk_packages(mastcds.rules.__path__, "mastcds.rules."):
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if isinstance(value, Citation):
                found.append((f"{module.name}.{name}", value))
            elif isinstance(value, dict):
                found += [(f"{module.name}.{name}[{k!r}]", v) for k, v in value.items() if isinstance(v, Citation)]
    return found


def _specs_in_tables() -> list[tuple[str, list[str]]]:
    found = []

    def walk(where: str, value: object) -> None:
        if isinstance(value, dict):
            spec = value.get("source")
            if isinstance(spec, dict):
                found.append((where, spec["refs"]))
            for key, item in value.items():
                walk(f"{where}.{key}", item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(f"{where}[{index}]", item)

    for package in ("mastcds.rules.dosing", "mastcds.rules.treatment"):
        for table in resources.files(package).joinpath("tables").iterdir():
            walk(table.name, json.loads(table.read_text(encoding="utf-8")))
    return found


def test_every_key_a_rule_cites_is_in_the_bibliography() -> None:
    citations = _citations_in_rules()
    specs = _specs_in_tables()
    assert len(citations) >= 15 and len(specs) >= 15, "the walk found the rules' citations"
    for where, citation in citations:
        assert citation.keys and all(key in REFERENCES for key in citation.keys), where
    for where, keys in specs:
        assert all(key in REFERENCES for key in keys), where


def test_the_allow_list_is_short_and_has_no_mirror() -> None:
    assert len(ALLOWED_HOSTS) <= 30
    for mirror in ("www.rarediseaseadvisor.com", "ash-sap.org", "ashpublications.net", "bloodref.com",
                   "www.droracle.ai", "www.120ty.net", "info.5y1.org", "empendium.com", "github.com",
                   "47.251.13.51", "seer.cancer.gov", "www.drugs.com"):
        assert not host_allowed(f"https://{mirror}/x"), mirror
    assert host_allowed("https://doi.org/10.1/x") and host_allowed("https://pubmed.ncbi.nlm.nih.gov/1/")
    assert urlsplit("https://www.ema.europa.eu/en").hostname and host_allowed("https://www.ema.europa.eu/en")


def test_an_entry_can_be_built_only_with_its_fields() -> None:
    entry = Reference("x2024", "Doe J", "A title", "J Test", 2024, "1", "2-3", doi="10.1000/x")
    assert not entry.secondary and entry.kind == "article"

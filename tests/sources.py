"""Which hosts a user may be sent to from mastcds's output, and how to find every URL in that output.

Only the publishers and registries that hold the primary documents the
bibliography cites. Mirrors, aggregators, chat bots, school-pen sites and
manufacturers' marketing pages are never on it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

ALLOWED_HOSTS = {
    # identifier resolvers and the literature databases of the NLM
    "doi.org": "DOI resolver: every article is linked by its DOI first",
    "pubmed.ncbi.nlm.nih.gov": "PubMed record of a PMID",
    "pmc.ncbi.nlm.nih.gov": "PubMed Central full text of a PMCID",
    # drug regulators: the EU SmPC and the US prescribing information
    "www.ema.europa.eu": "EMA EPAR pages (EU SmPC)",
    "www.accessdata.fda.gov": "Drugs@FDA (US prescribing information)",
    # terminology and standards publishers (fhir/codes.py and the FHIR adapters)
    "loinc.org": "LOINC, Regenstrief Institute",
    "www.snomed.org": "SNOMED International",
    "www.cdc.gov": "ICD-10-CM, National Center for Health Statistics",
    "icd.who.int": "WHO ICD-10",
    "codes.iarc.fr": "ICD-O-3, International Agency for Research on Cancer (WHO)",
    "ucum.org": "UCUM, Regenstrief Institute",
    "www.whocc.no": "WHO Collaborating Centre for Drug Statistics Methodology (ATC)",
    "www.nlm.nih.gov": "RxNorm, National Library of Medicine",
    "www.genenames.org": "HGNC",
    "www.orpha.net": "Orphanet",
    "hl7.org": "HL7 FHIR, FHIRPath and implementation guides",
    "cds-hooks.hl7.org": "HL7 CDS Hooks",
    "sql-on-fhir.org": "HL7 SQL on FHIR",
}

URL = re.compile(r"https?://[^\s\"'<>)\];,]+", re.IGNORECASE)
# What a user must never be pointed to: a file of this repository or a seed file.
REPOSITORY_FILE = re.compile(r"(docs/[\w./-]*\.md|\b[\w/]+\.py\b|/work/|seed-case-report|shared/seed|ecosystem\.md|criteria-reference|anaphylaxis-treatment-reference)")


def host_allowed(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ALLOWED_HOSTS


def bad_urls(text: str) -> list[str]:
    """Every URL in ``text`` whose host is not on the allow-list."""
    return [url for url in URL.findall(text) if not host_allowed(url)]


def repository_citations(text: str) -> list[str]:
    """Every mention of a repository file (``docs/…md``, ``.py``, ``/work/``, seed files) in ``text``."""
    return [match.group(0) for match in REPOSITORY_FILE.finditer(text)]


def strings(value: object, path: str = "") -> list[tuple[str, str]]:
    """Every string in a JSON-like value with its path (``guidelines.who2022.criteria[0].source``)."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[str, object]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            found.append((where, item))
        elif isinstance(item, dict):
            stack.extend((f"{where}.{key}" if where else str(key), child) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", child) for index, child in enumerate(item))
    return sorted(found)


def problems(text: str) -> list[str]:
    """What a user must not see in ``text``: URLs off the allow-list and repository files."""
    return bad_urls(text) + repository_citations(text)


def findings(value: object) -> list[str]:
    """Every problem in a JSON-like value, as ``path: problem``."""
    return [f"{path}: {problem}" for path, text in strings(value) for problem in problems(text)]

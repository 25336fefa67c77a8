"""The bibliography: every work mastcds cites, one entry per primary document, and how to print it.

The entries are data (``bibliography.toml`` beside this module, its fields
explained at its top). Rules cite an entry by key (:func:`cite`), so that the evaluation, the web
pages and the report print one citation with a DOI or PubMed link a clinician
can follow, never a mirror or an aggregator. Drug labels are cited as the
regulator's document and section (EU SmPC section 4.2, US PI section 2).

``verified_against`` is set when the values a rule takes from a work were read
only in a secondary copy of it (a review's table, a transcription of a label):
the output then marks the rule "secondary source". ``checked`` says where the
identifiers were looked up. An identifier that could not be found in a
PubMed, PMC, doi.org or publisher record is left out, never guessed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

Kind = Literal["article", "label", "guideline", "terminology", "standard"]


@dataclass(frozen=True)
class Reference:
    """One cited document. ``authors`` as Vancouver writes them ("Khoury JD, Solary E, ..."), empty when not read."""

    key: str
    authors: str
    title: str
    container: str  # journal (abbreviated), or the publisher / regulator of a label or standard
    year: int | None = None
    volume: str = ""  # "36", "58(Suppl 1)"
    pages: str = ""  # as printed, shortened: "1703-19"
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None  # the publisher's or registry's own page, for works without DOI/PMID
    section: str = ""  # for a label: "section 4.2"
    kind: Kind = "article"
    verified_against: str | None = None  # the secondary copy the cited values were read in (a key or words)
    checked: str = ""  # where the identifiers were looked up

    @property
    def secondary(self) -> bool:
        return self.verified_against is not None


# What an identifier looks like (the bibliography's tests check every entry against these).
DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_PATTERN = re.compile(r"^[1-9]\d{0,8}$")
PMCID_PATTERN = re.compile(r"^PMC\d{5,9}$")


def load_bibliography(text: str) -> Mapping[str, Reference]:
    """The entries of a bibliography in TOML, one table per key (TOML itself refuses a key written twice)."""
    table: dict[str, Reference] = {}
    for key, fields in tomllib.loads(text).items():
        try:
            table[key] = Reference(key=key, **{"year": None, **fields})
        except TypeError as error:
            raise ValueError(f"bibliography entry {key!r}: {error}") from None
    return MappingProxyType(table)


# The data: bibliography.toml beside this module, read once (rules cite entries in their constants).
REFERENCES: Mapping[str, Reference] = load_bibliography(
    resources.files("mastcds.rules").joinpath("bibliography.toml").read_text(encoding="utf-8")
)


class Citation(NamedTuple):
    """A rule's source: the text a clinician reads and the bibliography keys behind it.

    A :class:`~mastcds.rules.logic.Criterion` takes both: ``Criterion(id, status, reason, *citation)``.
    """

    text: str
    keys: tuple[str, ...]


def reference(key: str) -> Reference:
    """The entry, or a KeyError naming the unknown key (a rule citing a missing entry fails at import)."""
    try:
        return REFERENCES[key]
    except KeyError:
        raise KeyError(f"no bibliography entry {key!r}") from None


def _first_author(authors: str) -> str:
    """'Khoury JD et al.' for several authors, 'Brown SGA.' for one: the head of a short citation."""
    names = [name.strip() for name in authors.split(",") if name.strip()]
    if not names:
        return ""
    return f"{names[0]} et al." if len(names) > 1 else f"{names[0]}."


def _sentence(text: str) -> str:
    """``text`` ending with exactly one full stop."""
    return text if text.endswith(".") else text + "."


def _locator(ref: Reference) -> str:
    """'Leukemia 2022;36:1703-19' (journal, year, volume, pages as far as known)."""
    text = " ".join(part for part in (ref.container, "" if ref.year is None else str(ref.year)) if part)
    if ref.volume:
        text += f";{ref.volume}"
        if ref.pages:
            text += f":{ref.pages}"
    elif ref.pages:
        text += f":{ref.pages}"
    return text


def _identifiers(ref: Reference) -> list[str]:
    """'doi:…', 'PMID:…', 'PMC…' in that order, as far as the entry has them."""
    found = [f"doi:{ref.doi}"] if ref.doi else []
    found += [f"PMID:{ref.pmid}"] if ref.pmid else []
    found += [ref.pmcid] if ref.pmcid else []
    return found


def short_citation(key: str) -> str:
    """'Khoury JD et al. Leukemia 2022;36:1703-19. doi:10.1038/s41375-022-01613-1' (labels: title, section, regulator)."""
    ref = reference(key)
    locator = _locator(ref)
    if ref.kind == "label":
        text = f"{ref.title}, {ref.section}. {ref.container}."
    elif ref.kind in ("terminology", "standard", "guideline"):
        title = [] if ref.title.startswith("[") else [_sentence(ref.title)]  # a description is for the bibliography
        text = " ".join([_sentence(ref.authors), *title, *([str(ref.year) + "."] if ref.year else [])])
    else:
        head = _first_author(ref.authors)  # a work whose authors were not read is named by its journal
        if not head and not locator:
            head = _sentence(ref.title)
        text = " ".join(part for part in (head, _sentence(locator) if locator else "") if part)
    ids = _identifiers(ref)
    return f"{text} {ids[0]}" if ids else text


def full_citation(key: str) -> str:
    """The bibliography line: authors, title, journal;volume:pages, and every identifier."""
    ref = reference(key)
    if ref.kind in ("label", "terminology", "standard", "guideline"):
        parts = [f"{ref.authors}. {ref.title}"]
        if ref.section:
            parts.append(ref.section)
        if ref.kind != "label" and ref.year is not None:
            parts.append(str(ref.year))
        text = ". ".join(parts) + "."
    else:
        parts = [_sentence(ref.authors)] if ref.authors else []
        parts.append(_sentence(ref.title))
        if _locator(ref):
            parts.append(_sentence(_locator(ref)))
        text = " ".join(parts)
    ids = _identifiers(ref)
    if ids:
        text += " " + "; ".join(ids) + "."
    if ref.secondary:
        text += f" Secondary source: values verified against {verified_against_text(key)}."
    return text


def verified_against_text(key: str) -> str | None:
    """The secondary copy in words: another entry's short citation, or the entry's own description."""
    ref = reference(key)
    if ref.verified_against is None:
        return None
    if ref.verified_against in REFERENCES:
        return short_citation(ref.verified_against)
    return ref.verified_against


def links(key: str) -> list[str]:
    """Every link of the entry, the most durable first: doi.org, PubMed, PMC, then the publisher's page."""
    ref = reference(key)
    found = []
    if ref.doi:
        found.append(f"https://doi.org/{ref.doi}")
    if ref.pmid:
        found.append(f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/")
    if ref.pmcid:
        found.append(f"https://pmc.ncbi.nlm.nih.gov/articles/{ref.pmcid}/")
    if ref.url:
        found.append(ref.url)
    return found


def link(key: str) -> str | None:
    """The one link to print beside a citation, or None when the work has none."""
    found = links(key)
    return found[0] if found else None


def source_text(keys: Iterable[str], where: str = "") -> str:
    """The human-readable source of a rule: short citations, the place in the work, and the secondary mark."""
    keys = tuple(keys)
    text = "; ".join(short_citation(key).removesuffix(".") for key in keys)
    if where:
        text = f"{where}: {text}"
    secondary = [key for key in keys if reference(key).secondary]
    if secondary:
        copies = "; ".join(str(verified_against_text(key)) for key in secondary)
        text += f" [secondary source: verified against {copies}]"
    return text


def cite(*keys: str, where: str = "") -> Citation:
    """The citation of a rule: ``cite("cardona2020_wao", where="criterion 1")``; unknown keys raise KeyError."""
    if not keys:
        raise ValueError("a citation needs at least one bibliography key")
    for key in keys:
        reference(key)
    return Citation(source_text(keys, where), keys)


@lru_cache(maxsize=None)  # bounded by the bibliography: keys come from the rules' constants
def _reference_dicts(keys: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "key": key,
            "citation": short_citation(key),
            "doi": reference(key).doi,
            "pmid": reference(key).pmid,
            "url": link(key),
            "secondary": reference(key).secondary,
            "verified_against": verified_against_text(key),
        }
        for key in keys
    )


def reference_dicts(keys: Iterable[str]) -> list[dict[str, Any]]:
    """The evaluation contract's ``references`` list: one fresh object per key, in the order cited.

    Built once per tuple of keys and copied on each call (a caller may edit its evaluation).
    """
    return [entry.copy() for entry in _reference_dicts(tuple(keys))]


def cited_keys(evaluation: Any) -> list[str]:
    """Every bibliography key an evaluation (or any part of it) cites, in order of first appearance."""
    seen: dict[str, None] = {}
    stack = [evaluation]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            cited = item.get("references")
            for entry in cited if isinstance(cited, list) else ():
                if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                    seen.setdefault(entry["key"], None)
            stack.extend(reversed([value for name, value in item.items() if name != "references"]))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return [key for key in seen if key in REFERENCES]


def references_by_source(*objects: Any) -> dict[str, list[dict[str, Any]]]:
    """Each source text found in evaluation objects, with the references printed beside it.

    A ``"…source"`` string and its sibling ``"…references"`` list go together
    (``source``/``references``, ``severity_source``/``severity_references``…);
    the first list seen for a text wins. For pages that number sources by text.
    """
    found: dict[str, list[dict[str, Any]]] = {}
    stack = list(objects)
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for name, value in item.items():
                if isinstance(value, str) and name.endswith("source"):
                    cited = item.get(name.removesuffix("source") + "references")
                    if isinstance(cited, list):
                        found.setdefault(value, [entry for entry in cited if isinstance(entry, dict)])
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def bibliography(keys: Iterable[str]) -> list[dict[str, Any]]:
    """The bibliography of the given keys, in that order, duplicates dropped: key, full citation, link, secondary."""
    return [
        {
            "key": key,
            "citation": full_citation(key),
            "url": link(key),
            "secondary": reference(key).secondary,
        }
        for key in dict.fromkeys(keys)
    ]


def bibliography_lines(evaluation: Any, numbered: bool = True) -> list[str]:
    """The bibliography of everything an evaluation cites, one printable line per work (for the CLI).

    ``[1] Khoury JD, Solary E, Abla O, et al. The 5th edition ... doi:... https://doi.org/...``
    """
    lines = []
    for number, entry in enumerate(bibliography(cited_keys(evaluation)), start=1):
        mark = f"[{number}]" if numbered else f"[{entry['key']}]"
        line = f"{mark} {entry['citation']}"
        if entry["url"]:
            line += f" {entry['url']}"
        lines.append(line)
    return lines

"""The bottom line of the mastocytosis evaluation: the sentence a clinician reads first.

It names the category, or every category still possible and no other, and the one test that would
separate them. An advanced or malignant category that is only possible is said to be only possible,
with what every recorded finding fits instead, so that "mast cell leukaemia" is never read as a
diagnosis when nothing recorded shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mastcds.rules.logic import MET, NOT_MET, Status
from mastcds.rules.mastocytosis.common import (
    ASM,
    BMM,
    CM,
    ISM,
    MCL,
    MCS,
    NONE,
    SM_AHN,
    SM_AMN,
    SSM,
)
from mastcds.rules.mastocytosis.next_tests import NextTest

# Each category's name as the summary writes it; the code in brackets is what a reader (and a test) finds.
NAMES = {
    NONE: "no mastocytosis",
    CM: "cutaneous mastocytosis (CM)",
    MCS: "mast cell sarcoma (MCS)",
    BMM: "bone marrow mastocytosis (BMM)",
    ISM: "indolent systemic mastocytosis (ISM)",
    SSM: "smouldering systemic mastocytosis (SSM)",
    ASM: "aggressive systemic mastocytosis (ASM)",
    SM_AHN: "systemic mastocytosis with an associated haematological neoplasm (SM-AHN)",
    SM_AMN: "systemic mastocytosis with an associated myeloid neoplasm (SM-AMN)",
    MCL: "mast cell leukaemia (MCL)",
}
# Advanced SM and the malignant mast cell neoplasms: said to be "only possible" when they are not shown.
ALARMING = frozenset({ASM, SM_AHN, SM_AMN, MCL, MCS})


def _either(codes: Sequence[str]) -> str:
    names = [NAMES[code] for code in codes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _separating(next_tests: Sequence[NextTest], targets: Sequence[str]) -> NextTest | None:
    """The test whose result could rule out most of ``targets``, then most categories; None if no test can."""
    ranked = [
        (len(set(t.rules_out) & set(targets)), len(t.rules_out), -index, t)
        for index, t in enumerate(next_tests)
        if set(t.rules_out) & set(targets)
    ]
    return max(ranked, key=lambda item: item[:3])[3] if ranked else None


def category_summary(possible: Sequence[str], next_tests: Sequence[NextTest]) -> str:
    """The category, or the categories still possible and the test that would separate them."""
    if len(possible) == 1:
        return _capital(NAMES[possible[0]]) + "."
    alarming = [code for code in possible if code in ALARMING]
    others = [code for code in possible if code not in ALARMING]
    if others and alarming:
        test = _separating(next_tests, alarming)
        text = f"Every recorded finding fits {_either(others)}. {_capital(_either(alarming))} is only possible, not shown"
        if test is None:
            return text + ": no test named in the record would rule it out."
        ruled = [code for code in alarming if code in test.rules_out]
        target = "it is" if ruled == alarming else f"{_either(ruled)} is"
        return text + f": {target} ruled out only by {test.phrase}, which is not recorded."
    test = _separating(next_tests, list(possible))
    text = _capital(_either(list(possible)))
    if test is None:
        return text + "; no test named in the record would separate them."
    return text + f"; {test.phrase} would separate them."


def sm_sentence(status: Status) -> str:
    return {
        MET: "SM criteria met",
        NOT_MET: "SM criteria not met",
    }.get(status, "SM criteria open")


_COUNT = {2: "two", 3: "three"}


def combined_summary(results: Mapping[str, tuple[str, Status, Sequence[str], Sequence[NextTest]]]) -> str:
    """One bottom line over the editions: ``results`` maps an edition key to (title, SM status, possible, next tests).

    Editions that agree are named together; where they differ, each speaks for itself.
    """
    groups: dict[tuple[Status, tuple[str, ...]], list[str]] = {}
    for _key, (title, status, possible, _tests) in results.items():
        groups.setdefault((status, tuple(possible)), []).append(title)
    lines = []
    for (status, possible), titles in groups.items():
        tests = next(t for title, s, p, t in results.values() if title == titles[0])
        names = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
        which = f"all {_COUNT.get(len(titles), len(titles))} editions: {names}" if len(titles) == len(results) > 1 else names
        head = {MET: "Systemic mastocytosis", NOT_MET: "No systemic mastocytosis"}.get(status, "Systemic mastocytosis not settled")
        lines.append(f"{head} ({which}). {category_summary(possible, tests)}")
    return " ".join(lines)

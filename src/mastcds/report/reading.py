"""How every surface (terminal, pages, report) reads what comes first in an evaluation object.

Each surface shows the bottom line per guideline, then the test that would
separate the categories still open, and REMA's population caveat beside the
score. These read the contract object only; nothing is computed anew.
"""

from __future__ import annotations

from typing import Any

EDITION_TITLES = {"who2022": "WHO 2022", "icc2022": "ICC 2022", "who2016": "WHO 2016"}


STATUS_WORDS = {"met": "met", "not_met": "not met", "unknown": "unknown"}


def category_text(guideline: dict[str, Any]) -> str:
    """The category, or "undetermined: ISM or MCL" while several are possible."""
    if guideline.get("category"):
        return str(guideline["category"])
    possible = guideline.get("possible_categories") or []
    return "undetermined: " + " or ".join(possible) if possible else "undetermined"


def bottom_line_text(guideline: dict[str, Any]) -> str:
    """One guideline's line: the engine's summary when it gives one, else its verdict in the same words everywhere."""
    if guideline.get("summary"):
        return str(guideline["summary"])
    status = STATUS_WORDS.get(guideline.get("sm_criteria") or "unknown", "unknown")
    return f"SM criteria {status}; category {category_text(guideline)}"


def separating_tests(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """Each next test once, in the order the editions list them, with the editions naming it (``editions``)."""
    tests: dict[str, dict[str, Any]] = {}
    for edition, guideline in (evaluation.get("guidelines") or {}).items():
        for item in guideline.get("next_tests") or []:
            entry = tests.setdefault(item["test"], {**item, "editions": []})
            entry["editions"].append(EDITION_TITLES.get(edition, edition))
    return list(tests.values())


def rema_caveat(evaluation: dict[str, Any]) -> str | None:
    """The engine's warning on REMA's population (it was derived in patients without skin lesions), if any."""
    rema = evaluation.get("rema") or {}
    if rema.get("summary"):
        return None  # the engine's summary of REMA carries its caveat
    return next((w for w in evaluation.get("warnings") or [] if w.startswith("REMA")), None)

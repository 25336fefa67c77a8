"""How every surface (terminal, pages, report) reads what comes first in an evaluation object.

Each surface shows the bottom line per guideline, then the test that would
separate the categories still open, and REMA's population caveat beside the
score. These read the contract object only; nothing is computed anew.
"""

from __future__ import annotations

from typing import Any

EDITION_TITLES = {"who2022": "WHO 2022", "icc2022": "ICC 2022", "who2016": "WHO 2016"}


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

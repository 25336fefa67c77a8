"""What the evaluation and patient pages show of an evaluation object (mastcds-evaluation/1).

The pages render the contract object only, never the case: what a clinician
sees is what an integrator receives. The one thing computed here is the
side-by-side comparison: criteria of the three editions matched by what they
test, so that the rows where the guidelines disagree stand out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mastcds.report.reading import rema_caveat, separating_tests

SECTIONS = (("criteria", "Major and minor criteria"), ("b_findings", "B-findings"), ("c_findings", "C-findings"))


@dataclass
class ComparisonRow:
    section: str
    name: str
    cells: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    @property
    def differs(self) -> bool:
        statuses = {cell["status"] if cell else None for cell in self.cells.values()}
        return len(statuses) > 1


def _match_key(edition: str, criterion_id: str) -> str:
    """What a criterion tests, without the edition that names it (``who2022.minor.cd25`` → ``minor.cd25``)."""
    prefix = f"{edition}."
    return criterion_id[len(prefix):] if criterion_id.startswith(prefix) else criterion_id


def comparison(guidelines: dict[str, dict[str, Any]]) -> list[ComparisonRow]:
    """One row per criterion tested by any edition, in the order the editions list them."""
    rows: dict[tuple[str, str], ComparisonRow] = {}
    editions = list(guidelines)
    for edition in editions:
        for section, title in SECTIONS:
            for criterion in guidelines[edition].get(section) or []:
                key = (title, _match_key(edition, criterion["id"]))
                row = rows.setdefault(key, ComparisonRow(title, key[1], {e: None for e in editions}))
                row.cells[edition] = criterion
    return list(rows.values())


def verdicts(guidelines: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "edition": edition,
            "sm_criteria": result["sm_criteria"],
            "category": result["category"],
            "possible_categories": result["possible_categories"],
            "next_tests": result.get("next_tests") or [],
        }
        for edition, result in guidelines.items()
    ]


def evaluation_context(result: dict[str, Any]) -> dict[str, Any]:
    guidelines = result["guidelines"]
    rows = comparison(guidelines)
    categories = {edition: g["category"] for edition, g in guidelines.items()}
    possible = {edition: tuple(g["possible_categories"]) for edition, g in guidelines.items()}
    sm_statuses = {g["sm_criteria"] for g in guidelines.values()}
    return {
        "evaluation": result,
        "editions": list(guidelines),
        "verdicts": verdicts(guidelines),
        "comparison": rows,
        "differences": [row for row in rows if row.differs],
        "categories_differ": len(set(categories.values())) > 1 or len(set(possible.values())) > 1,
        "sm_criteria_differ": len(sm_statuses) > 1,
        "sections": SECTIONS,
        "separating": separating_tests(result),
        "rema_caveat": rema_caveat(result),
    }

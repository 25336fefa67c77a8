"""mastcds: clinical decision support for systemic mastocytosis and recurrent anaphylaxis.

``from mastcds import evaluate`` gives ``evaluate(case: dict) -> dict``, the
evaluation object of ``docs/evaluation-contract.md`` for a mastcds-case/1 document.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def evaluate(case: dict[str, Any]) -> dict[str, Any]:
    """Evaluate a parsed mastcds-case/1 document (see :func:`mastcds.engine.evaluate`)."""
    from mastcds.engine import evaluate as _evaluate

    return _evaluate(case)


__all__ = ["__version__", "evaluate"]

"""Reading JSON that comes from outside: strict where Python's ``json`` module is lenient.

``json.loads`` accepts ``NaN`` and ``Infinity`` (not JSON), turns ``1e309`` into
infinity, hands back lone UTF-16 surrogates (``"\\ud800"``) that no UTF-8 output
can carry, and answers a document nested 100,000 deep with a ``RecursionError``.
Every such input is refused here with a :class:`mastcds.case.Problem` naming
where it is, so that the command line exits 2 and the API answers 422 instead
of failing later, half-way through a page or an export.
"""

from __future__ import annotations

import json
import math
from typing import Any

from mastcds.case import SURROGATE_MESSAGE, Problem, printable_text

MAX_DEPTH = 64
"""Deeper than any document mastcds reads: a case nests 3 levels, a FHIR Bundle about 12."""
NON_FINITE_MESSAGE = "not a JSON number: numbers must be finite (NaN and Infinity are not JSON; magnitudes up to 1.8e308)"


class JsonInputError(ValueError):
    """The text is not JSON mastcds accepts; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class _NonFinite:
    """A number json.loads would make NaN or infinite, kept as written until its path is known."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _number(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


# An integer of more digits is beyond every double (and past 4,300 digits Python refuses to read it).
_MAX_INTEGER_DIGITS = 309


def _integer(text: str) -> int | _NonFinite:
    return int(text) if len(text.lstrip("-")) <= _MAX_INTEGER_DIGITS else _NonFinite(text)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check(document: Any) -> list[Problem]:
    """Every non-finite number and lone surrogate (values and keys), and nesting beyond MAX_DEPTH."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(document, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, _NonFinite):
            problems.append(Problem(path, value.text, NON_FINITE_MESSAGE))
        elif isinstance(value, str):
            if _has_surrogate(value):
                problems.append(Problem(path, value, SURROGATE_MESSAGE))
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                problems.append(Problem(path, None, f"nested deeper than {MAX_DEPTH} levels"))
                continue
            if isinstance(value, dict):
                items = []
                for key, item in value.items():
                    child = f"{path}.{key}" if path else key
                    if _has_surrogate(key):
                        problems.append(Problem(printable_text(child), key, SURROGATE_MESSAGE))
                        continue
                    items.append((item, child, depth + 1))
            else:
                items = [(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)]
            stack.extend(reversed(items))
    return problems


def parse_json(text: str | bytes) -> Any:
    """The document ``text`` holds, or :class:`JsonInputError` naming each place it is not acceptable JSON."""
    try:
        document = json.loads(text, parse_float=_number, parse_int=_integer, parse_constant=_NonFinite)
    except json.JSONDecodeError as error:
        shown = error.doc[:40] if isinstance(error.doc, str) else ""
        raise JsonInputError(
            [Problem("", shown, f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}")]
        ) from None
    except RecursionError:
        shown = (text if isinstance(text, str) else text.decode("utf-8", "replace"))[:20]
        raise JsonInputError([Problem("", shown, f"not accepted: JSON nested deeper than {MAX_DEPTH} levels")]) from None
    except UnicodeDecodeError:
        raise JsonInputError([Problem("", None, "not UTF-8 text")]) from None
    problems = _check(document)
    if problems:
        raise JsonInputError(problems)
    return document

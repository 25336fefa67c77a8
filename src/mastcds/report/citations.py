"""Citations by number: each distinct source numbered where it is first cited, listed once at the end.

The terminal report and the case report print ``[3]`` beside a verdict instead
of the source's full text, so that tables stay narrow (80 columns, A4) and a
reader finds every source in one list.
"""

from __future__ import annotations


class Citations:
    """The sources cited so far, in the order they were first cited."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._numbers: dict[str, int] = {}

    def cite(self, source: str | None) -> int | None:
        """The source's number (1, 2, ...), or ``None`` when there is no source."""
        if not source:
            return None
        number = self._numbers.get(source)
        if number is None:
            self.items.append(source)
            number = self._numbers[source] = len(self.items)
        return number

    def mark(self, source: str | None) -> str:
        """``"[n]"`` for the source, or ``""`` when there is none."""
        number = self.cite(source)
        return "" if number is None else f"[{number}]"

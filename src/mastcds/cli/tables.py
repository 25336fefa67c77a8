"""Tables that fit the terminal without cutting what a user copies (keys, dates, record ids).

Rich's own layout narrows columns evenly when a table is too wide: short
columns vanished and long keys ended in an ellipsis. Here each column gets
its width when the table is printed: short columns keep theirs, free text
wraps first, and only then does a whole value (a key, a date) fold onto a
second line. Nothing is ever cut off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table

GAP = 3
"""Columns are separated by a space of the box and one of padding on each side."""
NARROWEST = 12
"""Free text wraps down to this width before a whole value folds, and a whole value folds no narrower."""


@dataclass
class RecordTable:
    """A table whose ``whole`` columns keep each value on one line while the terminal allows,
    whose ``wrap`` columns (free text) wrap first, and whose other columns keep their width."""

    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    whole: Sequence[int] = ()
    wrap: Sequence[int] = ()
    title: str | None = None
    _natural: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self._natural = [
            max([len(header), *(len(row[index]) for row in self.rows)]) for index, header in enumerate(self.headers)
        ]

    def widths(self, available: int) -> list[int]:
        """Each column's width for a table at most ``available`` characters wide."""
        widths = list(self._natural)
        room = available - GAP * (len(widths) - 1) - 2
        for shrinking in (self.wrap, self.whole):
            for index in sorted(shrinking, key=lambda i: -widths[i]):
                excess = sum(widths) - room
                if excess <= 0:
                    return widths
                widths[index] = max(min(NARROWEST, widths[index]), widths[index] - excess)
        return widths  # still too wide: Rich narrows every column evenly

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=self.title, title_justify="left", title_style="bold")
        for header, width in zip(self.headers, self.widths(options.max_width)):
            table.add_column(header, width=width, overflow="fold")
        for row in self.rows:
            table.add_row(*row)
        yield table


def record_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    whole: Sequence[int] = (),
    wrap: Sequence[int] = (),
    title: str | None = None,
) -> RecordTable:
    """A :class:`RecordTable` (columns numbered from 0)."""
    return RecordTable(headers, rows, whole, wrap, title)

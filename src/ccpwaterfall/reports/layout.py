"""Layouts that never cut a figure: tables that fit the width or turn vertical, safe text.

A ``FitTable`` lays out its columns at render time, for the width it is given.
Figure columns (``numeric``) keep every cell on one line, whole; text columns
wrap between words but never split a word (an id, an account). When the
columns cannot all get that much room, the table is shown vertically instead:
one block per row, one ``label: value`` line per cell. Either way every figure
is printed whole, at any terminal width.

Text read from input files (names, ids, descriptions) goes through ``clean``
before it is laid out, so control characters show as visible escapes instead
of reaching the terminal, and ``printable`` does the same to whatever is
rendered, as a last guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

# Unicode controls that reorder or hide text (bidirectional overrides and isolates).
_BIDI_CONTROLS = frozenset({*range(0x202A, 0x202F), *range(0x2066, 0x206A)})
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))} | {
    code: f"\\u{code:04x}" for code in _BIDI_CONTROLS
}
_DIVIDER = 1  # the column rule of a boxed table without edges
_CELL_PAD = 1  # padding each side of a boxed table's cell, none at the outer edges
_GRID_GAP = 2  # columns of a grid (no header, no box) are this far apart


def clean(text: str) -> str:
    """``text`` with every control character shown as an escape: ESC becomes ``\\x1b``.

    C0 and C1 controls (newlines and tabs included) and the bidirectional
    overrides are replaced, so text from an input file can neither send
    terminal codes nor break a layout. Markup is never interpreted: views
    print with markup off.
    """
    return text.translate(_ESCAPES)


def clean_lines(text: str) -> str:
    """``clean`` for each line of ``text``, keeping its line breaks."""
    return "\n".join(clean(line) for line in text.split("\n"))


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: a figure column is right-aligned and never wrapped or cut."""

    header: str = ""
    numeric: bool = False
    style: str = ""
    justify: Literal["left", "right"] | None = None  # figures right, text left by default


@dataclass(slots=True)
class _Row:
    cells: tuple[Text, ...]
    style: str
    end_section: bool
    words: bool  # a row of words: its cells may wrap, even in figure columns


@dataclass(slots=True)
class FitTable:
    """A table laid out for the width at hand: as columns when they fit, else vertically.

    ``boxed`` tables have a header and a rule beneath it; unboxed ones are grids
    of ``label value`` pairs (``pairs``). Cells are ``Text`` or plain strings,
    already ``clean``.
    """

    columns: tuple[Column, ...]
    title: str | Text | None = None
    caption: str | Text | None = None
    boxed: bool = True
    by_column: bool = False  # vertically, one block per column (a record per column)
    rows: list[_Row] = field(default_factory=list)

    def add_row(
        self, *cells: str | Text, style: str = "", end_section: bool = False, words: bool = False
    ) -> None:
        """A row of cells; ``words``: a row of text (names) that may wrap in figure columns."""
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        texts = tuple(cell if isinstance(cell, Text) else Text(cell) for cell in cells)
        self.rows.append(_Row(texts, style, end_section, words))

    def add_section(self) -> None:
        """A rule under the last row added."""
        if self.rows:
            self.rows[-1].end_section = True

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self.widths(options.max_width)
        if widths is None:
            yield from self._vertical()
        else:
            yield self._table(widths)

    def widths(self, width: int) -> list[int] | None:
        """Each column's width at ``width`` cells, or ``None`` when the table must turn vertical.

        Every column gets at least its longest word (figure columns: their
        longest line); what is left goes to the columns that would wrap, up to
        their longest line.
        """
        headers = [Text(c.header) for c in self.columns] if self.boxed else []
        need: list[int] = []
        want: list[int] = []
        for i, column in enumerate(self.columns):
            whole = [line for row in self.rows if not row.words for line in _lines(row.cells[i])]
            wrapped = [line for row in self.rows if row.words for line in _lines(row.cells[i])]
            if not column.numeric:
                wrapped, whole = wrapped + whole, []
            if headers:
                wrapped.append(headers[i].plain)
            low = max(
                max((cell_len(line) for line in whole), default=0),
                max((cell_len(w) for line in wrapped for w in line.split()), default=0),
            )
            need.append(max(low, 1))
            want.append(max((cell_len(line) for line in whole + wrapped), default=1))
        room = width - self._overhead()
        if sum(need) > room:
            return None
        widths = list(need)
        spare = room - sum(widths)
        while spare > 0:
            growing = [i for i, w in enumerate(widths) if w < want[i]]
            if not growing:
                break
            share = max(1, spare // len(growing))
            for i in growing:
                add = min(share, want[i] - widths[i], spare)
                widths[i] += add
                spare -= add
        return widths

    def _overhead(self) -> int:
        gaps = len(self.columns) - 1
        return gaps * (_DIVIDER + 2 * _CELL_PAD) if self.boxed else gaps * _GRID_GAP

    def _table(self, widths: Sequence[int]) -> Table:
        if self.boxed:
            # Text, not str: rich reads markup in plain strings.
            table = Table(
                title=None if self.title is None else _as_text(self.title),
                title_justify="left",
                caption=None if self.caption is None else _as_text(self.caption, "dim"),
                caption_justify="left",
                box=box.SIMPLE_HEAD,
                pad_edge=False,
                show_edge=False,
            )
        else:
            table = Table.grid(padding=(0, _GRID_GAP))
        for column, width in zip(self.columns, widths, strict=True):
            table.add_column(
                Text(column.header),
                justify=column.justify or ("right" if column.numeric else "left"),
                style=column.style or None,
                width=width,
                overflow="fold",
            )
        for row in self.rows:
            table.add_row(*row.cells, style=row.style or None, end_section=row.end_section)
        return table

    def _vertical(self) -> Iterable[RenderableType]:
        """One block per row (or column): its cells as ``label: value`` lines."""
        if self.title is not None:
            yield _as_text(self.title)
        if self.by_column:
            yield from self._column_blocks()
            return
        for n, row in enumerate(self.rows):
            if self.boxed and (n or self.title is not None):
                yield Text("")
            yield from self._block(row)
        if self.caption is not None:
            yield _as_text(self.caption, "dim")

    def _block(self, row: _Row) -> Iterable[Text]:
        if not self.boxed:
            # A grid row is a label, then its value(s).
            label, *values = row.cells
            line = Text.assemble(label, ": ", style=row.style)
            lines = [line]
            for value in values:
                head, *more = value.split("\n") if value.plain else [Text("")]
                line.append_text(head)
                lines.extend(Text.assemble("    ", extra) for extra in more)
            yield from lines
            return
        indent = ""
        for column, cell in zip(self.columns, row.cells, strict=True):
            if not cell.plain.strip():
                continue
            head, *more = cell.split("\n")
            name = f"{column.header}: " if column.header else ""
            yield Text.assemble(indent, (name, "dim"), head, style=row.style)
            for extra in more:
                yield Text.assemble(indent, "    ", extra, style=row.style)
            indent = "  "

    def _column_blocks(self) -> Iterable[Text]:
        """A block per column after the first: its header, then ``row label: cell`` lines."""
        for i, column in enumerate(self.columns[1:], start=1):
            yield Text("")
            yield Text(column.header, style="bold")
            for row in self.rows:
                head, *more = row.cells[i].split("\n")
                label = Text.assemble(row.cells[0].copy(), ": ")
                label.stylize("dim")
                yield Text.assemble("  ", label, head, style=row.style)
                for extra in more:
                    yield Text.assemble("      ", extra, style=row.style)


def _lines(cell: Text) -> list[str]:
    return cell.plain.split("\n")


def pairs(rows: Iterable[tuple[str | Text, str | Text]], *, label_style: str = "dim") -> FitTable:
    """``label value`` lines aligned as two columns; ``label: value`` when too narrow."""
    table = FitTable((Column(style=label_style), Column()), boxed=False)
    for label, value in rows:
        table.add_row(label, value)
    return table


@dataclass(frozen=True, slots=True)
class Heading:
    """A section heading: the title on a rule, or wrapped above a rule when it is too long."""

    title: str | Text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        title = _as_text(self.title)
        if "\n" not in title.plain and title.cell_len + 4 <= options.max_width:
            yield Rule(title, align="left")
        else:
            yield title
            yield Rule()


@dataclass(frozen=True, slots=True)
class Printable:
    """``renderable`` with any control character left in its text shown as an escape.

    Views ``clean`` their input text before laying it out; this guard catches
    anything that was missed, so no input reaches the terminal as a control code.
    """

    renderable: RenderableType

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.renderable, options):
            if segment.control or segment.text == "\n":
                yield segment
            else:
                yield Segment(clean_lines(segment.text), segment.style)


def _as_text(value: str | Text, style: str = "") -> Text:
    return value.copy() if isinstance(value, Text) else Text(value, style=style)

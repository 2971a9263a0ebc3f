"""What the commands print: views laid out for the terminal or a pipe, and JSON.

Views are printed with markup, emoji codes and highlighting off (the views
style their own text; a member named ``[bold]`` prints as written), control
characters escaped, and, when standard output is not a terminal, without the
trailing spaces a layout pads lines with.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from rich.console import Console, RenderableType

from ccpwaterfall._gc import cyclic_gc_held
from ccpwaterfall.io.issues import InputWarning
from ccpwaterfall.io.json_text import write_indented
from ccpwaterfall.reports.layout import Printable

# Characters JSON may carry unescaped that a terminal could still act on: C1 controls
# and the bidirectional overrides (json.dumps already escapes C0 controls).
_JSON_ESCAPES = {
    code: f"\\u{code:04x}"
    for code in (*range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def print_view(renderable: RenderableType) -> None:
    """Print a view on standard output at the terminal's width (80 columns on a pipe)."""
    console = Console(markup=False, emoji=False, highlight=False)
    if console.is_terminal:
        console.print(Printable(renderable))
        return
    with console.capture() as captured:
        console.print(Printable(renderable))
    lines = captured.get().split("\n")
    sys.stdout.write("\n".join(line.rstrip() for line in lines))


def print_json(data: Mapping[str, object], warnings: Sequence[InputWarning] = ()) -> None:
    """Print ``data`` as indented JSON and nothing else; NaN and infinity are refused.

    Warnings, when there are any, come last under ``"warnings"`` (file, field,
    message each); a document without warnings is exactly as its format specifies.
    """
    document = dict(data)
    if warnings:
        document["warnings"] = [warning.to_json() for warning in warnings]
    # Written in chunks as it is made: a result of millions of charges is never held whole.
    with cyclic_gc_held():
        write_indented(document, lambda text: sys.stdout.write(text.translate(_JSON_ESCAPES)))
    sys.stdout.write("\n")

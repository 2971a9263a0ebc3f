"""Options shared by several commands, and how they combine.

Light on purpose (typer only): every command module reads these when the
application is built, before any command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

JsonOutput = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON on standard output, only that.")
]


def rows_shown(top: int | None, all_rows: bool, default: int | None) -> int | None:
    """The members a table shows: ``--top N``, else ``default``; all (``None``) with ``--all``."""
    if all_rows and top is not None:
        raise typer.BadParameter("give --top N or --all, not both", param_hint="'--top' / '--all'")
    if all_rows:
        return None
    return default if top is None else top


TopRows = Annotated[
    int | None,
    typer.Option("--top", min=1, metavar="N", help="Show the N largest members (default 20)."),
]
AllRows = Annotated[bool, typer.Option("--all", help="Show every member, not only the largest.")]

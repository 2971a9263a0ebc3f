"""The report command: a case or a risk case as a self-contained HTML or PDF file.

It parses its arguments, calls one use case (``app.report``) and says what it
wrote. The report's libraries (Jinja2, Altair, vl-convert, WeasyPrint) are
imported only when it runs, so that ``ccp`` starts at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ccpwaterfall.cli.options import JsonOutput
from ccpwaterfall.cli.risk_commands import Threads, _progress, _threads


def register(app: typer.Typer) -> None:
    """Add the report command to ``app``."""
    app.command("report")(report)


def report(
    ctx: typer.Context,
    case: Annotated[
        Path,
        typer.Argument(
            metavar="CASE",
            help="A case file (ccp-case/1), or a risk case (ccp-risk-case/1) for its end of day.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="The report to write: FILE.html or FILE.pdf, by its suffix.",
        ),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace FILE if it is an existing regular file.")
    ] = False,
    json_output: JsonOutput = False,
    threads: Threads = None,
) -> None:
    """Write a report for a committee pack: the tables of ccp run (a case) or ccp eod (a
    risk case) with their charts, as one HTML or PDF file that needs no network.

    Never writes over the case or its data files, nor over an existing file without
    --force; the file is written whole or not at all.
    """
    from ccpwaterfall.app.report import write_report
    from ccpwaterfall.cli.context import loaders_of, value_of
    from ccpwaterfall.cli.output import print_json
    from ccpwaterfall.reports.layout import clean

    with _progress() as progress:
        outcome = write_report(
            case,
            output,
            force=force,
            loaders=loaders_of(ctx),
            progress=progress,
            threads=_threads(threads),
        )
    written = value_of(outcome)
    if json_output:
        print_json(
            {
                "written": str(written.path),
                "format": written.format,
                "source": str(written.source),
                "kind": written.kind,
                "case": written.case,
                "bytes": written.size,
                "charts": written.charts,
            },
            outcome.warnings,
        )
        return
    typer.echo(
        f"Wrote the {written.format.upper()} report of '{clean(written.case)}' to "
        f"{clean(str(written.path))} ({written.charts} charts, {written.size:,} bytes)"
    )

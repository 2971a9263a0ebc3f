"""``ccp drill``: a default management drill, from the missed margin call to who pays.

A bad drill file exits with status 2 after listing every problem in it, and
nothing runs or is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ccpwaterfall.cli.options import JsonOutput

DrillFile = Annotated[
    Path | None, typer.Argument(metavar="DRILL", help="A drill file (ccp-drill/1 TOML).")
]


def register(app: typer.Typer) -> None:
    """Add the drill command to ``app``."""
    app.command("drill")(drill)


def drill(
    drill_file: DrillFile = None,
    json_output: JsonOutput = False,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON Schema of drill files and exit.")
    ] = False,
    check_only: Annotated[
        bool,
        typer.Option("--check", help="Validate the drill file only: every problem, exit 2."),
    ] = False,
    write_case_to: Annotated[
        Path | None,
        typer.Option(
            "--write-case",
            metavar="OUT.toml",
            help="Write the ccp-case/1 case the drill allocated (its loss and auction tiers) "
            "to OUT.toml, for ccp run.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Let --write-case replace an existing regular file."),
    ] = False,
) -> None:
    """Run a default management drill and show its timeline, auction, loss and statements."""
    from ccpwaterfall.app import drill as use_case
    from ccpwaterfall.cli.context import BAD_INPUT, value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.drill_view import drill_to_json, drill_view, render_drill

    if schema:
        from ccpwaterfall.io.drill_schema import drill_schema

        print_json(drill_schema())
        return
    if drill_file is None:
        raise typer.BadParameter("give a drill file (or --schema)", param_hint="DRILL")
    if check_only:
        checked = use_case.check_drill(drill_file)
        if json_output:
            # The verdict is the answer: problems go to standard output as data, still exit 2.
            problems = [
                {"file": issue.file, "field": issue.field, "message": issue.message}
                for found in checked.problems
                for issue in found.issues
            ]
            print_json(
                {
                    "file": str(drill_file),
                    "kind": "drill",
                    "valid": not problems,
                    "problems": problems,
                }
            )
            if problems:
                raise typer.Exit(BAD_INPUT)
            return
        plan = value_of(checked)
        typer.echo(
            f"{drill_file}: valid drill ({len(plan.ccp.members)} members, "
            f"{len(plan.positions)} positions, {len(plan.auction.lots)} lots)"
        )
        return
    run = value_of(use_case.drill(drill_file, write_case_to=write_case_to, force=force))
    written = None if run.case_written is None else str(run.case_written)
    view = drill_view(run.state, written)
    if json_output:
        print_json(drill_to_json(view))
        return
    print_view(render_drill(view))

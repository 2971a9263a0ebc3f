"""Commands on case files: check, run, explain, liability, compare, schema.

Each command parses its arguments, calls one use case (``app.cases``) and
formats what it returns. A bad case file exits with status 2 after listing
every problem in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ccpwaterfall.cli.options import AllRows, JsonOutput, TopRows, rows_shown
from ccpwaterfall.cli.store_commands import DatabaseUrl, SaveResult
from ccpwaterfall.reports.notes import MEMBERS_SHOWN

CaseFile = Annotated[Path, typer.Argument(metavar="CASE", help="A case file (ccp-case/1 TOML).")]


def register(app: typer.Typer) -> None:
    """Add the case commands to ``app``."""
    app.command("check")(check)
    app.command("run")(run)
    app.command("explain")(explain)
    app.command("liability")(liability)
    app.command("compare")(compare)
    app.command("schema")(schema)


def check(ctx: typer.Context, case: CaseFile, json_output: JsonOutput = False) -> None:
    """Validate a case file, or a risk case with its data files, and list every problem.

    With --json the verdict and every problem are one JSON document on standard
    output; an invalid file still exits with status 2.
    """
    from ccpwaterfall.app import cases
    from ccpwaterfall.app.outcome import problems_in
    from ccpwaterfall.cli.context import BAD_INPUT, exit_bad_input, loaders_of, report_warnings
    from ccpwaterfall.cli.output import print_json
    from ccpwaterfall.reports.check_view import check_text, check_to_json, check_view

    verdict = cases.check(case, loaders_of(ctx))
    view = check_view(verdict.file, verdict.kind, verdict.problems, verdict.counts)
    report_warnings(verdict.warnings)
    if json_output:
        print_json(check_to_json(view), verdict.warnings)
        if verdict.problems:
            raise typer.Exit(BAD_INPUT)
        return
    if verdict.problems:
        exit_bad_input((problems_in(case, verdict.problems),))
    typer.echo(check_text(view))


def run(
    ctx: typer.Context,
    case: CaseFile,
    json_output: JsonOutput = False,
    journal: Annotated[
        bool,
        typer.Option(
            "--journal",
            help='With --json, add the journal under "journal": every entry, as ccp explain '
            "--json gives it, with its event.",
        ),
    ] = False,
    top: TopRows = None,
    all_rows: AllRows = False,
    save: SaveResult = False,
    db: DatabaseUrl = None,
) -> None:
    """Run a case through its waterfall and show it event by event.

    --save stores the case as given, the result and the journal (ccp history lists them).
    """
    from ccpwaterfall.app import cases
    from ccpwaterfall.cli.context import (
        loaders_of,
        value_of,
    )
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.cli.store_commands import check_save_options, open_store, save_run
    from ccpwaterfall.reports.run_view import render_run, run_to_json, run_view

    shown = rows_shown(top, all_rows, MEMBERS_SHOWN)
    if journal and not json_output:
        raise typer.BadParameter("the journal is added to the JSON: give --json too")
    check_save_options(save, db)
    store = open_store(db) if save else None  # a database that cannot be used stops it first
    outcome = cases.run_case(case, loaders_of(ctx))
    view = run_view(value_of(outcome), shown, journal=journal)
    if json_output:
        print_json(run_to_json(view, streamed=True), outcome.warnings)
    else:
        print_view(render_run(view))
    if store is not None:
        save_run(store, case, view.result)


def explain(ctx: typer.Context, case: CaseFile, json_output: JsonOutput = False) -> None:
    """Show the journal: who paid what, under which rule."""
    from ccpwaterfall.app import cases
    from ccpwaterfall.cli.context import loaders_of, value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.explain_view import explain_to_json, explain_view, render_explain

    outcome = cases.explain(case, loaders_of(ctx))
    view = explain_view(value_of(outcome))
    if json_output:
        print_json(explain_to_json(view), outcome.warnings)
        return
    print_view(render_explain(view))


def liability(
    ctx: typer.Context,
    case: CaseFile,
    member: Annotated[str, typer.Option("--member", help="The member's id in the case file.")],
    json_output: JsonOutput = False,
) -> None:
    """Show a member's maximum loss under the rulebook and what it pays in the case."""
    from ccpwaterfall.app import cases
    from ccpwaterfall.cli.context import loaders_of, value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.liability_view import (
        liability_to_json,
        liability_view,
        render_liability,
    )

    outcome = cases.member_liability(case, member, loaders_of(ctx))
    view = liability_view(value_of(outcome))
    if json_output:
        print_json(liability_to_json(view), outcome.warnings)
        return
    print_view(render_liability(view))


def compare(
    ctx: typer.Context,
    case_files: Annotated[
        list[Path], typer.Argument(metavar="CASE...", help="Case files to set side by side.")
    ],
    json_output: JsonOutput = False,
) -> None:
    """Set cases side by side: loss and the use of each layer of the waterfall."""
    from ccpwaterfall.app import cases
    from ccpwaterfall.cli.context import loaders_of, value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.compare_view import compare_to_json, compare_view, render_compare

    outcome = cases.compare(case_files, loaders_of(ctx))
    summaries = value_of(outcome)
    view = compare_view(summaries)
    if json_output:
        print_json(compare_to_json(view), outcome.warnings)
        return
    print_view(render_compare(view))


def schema(
    risk: Annotated[
        bool,
        typer.Option(
            "--risk",
            help="The schema of the risk case format (ccp-risk-case/1) instead; "
            "docs/risk-case-format.md describes it.",
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of the case file format (ccp-case/1), or with --risk of the risk
    case format."""
    from ccpwaterfall.app import cases
    from ccpwaterfall.cli.output import print_json

    print_json(cases.schema(risk=risk))

"""``ccp drill``: a default management drill, from the missed margin call to who pays.

A bad drill file exits with status 2 after listing every problem in it, and
nothing runs or is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

from ccpwaterfall.cli.options import JsonOutput

DrillFile = Annotated[
    Path | None, typer.Argument(metavar="DRILL", help="A drill file (ccp-drill/1 TOML).")
]


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


# --------------------------------------------------------------------------- the drill group


class _DrillGroup(TyperGroup):
    """``ccp drill``: its subcommands (start, bid, close, status), and otherwise the batch
    ``ccp drill DRILL.toml`` command, whose arguments it passes on whole."""

    batch: ClassVar[Any] = None  # the batch command (a click command)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and self.batch is not None:
            return "drill", self.batch, args
        return super().resolve_command(ctx, args)


class _BatchDrill(TyperCommand):
    """The batch ``ccp drill DRILL.toml``, run under the group as if it stood alone: its
    usage and errors read ``ccp drill [OPTIONS] [DRILL]``."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        root = parent.parent if parent is not None and parent.parent is not None else parent
        return super().make_context(info_name, args, parent=root, **extra)


def register(app: typer.Typer) -> None:
    """Add ``ccp drill``: a group of ``start``, ``bid``, ``close``, ``status`` on stored
    drills, with ``ccp drill DRILL.toml`` running one end to end."""
    from ccpwaterfall.cli.store_commands import drill_bid, drill_close, drill_start, drill_status

    batch = typer.models.CommandInfo(name="drill", cls=_BatchDrill, callback=drill)
    _DrillGroup.batch = typer.main.get_command_from_info(
        batch, pretty_exceptions_short=True, rich_markup_mode=None
    )
    drills = typer.Typer(
        cls=_DrillGroup,
        help="Default management drills.\n\n"
        "ccp drill DRILL.toml [--json] [--check] [--write-case OUT.toml [--force]] runs one "
        "end to end (ccp drill DRILL.toml --help says more).\n\n"
        "start, bid, close and status drive one stored in the database (--db), bid by bid; "
        "replaying its stored events gives the same record.",
        no_args_is_help=True,
        context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    )
    drills.command("start")(drill_start)
    drills.command("bid")(drill_bid)
    drills.command("close")(drill_close)
    drills.command("status")(drill_status)
    app.add_typer(drills, name="drill")

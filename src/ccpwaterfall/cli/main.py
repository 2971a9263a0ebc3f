"""The ``ccp`` command: the application, its command groups and the exit statuses.

Exit statuses: 0 success; 2 bad input (an invalid case file, an unknown
member, a missing file, a bad option); 1 an internal error, reported in one
line (with the traceback when ``CCP_DEBUG=1``).

``create_app(loaders=...)`` builds the application over other loaders (tests
pass stand-ins); every command passes them to its use case.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from ccpwaterfall import __version__

if TYPE_CHECKING:
    from ccpwaterfall.app import Loaders

# Modules that add commands; each defines ``register(app: typer.Typer) -> None``.
# Adding a command group is one line here.
COMMAND_MODULES: tuple[str, ...] = (
    "ccpwaterfall.cli.case_commands",
    "ccpwaterfall.cli.risk_commands",
    "ccpwaterfall.cli.report_commands",
    "ccpwaterfall.cli.drill_commands",
    "ccpwaterfall.cli.simulate_commands",
    "ccpwaterfall.cli.store_commands",
    "ccpwaterfall.cli.serve_commands",
)

INTERNAL_ERROR = 1


def create_app(loaders: Loaders | None = None) -> typer.Typer:
    """The ``ccp`` application with every command group registered, reading with ``loaders``
    (the io layer's when None).

    Help and usage errors are plain text: typer's rich formatting costs more start-up
    time than the help itself.
    """
    app = typer.Typer(
        name="ccp",
        help="Default waterfalls of central counterparties (CCPs): exact loss allocation.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    def root(
        ctx: typer.Context,
        version: Annotated[
            bool,
            typer.Option(
                "--version",
                callback=_show_version,
                is_eager=True,
                help="Show the version and exit.",
            ),
        ] = False,
    ) -> None:
        """Default waterfalls of central counterparties (CCPs): exact loss allocation."""
        ctx.obj = loaders

    app.callback()(root)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    return app


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"ccp {__version__}")
        raise typer.Exit()


def run_cli(args: Sequence[str], *, debug: bool = False, loaders: Loaders | None = None) -> int:
    """Run ``ccp`` with ``args`` (reading with ``loaders``) and return its exit status; never
    raises."""
    try:
        command = typer.main.get_command(create_app(loaders))
        command.main(args=list(args), prog_name="ccp", standalone_mode=True)
    except SystemExit as done:
        return _status(done.code)
    except Exception as error:  # a defect: report it in one line, not as a traceback
        if debug:
            traceback.print_exc()
        typer.echo(f"ccp: internal error: {error}", err=True)
        return INTERNAL_ERROR
    return 0


def _status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    typer.echo(str(code), err=True)
    return INTERNAL_ERROR


def main() -> None:
    """The console script: ``ccp``."""
    sys.exit(run_cli(sys.argv[1:], debug=os.environ.get("CCP_DEBUG") == "1"))

"""What every command shares: the loaders it was given, and outcomes turned into exits.

``create_app(loaders=...)`` puts its ``Loaders`` on the root context; each
command reads them with ``loaders_of`` and passes them to its use case. A
refused outcome prints every problem on standard error, a count per file, and
exits with status 2; warnings go to standard error too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn, TypeVar

import typer

from ccpwaterfall.app import IO_LOADERS, Loaders, Outcome, Problems
from ccpwaterfall.io.issues import InputWarning
from ccpwaterfall.reports.layout import clean

T = TypeVar("T")

BAD_INPUT = 2  # exit status for anything wrong with what the user gave


def loaders_of(ctx: typer.Context) -> Loaders:
    """The loaders the application was created with (the io layer's by default)."""
    loaders = ctx.find_object(Loaders)
    return IO_LOADERS if loaders is None else loaders


def value_of(outcome: Outcome[T]) -> T:
    """The outcome's value, its warnings on stderr; when refused, every problem and exit 2."""
    report_warnings(outcome.warnings)
    if outcome.value is None:
        exit_bad_input(outcome.problems)
    return outcome.value


def exit_bad_input(problems: Sequence[Problems]) -> NoReturn:
    """Every issue on stderr, a count for each file, and exit status 2."""
    for found in problems:
        for issue in found.issues:
            typer.echo(clean(str(issue)), err=True)
        count = len(found.issues)
        typer.echo(f"{count} problem{'' if count == 1 else 's'} in {found.source}", err=True)
    raise typer.Exit(BAD_INPUT)


def report_warnings(warnings: Sequence[InputWarning]) -> None:
    """Each warning on stderr, ``FILE: FIELD: message (warning)``; never a change of status."""
    for warning in warnings:
        typer.echo(clean(str(warning)), err=True)

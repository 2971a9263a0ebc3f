"""Commands on risk cases: margin, stress, size-fund, capital and the whole end of day.

Each command parses its arguments, calls one use case (``app.risk``), which
computes only the steps of the end of day it shows, and formats what it returns.
A bad risk case exits with status 2 after listing every problem in it and its
data files; ``--json`` prints only JSON on standard output. Long work shows its
progress on standard error when that is a terminal.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ccpwaterfall.cli.options import AllRows, JsonOutput, TopRows, rows_shown
from ccpwaterfall.cli.store_commands import BusinessDate, DatabaseUrl, SaveResult
from ccpwaterfall.reports.notes import CAPITAL_EAD_NOTE, SUMMARY_ROWS
from ccpwaterfall.reports.notes import MEMBERS_SHOWN as ROWS_SHOWN

if TYPE_CHECKING:
    from ccpwaterfall.app.risk import WrittenDrill
    from ccpwaterfall.lifecycle import Progress as StepReport

# The capital command's help documents the EAD stand-in, shared with its view.
_CAPITAL_HELP = (
    "Bank capital for exposures to the CCP: K_CCP, and each member's EAD, K_CM, RWA and the "
    "CRR Art 310 simple method.\n\n" + CAPITAL_EAD_NOTE
)

RiskCaseFile = Annotated[
    Path,
    typer.Argument(
        metavar="CASE",
        help="A risk case file (ccp-risk-case/1): a case header and rulebook, and a portfolio "
        "of data files.",
    ),
]
SchedulerAddress = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        envvar="CCP_DASK_SCHEDULER",
        metavar="ADDRESS",
        help="Aggregate positions to accounts and measure margin on the dask.distributed "
        "cluster of the scheduler at ADDRESS (tcp://host:port), block by block of accounts, "
        "with the same results as in process. It pays only with workers on other machines "
        "(the README gives the measured crossover). Needs pip install 'ccpwaterfall[dask]', "
        "and ccpwaterfall on the workers. Every margin option runs there but SPAN, which is "
        "refused. The option wins over the environment variable.",
    ),
]
Threads = Annotated[
    int | None,
    typer.Option(
        "--threads",
        min=1,
        metavar="N",
        help="Threads for aggregating positions to accounts and measuring margin (default: "
        "every core this process may use). Results are the same on any number.",
    ),
]


def _threads(asked: int | None) -> int:
    """The threads asked for, else the cores this process may run on."""
    if asked is not None:
        return asked
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


SummaryTopRows = Annotated[
    int | None,
    typer.Option(
        "--top",
        min=1,
        metavar="N",
        help="Show the N largest members in every member table (default: 5 in the "
        "summaries, 20 in the worst default's run).",
    ),
]


def _a_number(value: float) -> float:
    """Refuse NaN, which passes any range check: every comparison with it is false."""
    if math.isnan(value):
        raise typer.BadParameter("must be a number from 0 to 12.5, got nan")
    return value


def register(app: typer.Typer) -> None:
    """Add the risk commands to ``app``."""
    app.command("margin")(margin)
    app.command("stress")(stress)
    app.command("size-fund")(size_fund)
    app.command("capital", help=_CAPITAL_HELP)(capital)
    app.command("eod")(eod)


def margin(
    ctx: typer.Context,
    case: RiskCaseFile,
    json_output: JsonOutput = False,
    top: TopRows = None,
    all_rows: AllRows = False,
    scheduler: SchedulerAddress = None,
    threads: Threads = None,
) -> None:
    """Initial margin: the model and its parameters, the total and each member's margin."""
    shown = rows_shown(top, all_rows, ROWS_SHOWN)
    # Imported here: the risk use cases load numpy and pandas, which --help does not need.
    from ccpwaterfall import reports
    from ccpwaterfall.app import risk
    from ccpwaterfall.cli.context import loaders_of, value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.margin_view import margin_view

    with _progress() as report:
        outcome = risk.margin(
            case, loaders_of(ctx), report, scheduler=scheduler, threads=_threads(threads)
        )
    result = value_of(outcome)
    view = margin_view(result.inputs, result.margin, shown)
    if json_output:
        print_json(reports.margin_to_json(view), outcome.warnings)
        return
    print_view(reports.render_margin(view))


def stress(
    ctx: typer.Context,
    case: RiskCaseFile,
    json_output: JsonOutput = False,
    scheduler: SchedulerAddress = None,
    threads: Threads = None,
) -> None:
    """Stress tests: largest group exposures, Cover-1/2, EMIR Art 42(3) floor, reverse stress.

    Exposures are stress losses over margin per member group (affiliates count as one).
    """
    # Imported here: the risk use cases load numpy and pandas, which --help does not need.
    from ccpwaterfall import reports
    from ccpwaterfall.app import risk
    from ccpwaterfall.cli.context import loaders_of, value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.stress_view import stress_view

    with _progress() as report:
        outcome = risk.stress(
            case, loaders_of(ctx), report, scheduler=scheduler, threads=_threads(threads)
        )
    result = value_of(outcome)
    view = stress_view(result.inputs, result.stress, result.fund, result.reverse)
    if json_output:
        print_json(reports.stress_to_json(view), outcome.warnings)
        return
    print_view(reports.render_stress(view))


def size_fund(
    ctx: typer.Context,
    case: RiskCaseFile,
    json_output: JsonOutput = False,
    write_case_to: Annotated[
        Path | None,
        typer.Option(
            "--write-case",
            metavar="OUT.toml",
            help="Write the ccp-case/1 case of one scenario's Cover-N default to OUT.toml, "
            "for ccp run.",
        ),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            metavar="NAME",
            help="The stress scenario whose default --write-case writes "
            "(default: the one that sets the fund's Cover-N).",
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top", min=1, metavar="N", help="Show the N largest contributions (default: all)."
        ),
    ] = None,
    all_rows: AllRows = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Let --write-case replace an existing regular file."),
    ] = False,
    scheduler: SchedulerAddress = None,
    threads: Threads = None,
) -> None:
    """Size the default fund to Cover-N, split it, and drill every stress scenario's default.

    Shows what set the fund, each member's exact contribution, and each stress
    scenario's Cover-N default run through the waterfall.
    """
    shown = rows_shown(top, all_rows, None)
    # Imported here: the risk use cases load numpy and pandas, which --help does not need.
    from ccpwaterfall import reports
    from ccpwaterfall.app import risk
    from ccpwaterfall.cli.context import loaders_of, value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.fund_view import fund_view

    with _progress() as report:
        outcome = risk.size_fund(
            case,
            write_case_to=write_case_to,
            scenario=scenario,
            force=force,
            loaders=loaders_of(ctx),
            progress=report,
            scheduler=scheduler,
            threads=_threads(threads),
        )
    result = value_of(outcome)
    if result.written is not None:
        _say_written(result.written, to_stderr=json_output)
    view = fund_view(result.inputs, result.stress, result.fund, result.drills, shown)
    if json_output:
        print_json(reports.fund_to_json(view), outcome.warnings)
        return
    print_view(reports.render_fund(view))


def capital(
    ctx: typer.Context,
    case: RiskCaseFile,
    json_output: JsonOutput = False,
    risk_weight: Annotated[
        float,
        typer.Option(
            "--risk-weight",
            min=0.0,
            max=12.5,
            callback=_a_number,
            help="Risk weight of the hypothetical capital, from 0 to 12.5 (1,250%).",
        ),
    ] = 0.2,
    capital_ratio: Annotated[
        float,
        typer.Option("--capital-ratio", min=0.0, max=1.0, help="Capital ratio (ADGM: 0.10)."),
    ] = 0.08,
    top: TopRows = None,
    all_rows: AllRows = False,
    scheduler: SchedulerAddress = None,
    threads: Threads = None,
) -> None:
    """Bank capital for exposures to the CCP (Basel CRE54, CRR Art 310).

    The help shown is ``_CAPITAL_HELP``, which documents the EAD stand-in.
    """
    shown = rows_shown(top, all_rows, ROWS_SHOWN)
    # Imported here: the risk use cases load numpy and pandas, which --help does not need.
    from ccpwaterfall import reports
    from ccpwaterfall.app import risk
    from ccpwaterfall.cli.context import loaders_of, value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.capital_view import capital_view

    with _progress() as report:
        outcome = risk.capital(
            case,
            risk_weight,
            capital_ratio,
            loaders_of(ctx),
            report,
            scheduler=scheduler,
            threads=_threads(threads),
        )
    result = value_of(outcome)
    view = capital_view(result.inputs, result.margin, result.fund, result.capital, shown)
    if json_output:
        print_json(reports.capital_to_json(view), outcome.warnings)
        return
    print_view(reports.render_capital(view))


def eod(
    ctx: typer.Context,
    case: RiskCaseFile,
    json_output: JsonOutput = False,
    top: SummaryTopRows = None,
    all_rows: AllRows = False,
    scheduler: SchedulerAddress = None,
    threads: Threads = None,
    save: SaveResult = False,
    business_date: BusinessDate = None,
    db: DatabaseUrl = None,
) -> None:
    """The CCP's end of day: margin, stress, fund sizing, drills and the worst default run.

    The worst Cover-N default (the one that sets the fund) is shown through the
    waterfall in full, as ccp run shows a case. --save stores it as the snapshot
    of its business date (--date), so that ccp diff compares two days.
    """
    summary_rows = rows_shown(top, all_rows, SUMMARY_ROWS)
    run_rows = rows_shown(top, all_rows, ROWS_SHOWN)
    # Imported here: the risk use cases load numpy and pandas, which --help does not need.
    from ccpwaterfall import reports
    from ccpwaterfall.app import risk
    from ccpwaterfall.app.store import save_end_of_day
    from ccpwaterfall.cli.context import loaders_of, value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.cli.store_commands import check_save_options, open_store, say_saved
    from ccpwaterfall.reports.eod_view import eod_view

    check_save_options(save, db)
    if business_date is not None and not save:
        raise typer.BadParameter("--date is the date to save for: give --save too")
    store = open_store(db) if save else None  # a database that cannot be used stops it first
    with _progress() as report:
        outcome = risk.end_of_day(
            case, loaders_of(ctx), report, scheduler=scheduler, threads=_threads(threads)
        )
    result = value_of(outcome)
    view = eod_view(result, summary_rows, run_rows)
    if json_output:
        print_json(reports.end_of_day_to_json(view), outcome.warnings)
    else:
        print_view(reports.render_end_of_day(view))
    if store is not None:
        day = business_date.date() if business_date is not None else dt.date.today()
        say_saved(save_end_of_day(store, case, result, day))


def _say_written(written: WrittenDrill, *, to_stderr: bool) -> None:
    from ccpwaterfall.reports.layout import clean

    drill = written.drill
    path = written.path
    typer.echo(
        f"Wrote the Cover-{len(drill.groups)} default of {clean(' and '.join(drill.groups))} "
        f"in '{clean(drill.scenario_name)}' to {path}; run it with: ccp run {path}",
        err=to_stderr,
    )


@contextmanager
def _progress() -> Iterator[StepReport]:
    """A step reporter: a spinner with the current step on stderr when it is a terminal."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield _quiet
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("end of day", total=None)

        def report(step: str) -> None:
            bar.update(task, description=step)

        yield report


def _quiet(_step: str) -> None:
    """Reports nothing: standard error is not a terminal."""

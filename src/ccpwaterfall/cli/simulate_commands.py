"""``ccp simulate``: Monte Carlo over a risk case's waterfall.

Parses the options, calls the use case (``app.simulate``) and prints the
tables, the JSON (``--json``) or writes CSV files (``--csv DIR``). Progress
of long runs (the end of day, then the paths) shows on standard error when it
is a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from ccpwaterfall.cli.options import AllRows, JsonOutput, rows_shown
from ccpwaterfall.cli.risk_commands import RiskCaseFile

#: Members the table shows unless --top or --all say otherwise.
MEMBERS_SHOWN = 15

SimulationScheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        envvar="CCP_DASK_SCHEDULER",
        metavar="ADDRESS",
        help="Run the chunks of paths on the dask.distributed cluster of the scheduler at "
        "ADDRESS (tcp://host:port), one task per chunk; the output is the same as in process "
        "for the same seed and --chunk. Margin, stress and the fund are computed here. Needs "
        "pip install 'ccpwaterfall[dask]', and ccpwaterfall on the workers. The option wins "
        "over the environment variable.",
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app``."""
    app.command("simulate")(simulate)


def simulate(
    ctx: typer.Context,
    case: RiskCaseFile,
    paths: Annotated[
        int, typer.Option("--paths", min=1, metavar="N", help="Paths to draw.")
    ] = 100_000,
    seed: Annotated[
        int, typer.Option("--seed", min=0, metavar="S", help="Seed: the same gives the same.")
    ] = 0,
    rho: Annotated[
        float | None,
        typer.Option(
            "--rho", min=0.0, max=0.999999, help="Factor loading (default: the case's, or 0.2)."
        ),
    ] = None,
    nu: Annotated[
        float | None,
        typer.Option(
            "--nu", help="Degrees of freedom of a Student t copula, above 0 (default: the case's)."
        ),
    ] = None,
    sitg_grid: Annotated[
        str | None,
        typer.Option(
            "--sitg-grid",
            metavar="LIST",
            help="Skin-in-the-game sizes to re-run the same paths with, such as 0,50m,100m.",
        ),
    ] = None,
    sitg_position: Annotated[
        str,
        typer.Option(
            "--sitg-position",
            metavar="WHERE",
            help="Where the grid's SITG sits: before or after the members' fund, or both.",
        ),
    ] = "before",
    contagion_share: Annotated[
        float | None,
        typer.Option(
            "--contagion-share",
            metavar="X",
            help="A member fails when its charges exceed X times its capital (the members "
            "file's capital column); default: the case's.",
        ),
    ] = None,
    chunk: Annotated[
        int,
        typer.Option("--chunk", min=1, metavar="N", help="Paths per chunk (memory per chunk)."),
    ] = 20_000,
    exact_sample: Annotated[
        int,
        typer.Option(
            "--exact-sample",
            min=0,
            metavar="N",
            help="Re-run the N worst and N random paths through the exact engine.",
        ),
    ] = 1_000,
    json_output: JsonOutput = False,
    csv_dir: Annotated[
        Path | None,
        typer.Option("--csv", metavar="DIR", help="Also write the tables as CSV files in DIR."),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            min=1,
            metavar="N",
            help=f"Show the N members of largest ES (default {MEMBERS_SHOWN}).",
        ),
    ] = None,
    all_rows: AllRows = False,
    scheduler: SimulationScheduler = None,
) -> None:
    """Monte Carlo of defaults through the waterfall: tranche probabilities, member tails.

    Group defaults come from a one-factor copula (pd per group, rho, optional
    Student t); the same factor picks the stress scenario (wrong-way risk);
    every path runs through the rulebook in exact minor units, and a sample of
    paths is re-run through the exact engine.
    """
    shown = rows_shown(top, all_rows, MEMBERS_SHOWN)
    from ccpwaterfall.app.simulate import SimulateOptions
    from ccpwaterfall.app.simulate import simulate as run
    from ccpwaterfall.cli.context import exit_bad_input, loaders_of, value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.io.simulation_config import write_csv_tables
    from ccpwaterfall.reports.simulation_view import (
        render_simulation,
        simulation_tables,
        simulation_to_json,
        simulation_view,
    )

    options = SimulateOptions(
        paths=paths,
        seed=seed,
        rho=rho,
        nu=nu,
        chunk_paths=chunk,
        sitg_grid=sitg_grid,
        sitg_position=sitg_position,
        contagion_share=contagion_share,
        exact_worst=exact_sample,
        exact_random=exact_sample,
    )
    with _progress(paths) as (steps, chunks):
        outcome = run(case, options, loaders_of(ctx), steps, chunks, scheduler=scheduler)
    view = simulation_view(value_of(outcome))
    if csv_dir is not None:
        from ccpwaterfall.app import problems_in

        issues = write_csv_tables(csv_dir, simulation_tables(view))
        if issues:
            exit_bad_input([problems_in(csv_dir, issues)])
    if json_output:
        print_json(simulation_to_json(view), outcome.warnings)
        return
    print_view(render_simulation(view, shown))


@contextmanager
def _progress(
    total: int,
) -> Iterator[tuple[Callable[[str], None], Callable[[int, int], None]]]:
    """A step reporter and a paths bar on stderr when it is a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield _quiet_step, _quiet_paths
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("end of day", total=total)

        def step(name: str) -> None:
            bar.update(task, description=name)

        def paths_done(done: int, _total: int) -> None:
            bar.update(task, completed=done, description="paths")

        yield step, paths_done


def _quiet_step(_step: str) -> None:
    """Reports nothing."""


def _quiet_paths(_done: int, _total: int) -> None:
    """Reports nothing."""

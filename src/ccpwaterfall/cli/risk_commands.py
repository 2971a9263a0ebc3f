"""Commands on risk cases: margin, stress, size-fund, capital and the whole end of day.

Each command reads a risk case (a CCP's rulebook, portfolios and risk model),
calls the lifecycle and formats what it returns. A bad risk case exits with
status 2 after listing every problem in it and its data files; ``--json``
prints only JSON on standard output. Long work shows its progress on standard
error when that is a terminal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, RenderableType
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ccpwaterfall.cli.case_commands import exit_bad_input, report_warnings, with_warnings
from ccpwaterfall.io import InputError, Issue, write_case
from ccpwaterfall.io.risk_case import RiskCase, load_risk_case
from ccpwaterfall.lifecycle import (
    EndOfDay,
    compute_capital,
    compute_margin,
    end_of_day,
)
from ccpwaterfall.lifecycle.end_of_day import Progress as StepReport
from ccpwaterfall.reports.risk_views import (
    CAPITAL_EAD_NOTE,
    ROWS_SHOWN,
    capital_to_json,
    end_of_day_to_json,
    fund_to_json,
    margin_to_json,
    render_capital,
    render_end_of_day,
    render_fund,
    render_margin,
    render_stress,
    stress_to_json,
)

BAD_INPUT = 2  # exit status for anything wrong with what the user gave
# The capital command's help documents the EAD stand-in, shared with its view.
_CAPITAL_HELP = (
    "Bank capital for exposures to the CCP: K_CCP, and each member's EAD, K_CM, RWA and the "
    "CRR Art 310 simple method.\n\n" + CAPITAL_EAD_NOTE
)

RiskCaseFile = Annotated[
    Path,
    typer.Argument(
        metavar="CASE",
        help="A risk case file: a ccp-case/1 header and rulebook, and a portfolio of data files.",
    ),
]
JsonOutput = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON on standard output, only that.")
]
TopRows = Annotated[
    int, typer.Option("--top", min=1, metavar="N", help="Show the N largest members.")
]


def register(app: typer.Typer) -> None:
    """Add the risk commands to ``app``."""
    app.command("margin")(margin)
    app.command("stress")(stress)
    app.command("size-fund")(size_fund)
    app.command("capital", help=_CAPITAL_HELP)(capital)
    app.command("eod")(eod)


def margin(case: RiskCaseFile, json_output: JsonOutput = False, top: TopRows = ROWS_SHOWN) -> None:
    """Initial margin: the model and its parameters, the total and each member's margin."""
    loaded = _load(case)
    inputs = loaded.inputs
    with _progress() as report:
        result = compute_margin(inputs, report)
    if json_output:
        _print_json(with_warnings(margin_to_json(inputs, result), loaded.warnings))
        return
    _print(render_margin(inputs, result, top))


def stress(case: RiskCaseFile, json_output: JsonOutput = False) -> None:
    """Stress tests: largest group exposures, Cover-1/2, EMIR Art 42(3) floor, reverse stress.

    Exposures are stress losses over margin per member group (affiliates count as one).
    """
    loaded = _load(case)
    result = _end_of_day(case, "ccp stress", loaded)
    if json_output:
        _print_json(with_warnings(stress_to_json(result), loaded.warnings))
        return
    _print(render_stress(result))


def size_fund(
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
        typer.Option("--top", min=1, metavar="N", help="Show the N largest contributions."),
    ] = None,
) -> None:
    """Size the default fund to Cover-N, split it, and drill every stress scenario's default.

    Shows what set the fund, each member's exact contribution, and each stress
    scenario's Cover-N default run through the waterfall.
    """
    loaded = _load(case)
    if scenario is not None:
        _check_scenario(case, loaded, scenario, write_case_to)
    result = _end_of_day(case, "ccp size-fund", loaded)
    if write_case_to is not None:
        _write_drill(result, write_case_to, scenario, to_stderr=json_output)
    if json_output:
        _print_json(with_warnings(fund_to_json(result), loaded.warnings))
        return
    _print(render_fund(result, top))


def capital(
    case: RiskCaseFile,
    json_output: JsonOutput = False,
    risk_weight: Annotated[
        float,
        typer.Option(
            "--risk-weight",
            min=0.0,
            max=12.5,
            help="Risk weight of the hypothetical capital, from 0 to 12.5 (1,250%).",
        ),
    ] = 0.2,
    capital_ratio: Annotated[
        float,
        typer.Option("--capital-ratio", min=0.0, max=1.0, help="Capital ratio (ADGM: 0.10)."),
    ] = 0.08,
    top: TopRows = ROWS_SHOWN,
) -> None:
    """Bank capital for exposures to the CCP (Basel CRE54, CRR Art 310).

    The help shown is ``_CAPITAL_HELP``, which documents the EAD stand-in.
    """
    loaded = _load(case)
    result = _end_of_day(case, "ccp capital", loaded)
    run = compute_capital(
        result.inputs, result.margin, result.stress, result.fund, risk_weight, capital_ratio
    )
    if json_output:
        _print_json(with_warnings(capital_to_json(result, run), loaded.warnings))
        return
    _print(render_capital(result, run, top))


def eod(case: RiskCaseFile, json_output: JsonOutput = False) -> None:
    """The CCP's end of day: margin, stress, fund sizing, drills and the worst default run.

    The worst Cover-N default (the one that sets the fund) is shown through the
    waterfall in full, as ccp run shows a case.
    """
    loaded = _load(case)
    result = _end_of_day(case, "ccp eod", loaded)
    if json_output:
        _print_json(with_warnings(end_of_day_to_json(result), loaded.warnings))
        return
    _print(render_end_of_day(result))


def _load(path: Path) -> RiskCase:
    """The risk case, or every problem in it on stderr and exit status 2."""
    try:
        loaded = load_risk_case(path)
    except InputError as error:
        exit_bad_input(path, error.issues)
    report_warnings(loaded.warnings)
    return loaded


def _end_of_day(path: Path, command: str, loaded: RiskCase | None = None) -> EndOfDay:
    case = loaded if loaded is not None else _load(path)
    if not case.inputs.stress:
        exit_bad_input(
            path,
            (
                Issue(
                    str(path),
                    "risk.stress",
                    f"{command} needs stress scenarios: add [[risk.stress]] tables "
                    "(name, shocks and optional vol_shifts)",
                ),
            ),
        )
    with _progress() as report:
        return end_of_day(case.inputs, report)


def _check_scenario(path: Path, case: RiskCase, name: str, write_to: Path | None) -> None:
    if write_to is None:
        typer.echo("--scenario picks the drill that --write-case writes: give both", err=True)
        raise typer.Exit(BAD_INPUT)
    names = [s.name for s in case.inputs.stress]
    if name not in names:
        listed = ", ".join(repr(n) for n in names) or "none"
        typer.echo(
            f"{path}: --scenario {name!r} is not a stress scenario of this case; "
            f"its scenarios are: {listed}",
            err=True,
        )
        raise typer.Exit(BAD_INPUT)


def _write_drill(result: EndOfDay, path: Path, scenario: str | None, *, to_stderr: bool) -> None:
    drill = (
        result.worst_drill
        if scenario is None
        else next(d for d in result.drills if d.scenario_name == scenario)
    )
    issue = write_case(path, drill.case)
    if issue is not None:
        exit_bad_input(path, (issue,))
    n = len(drill.groups)
    typer.echo(
        f"Wrote the Cover-{n} default of {' and '.join(drill.groups)} in "
        f"'{drill.scenario_name}' to {path}; run it with: ccp run {path}",
        err=to_stderr,
    )


@contextmanager
def _progress() -> Iterator[StepReport]:
    """A step reporter: a spinner with the current step on stderr when it is a terminal."""
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


def _print(renderable: RenderableType) -> None:
    # The views style their own text: no markup, emoji codes or highlighting in data.
    Console(markup=False, emoji=False, highlight=False).print(renderable)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")

"""Use cases on risk cases: margin, stress tests, fund sizing, capital and the whole end of day.

Each runs only the steps of the end of day (``lifecycle``: margin, stress, fund,
drills, reverse stress) that its result holds: ``stress`` stops before the
drills, ``size_fund`` skips reverse stress, ``capital`` needs neither. Each
returns an ``Outcome``: the result, or every problem in the risk case, its data
files and the options that refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ccpwaterfall import lifecycle
from ccpwaterfall.app.cases import load
from ccpwaterfall.app.loaders import IO_LOADERS, Loaders
from ccpwaterfall.app.outcome import Outcome, Problems, done, problems_in, refused
from ccpwaterfall.io import Issue, check_target, write_case
from ccpwaterfall.io.risk_case import RiskCase
from ccpwaterfall.lifecycle import (
    CapitalRun,
    Drill,
    EndOfDay,
    EndOfDayInputs,
    FundRun,
    MarginRun,
    Progress,
    StressRun,
    compute_capital,
    compute_margin,
    compute_stress,
    drill_defaults,
    reverse_stress_grid,
)
from ccpwaterfall.lifecycle.inputs import quiet
from ccpwaterfall.risk.reverse_stress import ReverseStress


@dataclass(frozen=True, slots=True, eq=False)
class MarginResult:
    inputs: EndOfDayInputs
    margin: MarginRun


@dataclass(frozen=True, slots=True, eq=False)
class StressResult:
    """Stress exposures, with the fund they are measured beyond and, when the case has a
    grid of multipliers, reverse stress (``None`` otherwise)."""

    inputs: EndOfDayInputs
    margin: MarginRun
    stress: StressRun
    fund: FundRun
    reverse: ReverseStress | None


@dataclass(frozen=True, slots=True, eq=False)
class WrittenDrill:
    """A drill's case written for ``ccp run``."""

    path: Path
    drill: Drill


@dataclass(frozen=True, slots=True, eq=False)
class FundResult:
    """The sized fund and every stress scenario's Cover-N drill; ``written`` the drill
    written as a case, when asked."""

    inputs: EndOfDayInputs
    margin: MarginRun
    stress: StressRun
    fund: FundRun
    drills: tuple[Drill, ...]
    written: WrittenDrill | None = None


@dataclass(frozen=True, slots=True, eq=False)
class CapitalResult:
    inputs: EndOfDayInputs
    margin: MarginRun
    fund: FundRun
    capital: CapitalRun


def margin(
    path: Path, loaders: Loaders = IO_LOADERS, progress: Progress = quiet
) -> Outcome[MarginResult]:
    """Initial margin of every account, member and group."""
    loaded = _inputs(path, loaders)
    if isinstance(loaded, Problems):
        return refused(loaded)
    inputs = loaded.inputs
    return done(MarginResult(inputs, compute_margin(inputs, progress)), loaded.warnings)


def stress(
    path: Path, loaders: Loaders = IO_LOADERS, progress: Progress = quiet
) -> Outcome[StressResult]:
    """Stress exposures, Cover-1/2, the Art 42(3) floor, Cover-N beyond own fund (which
    needs the fund) and reverse stress; no drills."""
    loaded = _stress_inputs(path, loaders, "ccp stress")
    if isinstance(loaded, Problems):
        return refused(loaded)
    inputs = loaded.inputs
    margin_run = compute_margin(inputs, progress)
    stress_run = compute_stress(inputs, margin_run, progress)
    fund = lifecycle.size_fund(inputs, margin_run, stress_run, progress)
    reverse = (
        reverse_stress_grid(inputs, margin_run, fund, progress)
        if inputs.stress_multipliers
        else None
    )
    return done(StressResult(inputs, margin_run, stress_run, fund, reverse), loaded.warnings)


def size_fund(
    path: Path,
    *,
    write_case_to: Path | None = None,
    scenario: str | None = None,
    force: bool = False,
    loaders: Loaders = IO_LOADERS,
    progress: Progress = quiet,
) -> Outcome[FundResult]:
    """Size the fund to Cover-N, split it, and drill every stress scenario's default.

    With ``write_case_to`` the drill of ``scenario`` (default: the one that sets
    the fund) is written there as a ``ccp-case/1`` case; a target that may not be
    written (an existing file without ``force``, the case or one of its data
    files, a link or a device) is refused before anything runs, and checked
    again when written. ``scenario`` without ``write_case_to``, or naming no
    stress scenario of the case, is a problem with that option.
    """
    case_files = _input_files(path, loaders)
    if write_case_to is not None:
        refusal = check_target(write_case_to, force=force, inputs=case_files)
        if refusal is not None:
            return refused(problems_in(write_case_to, (refusal,)))
    option_issues = []
    if scenario is not None and write_case_to is None:
        option_issues.append(
            Issue(str(path), "--scenario", "picks the drill that --write-case writes: give both")
        )
    loaded = _stress_inputs(path, loaders, "ccp size-fund")
    if isinstance(loaded, Problems):
        return refused(problems_in(path, (*option_issues, *loaded.issues)))
    inputs = loaded.inputs
    names = [s.name for s in inputs.stress]
    if scenario is not None and write_case_to is not None and scenario not in names:
        listed = ", ".join(repr(n) for n in names)
        option_issues.append(
            Issue(
                str(path),
                "--scenario",
                f"{scenario!r} is not a stress scenario of this case; its scenarios are: {listed}",
            )
        )
    if option_issues:
        return refused(problems_in(path, option_issues))
    margin_run = compute_margin(inputs, progress)
    stress_run = compute_stress(inputs, margin_run, progress)
    fund = lifecycle.size_fund(inputs, margin_run, stress_run, progress)
    drills = drill_defaults(inputs, margin_run, stress_run, fund, progress)
    written = None
    if write_case_to is not None:
        wanted = fund.sizing.cover.scenario if scenario is None else names.index(scenario)
        drill = next(d for d in drills if d.scenario == wanted)
        issue = write_case(write_case_to, drill.case, force=force, inputs=case_files)
        if issue is not None:
            return refused(problems_in(write_case_to, (issue,)))
        written = WrittenDrill(write_case_to, drill)
    return done(FundResult(inputs, margin_run, stress_run, fund, drills, written), loaded.warnings)


def capital(
    path: Path,
    risk_weight: float = 0.2,
    capital_ratio: float = 0.08,
    loaders: Loaders = IO_LOADERS,
    progress: Progress = quiet,
) -> Outcome[CapitalResult]:
    """Bank capital for exposures to the CCP (Basel CRE54, CRR Art 310): margin, stress
    and the fund, without drills or reverse stress."""
    loaded = _stress_inputs(path, loaders, "ccp capital")
    if isinstance(loaded, Problems):
        return refused(loaded)
    inputs = loaded.inputs
    margin_run = compute_margin(inputs, progress)
    stress_run = compute_stress(inputs, margin_run, progress)
    fund = lifecycle.size_fund(inputs, margin_run, stress_run, progress)
    run = compute_capital(inputs, margin_run, stress_run, fund, risk_weight, capital_ratio)
    return done(CapitalResult(inputs, margin_run, fund, run), loaded.warnings)


def end_of_day(
    path: Path, loaders: Loaders = IO_LOADERS, progress: Progress = quiet
) -> Outcome[EndOfDay]:
    """The whole end of day: margin, stress, fund sizing, every drill and reverse stress."""
    loaded = _stress_inputs(path, loaders, "ccp eod")
    if isinstance(loaded, Problems):
        return refused(loaded)
    inputs = loaded.inputs
    return done(lifecycle.end_of_day(inputs, progress), loaded.warnings)


def _inputs(path: Path, loaders: Loaders) -> RiskCase | Problems:
    return load(path, loaders.risk_case)


def _stress_inputs(path: Path, loaders: Loaders, command: str) -> RiskCase | Problems:
    """The risk case, which must have stress scenarios for ``command``."""
    loaded = _inputs(path, loaders)
    if isinstance(loaded, Problems) or loaded.inputs.stress:
        return loaded
    return problems_in(
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


def _input_files(case: Path, loaders: Loaders) -> tuple[Path, ...]:
    """The risk case and every file its ``[portfolio]`` table names (relative to the case):
    what a written drill may never replace."""
    doc, _ = loaders.document(case)
    portfolio = doc.get("portfolio") if doc is not None else None
    named = portfolio.values() if isinstance(portfolio, dict) else ()
    return (case, *(case.parent / name for name in named if isinstance(name, str)))

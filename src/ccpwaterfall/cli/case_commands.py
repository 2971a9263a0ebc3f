"""Commands on case files: check, run, explain, liability, compare, schema.

Each command parses its arguments, calls one function and formats what it
returns. A bad case file exits with status 2 after listing every problem in it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console, RenderableType

from ccpwaterfall.domain import Case
from ccpwaterfall.io import InputError, Issue, case_schema, read_toml, result_to_json
from ccpwaterfall.io.case_file import load_case_with_warnings
from ccpwaterfall.io.issues import InputWarning
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.reports import (
    compare_to_json,
    liability_to_json,
    render_compare,
    render_explain,
    render_liability,
    render_run,
)
from ccpwaterfall.waterfall import run_case
from ccpwaterfall.waterfall.liability import member_liability
from ccpwaterfall.waterfall.summary import summarise

BAD_INPUT = 2  # exit status for anything wrong with what the user gave
_IDS_LISTED = 30  # an unknown --member lists at most this many known ids

CaseFile = Annotated[Path, typer.Argument(metavar="CASE", help="A case file (ccp-case/1 TOML).")]
JsonOutput = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON on standard output, only that.")
]


def register(app: typer.Typer) -> None:
    """Add the case commands to ``app``."""
    app.command("check")(check)
    app.command("run")(run)
    app.command("explain")(explain)
    app.command("liability")(liability)
    app.command("compare")(compare)
    app.command("schema")(schema)


def check(case: CaseFile) -> None:
    """Validate a case file, or a risk case with its data files, and list every problem."""
    doc, _ = read_toml(case)
    if doc is not None and "portfolio" in doc:
        _check_risk_case(case)
        return
    loaded, _ = _load_warned(case)
    members = len(loaded.members)
    events = len(loaded.events)
    typer.echo(
        f"{case}: valid ({members} member{_s(members)}, {events} event{_s(events)})",
    )


def _check_risk_case(path: Path) -> None:
    try:
        loaded = load_risk_case(path)
    except InputError as error:
        exit_bad_input(path, error.issues)
    report_warnings(loaded.warnings)
    inputs = loaded.inputs
    portfolio = inputs.portfolio
    typer.echo(
        f"{path}: valid risk case ({portfolio.n_members} members, "
        f"{portfolio.n_accounts} accounts, {portfolio.n_instruments} instruments, "
        f"{len(inputs.stress)} stress scenarios)"
    )


def run(case: CaseFile, json_output: JsonOutput = False) -> None:
    """Run a case through its waterfall and show it event by event."""
    loaded, warnings = _load_warned(case)
    result = run_case(loaded)
    if json_output:
        _print_json(with_warnings(result_to_json(result), warnings))
        return
    _print(render_run(result))


def explain(case: CaseFile) -> None:
    """Show the journal: who paid what, under which rule."""
    _print(render_explain(run_case(_load(case))))


def liability(
    case: CaseFile,
    member: Annotated[str, typer.Option("--member", help="The member's id in the case file.")],
    json_output: JsonOutput = False,
) -> None:
    """Show a member's maximum loss under the rulebook and what it pays in the case."""
    loaded, warnings = _load_warned(case)
    ids = [m.id for m in loaded.members]
    if member not in ids:
        listed = ", ".join(ids[:_IDS_LISTED])
        more = f" and {len(ids) - _IDS_LISTED} more" if len(ids) > _IDS_LISTED else ""
        typer.echo(
            f"{case}: --member {member!r} is not a member of this case; "
            f"its members are: {listed}{more}",
            err=True,
        )
        raise typer.Exit(BAD_INPUT)
    result = member_liability(loaded, member, run_case(loaded))
    if json_output:
        _print_json(with_warnings(liability_to_json(result), warnings))
        return
    _print(render_liability(result))


def compare(
    cases: Annotated[
        list[Path], typer.Argument(metavar="CASE...", help="Case files to set side by side.")
    ],
    json_output: JsonOutput = False,
) -> None:
    """Set cases side by side: loss and the use of each layer of the waterfall."""
    loaded = _load_all(cases)
    summaries = [summarise(run_case(c)) for c, _ in loaded]
    if json_output:
        warnings = [w for _, found in loaded for w in found]
        _print_json(with_warnings(compare_to_json(summaries), warnings))
        return
    _print(render_compare(summaries))


def schema() -> None:
    """Print the JSON Schema of the case file format."""
    _print_json(case_schema())


def _load(path: Path) -> Case:
    return _load_warned(path)[0]


def _load_warned(path: Path) -> tuple[Case, tuple[InputWarning, ...]]:
    return _load_all([path])[0]


def _load_all(paths: Sequence[Path]) -> list[tuple[Case, tuple[InputWarning, ...]]]:
    """Every case with its warnings (shown on stderr), or every problem and exit status 2."""
    cases: list[tuple[Case, tuple[InputWarning, ...]]] = []
    failed: list[tuple[Path, tuple[Issue, ...]]] = []
    for path in paths:
        try:
            cases.append(load_case_with_warnings(path))
        except InputError as error:
            failed.append((path, error.issues))
    if failed:
        for path, issues in failed:
            _report(path, issues)
        raise typer.Exit(BAD_INPUT)
    report_warnings([w for _, found in cases for w in found])
    return cases


def report_warnings(warnings: Sequence[InputWarning]) -> None:
    """Each warning on stderr, ``FILE: FIELD: message (warning)``; the status is unchanged."""
    for warning in warnings:
        typer.echo(str(warning), err=True)


def with_warnings(data: object, warnings: Sequence[InputWarning]) -> object:
    """JSON output with ``"warnings"`` added at its end when there are any."""
    if warnings and isinstance(data, dict):
        return {**data, "warnings": [w.to_json() for w in warnings]}
    return data


def _report(path: Path, issues: Sequence[Issue]) -> None:
    for issue in issues:
        typer.echo(str(issue), err=True)
    typer.echo(f"{len(issues)} problem{_s(len(issues))} in {path}", err=True)


def exit_bad_input(path: Path, issues: Sequence[Issue]) -> NoReturn:
    """Every issue of ``path`` on stderr, a count, and exit status 2."""
    _report(path, issues)
    raise typer.Exit(BAD_INPUT)


def _print(renderable: RenderableType) -> None:
    # The views style their own text: no markup, emoji codes or highlighting in data
    # (an account such as "member:A:default_fund" must not turn into an emoji).
    Console(markup=False, emoji=False, highlight=False).print(renderable)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _s(count: int) -> str:
    return "" if count == 1 else "s"

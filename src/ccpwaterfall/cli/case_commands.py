"""Commands on case files: check, run, explain, liability, compare, schema.

Each command parses its arguments, calls one function and formats what it
returns. A bad case file exits with status 2 after listing every problem in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ccpwaterfall.cli.output import AllRows, TopRows, print_json, print_view, rows_shown
from ccpwaterfall.domain import Case
from ccpwaterfall.io import InputError, Issue, case_schema, load_case, read_toml, result_to_json
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.reports import (
    check_to_json,
    compare_to_json,
    explain_to_json,
    liability_to_json,
    render_compare,
    render_explain,
    render_liability,
    render_run,
)
from ccpwaterfall.reports.layout import clean
from ccpwaterfall.reports.run_view import MEMBERS_SHOWN
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


def check(case: CaseFile, json_output: JsonOutput = False) -> None:
    """Validate a case file, or a risk case with its data files, and list every problem.

    With --json the verdict and every problem are one JSON document on standard
    output; an invalid file still exits with status 2.
    """
    doc, _ = read_toml(case)
    if doc is not None and "portfolio" in doc:
        kind, (counts, issues) = "risk-case", _check_risk_case(case)
    else:
        kind, (counts, issues) = "case", _check_case(case)
    if json_output:
        print_json(check_to_json(str(case), kind, issues, counts))
        if issues:
            raise typer.Exit(BAD_INPUT)
        return
    if issues or counts is None:
        exit_bad_input(case, issues)
    if kind == "case":
        members, events = counts["members"], counts["events"]
        typer.echo(f"{case}: valid ({members} member{_s(members)}, {events} event{_s(events)})")
        return
    typer.echo(
        f"{case}: valid risk case ({counts['members']} members, "
        f"{counts['accounts']} accounts, {counts['instruments']} instruments, "
        f"{counts['stress_scenarios']} stress scenarios)"
    )


def _check_case(path: Path) -> tuple[dict[str, int] | None, tuple[Issue, ...]]:
    """What a valid case holds, or every problem in it."""
    try:
        loaded = load_case(path)
    except InputError as error:
        return None, error.issues
    return {"members": len(loaded.members), "events": len(loaded.events)}, ()


def _check_risk_case(path: Path) -> tuple[dict[str, int] | None, tuple[Issue, ...]]:
    """What a valid risk case holds, or every problem in it and its data files."""
    try:
        inputs = load_risk_case(path).inputs
    except InputError as error:
        return None, error.issues
    portfolio = inputs.portfolio
    return {
        "members": portfolio.n_members,
        "accounts": portfolio.n_accounts,
        "instruments": portfolio.n_instruments,
        "stress_scenarios": len(inputs.stress),
    }, ()


def run(
    case: CaseFile, json_output: JsonOutput = False, top: TopRows = None, all_rows: AllRows = False
) -> None:
    """Run a case through its waterfall and show it event by event."""
    shown = rows_shown(top, all_rows, MEMBERS_SHOWN)
    result = run_case(_load(case))
    if json_output:
        print_json(result_to_json(result))
        return
    print_view(render_run(result, shown))


def explain(case: CaseFile, json_output: JsonOutput = False) -> None:
    """Show the journal: who paid what, under which rule."""
    result = run_case(_load(case))
    if json_output:
        print_json(explain_to_json(result))
        return
    print_view(render_explain(result))


def liability(
    case: CaseFile,
    member: Annotated[str, typer.Option("--member", help="The member's id in the case file.")],
    json_output: JsonOutput = False,
) -> None:
    """Show a member's maximum loss under the rulebook and what it pays in the case."""
    loaded = _load(case)
    ids = [m.id for m in loaded.members]
    if member not in ids:
        listed = clean(", ".join(ids[:_IDS_LISTED]))
        more = f" and {len(ids) - _IDS_LISTED} more" if len(ids) > _IDS_LISTED else ""
        typer.echo(
            f"{case}: --member {member!r} is not a member of this case; "
            f"its members are: {listed}{more}",
            err=True,
        )
        raise typer.Exit(BAD_INPUT)
    result = member_liability(loaded, member, run_case(loaded))
    if json_output:
        print_json(liability_to_json(result))
        return
    print_view(render_liability(result))


def compare(
    cases: Annotated[
        list[Path], typer.Argument(metavar="CASE...", help="Case files to set side by side.")
    ],
    json_output: JsonOutput = False,
) -> None:
    """Set cases side by side: loss and the use of each layer of the waterfall."""
    loaded = _load_all(cases)
    summaries = [summarise(run_case(c)) for c in loaded]
    if json_output:
        print_json(compare_to_json(summaries))
        return
    print_view(render_compare(summaries))


def schema() -> None:
    """Print the JSON Schema of the case file format."""
    print_json(case_schema())


def _load(path: Path) -> Case:
    return _load_all([path])[0]


def _load_all(paths: Sequence[Path]) -> list[Case]:
    """Every case, or every problem of every file on stderr and exit status 2."""
    cases: list[Case] = []
    failed: list[tuple[Path, tuple[Issue, ...]]] = []
    for path in paths:
        try:
            cases.append(load_case(path))
        except InputError as error:
            failed.append((path, error.issues))
    if failed:
        for path, issues in failed:
            _report(path, issues)
        raise typer.Exit(BAD_INPUT)
    return cases


def _report(path: Path, issues: Sequence[Issue]) -> None:
    for issue in issues:
        typer.echo(clean(str(issue)), err=True)
    typer.echo(f"{len(issues)} problem{_s(len(issues))} in {path}", err=True)


def exit_bad_input(path: Path, issues: Sequence[Issue]) -> NoReturn:
    """Every issue of ``path`` on stderr, a count, and exit status 2."""
    _report(path, issues)
    raise typer.Exit(BAD_INPUT)


def _s(count: int) -> str:
    return "" if count == 1 else "s"

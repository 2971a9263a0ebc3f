"""Use cases on case files: check, run, explain, a member's liability, compare, the schema.

Each takes paths and options as plain values and a ``Loaders``, and returns an
``Outcome``: the result, or every problem in every file given (and in the
options that refer to them, such as an unknown ``--member``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ccpwaterfall.app.loaders import IO_LOADERS, Loaders
from ccpwaterfall.app.outcome import Outcome, Problems, done, problems_in, refused
from ccpwaterfall.domain import Case
from ccpwaterfall.io import RISK_CASE_FORMAT, InputError, Issue, case_schema
from ccpwaterfall.io.case_file import case_warnings
from ccpwaterfall.io.issues import InputWarning
from ccpwaterfall.waterfall import CaseResult
from ccpwaterfall.waterfall import run_case as run_waterfall
from ccpwaterfall.waterfall.liability import Liability
from ccpwaterfall.waterfall.liability import member_liability as liability_of
from ccpwaterfall.waterfall.summary import CaseSummary, summarise

T = TypeVar("T")

IDS_LISTED = 30  # an unknown member's issue lists at most this many known ids


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The verdict on a file: its kind (``case``, ``risk-case`` or ``drill``), every problem found,
    and what a valid file holds (``counts`` None when it is invalid)."""

    file: str
    kind: str
    problems: tuple[Issue, ...]
    counts: Mapping[str, int] | None
    warnings: tuple[InputWarning, ...] = ()


# The format of drill files (``lifecycle.drill_plan.DRILL_FORMAT``), without loading drills.
DRILL_FILE_FORMAT = "ccp-drill/1"


def check(path: Path, loaders: Loaders = IO_LOADERS) -> CheckResult:
    """Validate a case file, a risk case with its data files, or a drill file.

    The verdict is the answer, so problems are part of it, never a refusal.
    """
    doc, _ = loaders.document(path)
    if doc is not None and doc.get("format") == DRILL_FILE_FORMAT:
        return _check_drill(path)
    if doc is not None and ("portfolio" in doc or doc.get("format") == RISK_CASE_FORMAT):
        risk_case = load(path, loaders.risk_case)
        if isinstance(risk_case, Problems):
            return CheckResult(str(path), "risk-case", risk_case.issues, None)
        inputs = risk_case.inputs
        portfolio = inputs.portfolio
        counts = {
            "members": portfolio.n_members,
            "accounts": portfolio.n_accounts,
            "instruments": portfolio.n_instruments,
            "stress_scenarios": len(inputs.stress),
        }
        return CheckResult(str(path), "risk-case", (), counts, risk_case.warnings)
    case = load(path, loaders.case)
    if isinstance(case, Problems):
        return CheckResult(str(path), "case", case.issues, None)
    counts = {"members": len(case.members), "events": len(case.events)}
    return CheckResult(str(path), "case", (), counts, case_warnings(case, str(path)))


def _check_drill(path: Path) -> CheckResult:
    """The verdict on a drill file: every problem ``ccp drill`` would refuse it for."""
    from ccpwaterfall.app.drill import check_drill  # noqa: PLC0415 (drills load the risk engine)

    outcome = check_drill(path)
    if outcome.value is None:
        issues = tuple(issue for problems in outcome.problems for issue in problems.issues)
        return CheckResult(str(path), "drill", issues, None)
    plan = outcome.value
    counts = {
        "members": len(plan.ccp.members),
        "accounts": len(plan.accounts),
        "positions": len(plan.positions),
        "bids": len(plan.bids),
    }
    return CheckResult(str(path), "drill", (), counts, outcome.warnings)


def run_case(path: Path, loaders: Loaders = IO_LOADERS) -> Outcome[CaseResult]:
    """Run a case through its waterfall, event by event."""
    case = load(path, loaders.case)
    if isinstance(case, Problems):
        return refused(case)
    return done(run_waterfall(case), case_warnings(case, str(path)))


def explain(path: Path, loaders: Loaders = IO_LOADERS) -> Outcome[CaseResult]:
    """The run of a case, for its journal: who paid what, under which rule."""
    return run_case(path, loaders)


def member_liability(path: Path, member: str, loaders: Loaders = IO_LOADERS) -> Outcome[Liability]:
    """A member's maximum loss under the rulebook and what it bears in the case's events.

    A member the case does not list is a problem with the ``--member`` option,
    listing the case's members.
    """
    case = load(path, loaders.case)
    if isinstance(case, Problems):
        return refused(case)
    ids = [m.id for m in case.members]
    if member not in ids:
        listed = ", ".join(ids[:IDS_LISTED])
        more = f" and {len(ids) - IDS_LISTED} more" if len(ids) > IDS_LISTED else ""
        issue = Issue(
            str(path),
            "--member",
            f"{member!r} is not a member of this case; its members are: {listed}{more}",
        )
        return refused(problems_in(path, (issue,)))
    return done(liability_of(case, member, run_waterfall(case)), case_warnings(case, str(path)))


def compare(
    paths: Sequence[Path], loaders: Loaders = IO_LOADERS
) -> Outcome[tuple[CaseSummary, ...]]:
    """Cases side by side: the summary of each run, in the order given.

    Every problem of every file is reported, not only the first bad file's.
    """
    cases: list[Case] = []
    problems: list[Problems] = []
    warnings: list[InputWarning] = []
    for path in paths:
        loaded = load(path, loaders.case)
        if isinstance(loaded, Problems):
            problems.append(loaded)
        else:
            cases.append(loaded)
            warnings += case_warnings(loaded, str(path))
    if problems:
        return refused(*problems)
    return done(tuple(summarise(run_waterfall(case)) for case in cases), warnings)


def schema(*, risk: bool = False) -> dict[str, object]:
    """The JSON Schema of the case file format, or with ``risk`` of the risk case format."""
    # Imported here: the risk-case reader loads pandas, which plain cases never need.
    from ccpwaterfall.io.risk_schema import risk_case_schema  # noqa: PLC0415

    return risk_case_schema() if risk else case_schema()


def load(path: Path, loader: Callable[[Path], T]) -> T | Problems:
    """What ``loader`` reads from ``path``, or every problem in it."""
    try:
        return loader(path)
    except InputError as error:
        return problems_in(path, error.issues)

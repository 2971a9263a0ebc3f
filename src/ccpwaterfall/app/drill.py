"""Use cases on drill files: check a drill, run it, write the case it allocated.

Each returns an ``Outcome``: the value, or every problem in the drill file (or
in an option about it), so nothing runs or is written from a bad file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ccpwaterfall.app.outcome import Outcome, Problems, done, problems_in, refused
from ccpwaterfall.io import InputError, check_target, write_case
from ccpwaterfall.io.drill_file import load_drill
from ccpwaterfall.lifecycle.drill import DrillState, run_drill
from ccpwaterfall.lifecycle.drill_plan import DrillPlan


@dataclass(frozen=True, slots=True, eq=False)
class DrillRun:
    """A drill run end to end, and where its case was written (None: not asked)."""

    file: str
    state: DrillState
    case_written: Path | None = None


def load_plan(path: Path) -> DrillPlan | Problems:
    """The plan in a drill file, or every problem in it."""
    try:
        return load_drill(path)
    except InputError as error:
        return problems_in(path, error.issues)


def check_drill(path: Path) -> Outcome[DrillPlan]:
    """Validate a drill file: every problem in it, or the plan that would run."""
    plan = load_plan(path)
    if isinstance(plan, Problems):
        return refused(plan)
    return done(plan)


def drill(
    path: Path, *, write_case_to: Path | None = None, force: bool = False
) -> Outcome[DrillRun]:
    """Run a drill end to end; with ``write_case_to``, write the case it allocated there.

    The case holds the crystallised loss and the auction tiers observed, so
    ``ccp run`` on it gives the drill's allocation. A target that may not be
    written is refused before anything runs, and nothing is partly written.
    """
    if write_case_to is not None:
        issue = check_target(write_case_to, force=force, inputs=(path,))
        if issue is not None:
            return refused(problems_in(write_case_to, (issue,)))
    plan = load_plan(path)
    if isinstance(plan, Problems):
        return refused(plan)
    state = run_drill(plan)
    if write_case_to is None:
        return done(DrillRun(str(path), state))
    assert state.outcome is not None
    issue = write_case(write_case_to, state.outcome.case, force=force, inputs=(path,))
    if issue is not None:
        return refused(problems_in(write_case_to, (issue,)))
    return done(DrillRun(str(path), state, write_case_to))

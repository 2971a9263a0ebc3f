"""The use cases under the ``ccp`` command: outcomes, business checks, loaders and steps.

Each use case reads through the ``Loaders`` it is given, returns its result or
every problem as values, and computes only the end-of-day steps it shows; the
steps are observed through the progress each one reports.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from case_samples import EXAMPLES
from ccpwaterfall.app import Loaders, Outcome, Problems, cases, done, risk
from ccpwaterfall.io import InputError, Issue, load_case
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.lifecycle import Progress

NASDAQ = EXAMPLES / "nasdaq-2018" / "case.toml"
KRX = EXAMPLES / "krx-2013" / "case.toml"
DEMO = EXAMPLES / "demo-ccp" / "case.toml"
NOWHERE = Path("no-such-folder") / "case.toml"

# The demo case is read from its files once for the module.
DEMO_LOADERS = Loaders(risk_case=functools.cache(load_risk_case))


def _refuse(path: Path) -> NoReturn:
    raise InputError([Issue(str(path), "risk.mpor_days", "must be 1 or more")])


def _steps(use_case: Callable[[Progress], Outcome[object]]) -> list[str]:
    """The steps a use case reports while it runs (it must run)."""
    steps: list[str] = []
    outcome = use_case(steps.append)
    assert outcome.value is not None, outcome.problems
    return steps


def _drills(steps: list[str]) -> list[str]:
    return [step for step in steps if step.startswith("drill ")]


# --------------------------------------------------------------------------- steps computed


def test_stress_computes_the_fund_and_reverse_stress_but_no_drill() -> None:
    steps = _steps(lambda report: risk.stress(DEMO, DEMO_LOADERS, report))
    # Its view shows Cover-N beyond own fund (the fund) and reverse stress.
    assert "fund sizing" in steps
    assert "reverse stress" in steps
    assert _drills(steps) == []


def test_capital_computes_neither_drills_nor_reverse_stress() -> None:
    steps = _steps(lambda report: risk.capital(DEMO, loaders=DEMO_LOADERS, progress=report))
    assert "fund sizing" in steps
    assert "reverse stress" not in steps
    assert _drills(steps) == []


def test_size_fund_drills_every_scenario_without_reverse_stress() -> None:
    inputs = load_risk_case(DEMO).inputs
    steps = _steps(lambda report: risk.size_fund(DEMO, loaders=DEMO_LOADERS, progress=report))
    assert _drills(steps) == [f"drill {s.name}" for s in inputs.stress]
    assert "reverse stress" not in steps


def test_end_of_day_computes_every_step() -> None:
    steps = _steps(lambda report: risk.end_of_day(DEMO, DEMO_LOADERS, report))
    assert "reverse stress" in steps
    assert len(_drills(steps)) == len(load_risk_case(DEMO).inputs.stress)


def test_margin_stops_at_margin() -> None:
    steps = _steps(lambda report: risk.margin(DEMO, DEMO_LOADERS, report))
    assert "initial margin" in steps
    assert "fund sizing" not in steps
    assert not any(step.startswith("stress") for step in steps)


# --------------------------------------------------------------------------- loaders


def test_use_cases_read_through_the_loaders_they_are_given() -> None:
    nasdaq = load_case(NASDAQ)
    stand_in = Loaders(case=lambda _path: nasdaq)
    outcome = cases.run_case(NOWHERE, stand_in)
    assert outcome.value is not None
    assert outcome.value.case is nasdaq
    # The io loaders find no such file.
    refused = cases.run_case(NOWHERE)
    assert refused.value is None
    assert refused.problems[0].source == str(NOWHERE)


def test_a_loader_refusal_comes_back_as_the_problems_of_that_file() -> None:
    outcome = risk.margin(NOWHERE, Loaders(risk_case=_refuse))
    assert outcome.value is None
    (problems,) = outcome.problems
    assert problems.source == str(NOWHERE)
    assert [issue.field for issue in problems.issues] == ["risk.mpor_days"]


# --------------------------------------------------------------------------- business checks


def test_an_unknown_member_is_a_problem_with_the_option_listing_the_members() -> None:
    outcome = cases.member_liability(NASDAQ, "NOPE")
    assert outcome.value is None
    (problems,) = outcome.problems
    (issue,) = problems.issues
    assert (problems.source, issue.file, issue.field) == (str(NASDAQ), str(NASDAQ), "--member")
    members = [m.id for m in load_case(NASDAQ).members]
    assert f"'NOPE' is not a member of this case; its members are: {', '.join(members)}" == (
        issue.message
    )


def test_a_known_member_has_its_liability() -> None:
    outcome = cases.member_liability(NASDAQ, "CM01")
    assert outcome.value is not None
    assert outcome.value.member.id == "CM01"


def test_an_unknown_scenario_is_a_problem_listing_the_scenarios(tmp_path: Path) -> None:
    target = tmp_path / "drill.toml"
    outcome = risk.size_fund(
        DEMO, write_case_to=target, scenario="Martian crash", loaders=DEMO_LOADERS
    )
    assert outcome.value is None
    (issue,) = outcome.problems[0].issues
    assert issue.field == "--scenario"
    for scenario in load_risk_case(DEMO).inputs.stress:
        assert repr(scenario.name) in issue.message
    assert not target.exists()


def test_a_scenario_without_a_case_to_write_is_reported_with_every_problem_of_the_case() -> None:
    outcome = risk.size_fund(NOWHERE, scenario="Flash rally", loaders=Loaders(risk_case=_refuse))
    assert outcome.value is None
    (problems,) = outcome.problems
    assert [issue.field for issue in problems.issues] == ["--scenario", "risk.mpor_days"]
    assert "--write-case" in problems.issues[0].message


def test_the_written_drill_is_the_named_scenarios(tmp_path: Path) -> None:
    target = tmp_path / "oil.toml"
    outcome = risk.size_fund(
        DEMO, write_case_to=target, scenario="Oil crash 2015", loaders=DEMO_LOADERS
    )
    assert outcome.value is not None
    written = outcome.value.written
    assert written is not None
    assert written.path == target
    assert written.drill.scenario_name == "Oil crash 2015"
    assert load_case(target).name == written.drill.case.name


def test_compare_reports_every_bad_file() -> None:
    outcome = cases.compare([NASDAQ, NOWHERE, NOWHERE.with_name("other.toml"), KRX])
    assert outcome.value is None
    assert [p.source for p in outcome.problems] == [
        str(NOWHERE),
        str(NOWHERE.with_name("other.toml")),
    ]


def test_check_gives_the_verdict_with_its_problems() -> None:
    valid = cases.check(NASDAQ)
    assert (valid.kind, valid.problems) == ("case", ())
    assert valid.counts == {"members": 26, "events": 1}
    invalid = cases.check(NOWHERE)
    assert invalid.counts is None
    assert [issue.file for issue in invalid.problems] == [str(NOWHERE)]


# --------------------------------------------------------------------------- outcomes


def test_an_outcome_holds_a_value_or_problems_never_both() -> None:
    problems = Problems("case.toml", (Issue("case.toml", "", "bad"),))
    with pytest.raises(ValueError, match="either a value or problems"):
        Outcome[int]()
    with pytest.raises(ValueError, match="either a value or problems"):
        Outcome(value=1, problems=(problems,))
    with pytest.raises(ValueError, match="at least one issue"):
        Problems("case.toml", ())
    assert done(1).warnings == ()

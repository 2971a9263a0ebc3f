"""Risk cases: a case header and rulebook, data files and risk model settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ccpwaterfall.domain import TrancheKind
from ccpwaterfall.io.issues import InputError
from ccpwaterfall.io.risk_case import RiskCase, load_risk_case
from ccpwaterfall.risk.params import (
    AntiProcyclicality,
    ContributionMethod,
    CoverBasis,
    MarginModel,
    VolatilityFilter,
)

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp" / "case.toml"

HEADER = """
format = "ccp-case/1"
name = "Small risk case"
currency = "USD"

[ccp]
name = "Test CCP"

[rulebook]
[[rulebook.waterfall]]
kind = "defaulter_margin"
[[rulebook.waterfall]]
kind = "member_default_fund"
"""

PORTFOLIO = """
[portfolio]
members = "members.csv"
accounts = "accounts.csv"
instruments = "instruments.csv"
positions = "positions.csv"
"""


def _data(directory: Path) -> None:
    files = {
        "members.csv": "id,name,group\nA,Bank A,G\nB,Bank B,\n",
        "accounts.csv": "id,member,kind\nA-H,A,house\nB-H,B,house\nB-C1,B,client\n",
        "instruments.csv": (
            "id,kind,underlying,multiplier,strike,expiry_years,volatility\n"
            "EQF,future,eq,50,,,\nEQP,put,eq,50,90,0.25,0.3\nOILF,future,oil,1000,,,\n"
        ),
        "positions.csv": (
            "account,instrument,quantity\nA-H,EQF,10\nA-H,EQP,-20\nB-H,OILF,5\nB-C1,EQF,-3\n"
        ),
        "prices.csv": "date,eq,oil\n2020-01-02,100,50\n2020-01-03,101,49\n2020-01-06,99,51\n",
    }
    for name, text in files.items():
        (directory / name).write_text(text)


def _case(directory: Path, body: str) -> Path:
    _data(directory)
    path = directory / "case.toml"
    path.write_text(HEADER + body)
    return path


@pytest.fixture(scope="module")
def demo() -> RiskCase:
    return load_risk_case(DEMO)


def test_the_demo_case_loads_with_its_settings(demo: RiskCase) -> None:
    assert demo.inputs.currency.code == "USD"
    assert demo.inputs.ccp_name == "Demo Clearing House"
    kinds = [t.kind for t in demo.inputs.rulebook.waterfall]
    assert kinds == [
        TrancheKind.DEFAULTER_MARGIN,
        TrancheKind.DEFAULTER_DEFAULT_FUND,
        TrancheKind.CCP_CAPITAL,
        TrancheKind.MEMBER_DEFAULT_FUND,
        TrancheKind.ASSESSMENTS,
        TrancheKind.VM_GAINS_HAIRCUT,
    ]
    assert demo.inputs.rulebook.cooling_off is not None
    assert demo.inputs.portfolio.n_members == 40
    assert demo.inputs.portfolio.n_accounts == 400
    assert demo.inputs.history is not None
    assert demo.inputs.history.factor_ids == ("sp500", "nasdaq", "wti")
    assert demo.inputs.instruments.factor_ids == demo.inputs.history.factor_ids
    assert demo.inputs.scenario_pnl is None
    params = demo.inputs.scenario_params
    assert (params.mpor_days, params.lookback_days) == (2, 2500)
    assert params.volatility_filter is VolatilityFilter.EWMA
    assert params.ewma_lambda == 0.97
    margin = demo.inputs.margin_params
    assert margin.model is MarginModel.ES
    assert margin.confidence == 0.99
    assert margin.anti_procyclicality is AntiProcyclicality.BUFFER
    fund = demo.inputs.fund_params
    assert fund.cover == 2
    assert fund.basis is CoverBasis.LOSS_OVER_MARGIN
    assert fund.method is ContributionMethod.MIXED
    assert (fund.buffer, fund.floor, fund.minimum_contribution) == (0.1, 100e6, 1e6)
    assert len(demo.inputs.stress) >= 6
    assert demo.inputs.stress[0].name == "2008-style equity crash"
    assert dict(demo.inputs.stress[0].shocks) == {"sp500": -0.22, "nasdaq": -0.24, "wti": -0.2}
    assert demo.inputs.stress_multipliers == (1.0, 2.0, 3.0, 5.0)
    assert demo.source == DEMO


def test_a_small_case_with_a_history_file(tmp_path: Path) -> None:
    path = _case(
        tmp_path,
        PORTFOLIO
        + 'history = "prices.csv"\n'
        + '[risk]\nmpor_days = "1"\nconfidence = "0.995"\nes_worst = 2\n'
        + '[[risk.stress]]\nname = "Down"\nshocks = { eq = "-0.1", oil = 0 }\n'
        + '[fund]\nfloor = "2.5m"\ncap = 10_000_000\nstatic_contribution = "100k"\n',
    )
    case = load_risk_case(path)
    assert case.inputs.history is not None
    np.testing.assert_array_equal(case.inputs.history.spot, [99.0, 51.0])
    assert case.inputs.scenario_params.mpor_days == 1
    assert case.inputs.scenario_params.volatility_filter is VolatilityFilter.NONE
    assert case.inputs.margin_params.es_worst == 2
    assert case.inputs.margin_params.confidence == 0.995
    assert case.inputs.stress[0].shocks == (("eq", -0.1), ("oil", 0.0))
    assert (case.inputs.fund_params.floor, case.inputs.fund_params.cap) == (2.5e6, 10e6)
    assert case.inputs.fund_params.static_contribution == 1e5
    assert case.inputs.stress_multipliers == (1.0,)
    assert case.inputs.portfolio.group_ids == ("B", "G")


def test_every_problem_in_the_case_and_its_files_at_once(tmp_path: Path) -> None:
    path = _case(
        tmp_path,
        """
[extras]
colour = "blue"
[portfolio]
members = "members.csv"
instruments = "instruments.csv"
positions = "positions.csv"
history = "prices.csv"
[risk]
mpor_days = 0
ewma_lambda = 0.97
volatility_filter = "fhs"
confidence = "1.5"
stress_multipliers = [1, 2.5]
[[risk.stress]]
name = "Crash"
shocks = { eq = "-0.2", gold = "-0.1" }
[[risk.stress]]
name = "Crash"
shocks = { oil = "x" }
vol_shifts = { eq = "-2" }
[fund]
floor = 1.5
method = "equal"
cover = "two"
""",
    )
    with pytest.raises(InputError) as raised:
        load_risk_case(path)
    file = str(path)
    found = {(i.file, i.field): i.message for i in raised.value.issues}
    assert set(found) == {
        (file, "extras"),
        (file, "risk.mpor_days"),
        (file, "risk.ewma_lambda"),
        (file, "risk.volatility_filter"),
        (file, "risk.confidence"),
        (file, "risk.stress_multipliers[1]"),
        (file, "risk.stress[0].shocks.gold"),
        (file, "risk.stress[1].name"),
        (file, "risk.stress[1].shocks.oil"),
        (file, "risk.stress[1].vol_shifts.eq"),
        (file, "fund.floor"),
        (file, "fund.method"),
        (file, "fund.cover"),
        (file, "portfolio.accounts"),
    }
    assert found[(file, "risk.mpor_days")] == "must be 1 or more, got 0"
    assert "quote it" in found[(file, "risk.ewma_lambda")]
    assert "0.97" in found[(file, "risk.ewma_lambda")]
    assert found[(file, "risk.volatility_filter")] == (
        "unknown volatility_filter 'fhs'; expected one of: none, ewma, garch"
    )
    assert "quote it" in found[(file, "risk.stress_multipliers[1]")]
    assert found[(file, "risk.stress[0].shocks.gold")] == (
        "unknown risk factor 'gold'; the price history has: eq, oil"
    )
    assert found[(file, "risk.stress[1].name")] == (
        "duplicate scenario name 'Crash' (first at risk.stress[0])"
    )
    assert "quote it" in found[(file, "fund.floor")]
    assert found[(file, "fund.method")] == (
        "unknown method 'equal'; expected one of: margin, stress, mixed"
    )
    assert found[(file, "portfolio.accounts")] == "missing required key"


def test_data_file_issues_are_reported_with_the_case_issues(tmp_path: Path) -> None:
    path = _case(tmp_path, PORTFOLIO + 'history = "prices.csv"\n[risk]\nmargin_model = "span2"\n')
    (tmp_path / "positions.csv").write_text("account,instrument,quantity\nA-H,ESZ9,1\n")
    with pytest.raises(InputError) as raised:
        load_risk_case(path)
    assert [str(i) for i in raised.value.issues] == [
        f"{path}: risk.margin_model: unknown margin_model 'span2'; expected one of: var, es, "
        "span; did you mean 'span'?",
        f"{tmp_path / 'positions.csv'}: row 1, column instrument: unknown instrument 'ESZ9'",
    ]


def test_an_unknown_underlying_names_the_histories_factors(tmp_path: Path) -> None:
    path = _case(tmp_path, PORTFOLIO + 'history = "arch:sp500"\n')
    with pytest.raises(InputError) as raised:
        load_risk_case(path)
    messages = [str(i) for i in raised.value.issues]
    assert (
        f"{tmp_path / 'instruments.csv'}: row 1, column underlying: unknown risk factor 'eq' "
        "(the price history has: sp500)"
    ) in messages


def test_a_plain_case_is_not_a_risk_case(tmp_path: Path) -> None:
    path = tmp_path / "plain.toml"
    path.write_text(
        HEADER
        + '[[members]]\nid = "A"\ndefault_fund = "1m"\ninitial_margin = "2m"\n'
        + '[[defaults]]\nmember = "A"\nloss = "3m"\n'
    )
    with pytest.raises(InputError) as raised:
        load_risk_case(path)
    assert [str(i) for i in raised.value.issues] == [
        f"{path}: portfolio: this is a plain waterfall case ([[members]] and [[defaults]]): "
        "run it with ccp run; a risk case has a [portfolio] table naming its data files instead"
    ]


def test_supplied_pnl_replaces_the_history(tmp_path: Path) -> None:
    pnl = "instrument,scenario,pnl\n" + "".join(
        f"{i},s{s},{v}\n" for i, v in (("EQF", 1.0), ("EQP", -2.0), ("OILF", 3.0)) for s in (1, 2)
    )
    path = _case(tmp_path, PORTFOLIO + 'scenario_pnl = "pnl.csv"\n')
    (tmp_path / "pnl.csv").write_text(pnl)
    case = load_risk_case(path)
    assert case.inputs.history is None
    assert case.inputs.scenario_pnl is not None
    assert case.inputs.scenario_pnl.scenario_names == ("s1", "s2")
    np.testing.assert_array_equal(case.inputs.scenario_pnl.pnl[:, 0], [1.0, -2.0, 3.0])


def test_stress_scenarios_need_a_history(tmp_path: Path) -> None:
    path = _case(
        tmp_path,
        PORTFOLIO
        + 'scenario_pnl = "pnl.csv"\n[[risk.stress]]\nname = "Down"\nshocks = { eq = "-0.1" }\n',
    )
    (tmp_path / "pnl.csv").write_text("instrument,scenario,pnl\nEQF,s,1\nEQP,s,1\nOILF,s,1\n")
    with pytest.raises(InputError) as raised:
        load_risk_case(path)
    assert [(i.field, i.message) for i in raised.value.issues] == [
        (
            "portfolio.history",
            "stress scenarios revalue the portfolio from today's prices: name a history",
        )
    ]


def test_a_missing_case_file_is_an_issue(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        load_risk_case(tmp_path / "nowhere.toml")
    assert [i.message for i in raised.value.issues] == ["file not found"]


def test_history_based_anti_procyclicality_needs_a_history(tmp_path: Path) -> None:
    path = _case(
        tmp_path,
        PORTFOLIO + 'scenario_pnl = "pnl.csv"\n[risk]\nanti_procyclicality = "ten_year_floor"\n',
    )
    (tmp_path / "pnl.csv").write_text("instrument,scenario,pnl\nEQF,s,1\nEQP,s,1\nOILF,s,1\n")
    with pytest.raises(InputError) as raised:
        load_risk_case(path)
    fields = [i.field for i in raised.value.issues]
    assert fields == ["risk.anti_procyclicality"]
    assert "supplied scenario_pnl" in raised.value.issues[0].message

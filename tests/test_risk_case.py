"""Risk cases (ccp-risk-case/1): a case header and rulebook, data files and risk model
settings, SPAN's parameters among them."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from ccpwaterfall.cli.main import run_cli
from ccpwaterfall.domain import TrancheKind
from ccpwaterfall.io import case_file, checker, values
from ccpwaterfall.io.case_file import load_case
from ccpwaterfall.io.issues import InputError
from ccpwaterfall.io.risk_case import RiskCase, load_risk_case
from ccpwaterfall.lifecycle import border
from ccpwaterfall.lifecycle.margin import span_risk_arrays
from ccpwaterfall.risk.params import (
    AntiProcyclicality,
    ContributionMethod,
    CoverBasis,
    InterCommoditySpread,
    MarginModel,
    SpanParams,
    VolatilityFilter,
)
from ccpwaterfall.risk.pricing import unit_deltas
from ccpwaterfall.risk.scenarios import historical_scenarios
from ccpwaterfall.risk.span import span_margin

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp" / "case.toml"
RISK_FORMAT = 'format = "ccp-risk-case/1"'
PLAIN_FORMAT = 'format = "ccp-case/1"'

HEADER = """
format = "ccp-risk-case/1"
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
        HEADER.replace(RISK_FORMAT, PLAIN_FORMAT)
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


# --- The format id ----------------------------------------------------------------------


def test_the_risk_case_format_id_loads_without_warnings(tmp_path: Path) -> None:
    case = load_risk_case(_case(tmp_path, PORTFOLIO + 'history = "prices.csv"\n'))
    assert case.warnings == ()


def test_the_old_format_id_still_loads_with_a_deprecation_warning(tmp_path: Path) -> None:
    path = _case(tmp_path, PORTFOLIO + 'history = "prices.csv"\n')
    path.write_text(path.read_text().replace(RISK_FORMAT, PLAIN_FORMAT))
    case = load_risk_case(path)
    assert [(w.file, w.field) for w in case.warnings] == [(str(path), "format")]
    message = case.warnings[0].message
    assert "deprecated" in message
    assert 'write format = "ccp-risk-case/1"' in message


def test_the_deprecated_id_is_warned_about_on_stderr_and_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _case(tmp_path, PORTFOLIO + 'history = "prices.csv"\n')
    path.write_text(path.read_text().replace(RISK_FORMAT, PLAIN_FORMAT))
    assert run_cli(["check", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"{path}: format: 'ccp-case/1' is deprecated for risk cases" in err
    assert run_cli(["margin", str(path), "--json"]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert [w["field"] for w in warnings] == ["format"]


def test_a_risk_case_of_another_format_names_the_risk_format(tmp_path: Path) -> None:
    path = _case(tmp_path, PORTFOLIO + 'history = "prices.csv"\n')
    path.write_text(path.read_text().replace(RISK_FORMAT, 'format = "ccp-risk-case/2"'))
    with pytest.raises(InputError) as raised:
        load_risk_case(path)
    assert [(i.field, i.message) for i in raised.value.issues] == [
        (
            "format",
            "unsupported format 'ccp-risk-case/2': a risk case is format = \"ccp-risk-case/1\"",
        )
    ]


PLAIN_BODY = (
    '[[members]]\nid = "A"\ndefault_fund = "1m"\ninitial_margin = "2m"\n'
    '[[defaults]]\nmember = "A"\nloss = "3m"\n'
)


def test_a_plain_case_with_the_risk_format_id_is_told_its_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plain.toml"
    path.write_text(HEADER + PLAIN_BODY)
    # ccp run reads it as a plain case: only its format is wrong.
    with pytest.raises(InputError) as raised:
        load_case(path)
    assert [(i.field, i.message) for i in raised.value.issues] == [
        (
            "format",
            "'ccp-risk-case/1' is the format of risk cases, which name their data files in "
            '[portfolio]; a case with [[members]] and [[defaults]] is format = "ccp-case/1"',
        )
    ]
    # ccp check reads it as the risk case its format says, and says what it is instead.
    assert run_cli(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "this is a plain waterfall case" in err
    assert "a plain case is format = \"ccp-case/1\", not 'ccp-risk-case/1'" in err


def test_the_demo_and_the_test_risk_cases_use_the_risk_format_id() -> None:
    root = DEMO.parent.parent.parent
    assert DEMO.read_text().splitlines()[3] == RISK_FORMAT
    assert RISK_FORMAT in HEADER
    assert RISK_FORMAT in (root / "tests" / "test_validation_risk.py").read_text()


# --- Where values are parsed and where money becomes float ------------------------------


def test_the_value_parsers_live_in_io_values_and_the_checker_uses_them() -> None:
    assert checker.parse_amount is values.parse_amount
    assert checker.parse_decimal is values.parse_decimal
    assert case_file.parse_amount is values.parse_amount
    source = Path(checker.__file__).read_text()
    assert "def parse_amount" not in source
    assert "def parse_decimal" not in source


def _float_of_an_amount(tree: ast.AST) -> list[int]:
    """Lines calling ``float(x.amount)``: Money converted to float by hand."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "float"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Attribute)
        and node.args[0].attr == "amount"
    ]


def test_money_becomes_float_only_at_the_border() -> None:
    package = Path(border.__file__).resolve().parent.parent
    found = {
        str(path.relative_to(package)): lines
        for path in sorted(package.rglob("*.py"))
        if path.name != "border.py"
        and (lines := _float_of_an_amount(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert found == {}


# --- [risk.span] ------------------------------------------------------------------------

SPAN_DATA = {
    "members.csv": "id,name,group\nA,Bank A,\nB,Bank B,\n",
    "accounts.csv": "id,member,kind\nA-H,A,house\nB-H,B,house\nB-C1,B,client\n",
    "instruments.csv": (
        "id,kind,underlying,multiplier,strike,expiry_years,volatility\n"
        "EQF,future,eq,50,,,\nEQP,put,eq,50,60,0.25,0.3\n"
        "OILF1,future,oil,1000,,,\nOILF2,future,oil,1000,,,\nIDXF,future,idx,20,,,\n"
    ),
    # A-H: a one-lot-per-10 calendar spread of oil futures, riskless to scan risk;
    # B-H: 100 short deep out-of-the-money puts; B-C1: long equity against short index.
    "positions.csv": (
        "account,instrument,quantity\nA-H,OILF1,10\nA-H,OILF2,-10\nB-H,EQP,-100\n"
        "B-C1,EQF,2\nB-C1,IDXF,-5\n"
    ),
    "prices.csv": (
        "date,eq,oil,idx\n2020-01-02,100,50,250\n2020-01-03,101,49,252\n"
        "2020-01-06,99,51,248\n2020-01-07,98,52,247\n2020-01-08,97,50,244\n"
        "2020-01-09,102,53,254\n2020-01-10,101,49,253\n2020-01-13,100,50,251\n"
        "2020-01-14,103,52,257\n2020-01-15,99,51,249\n"
    ),
}
SPAN_CASE = """\
[portfolio]
members = "members.csv"
accounts = "accounts.csv"
instruments = "instruments.csv"
positions = "positions.csv"
history = "prices.csv"

[risk]
mpor_days = 1
margin_model = "span"

[risk.span]
vol_scan = "0.3"
extreme_multiple = "3"
extreme_cover = "0.3"
intra_spread_charge = { oil = "0.5" }
short_option_minimum = { eq = "50" }
tiers = { OILF1 = "2020-03", OILF2 = "2020-06" }

[[risk.span.inter_spreads]]
legs = ["eq", "idx"]
credit = "0.5"
"""
# The same parameters, written by hand.
SPAN_PARAMS = SpanParams(
    intra_spread_charge=(("oil", 0.5),),
    short_option_minimum=(("eq", 50.0),),
    inter_spreads=(InterCommoditySpread(("eq", "idx"), 0.5),),
    tiers=(("OILF1", "2020-03"), ("OILF2", "2020-06")),
    vol_scan=0.3,
    extreme_multiple=3.0,
    extreme_cover=0.3,
)


def _span_case(directory: Path, body: str = SPAN_CASE) -> Path:
    for name, text in SPAN_DATA.items():
        (directory / name).write_text(text)
    path = directory / "case.toml"
    path.write_text(HEADER + body)
    return path


def _margins(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Decimal]:
    """Each account's initial margin as ``ccp margin --json`` gives it."""
    capsys.readouterr()
    assert run_cli(["margin", str(path), "--json"]) == 0
    accounts = json.loads(capsys.readouterr().out)["accounts"]
    return {account: Decimal(row["initial_margin"]) for account, row in accounts.items()}


def test_span_parameters_are_read_into_the_margin_model(tmp_path: Path) -> None:
    case = load_risk_case(_span_case(tmp_path))
    assert case.inputs.margin_params.model is MarginModel.SPAN
    assert case.inputs.margin_params.span == SPAN_PARAMS
    assert case.warnings == ()


def test_span_margin_of_a_risk_case_is_the_engines_with_the_same_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _span_case(tmp_path)
    margins = _margins(path, capsys)
    # By hand: the calendar spread has no scan risk (both months move together), so its
    # margin is the intra-commodity charge, 0.5 points x the spread delta of 10 lots x
    # 1,000 barrels; the short puts' is the short option minimum, 50 x 100 contracts.
    assert margins["A-H"] == Decimal("5000.00")
    assert margins["B-H"] == Decimal("5000.00")
    # Every account: risk.span.span_margin called directly with the parameters above.
    inputs = load_risk_case(path).inputs
    assert inputs.history is not None
    scenarios = historical_scenarios(inputs.history, inputs.scenario_params)
    spanned = replace(inputs, margin_params=replace(inputs.margin_params, span=SPAN_PARAMS))
    expected = span_margin(
        span_risk_arrays(spanned, scenarios),
        unit_deltas(inputs.instruments, inputs.spot),
        inputs.spot,
        inputs.instruments,
        inputs.portfolio.positions,
        SPAN_PARAMS,
    )
    for account, margin in zip(inputs.portfolio.account_ids, expected.total, strict=True):
        assert abs(margins[account] - Decimal(float(margin))) <= Decimal("0.005"), account
    # The inter-commodity credit lowers the equity-against-index account's margin.
    credited = expected.inter_spread_credit[inputs.portfolio.account_ids.index("B-C1")]
    assert credited.sum() > 0


def test_without_span_parameters_the_same_case_margins_on_scan_risk_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = SPAN_CASE[: SPAN_CASE.index("[risk.span]")]
    margins = _margins(_span_case(tmp_path, bare), capsys)
    assert margins["A-H"] == Decimal("0.00")
    assert margins["B-H"] < Decimal("5000.00")


def test_every_problem_of_risk_span_at_once_with_its_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = """\
[portfolio]
members = "members.csv"
accounts = "accounts.csv"
instruments = "instruments.csv"
positions = "positions.csv"
history = "prices.csv"
[risk]
margin_model = "es"
[risk.span]
colour = "blue"
vol_scan = "1.5"
extreme_multiple = "0"
extreme_cover = 0.3
intra_spread_charge = { gold = "5", oil = "-1" }
short_option_minimum = { eq = "x" }
tiers = { OILF9 = "2020-06", EQF = "" }
[[risk.span.inter_spreads]]
legs = ["eq", "eq"]
credit = "2"
[[risk.span.inter_spreads]]
legs = ["eq", "gld"]
[[risk.span.inter_spreads]]
legs = "eq"
credit = "0.5"
"""
    path = _span_case(tmp_path, body)
    with pytest.raises(InputError) as raised:
        load_risk_case(path)
    found = {i.field: i.message for i in raised.value.issues}
    assert set(found) == {
        "risk.span",
        "risk.span.colour",
        "risk.span.vol_scan",
        "risk.span.extreme_multiple",
        "risk.span.extreme_cover",
        "risk.span.intra_spread_charge.gold",
        "risk.span.intra_spread_charge.oil",
        "risk.span.short_option_minimum.eq",
        "risk.span.tiers.OILF9",
        "risk.span.tiers.EQF",
        "risk.span.inter_spreads[0].legs",
        "risk.span.inter_spreads[0].credit",
        "risk.span.inter_spreads[1].legs[1]",
        "risk.span.inter_spreads[1].credit",
        "risk.span.inter_spreads[2].legs",
    }
    assert found["risk.span"] == (
        "SPAN parameters apply only to SPAN margin, and margin_model is 'es': "
        'set margin_model = "span" or remove [risk.span]'
    )
    assert found["risk.span.vol_scan"] == "must be in [0, 1], got 1.5"
    assert found["risk.span.extreme_multiple"] == "must be in (0, inf), got 0"
    assert "quote it" in found["risk.span.extreme_cover"]
    assert found["risk.span.intra_spread_charge.gold"] == (
        "unknown risk factor 'gold'; the price history has: eq, oil, idx"
    )
    assert found["risk.span.intra_spread_charge.oil"] == "must be in [0, inf), got -1"
    assert found["risk.span.tiers.OILF9"].startswith(
        "unknown instrument 'OILF9': instruments.csv has no such id; did you mean 'OILF"
    )
    assert found["risk.span.inter_spreads[0].legs"] == (
        "both legs are 'eq': a spread is between two different risk factors"
    )
    assert found["risk.span.inter_spreads[0].credit"] == "must be in [0, 1], got 2"
    assert found["risk.span.inter_spreads[1].legs[1]"] == (
        "unknown risk factor 'gld'; the price history has: eq, oil, idx"
    )
    assert found["risk.span.inter_spreads[1].credit"] == "missing required key"
    # ccp check lists them all and exits 2; ccp margin refuses the case too.
    assert run_cli(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"{len(found)} problems in {path}"
    assert run_cli(["margin", str(path)]) == 2


def test_span_spread_parameters_need_a_history(tmp_path: Path) -> None:
    body = SPAN_CASE.replace('history = "prices.csv"', 'scenario_pnl = "pnl.csv"')
    path = _span_case(tmp_path, body)
    instruments = ("EQF", "EQP", "OILF1", "OILF2", "IDXF")
    (tmp_path / "pnl.csv").write_text(
        "instrument,scenario,pnl\n"
        + "".join(f"{i},s{s},{s - 8}\n" for i in instruments for s in range(16))
    )
    with pytest.raises(InputError) as raised:
        load_risk_case(path)
    found = {i.field: i.message for i in raised.value.issues}
    assert set(found) == {"risk.span.intra_spread_charge", "risk.span.inter_spreads"}
    assert "name a history in [portfolio]" in found["risk.span.inter_spreads"]
    # Without spreads, the same parameters run on the supplied risk arrays; references
    # are then checked against the factors the instruments are written on.
    body = body.replace('intra_spread_charge = { oil = "0.5" }\n', "")
    body = body[: body.index("[[risk.span.inter_spreads]]")]
    path.write_text(HEADER + body.replace('{ eq = "50" }', '{ eq = "50", gold = "1" }'))
    with pytest.raises(InputError) as raised:
        load_risk_case(path)
    assert [(i.field, i.message) for i in raised.value.issues] == [
        (
            "risk.span.short_option_minimum.gold",
            "unknown risk factor 'gold'; instruments.csv is written on: eq, idx, oil",
        )
    ]
    path.write_text(HEADER + body)
    assert load_risk_case(path).inputs.margin_params.span.short_option_minimum == (("eq", 50.0),)


def test_span_charges_that_could_pass_the_money_bound_are_refused(tmp_path: Path) -> None:
    body = SPAN_CASE.replace('{ eq = "50" }', '{ eq = "1' + "0" * 20 + '" }')
    with pytest.raises(InputError) as raised:
        load_risk_case(_span_case(tmp_path, body))
    assert [i.field for i in raised.value.issues] == ["risk.span"]
    assert "lower their rates" in raised.value.issues[0].message

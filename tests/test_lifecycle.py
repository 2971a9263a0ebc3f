"""The end of day: margin, stress, Cover-2 fund sizing, default drills, reverse stress, capital.

On the demo CCP (real S&P 500, NASDAQ and WTI history; loaded once per module)
and on a small hand-built CCP whose every figure is worked out by hand below.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from ccpwaterfall.domain import (
    Currency,
    Money,
    Rulebook,
    Tranche,
    TrancheKind,
    currency,
)
from ccpwaterfall.domain.money import sum_money
from ccpwaterfall.io import dumps_result, load_case, write_case
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.lifecycle import (
    Drill,
    EndOfDay,
    EndOfDayInputs,
    compute_capital,
    compute_margin,
    end_of_day,
    stressed_scenarios,
    ten_year_scenarios,
    to_money,
)
from ccpwaterfall.risk.fund import SizingConstraint
from ccpwaterfall.risk.instruments import InstrumentKind, build_instruments
from ccpwaterfall.risk.params import (
    AntiProcyclicality,
    ContributionMethod,
    CoverBasis,
    FundParams,
    MarginModel,
    MarginParams,
    ScenarioParams,
    VolatilityFilter,
)
from ccpwaterfall.risk.portfolio import PortfolioRows, build_portfolio
from ccpwaterfall.risk.reverse_stress import reverse_stress
from ccpwaterfall.risk.scenarios import PriceHistory, ScenarioPnl, StressDefinition
from ccpwaterfall.waterfall.summary import summarise

DEMO_DIR = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp"
DEMO = DEMO_DIR / "case.toml"
USD = currency("USD")
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def demo() -> EndOfDay:
    return end_of_day(load_risk_case(DEMO).inputs)


def _margin_used(drill: Drill) -> Money:
    event = drill.result.events[0]
    return sum_money(
        (t.used for t in event.tranches if t.kind == TrancheKind.DEFAULTER_MARGIN),
        drill.case.currency,
    )


def _group_indexes(eod: EndOfDay, drill: Drill) -> list[int]:
    return [eod.inputs.portfolio.group_ids.index(g) for g in drill.groups]


# --------------------------------------------------------------------------- the demo CCP


def test_each_drill_defaults_the_two_groups_with_the_largest_exposure(demo: EndOfDay) -> None:
    exposures = demo.stress.exposures
    assert len(demo.drills) == len(demo.stress.scenario_names) == 7
    for drill in demo.drills:
        column = exposures[:, drill.scenario]
        chosen = _group_indexes(demo, drill)
        others = np.delete(column, chosen)
        assert len(chosen) == 2
        assert column[chosen].min() >= others.max()


def test_drill_loss_beyond_margin_is_the_stress_exposure_of_the_defaulting_groups(
    demo: EndOfDay,
) -> None:
    for drill in demo.drills:
        beyond = drill.loss - _margin_used(drill)
        exposure = float(demo.stress.exposures[_group_indexes(demo, drill), drill.scenario].sum())
        expected = to_money(exposure, USD)
        # Each defaulter's loss and margin cross the border on their own, each rounded
        # by at most half a cent, and so is the expected exposure.
        bound = CENT * (2 * len(drill.defaulters) + 1) / 2
        assert abs(beyond.amount - expected.amount) <= bound, drill.scenario_name
    # The scenario that sets Cover-2: its defaulters' loss beyond margin is Cover-2.
    worst = demo.worst_drill
    assert worst.scenario == demo.stress.cover2.scenario
    assert (worst.loss - _margin_used(worst)) == to_money(demo.stress.cover2.amount, USD)


def test_written_drill_case_reads_back_and_runs_to_the_same_json(
    demo: EndOfDay, tmp_path: Path
) -> None:
    from ccpwaterfall.waterfall import run_case

    for drill in (demo.worst_drill, demo.drills[0]):
        path = tmp_path / f"drill-{drill.scenario}.toml"
        assert write_case(path, drill.case) is None
        loaded = load_case(path)
        assert loaded == drill.case
        assert dumps_result(run_case(loaded)) == dumps_result(drill.result)


def test_write_case_to_a_missing_folder_is_an_issue_and_writes_nothing(
    demo: EndOfDay, tmp_path: Path
) -> None:
    path = tmp_path / "no-such-folder" / "drill.toml"
    issue = write_case(path, demo.worst_drill.case)
    assert issue is not None
    assert issue.file == str(path)
    assert "cannot be written" in issue.message
    assert not path.parent.exists()


def test_contributions_in_money_sum_to_the_fund(demo: EndOfDay) -> None:
    fund = demo.fund
    assert len(fund.contributions_money) == demo.inputs.portfolio.n_members
    assert sum_money(fund.contributions_money, USD) == fund.fund_money
    # The minimum contributions (USD 1m x 40) do not bind, so the fund is the sized fund.
    assert fund.fund_money == to_money(fund.sizing.size, USD)
    for money, value in zip(fund.contributions_money, fund.contributions, strict=True):
        # One rounding at the border and a largest-remainder split: a few cents at most.
        assert abs(money.amount - Decimal(float(value))) < Decimal("0.05")


def test_demo_fund_is_set_by_cover2_less_junior_sitg_with_its_buffer(demo: EndOfDay) -> None:
    sizing = demo.fund.sizing
    # examples/demo-ccp/case.toml: 50m junior skin in the game, a 10% buffer.
    assert sizing.params.sitg_junior == 50_000_000.0
    assert sizing.binding is SizingConstraint.COVER
    assert sizing.cover.amount == demo.stress.cover2.amount
    assert sizing.size == pytest.approx((demo.stress.cover2.amount - 50e6) * 1.1, rel=1e-12)


def test_cover2_drill_of_the_sizing_scenario_reaches_no_assessment(demo: EndOfDay) -> None:
    # LCH "Stress This House" [LCH-STRESS-THIS-HOUSE]: a fund sized to Cover-2, with junior
    # SITG ahead of it, needs no assessment for two defaulting groups.
    summary = summarise(demo.worst_drill.result)
    assert summary.assessments.is_zero()
    assert summary.vm_haircut.is_zero()
    assert summary.uncovered.is_zero()
    for drill in demo.drills:
        assert summarise(drill.result).assessments.is_zero(), drill.scenario_name


def test_demo_fund_on_the_beyond_own_fund_basis_needs_no_assessment(demo: EndOfDay) -> None:
    # Sized on the BoE 2024 selection, the fund must still hold the defaulters' own
    # contributions: before, the demo's drills reached USD 162.5m of assessments.
    params = replace(demo.inputs.fund_params, basis=CoverBasis.BEYOND_OWN_FUND)
    eod = end_of_day(replace(demo.inputs, fund_params=params, stress_multipliers=()))
    assert eod.fund.converged
    assert eod.fund.rounds < 30
    sizing = eod.fund.sizing
    assert sizing.own_contributions > 0.0
    assert sizing.size == pytest.approx(
        sizing.own_contributions + sizing.mutualised * 1.1, rel=1e-12
    )
    for drill in eod.drills:
        summary = summarise(drill.result)
        assert summary.assessments.is_zero(), drill.scenario_name
        assert summary.uncovered.is_zero(), drill.scenario_name


def _margin_with(demo: EndOfDay, option: AntiProcyclicality) -> float:
    params = replace(demo.inputs.margin_params, anti_procyclicality=option)
    return compute_margin(replace(demo.inputs, margin_params=params)).total


def test_stressed_weight_adds_the_unfiltered_stressed_period_to_margin(demo: EndOfDay) -> None:
    # EMIR RTS 153/2013 Art 28(1)(b) can only add stress. The demo filters with EWMA; the
    # stressed year taken from the filtered returns was rescaled to 2018's calm and
    # lowered margin (USD 667.6m against 680.0m with no option at all).
    assert demo.inputs.scenario_params.volatility_filter is VolatilityFilter.EWMA
    plain = _margin_with(demo, AntiProcyclicality.NONE)
    weighted = _margin_with(demo, AntiProcyclicality.STRESSED_WEIGHT)
    assert weighted > plain
    # The stressed observations are the raw log returns of the chosen window.
    period = stressed_scenarios(demo.inputs)
    history = demo.inputs.history
    assert history is not None
    raw = np.log(history.levels[2:] / history.levels[:-2])
    dates = np.datetime_as_string(history.dates[2:], unit="D").tolist()
    first = dates.index(period.names[0])
    np.testing.assert_allclose(
        period.factor_returns, raw[first : first + len(period.names)], rtol=0, atol=1e-12
    )
    assert "2008" in period.names[0] or "2008" in period.names[-1]


def test_ten_year_floor_uses_unfiltered_returns_over_ten_years(demo: EndOfDay) -> None:
    scenarios = ten_year_scenarios(demo.inputs)
    history = demo.inputs.history
    assert history is not None
    raw = np.log(history.levels[2:] / history.levels[:-2])
    assert len(scenarios.names) == 2520
    np.testing.assert_allclose(scenarios.factor_returns, raw[-2520:], rtol=0, atol=1e-12)
    floored = _margin_with(demo, AntiProcyclicality.TEN_YEAR_FLOOR)
    assert floored >= _margin_with(demo, AntiProcyclicality.NONE)


def test_beyond_own_fund_sizing_that_cycles_keeps_a_fund_that_meets_its_own_need() -> None:
    # Only B (group G1) loses beyond margin: 1 in "to 104" (loss 4, margin 3). A fund of 1
    # goes all to B, whose contribution then covers its own loss: G1 drops out of the
    # beyond-own-fund selection, the need falls to 0, which brings G1 back: 1, 0, 1, ...
    # The sizing says it found no fixed point and keeps the fund of 1, which covers it.
    stress = (StressDefinition("to 104", (("x", math.log(1.04)),)),)
    inputs = _small_ccp((0.0, -1.0, 0.0, 0.0, 0.0), stress, sitg="0", multipliers=(1.0,))
    params = replace(inputs.fund_params, buffer=0.0, basis=CoverBasis.BEYOND_OWN_FUND)
    eod = end_of_day(replace(inputs, fund_params=params))
    assert not eod.fund.converged
    assert eod.fund.rounds == 2
    assert eod.fund.fund_money == Money.of("1.00", USD)
    # At that fund G1 ties with the others at zero beyond its own contribution; its
    # default is still covered, by its own contribution.
    from ccpwaterfall.lifecycle import default_case
    from ccpwaterfall.waterfall import run_case

    g1 = eod.inputs.portfolio.group_ids.index("G1")
    case = default_case(eod.inputs, eod.margin, eod.stress, eod.fund, 0, (g1,))
    summary = summarise(run_case(case))
    assert summary.assessments.is_zero()
    assert summary.member_fund_used.is_zero()


def test_minimum_contributions_that_exceed_the_sized_fund_set_it(demo: EndOfDay) -> None:
    params = replace(demo.inputs.fund_params, minimum_contribution=1e9)
    eod = end_of_day(replace(demo.inputs, fund_params=params, stress_multipliers=()))
    sizing = eod.fund.sizing
    # 40 members x USD 1bn each is more than Cover-2 needs: the minimums set the fund.
    assert sizing.binding is SizingConstraint.MINIMUM_CONTRIBUTIONS
    assert sizing.size == 40e9
    assert eod.fund.fund_money == Money.of("40000000000.00", USD)


def test_reverse_stress_multiplier_of_the_sizing_scenario_is_at_least_one(
    demo: EndOfDay,
) -> None:
    reverse = demo.reverse
    assert reverse is not None
    assert tuple(reverse.multipliers) == (1.0, 2.0, 3.0, 5.0)  # examples/demo-ccp/case.toml
    assert reverse.multiplier[demo.fund.sizing.cover.scenario] >= 1.0
    # Every scenario is covered at 1x: the fund covers Cover-2, the worst of them.
    assert (reverse.headroom[0] >= 0.0).all()


def _exposures_at(eod: EndOfDay, multipliers: NDArray[np.float64]) -> NDArray[np.float64]:
    """Group stress loss over margin with each scenario scaled, fully revalued."""
    from ccpwaterfall.lifecycle import stress_scenario_set
    from ccpwaterfall.risk.aggregate import account_pnl
    from ccpwaterfall.risk.pricing import instrument_pnl
    from ccpwaterfall.risk.scenarios import scale_each
    from ccpwaterfall.risk.stress import account_shortfall, group_exposures

    inputs, portfolio = eod.inputs, eod.inputs.portfolio
    scenarios = scale_each(stress_scenario_set(inputs), multipliers)
    unit = instrument_pnl(inputs.instruments, inputs.spot, scenarios, 2, inputs.discount_rate)
    shortfall = account_shortfall(account_pnl(portfolio.positions, unit), eod.margin.account_margin)
    members = group_exposures(shortfall, portfolio.account_member, portfolio.n_members)
    return np.asarray(group_exposures(members, portfolio.member_group, portfolio.n_groups))


def _prefunded(eod: EndOfDay) -> float:
    # examples/demo-ccp/case.toml: USD 50m of junior skin in the game.
    return float(eod.fund.group_fund.sum()) + 50e6


def _headroom_at(eod: EndOfDay, multipliers: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mutualised resources left after each scenario's Cover-2 default, by hand."""
    groups = _exposures_at(eod, multipliers)
    fund = eod.fund.group_fund
    top = np.argsort(-groups, axis=0, kind="stable")[:2]
    loss = np.take_along_axis(groups, top, axis=0).sum(axis=0)
    own = fund[top].sum(axis=0)
    headroom: NDArray[np.float64] = (_prefunded(eod) - own) - np.maximum(loss - own, 0.0)
    return headroom


def test_reverse_stress_finds_the_crossing_by_full_revaluation_never_above_it(
    demo: EndOfDay,
) -> None:
    reverse = demo.reverse
    assert reverse is not None
    assert reverse.tolerance == 1e-6
    found = np.isfinite(reverse.multiplier)
    assert found.any()
    at = np.where(found, reverse.multiplier, 1.0)
    past = np.where(found, reverse.multiplier + reverse.tolerance, 1.0)
    assert (_headroom_at(demo, at)[found] >= 0.0).all()
    assert (_headroom_at(demo, past)[found] < 0.0).all()
    # Options make the exposure convex in the shock: the straight line between grid
    # points, used before, overstated how far a scenario could be scaled.
    n_scenarios = reverse.multiplier.shape[0]
    grid = np.stack([_exposures_at(demo, np.full(n_scenarios, m)) for m in reverse.multipliers])
    linear = reverse_stress(
        grid,
        reverse.multipliers,
        demo.fund.group_fund,
        prefunded=_prefunded(demo),
        n_defaulters=2,
        basis=demo.fund.sizing.params.basis,
    ).multiplier
    overstated = found & (linear > reverse.multiplier + reverse.tolerance)
    assert overstated.any()
    assert (_headroom_at(demo, np.where(overstated, linear, 1.0))[overstated] < 0.0).all()


def test_capital_k_cm_is_at_least_its_floor(demo: EndOfDay) -> None:
    capital = compute_capital(demo.inputs, demo.margin, demo.stress, demo.fund)
    floor = 0.08 * 0.02 * demo.fund.contributions
    assert (capital.k_cm >= floor).all()
    assert capital.k_ccp > 0.0
    assert capital.df_ccp == 50_000_000.0
    np.testing.assert_allclose(capital.rwa, 12.5 * capital.k_cm)


def _shuffle_file(source: Path, target: Path, seed: int) -> None:
    if source.suffix == ".parquet":
        frame = pd.read_parquet(source)
        frame.sample(frac=1.0, random_state=seed).to_parquet(target, index=False)
        return
    # Strings as written: empty cells stay empty, not NaN.
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.sample(frac=1.0, random_state=seed).to_csv(target, index=False)


def test_shuffled_input_rows_give_the_same_fund_and_drills(demo: EndOfDay, tmp_path: Path) -> None:
    for seed, name in enumerate(
        ("members.csv", "accounts.csv", "instruments.csv", "positions.parquet")
    ):
        _shuffle_file(DEMO_DIR / name, tmp_path / name, seed + 11)
    assert (tmp_path / "positions.parquet").read_bytes() != (
        DEMO_DIR / "positions.parquet"
    ).read_bytes()
    (tmp_path / "case.toml").write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    shuffled = end_of_day(load_risk_case(tmp_path / "case.toml").inputs)
    assert shuffled.fund.sizing.size == demo.fund.sizing.size
    assert shuffled.fund.contributions_money == demo.fund.contributions_money
    assert [dumps_result(d.result) for d in shuffled.drills] == [
        dumps_result(d.result) for d in demo.drills
    ]


# --------------------------------------------------------------------------- a hand-built CCP
#
# One risk factor at 100 and one future on it (multiplier 1). Members A and B are
# one group (G1); C, D and E stand alone. One house account each, holding
# A +10, B +5, C -8, D +2, E -1 futures.
#
# Margin: supplied per-unit scenario P&L [-5, +3, -2], ES of the single worst
# scenario: a long pays 5 a unit, a short 3 a unit -> IM A 50, B 25, C 24, D 10, E 3.
#
# Stress: "down 20%" (-20 a unit) and "up 25%" (+25 a unit). Loss over margin:
#   down: A 200-50 = 150, B 100-25 = 75, D 40-10 = 30 -> groups G1 225, D 30
#   up:   C 200-24 = 176, E 25-3 = 22                 -> groups C 176, E 22
# Cover-1 225 (G1), Cover-2 max(225+30, 176+22) = 255 (G1 + D in "down 20%"),
# Art 42(3) floor max(225, 30, 176, 22) = 225.
# Fund: junior SITG 15, no buffer -> max(225, 255-15) = 240, set by Cover-2.
# The Cover-2 drill of "down 20%": loss 340, margin 85, 255 beyond it, and the
# whole fund (240) plus SITG (15) is exactly 255: every prefunded layer is used up
# and no assessment is needed.

SPOT = 100.0
MARGIN_PNL = (-5.0, 3.0, -2.0)
MEMBERS = ("A", "B", "C", "D", "E")
GROUPS = ("G1", "G1", None, None, None)
QUANTITIES = (10.0, 5.0, -8.0, 2.0, -1.0)
DOWN = StressDefinition("down 20%", (("x", math.log(0.8)),))
UP = StressDefinition("up 25%", (("x", math.log(1.25)),))


def _rulebook(ccy: Currency, sitg: str) -> Rulebook:
    return Rulebook(
        waterfall=(
            Tranche(TrancheKind.DEFAULTER_MARGIN),
            Tranche(TrancheKind.DEFAULTER_DEFAULT_FUND),
            Tranche(TrancheKind.CCP_CAPITAL, name="Junior SITG", amount=Money.of(sitg, ccy)),
            Tranche(TrancheKind.MEMBER_DEFAULT_FUND),
            Tranche(TrancheKind.ASSESSMENTS, cap_multiple=Decimal(2)),
        )
    )


def _small_ccp(
    quantities: tuple[float, ...] = QUANTITIES,
    stress: tuple[StressDefinition, ...] = (DOWN, UP),
    *,
    sitg: str = "15",
    cap: float | None = None,
    multipliers: tuple[float, ...] = (1.0, 2.0),
) -> EndOfDayInputs:
    rows = PortfolioRows(
        member_ids=MEMBERS,
        member_names=(None,) * len(MEMBERS),
        member_groups=GROUPS,
        account_ids=tuple(f"{m}-H" for m in MEMBERS),
        account_members=MEMBERS,
        account_is_client=(False,) * len(MEMBERS),
        position_accounts=np.asarray([f"{m}-H" for m in MEMBERS]),
        position_instruments=np.asarray(["X-F"] * len(MEMBERS)),
        position_quantities=np.asarray(quantities, dtype=np.float64),
    )
    instruments = build_instruments(
        ["X-F"],
        [InstrumentKind.FUTURE],
        ["x"],
        multipliers=[1.0],
        strikes=[math.nan],
        expiry_years=[math.nan],
        volatilities=[math.nan],
        factor_ids=["x"],
    )
    history = PriceHistory(
        dates=np.asarray([dt.date(2018, 12, 27), dt.date(2018, 12, 28)], dtype="datetime64[D]"),
        factor_ids=("x",),
        levels=np.full((2, 1), SPOT),
    )
    return EndOfDayInputs(
        name="Small CCP",
        currency=USD,
        ccp_name="Small Clearing",
        rulebook=_rulebook(USD, sitg),
        portfolio=build_portfolio(rows, instruments.ids),
        instruments=instruments,
        history=history,
        scenario_pnl=ScenarioPnl(("X-F",), ("d1", "d2", "d3"), np.asarray([MARGIN_PNL])),
        scenario_params=ScenarioParams(mpor_days=2),
        margin_params=MarginParams(model=MarginModel.ES, es_worst=1),
        fund_params=FundParams(cover=2, cap=cap, method=ContributionMethod.STRESS),
        stress=stress,
        stress_multipliers=multipliers,
    )


@pytest.fixture(scope="module")
def small() -> EndOfDay:
    return end_of_day(_small_ccp())


def test_small_ccp_margin_and_exposures_by_hand(small: EndOfDay) -> None:
    np.testing.assert_allclose(small.margin.member_margin, [50, 25, 24, 10, 3])
    assert small.inputs.portfolio.group_ids == ("C", "D", "E", "G1")
    np.testing.assert_allclose(
        small.stress.exposures, [[0, 176], [30, 0], [0, 22], [225, 0]], atol=1e-9
    )
    assert small.stress.cover1.amount == pytest.approx(225)
    assert small.stress.cover2.amount == pytest.approx(255)
    assert small.stress.cover2.scenario == 0
    assert small.stress.cover2.groups == (3, 1)  # G1 then D
    assert small.stress.art42_floor.amount == pytest.approx(225)


def test_small_ccp_fund_is_cover2_less_junior_sitg(small: EndOfDay) -> None:
    fund = small.fund
    assert fund.sizing.binding is SizingConstraint.COVER
    assert fund.sizing.size == pytest.approx(240)
    assert fund.fund_money == Money.of("240.00", USD)
    assert sum_money(fund.contributions_money, USD) == fund.fund_money
    # Pro rata to each member's worst loss over margin: A 150, B 75, C 176, D 30, E 22.
    keys = np.asarray([150, 75, 176, 30, 22], dtype=np.float64)
    np.testing.assert_allclose(fund.contributions, 240 * keys / keys.sum())


def test_small_ccp_sizing_drill_uses_every_prefunded_layer_and_no_assessment(
    small: EndOfDay,
) -> None:
    drill = small.worst_drill
    assert drill.scenario_name == "down 20%"
    assert drill.groups == ("G1", "D")
    assert drill.defaulters == ("A", "B", "D")
    assert drill.loss == Money.of("340.00", USD)
    assert _margin_used(drill) == Money.of("85.00", USD)
    summary = summarise(drill.result)
    assert summary.ccp_capital_used == Money.of("15.00", USD)
    # The survivors' whole fund is used: C's and E's contributions.
    survivors = [m for m in drill.case.members if m.id in ("C", "E")]
    assert summary.member_fund_used == sum_money((m.default_fund for m in survivors), USD)
    assert summary.assessments.is_zero()
    assert summary.uncovered.is_zero()
    other = small.drills[1]
    assert other.groups == ("C", "E")
    assert other.loss - _margin_used(other) == Money.of("198.00", USD)


def test_small_ccp_fund_capped_below_cover2_needs_assessments() -> None:
    # A cap of 200 leaves 200 + 15 for the 255 beyond margin: 40 is assessed.
    capped = end_of_day(_small_ccp(cap=200.0, multipliers=(0.5, 1.0, 2.0)))
    assert capped.fund.sizing.binding is SizingConstraint.CAP
    summary = summarise(capped.worst_drill.result)
    assert summary.assessments == Money.of("40.00", USD)
    assert summary.uncovered.is_zero()
    # ...and reverse stress finds the scenario exhausted below 1x.
    assert capped.reverse is not None
    assert capped.reverse.multiplier[0] < 1.0


def test_small_ccp_reverse_stress_is_at_least_one_when_the_fund_covers_it(
    small: EndOfDay,
) -> None:
    reverse = small.reverse
    assert reverse is not None
    # At 1x the prefunded 255 meets exactly the 255 beyond margin. Shocks are log
    # returns, so 2x "down 20%" is 0.8 x 0.8 - 1 = -36%, -36 a unit: A 360 - 50,
    # B 180 - 25 and D 72 - 10 take 527 beyond margin and exhaust it by 272.
    assert reverse.multiplier[0] == pytest.approx(1.0)
    assert reverse.multiplier[0] >= 1.0
    assert reverse.headroom[1, 0] == pytest.approx(255 - 527)


def test_small_ccp_capital_by_hand(small: EndOfDay) -> None:
    capital = compute_capital(small.inputs, small.margin, small.stress, small.fund)
    # EAD, the worst gross stress loss: A 200, B 100, C 200, D 40, E 25.
    np.testing.assert_allclose(capital.ead, [200, 100, 200, 40, 25])
    # EAD - IM is each member's key (sum 453); less DF = key x (1 - 240/453): sum 213.
    assert capital.k_ccp == pytest.approx(213 * 0.2 * 0.08)
    contributions = small.fund.contributions
    np.testing.assert_allclose(capital.k_cm, capital.k_ccp * contributions / (15 + 240))
    assert (capital.k_cm >= 0.08 * 0.02 * contributions).all()
    # A tiny risk weight makes K_CCP small and the 8% x 2% x DF floor binds.
    floored = compute_capital(
        small.inputs, small.margin, small.stress, small.fund, risk_weight=0.001
    )
    assert floored.k_ccp == pytest.approx(213 * 0.001 * 0.08)
    np.testing.assert_allclose(floored.k_cm, 0.08 * 0.02 * contributions)


@settings(max_examples=60)
@given(
    quantities=st.tuples(*[st.integers(-20, 20) for _ in MEMBERS]),
    moves=st.lists(
        st.integers(60, 140).filter(lambda k: k != 100), min_size=1, max_size=4, unique=True
    ),
    sitg=st.sampled_from(("0", "10", "50")),
    basis=st.sampled_from(tuple(CoverBasis)),
    minimum=st.sampled_from((0.0, 5.0, 40.0)),
)
def test_fund_sized_to_cover2_never_assesses_for_two_groups(
    quantities: tuple[int, ...], moves: list[int], sitg: str, basis: CoverBasis, minimum: float
) -> None:
    # [LCH-STRESS-THIS-HOUSE]: a fund sized exactly to Cover-2 (no buffer) with junior SITG,
    # on either sizing basis and whatever minimum contribution: the Cover-2 default of
    # every scenario is met by prefunded resources. Moves of k% from 100 give whole P&L
    # per unit, so no rounding blurs the boundary.
    stress = tuple(StressDefinition(f"to {k}", (("x", math.log(k / 100)),)) for k in moves)
    inputs = _small_ccp(tuple(float(q) for q in quantities), stress, sitg=sitg, multipliers=(1.0,))
    params = replace(inputs.fund_params, buffer=0.0, basis=basis, minimum_contribution=minimum)
    eod = end_of_day(replace(inputs, fund_params=params))
    for drill in eod.drills:
        summary = summarise(drill.result)
        assert summary.assessments.is_zero(), drill.scenario_name
        assert summary.uncovered.is_zero(), drill.scenario_name

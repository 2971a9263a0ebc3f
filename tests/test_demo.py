"""The synthetic demo CCP: deterministic, plausible, and in step with its committed files."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from ccpwaterfall.io.portfolio import load_portfolio
from ccpwaterfall.risk.portfolio import build_portfolio
from ccpwaterfall.risk.pricing import instrument_pnl
from ccpwaterfall.risk.scenarios import stress_scenarios
from ccpwaterfall.samples.demo import DEMO_CONTRACTS, demo_portfolio

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp"
SPOT = {"sp500": 2485.74, "nasdaq": 6584.52, "wti": 45.15}
DATA_FILES = ("members.csv", "accounts.csv", "instruments.csv", "positions.parquet")


def test_the_same_seed_gives_the_same_portfolio() -> None:
    rows_a, instruments_a = demo_portfolio(42, SPOT)
    rows_b, instruments_b = demo_portfolio(42, SPOT)
    rows_c, _ = demo_portfolio(43, SPOT)
    assert rows_a.account_ids == rows_b.account_ids
    np.testing.assert_array_equal(rows_a.position_quantities, rows_b.position_quantities)
    np.testing.assert_array_equal(rows_a.position_instruments, rows_b.position_instruments)
    assert instruments_a.ids == instruments_b.ids
    assert not np.array_equal(rows_a.position_quantities, rows_c.position_quantities)


def test_the_demo_has_the_shape_asked_for() -> None:
    rows, instruments = demo_portfolio(1, SPOT, n_members=40, n_groups=30, n_accounts=400)
    portfolio = build_portfolio(rows, instruments.ids)
    assert portfolio.n_members == 40
    assert portfolio.n_groups == 30
    assert portfolio.n_accounts == 400
    # Every member has a house account; the rest are client accounts.
    house = ~portfolio.account_is_client
    np.testing.assert_array_equal(np.bincount(portfolio.account_member[house]), np.ones(40))
    assert instruments.factor_ids == tuple(DEMO_CONTRACTS)
    assert instruments.is_option.sum() > 0
    assert (~instruments.is_option).sum() >= 12
    quantities = portfolio.positions.data
    assert (quantities > 0).any()
    assert (quantities < 0).any()
    np.testing.assert_array_equal(quantities, np.round(quantities))  # whole contracts


def test_strikes_sit_around_todays_levels() -> None:
    _, instruments = demo_portfolio(1, SPOT)
    spot = np.array([SPOT[f] for f in instruments.factor_ids])
    moneyness = (
        instruments.strike[instruments.is_option]
        / spot[instruments.underlying[instruments.is_option]]
    )
    assert moneyness.min() > 0.8
    assert moneyness.max() < 1.2
    vols = instruments.volatility[instruments.is_option]
    assert ((vols > 0.05) & (vols < 1.0)).all()


def test_the_two_concentrated_members_dominate_the_crash_losses() -> None:
    rows, instruments = demo_portfolio(1, SPOT)
    portfolio = build_portfolio(rows, instruments.ids)
    scenarios = stress_scenarios(
        {"equity crash": {"sp500": -0.2, "nasdaq": -0.25}, "oil crash": {"wti": -0.35}},
        instruments.factor_ids,
    )
    spot = np.array([SPOT[f] for f in instruments.factor_ids])
    loss = -(portfolio.positions @ instrument_pnl(instruments, spot, scenarios, 2))
    by_member = portfolio.member_accounts() @ loss
    worst = [portfolio.member_ids[i] for i in np.argmax(by_member, axis=0)]
    assert worst == ["CM01", "CM02"]  # the equity put writer, then the long oil book


def test_the_demo_needs_its_three_factors() -> None:
    with pytest.raises(ValueError, match="spot levels"):
        demo_portfolio(1, {"gold": 1.0})


def test_committed_files_are_what_generate_writes(tmp_path: Path) -> None:
    script = runpy.run_path(str(DEMO / "generate.py"), run_name="demo_generate")
    script["write_demo"](tmp_path)
    factors = tuple(DEMO_CONTRACTS)
    committed, committed_instruments = load_portfolio(
        *(DEMO / name for name in DATA_FILES), factor_ids=factors
    )
    fresh, fresh_instruments = load_portfolio(
        *(tmp_path / name for name in DATA_FILES), factor_ids=factors
    )
    assert committed.account_ids == fresh.account_ids
    assert committed.member_names == fresh.member_names
    assert committed.group_ids == fresh.group_ids
    np.testing.assert_array_equal(committed.positions.toarray(), fresh.positions.toarray())
    np.testing.assert_array_equal(committed_instruments.strike, fresh_instruments.strike)
    np.testing.assert_array_equal(committed_instruments.volatility, fresh_instruments.volatility)


def test_committed_files_are_small() -> None:
    assert sum((DEMO / name).stat().st_size for name in DATA_FILES) < 1_000_000

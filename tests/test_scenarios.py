"""Scenario sets: historical (plain and filtered) MPOR returns, stress, scaling grids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from ccpwaterfall.risk.params import ScenarioParams, VolatilityFilter
from ccpwaterfall.risk.scenarios import (
    PriceHistory,
    ScenarioKind,
    ScenarioSet,
    StressDefinition,
    concat_scenarios,
    ewma_variance,
    historical_scenarios,
    scale_scenarios,
    stress_scenarios,
    stress_set,
)


def _history(levels: NDArray[np.float64], start: str = "2020-01-01") -> PriceHistory:
    dates = np.datetime64(start) + np.arange(levels.shape[0])
    return PriceHistory(dates, tuple(f"f{j}" for j in range(levels.shape[1])), levels)


def _random_walk(n_days: int, n_factors: int, seed: int) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (n_days, n_factors)), axis=0))


@given(
    n_days=st.integers(3, 60),
    mpor=st.integers(1, 5),
    lookback=st.one_of(st.none(), st.integers(2, 80)),
    seed=st.integers(0, 1000),
)
def test_unfiltered_scenarios_are_overlapping_mpor_log_returns(
    n_days: int, mpor: int, lookback: int | None, seed: int
) -> None:
    if n_days <= mpor:
        n_days = mpor + 1
    levels = _random_walk(n_days, 2, seed)
    history = _history(levels)
    scenarios = historical_scenarios(history, ScenarioParams(mpor, lookback))
    expected = np.log(levels[mpor:] / levels[:-mpor])
    n = expected.shape[0] if lookback is None else min(lookback, expected.shape[0])
    np.testing.assert_allclose(scenarios.factor_returns, expected[-n:], rtol=1e-12, atol=1e-15)
    assert scenarios.names == tuple(str(d) for d in history.dates[-n:])
    assert scenarios.kind is ScenarioKind.HISTORICAL
    assert not scenarios.vol_shifts.any()


def test_scenarios_are_named_by_their_end_date_and_cover_the_lookback() -> None:
    history = _history(_random_walk(30, 1, 0), start="2008-10-01")
    scenarios = historical_scenarios(history, ScenarioParams(mpor_days=2, lookback_days=5))
    assert scenarios.names == ("2008-10-26", "2008-10-27", "2008-10-28", "2008-10-29", "2008-10-30")


def test_a_history_needs_more_days_than_the_margin_period() -> None:
    with pytest.raises(ValueError, match="no 5-day returns"):
        historical_scenarios(_history(_random_walk(5, 1, 0)), ScenarioParams(mpor_days=5))


def test_ewma_variance_follows_its_recursion() -> None:
    rng = np.random.default_rng(5)
    daily = rng.normal(0.0, 0.02, (200, 3))
    lam = 0.94
    variance = ewma_variance(daily, lam)
    # Reference: the recursion written out day by day.
    expected = np.empty((201, 3))
    expected[0] = np.mean(daily**2, axis=0)
    for t in range(1, 201):
        expected[t] = lam * expected[t - 1] + (1 - lam) * daily[t - 1] ** 2
    np.testing.assert_allclose(variance, expected, rtol=1e-12)


def test_ewma_filter_rescales_each_daily_return_to_todays_volatility() -> None:
    levels = _random_walk(120, 2, 9)
    daily = np.diff(np.log(levels), axis=0)
    sigma = np.sqrt(ewma_variance(daily, 0.97))
    filtered = daily * sigma[-1] / sigma[:-1]
    expected = filtered[1:] + filtered[:-1]  # overlapping 2-day sums
    scenarios = historical_scenarios(
        _history(levels), ScenarioParams(2, None, VolatilityFilter.EWMA, 0.97)
    )
    np.testing.assert_allclose(scenarios.factor_returns, expected, rtol=1e-12)


def _regime_change(seed: int) -> NDArray[np.float64]:
    """Calm (1% daily) for 1,500 days, then turbulent (3% daily) for 500 days."""
    rng = np.random.default_rng(seed)
    vol = np.r_[np.full(1500, 0.01), np.full(500, 0.03)]
    levels: NDArray[np.float64] = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1.0, 2000) * vol))
    return levels[:, None]


@pytest.mark.parametrize("vol_filter", [VolatilityFilter.EWMA, VolatilityFilter.GARCH])
def test_filtering_scales_calm_history_up_to_turbulent_today(
    vol_filter: VolatilityFilter,
) -> None:
    history = _history(_regime_change(4))
    plain = historical_scenarios(history, ScenarioParams(1, None))
    filtered = historical_scenarios(history, ScenarioParams(1, None, vol_filter))
    calm = slice(200, 1400)
    # Today is turbulent: calm days are scaled up to about today's 3% volatility.
    assert np.std(plain.factor_returns[calm]) == pytest.approx(0.01, rel=0.1)
    assert np.std(filtered.factor_returns[calm]) == pytest.approx(0.03, rel=0.25)
    # Turbulent days are left about as they were.
    turbulent = slice(1600, None)
    ratio = np.std(filtered.factor_returns[turbulent]) / np.std(plain.factor_returns[turbulent])
    assert ratio == pytest.approx(1.0, abs=0.25)


def test_a_factor_that_never_moves_stays_still_when_filtered() -> None:
    levels = np.column_stack([_random_walk(50, 1, 2)[:, 0], np.full(50, 7.0)])
    scenarios = historical_scenarios(
        _history(levels), ScenarioParams(2, None, VolatilityFilter.EWMA)
    )
    assert np.isfinite(scenarios.factor_returns).all()
    assert not scenarios.factor_returns[:, 1].any()


def test_stress_scenarios_shock_named_factors_and_leave_the_rest() -> None:
    scenarios = stress_scenarios(
        {"Equity crash": {"sp500": -0.25, "nasdaq": -0.3}, "Oil spike": {"wti": 0.4}},
        ("sp500", "nasdaq", "wti"),
        {"Equity crash": {"sp500": 0.5}},
    )
    assert scenarios.names == ("Equity crash", "Oil spike")
    np.testing.assert_array_equal(scenarios.factor_returns, [[-0.25, -0.3, 0.0], [0.0, 0.0, 0.4]])
    np.testing.assert_array_equal(scenarios.vol_shifts, [[0.5, 0.0, 0.0], [0.0, 0.0, 0.0]])
    assert scenarios.kind is ScenarioKind.STRESS


def test_stress_definitions_build_the_same_set() -> None:
    definitions = (
        StressDefinition("A", (("x", -0.1),), (("y", 0.2),)),
        StressDefinition("B", (("y", 0.3),)),
    )
    built = stress_set(definitions, ("x", "y"))
    np.testing.assert_array_equal(built.factor_returns, [[-0.1, 0.0], [0.0, 0.3]])
    np.testing.assert_array_equal(built.vol_shifts, [[0.0, 0.2], [0.0, 0.0]])


def test_stress_on_an_unknown_factor_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown risk factors"):
        stress_scenarios({"A": {"gold": 0.1}}, ("sp500",))
    with pytest.raises(ValueError, match="unknown scenarios"):
        stress_scenarios({"A": {}}, ("sp500",), {"B": {"sp500": 0.1}})


def test_cftc_reverse_stress_grid_scales_the_base_linearly() -> None:
    # CFTC supervisory stress test [CFTC-SST-2019]: multipliers 1, 2
    # and 5 of a 45 bp / 5% base give 45/90/225 bp and 5/10/25%.
    base = ScenarioSet(
        ("Post-Lehman day",),
        ("swap_rate", "equity"),
        np.array([[0.0045, -0.05]]),
        np.array([[0.0, 0.2]]),
        ScenarioKind.STRESS,
    )
    grid = scale_scenarios(base, [1, 2, 5])
    assert grid.names == ("Post-Lehman day x1", "Post-Lehman day x2", "Post-Lehman day x5")
    np.testing.assert_allclose(grid.factor_returns[:, 0] * 1e4, [45.0, 90.0, 225.0], rtol=1e-12)
    np.testing.assert_allclose(grid.factor_returns[:, 1], [-0.05, -0.10, -0.25], rtol=1e-12)
    np.testing.assert_allclose(grid.vol_shifts[:, 1], [0.2, 0.4, 1.0], rtol=1e-12)
    assert grid.kind is ScenarioKind.STRESS


def test_scaling_is_scenario_major_and_names_fractional_multipliers() -> None:
    base = stress_scenarios({"A": {"x": 0.1}, "B": {"x": -0.2}}, ("x",))
    grid = scale_scenarios(base, [0.5, 3])
    assert grid.names == ("A x0.5", "A x3", "B x0.5", "B x3")
    np.testing.assert_allclose(grid.factor_returns[:, 0], [0.05, 0.3, -0.1, -0.6])
    with pytest.raises(ValueError, match="distinct"):
        scale_scenarios(base, [2, 2])
    with pytest.raises(ValueError, match="positive"):
        scale_scenarios(base, [0])


def test_scaled_volatility_falls_to_zero_and_no_further() -> None:
    base = stress_scenarios({"Rally": {"x": 0.1}}, ("x",), {"Rally": {"x": -0.3}})
    grid = scale_scenarios(base, [1, 3, 5])
    np.testing.assert_allclose(grid.vol_shifts[:, 0], [-0.3, -0.9, -1.0], rtol=1e-12)
    np.testing.assert_allclose(grid.factor_returns[:, 0], [0.1, 0.3, 0.5], rtol=1e-12)


def test_concatenated_sets_keep_their_order() -> None:
    a = stress_scenarios({"A": {"x": 0.1}}, ("x",))
    b = stress_scenarios({"B": {"x": 0.2}}, ("x",))
    joined = concat_scenarios(a, b)
    assert joined.names == ("A", "B")
    np.testing.assert_array_equal(joined.factor_returns[:, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match="unique"):
        concat_scenarios(a, a)


def test_scenario_arrays_are_read_only_copies() -> None:
    returns = np.array([[0.1]])
    scenarios = ScenarioSet(("A",), ("x",), returns, np.zeros((1, 1)), ScenarioKind.STRESS)
    returns[0, 0] = 9.0
    assert scenarios.factor_returns[0, 0] == 0.1
    with pytest.raises(ValueError, match="read-only"):
        scenarios.factor_returns[0, 0] = 1.0


def test_scenario_sets_reject_bad_shapes_and_values() -> None:
    with pytest.raises(ValueError, match="shape"):
        ScenarioSet(("A",), ("x", "y"), np.zeros((1, 1)), np.zeros((1, 2)), ScenarioKind.STRESS)
    with pytest.raises(ValueError, match="finite"):
        ScenarioSet(("A",), ("x",), np.array([[np.nan]]), np.zeros((1, 1)), ScenarioKind.STRESS)
    with pytest.raises(ValueError, match="at least -1"):
        ScenarioSet(("A",), ("x",), np.zeros((1, 1)), np.array([[-1.5]]), ScenarioKind.STRESS)


def test_price_histories_are_increasing_positive_and_complete() -> None:
    dates = np.array(["2020-01-02", "2020-01-03"], dtype="datetime64[D]")
    with pytest.raises(ValueError, match="increasing"):
        PriceHistory(dates[::-1], ("x",), np.ones((2, 1)))
    with pytest.raises(ValueError, match="positive"):
        PriceHistory(dates, ("x",), np.array([[1.0], [0.0]]))
    with pytest.raises(ValueError, match="positive"):
        PriceHistory(dates, ("x",), np.array([[1.0], [np.nan]]))
    history = PriceHistory(dates, ("x", "y"), np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(history.spot, [3.0, 4.0])
    np.testing.assert_array_equal(history.select(["y"]).levels[:, 0], [2.0, 4.0])

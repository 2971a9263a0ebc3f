"""Full revaluation: Black-76 prices and deltas, per-unit scenario P&L, SPAN risk arrays."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import integrate

from ccpwaterfall.risk.instruments import InstrumentKind, Instruments, build_instruments
from ccpwaterfall.risk.pricing import (
    TRADING_DAYS_PER_YEAR,
    black76_delta,
    black76_price,
    instrument_pnl,
    risk_array_pnl,
)
from ccpwaterfall.risk.scenarios import ScenarioKind, ScenarioSet

FACTORS = ("eq", "oil")


def _instruments(
    kinds: list[InstrumentKind],
    underlyings: list[str],
    strikes: list[float],
    expiries: list[float],
    vols: list[float],
    multipliers: list[float] | None = None,
) -> Instruments:
    n = len(kinds)
    return build_instruments(
        [f"I{i:03d}" for i in range(n)],
        kinds,
        underlyings,
        multipliers=multipliers or [1.0] * n,
        strikes=strikes,
        expiry_years=expiries,
        volatilities=vols,
        factor_ids=FACTORS,
    )


def _scenarios(returns: NDArray[np.float64], shifts: NDArray[np.float64]) -> ScenarioSet:
    return ScenarioSet(
        names=tuple(f"s{i}" for i in range(returns.shape[0])),
        factor_ids=FACTORS,
        factor_returns=returns,
        vol_shifts=shifts,
        kind=ScenarioKind.STRESS,
    )


def _quadrature_price(f: float, k: float, t: float, v: float, call: bool, r: float) -> float:
    """Discounted expected payoff under a lognormal forward, by numerical integration."""
    sd = v * math.sqrt(t)

    def payoff(z: float) -> float:
        end = f * math.exp(sd * z - 0.5 * sd * sd)
        gain = end - k if call else k - end
        return max(gain, 0.0) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    # The payoff has a kink at the strike: split the integral there.
    kink = (math.log(k / f) + 0.5 * sd * sd) / sd
    left, _ = integrate.quad(payoff, -12.0, kink, epsabs=1e-12, epsrel=1e-12)
    right, _ = integrate.quad(payoff, kink, 12.0, epsabs=1e-12, epsrel=1e-12)
    return math.exp(-r * t) * float(left + right)


@pytest.mark.parametrize(
    ("f", "k", "t", "v", "call", "r"),
    [
        (100.0, 100.0, 0.5, 0.2, True, 0.0),
        (100.0, 80.0, 0.25, 0.35, False, 0.03),
        (2500.0, 2800.0, 1.0, 0.18, True, 0.02),
        (45.0, 40.0, 1 / 12, 0.6, False, 0.0),
    ],
)
def test_black76_matches_the_discounted_expected_payoff(
    f: float, k: float, t: float, v: float, call: bool, r: float
) -> None:
    expected = _quadrature_price(f, k, t, v, call, r)
    assert float(black76_price(f, k, t, v, call, rate=r)) == pytest.approx(expected, rel=1e-8)


@given(
    f=st.floats(1.0, 5000.0),
    moneyness=st.floats(0.5, 2.0),
    t=st.floats(0.0, 3.0),
    v=st.floats(0.0, 1.5),
    r=st.floats(-0.02, 0.1),
)
def test_put_call_parity(f: float, moneyness: float, t: float, v: float, r: float) -> None:
    k = f * moneyness
    call = float(black76_price(f, k, t, v, True, rate=r))
    put = float(black76_price(f, k, t, v, False, rate=r))
    assert call - put == pytest.approx(math.exp(-r * t) * (f - k), rel=1e-9, abs=1e-9 * f)
    assert call >= 0.0
    assert put >= 0.0


def test_expired_options_are_worth_their_intrinsic_value() -> None:
    price = black76_price(
        [90.0, 110.0, 90.0, 110.0], 100.0, [0.0, -0.1, 0.0, 0.0], 0.3, [True, True, False, False]
    )
    np.testing.assert_array_equal(price, [0.0, 10.0, 10.0, 0.0])


def test_zero_volatility_gives_the_discounted_intrinsic_value() -> None:
    price = black76_price(110.0, 100.0, 2.0, 0.0, True, rate=0.05)
    assert float(price) == pytest.approx(10.0 * math.exp(-0.1), rel=1e-15)


@given(
    f=st.floats(10.0, 1000.0),
    moneyness=st.floats(0.7, 1.4),
    t=st.floats(0.05, 2.0),
    v=st.floats(0.05, 0.8),
    call=st.booleans(),
)
def test_delta_is_the_slope_of_the_price(
    f: float, moneyness: float, t: float, v: float, call: bool
) -> None:
    k = f * moneyness
    h = 1e-6 * f
    slope = (
        float(black76_price(f + h, k, t, v, call)) - float(black76_price(f - h, k, t, v, call))
    ) / (2 * h)
    assert float(black76_delta(f, k, t, v, call)) == pytest.approx(slope, abs=1e-6)


def test_delta_of_expired_options_is_that_of_the_payoff() -> None:
    delta = black76_delta(
        [110.0, 90.0, 100.0, 110.0, 90.0, 100.0], 100.0, 0.0, 0.2, [True] * 3 + [False] * 3
    )
    np.testing.assert_array_equal(delta, [1.0, 0.0, 0.5, 0.0, -1.0, -0.5])


def test_linear_pnl_is_multiplier_times_the_price_move() -> None:
    instruments = _instruments(
        [InstrumentKind.FUTURE, InstrumentKind.FORWARD],
        ["eq", "oil"],
        [math.nan] * 2,
        [math.nan] * 2,
        [math.nan] * 2,
        multipliers=[50.0, 1000.0],
    )
    returns = np.array([[0.1, -0.2], [-0.05, 0.0], [0.0, 0.3]])
    spot = np.array([2500.0, 45.0])
    pnl = instrument_pnl(instruments, spot, _scenarios(returns, np.zeros_like(returns)), 2)
    expected = np.array(
        [50.0 * 2500.0 * np.expm1(returns[:, 0]), 1000.0 * 45.0 * np.expm1(returns[:, 1])]
    )
    np.testing.assert_allclose(pnl, expected, rtol=1e-14)
    assert pnl.dtype == np.float64
    assert pnl.shape == (2, 3)


def test_option_pnl_is_the_change_of_black76_value_over_the_horizon() -> None:
    rng = np.random.default_rng(3)
    n = 12
    kinds = [InstrumentKind.CALL, InstrumentKind.PUT] * (n // 2)
    underlyings = ["eq", "oil"] * (n // 2)
    spot = np.array([2500.0, 45.0])
    u = np.array([0, 1] * (n // 2))
    strikes = spot[u] * rng.uniform(0.8, 1.2, n)
    expiries = rng.uniform(0.0, 1.0, n)
    expiries[:2] = 1.0 / TRADING_DAYS_PER_YEAR  # expire within the 2-day horizon
    vols = rng.uniform(0.1, 0.6, n)
    mult = rng.uniform(1.0, 100.0, n)
    instruments = _instruments(
        kinds, underlyings, strikes.tolist(), expiries.tolist(), vols.tolist(), mult.tolist()
    )
    returns = rng.normal(0.0, 0.05, (7, 2))
    shifts = rng.uniform(-0.5, 1.0, (7, 2))
    rate = 0.02
    pnl = instrument_pnl(instruments, spot, _scenarios(returns, shifts), 2, rate=rate)

    # Reference: the same prices computed one scenario at a time, instruments in id order.
    order = np.argsort([f"I{i:03d}" for i in range(n)])
    left = np.maximum(expiries - 2 / TRADING_DAYS_PER_YEAR, 0.0)
    call = np.array([k is InstrumentKind.CALL for k in kinds])
    today = black76_price(spot[u], strikes, expiries, vols, call, rate=rate)
    for s in range(returns.shape[0]):
        moved = black76_price(
            spot[u] * np.exp(returns[s, u]),
            strikes,
            left,
            vols * (1.0 + shifts[s, u]),
            call,
            rate=rate,
        )
        np.testing.assert_allclose(
            pnl[:, s], (mult * (moved - today))[order], rtol=1e-12, atol=1e-9
        )
    # Expired within the horizon: worth exactly the scenario's intrinsic value.
    forward = spot[u[0]] * np.exp(returns[:, u[0]])
    intrinsic = np.maximum(forward - strikes[0], 0.0)
    np.testing.assert_allclose(pnl[0], mult[0] * (intrinsic - today[0]), rtol=1e-12, atol=1e-9)


def test_a_long_option_gains_from_higher_implied_volatility() -> None:
    instruments = _instruments(
        [InstrumentKind.CALL, InstrumentKind.PUT],
        ["eq", "eq"],
        [100.0, 100.0],
        [0.5, 0.5],
        [0.2, 0.2],
    )
    returns = np.zeros((3, 2))
    shifts = np.array([[-0.5, 0.0], [0.0, 0.0], [0.5, 0.0]])
    pnl = instrument_pnl(instruments, np.array([100.0, 50.0]), _scenarios(returns, shifts), 0)
    assert (np.diff(pnl, axis=1) > 0).all()
    np.testing.assert_allclose(pnl[:, 1], 0.0, atol=1e-12)


def test_pnl_needs_the_instruments_factors_and_positive_spot() -> None:
    instruments = _instruments([InstrumentKind.FUTURE], ["eq"], [math.nan], [math.nan], [math.nan])
    other = ScenarioSet(("s",), ("eq",), np.zeros((1, 1)), np.zeros((1, 1)), ScenarioKind.STRESS)
    with pytest.raises(ValueError, match="different risk factors"):
        instrument_pnl(instruments, np.array([1.0]), other, 2)
    scenarios = _scenarios(np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="positive"):
        instrument_pnl(instruments, np.array([1.0, 0.0]), scenarios, 2)


def test_pnl_allocates_only_a_few_arrays_of_its_size() -> None:
    rng = np.random.default_rng(11)
    n, n_s = 400, 1500
    instruments = _instruments(
        [InstrumentKind.CALL, InstrumentKind.PUT] * (n // 2),
        ["eq", "oil"] * (n // 2),
        rng.uniform(80.0, 120.0, n).tolist(),
        rng.uniform(0.0, 1.0, n).tolist(),
        rng.uniform(0.1, 0.5, n).tolist(),
    )
    scenarios = _scenarios(rng.normal(0, 0.03, (n_s, 2)), rng.uniform(-0.3, 0.3, (n_s, 2)))
    tracemalloc.start()
    try:
        pnl = instrument_pnl(instruments, np.array([100.0, 100.0]), scenarios, 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The output, two scratch arrays and a bool mask when every instrument is an option.
    assert peak < 3.5 * pnl.nbytes


# McMillan, Options as a Strategic Investment, ch. 34 (docs/references.md [MCMILLAN-SPAN]):
# S&P 500 future, $500 a point, price scan range 20 points; P/L of one long future in
# the 16 SPAN scenarios, rounded by the book to $10.
MCMILLAN_LONG_FUTURE = [
    0, 0, 3330, 3330, -3330, -3330, 6670, 6670,
    -6670, -6670, 10000, 10000, -10000, -10000, 7000, -7000,
]  # fmt: skip


def test_span_risk_array_of_a_long_future_matches_mcmillan() -> None:
    future = build_instruments(
        ["SP"],
        [InstrumentKind.FUTURE],
        ["eq"],
        multipliers=[500.0],
        strikes=[math.nan],
        expiry_years=[math.nan],
        volatilities=[math.nan],
        factor_ids=("eq",),
    )
    array = risk_array_pnl(future, [400.0], [20.0], [0.1])
    # The book rounds to $10: 1/3 of $10,000 is printed 3,330 (exactly 3,333.33).
    np.testing.assert_allclose(array[0], MCMILLAN_LONG_FUTURE, atol=10.0)
    # [MCMILLAN-SPAN]'s extreme move of 14 points is 0.35 x 2 x 20: $7,000.
    assert array[0, 14] == pytest.approx(7000.0, rel=1e-12)


def test_span_risk_array_of_an_option_brackets_volatility_and_counts_35_percent() -> None:
    call = _instruments([InstrumentKind.CALL], ["eq"], [410.0], [0.25], [0.2], [500.0])
    array = risk_array_pnl(call, [400.0, 50.0], [20.0, 2.0], [0.1, 0.1])[0]
    up, down = array[0:14:2], array[1:14:2]
    assert (up > down).all()  # a long option gains from the volatility-up leg
    # Price moves 0, +1/3, -1/3, +2/3, -2/3, +1, -1: the call gains as the price rises.
    assert up[5] > up[3] > up[1] > up[0] > up[2] > up[4] > up[6]
    full = risk_array_pnl(call, [400.0, 50.0], [20.0, 2.0], [0.1, 0.1], cover_fraction=1.0)[0]
    np.testing.assert_allclose(array[14:], 0.35 * full[14:], rtol=1e-14)
    np.testing.assert_allclose(array[:14], full[:14], rtol=1e-14)


def test_span_extreme_moves_may_not_take_a_price_below_zero() -> None:
    future = _instruments([InstrumentKind.FUTURE], ["eq"], [math.nan], [math.nan], [math.nan])
    with pytest.raises(ValueError, match="zero or below"):
        risk_array_pnl(future, [30.0, 50.0], [20.0, 1.0], [0.1, 0.1])

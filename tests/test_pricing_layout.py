"""instrument_pnl on mixed books: each row is what the instrument gets priced on its own."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from ccpwaterfall.risk.instruments import InstrumentKind, Instruments, build_instruments
from ccpwaterfall.risk.pricing import instrument_pnl
from ccpwaterfall.risk.scenarios import ScenarioKind, ScenarioSet

FACTORS = ("eq", "oil", "gas")
SPOT = np.array([2500.0, 45.0, 3.2])


def _book(kinds: NDArray[np.int_], seed: int) -> Instruments:
    """Instruments in id order: code 0 future, 1 call, 2 put, 3 forward."""
    rng = np.random.default_rng(seed)
    n = kinds.size
    table = (InstrumentKind.FUTURE, InstrumentKind.CALL, InstrumentKind.PUT, InstrumentKind.FORWARD)
    option = (kinds == 1) | (kinds == 2)
    u = rng.integers(0, len(FACTORS), n)
    return build_instruments(
        [f"I{i:03d}" for i in range(n)],
        [table[k] for k in kinds.tolist()],
        [FACTORS[j] for j in u.tolist()],
        multipliers=rng.uniform(1.0, 100.0, n),
        strikes=np.where(option, SPOT[u] * rng.uniform(0.8, 1.2, n), math.nan),
        expiry_years=np.where(option, rng.choice([0.0, 0.004, 0.5, 2.0], n), math.nan),
        volatilities=np.where(option, rng.choice([0.0, 0.2, 0.6], n), math.nan),
        factor_ids=FACTORS,
    )


def _rows(book: Instruments, keep: NDArray[np.bool_]) -> Instruments:
    """The instruments of ``book`` where ``keep``, in the same (id) order."""
    return Instruments(
        ids=tuple(np.asarray(book.ids)[keep].tolist()),
        factor_ids=book.factor_ids,
        kind=book.kind[keep],
        underlying=book.underlying[keep],
        multiplier=book.multiplier[keep],
        strike=book.strike[keep],
        expiry_years=book.expiry_years[keep],
        volatility=book.volatility[keep],
    )


def _scenarios(seed: int, n: int = 9) -> ScenarioSet:
    rng = np.random.default_rng(seed)
    shifts = rng.uniform(-0.5, 1.0, (n, len(FACTORS)))
    shifts[0, 0] = -1.0  # implied volatility falls to zero: intrinsic value
    return ScenarioSet(
        names=tuple(f"s{i}" for i in range(n)),
        factor_ids=FACTORS,
        factor_returns=rng.normal(0.0, 0.05, (n, len(FACTORS))),
        vol_shifts=shifts,
        kind=ScenarioKind.STRESS,
    )


@pytest.mark.parametrize("future_share", [0.0, 0.2, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("rate", [0.0, 0.03])
def test_each_row_is_the_instruments_pnl_priced_alone(future_share: float, rate: float) -> None:
    rng = np.random.default_rng(11)
    n = 40
    kinds = np.where(rng.random(n) < future_share, rng.choice([0, 3], n), rng.integers(1, 3, n))
    book = _book(kinds, seed=12)
    scenarios = _scenarios(seed=13)
    pnl = instrument_pnl(book, SPOT, scenarios, 2, rate=rate)

    option = book.is_option
    for keep in (option, ~option):
        if keep.any():
            alone = instrument_pnl(_rows(book, keep), SPOT, scenarios, 2, rate=rate)
            np.testing.assert_array_equal(pnl[keep], alone)
    assert np.isfinite(pnl).all()


def test_a_live_option_is_priced_the_same_beside_an_expired_one() -> None:
    # With an expired option in the book every option goes through the intrinsic-value
    # branch; priced alone, the live option does not. Its P&L must be the same.
    book = build_instruments(
        ["A-live", "B-expired"],
        [InstrumentKind.CALL, InstrumentKind.PUT],
        ["oil", "oil"],
        multipliers=[1000.0, 1000.0],
        strikes=[47.0, 44.0],
        expiry_years=[0.25, 0.0],
        volatilities=[0.35, 0.35],
        factor_ids=FACTORS,
    )
    live = np.array([True, False])
    scenarios = _scenarios(seed=6)
    pnl = instrument_pnl(book, SPOT, scenarios, 2)
    alone = instrument_pnl(_rows(book, live), SPOT, scenarios, 2)
    np.testing.assert_array_equal(pnl[live], alone)
    # The expired put moves with its intrinsic value, max(K - F, 0).
    forward = SPOT[1] * np.exp(scenarios.factor_returns[:, 1])
    intrinsic = np.maximum(44.0 - forward, 0.0) - max(44.0 - SPOT[1], 0.0)
    np.testing.assert_allclose(pnl[1], 1000.0 * intrinsic, rtol=1e-12, atol=1e-9)

"""Initial margin: VaR and ES order statistics, SPAN scan risk, EMIR anti-procyclicality."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.typing import NDArray

from ccpwaterfall.risk.margin import (
    MARGIN_MEASURES,
    expected_shortfall,
    initial_margin,
    k_for_confidence,
    margin_breaches,
    scan_risk,
    scan_risk_scenario,
    span_scan_risk,
    value_at_risk,
)
from ccpwaterfall.risk.params import AntiProcyclicality, MarginModel, MarginParams

# McMillan, Options as a Strategic Investment, ch. 34 (docs/references.md [MCMILLAN-SPAN]):
# P/L per contract, gains positive, SPAN scenarios 1-16.
LONG_FUTURE = [
    0, 0, 3330, 3330, -3330, -3330, 6670, 6670,
    -6670, -6670, 10000, 10000, -10000, -10000, 7000, -7000,
]  # fmt: skip
LONG_CALL = [
    460, -610, 2640, 1730, -1270, -2340, 5210, 4540,
    -2540, -3430, 8060, 7640, -3380, -3990, 3130, -1500,
]  # fmt: skip
COVERED_WRITE = [
    -460, 610, 690, 1600, -2060, -990, 1460, 2130,
    -4130, -3240, 1940, 2360, -6620, -6010, 3870, -5500,
]  # fmt: skip


@pytest.fixture
def risk_arrays() -> NDArray[np.float64]:
    return np.array([LONG_FUTURE, LONG_CALL], dtype=np.float64)


@pytest.fixture
def span_positions() -> sp.csr_array:
    # Accounts: a long future; a long call; a covered write (long future, short call).
    return sp.csr_array(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]))


def losses_as_pnl(losses: NDArray[np.float64]) -> NDArray[np.float64]:
    return -losses[None, :]


def test_k_for_confidence_reads_the_tail_count() -> None:
    # k = ceil(n (1 - alpha)); 6 of 2,500 ([LCH-PAIRS] convention) is a 0.24% tail.
    assert k_for_confidence(2500, 0.99) == 25  # not 26 from 25.000000000000025
    assert k_for_confidence(2500, 1 - 0.0024) == 6
    assert k_for_confidence(250, 0.99) == 3  # ceil(2.5)
    assert k_for_confidence(10, 0.999) == 1  # at least one scenario
    with pytest.raises(ValueError, match="n_scenarios"):
        k_for_confidence(0, 0.99)
    with pytest.raises(ValueError, match="confidence"):
        k_for_confidence(100, 1.0)


def test_pairs_expected_shortfall_of_six_worst_of_2500() -> None:
    # [LCH-PAIRS] convention: losses 1..2500, ES(6 worst) = (2495 + ... + 2500) / 6 = 2497.5.
    losses = np.arange(1.0, 2501.0)
    rng = np.random.default_rng(7)
    pnl = losses_as_pnl(rng.permutation(losses))
    assert expected_shortfall(pnl, 6) == pytest.approx([2497.5])


def test_value_at_risk_is_the_kth_largest_loss() -> None:
    # VaR = l_(ceil(n (1 - alpha))) (the project's convention); losses 1..100.
    pnl = losses_as_pnl(np.arange(1.0, 101.0)[::-1].copy())
    assert value_at_risk(pnl, 0.99)[0] == 100.0  # k = 1
    assert value_at_risk(pnl, 0.95)[0] == 96.0  # k = 5: 100, 99, 98, 97, 96


def test_margin_is_never_negative() -> None:
    gains = np.array([[5.0, 10.0, 20.0], [-3.0, 1.0, 2.0]])
    assert value_at_risk(gains, 0.5).tolist() == [0.0, 0.0]
    assert expected_shortfall(gains, 1).tolist() == [0.0, 3.0]
    assert scan_risk(np.abs(np.array([LONG_FUTURE], dtype=np.float64))).tolist() == [0.0]


def test_each_account_has_its_own_margin() -> None:
    pnl = np.array([[-10.0, -1.0, 0.0, 5.0], [-2.0, -8.0, -4.0, 1.0]])
    assert expected_shortfall(pnl, 2).tolist() == [5.5, 6.0]
    assert value_at_risk(pnl, 0.5).tolist() == [1.0, 4.0]


def test_float32_pnl_gives_float64_margin() -> None:
    pnl = -np.arange(1.0, 2501.0, dtype=np.float32)[None, :]
    margin = expected_shortfall(pnl, 6)
    assert margin.dtype == np.float64
    assert margin[0] == pytest.approx(2497.5)


def test_nan_pnl_is_rejected_with_its_position() -> None:
    pnl = np.zeros((2, 5))
    pnl[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"pnl has NaN or infinite entries at \(1, 3\)"):
        value_at_risk(pnl, 0.9)
    with pytest.raises(ValueError, match="NaN"):
        expected_shortfall(pnl, 2)


def test_expected_shortfall_needs_k_within_the_scenarios() -> None:
    with pytest.raises(ValueError, match="k must be between 1 and 3"):
        expected_shortfall(np.zeros((1, 3)), 4)


def test_span_scan_risk_mcmillan(
    risk_arrays: NDArray[np.float64], span_positions: sp.csr_array
) -> None:
    # [MCMILLAN-SPAN]: long future 10,000; long call 3,990 (scenario 14); covered write
    # 6,620 (scenario 13).
    assert span_scan_risk(risk_arrays, span_positions).tolist() == [10000.0, 3990.0, 6620.0]
    scenarios = scan_risk_scenario(risk_arrays, span_positions)
    assert (scenarios[1:] + 1).tolist() == [14, 13]
    # The future loses 10,000 in both scenarios 13 and 14; the lower one is reported.
    assert scenarios[0] + 1 == 13


def test_covered_write_pnl_is_future_minus_call(
    risk_arrays: NDArray[np.float64], span_positions: sp.csr_array
) -> None:
    # [MCMILLAN-SPAN] lists the covered-write P/L: the portfolio product must give it.
    portfolio = np.asarray(span_positions @ risk_arrays)
    assert portfolio[2].tolist() == COVERED_WRITE


def test_span_needs_sixteen_scenarios() -> None:
    with pytest.raises(ValueError, match="16 risk-array scenarios"):
        scan_risk(np.zeros((1, 15)))


def test_initial_margin_dispatches_by_model() -> None:
    rng = np.random.default_rng(3)
    pnl = rng.normal(size=(4, 16))
    assert set(MARGIN_MEASURES) == set(MarginModel)
    var = initial_margin(pnl, MarginParams(model=MarginModel.VAR, confidence=0.9))
    np.testing.assert_array_equal(var, value_at_risk(pnl, 0.9))
    es = initial_margin(pnl, MarginParams(model=MarginModel.ES, es_worst=3))
    np.testing.assert_array_equal(es, expected_shortfall(pnl, 3))
    es_from_confidence = initial_margin(pnl, MarginParams(model=MarginModel.ES, confidence=0.8))
    np.testing.assert_array_equal(es_from_confidence, expected_shortfall(pnl, 4))  # ceil(3.2)
    span = initial_margin(pnl, MarginParams(model=MarginModel.SPAN))
    np.testing.assert_array_equal(span, np.maximum(-pnl.min(axis=1), 0.0))


def flat_loss(level: float, n_scenarios: int = 10) -> NDArray[np.float64]:
    """One account losing ``level`` in every scenario: every measure gives ``level``."""
    return np.full((1, n_scenarios), -level)


def test_apc_buffer_adds_a_quarter() -> None:
    # EMIR RTS 153/2013 Art 28(1)(a) [EMIR-RTS-153]: a buffer of at least 25%, so
    # a calculated margin of 100 needs a buffered margin of 125.
    params = MarginParams(es_worst=2, anti_procyclicality=AntiProcyclicality.BUFFER)
    assert initial_margin(flat_loss(100.0), params).tolist() == [125.0]


def test_apc_stressed_weight_blends_current_and_stressed() -> None:
    # Art 28(1)(b) [EMIR-RTS-153], 25% weight: 0.75 M(current) + 0.25 M(stressed).
    params = MarginParams(es_worst=2, anti_procyclicality=AntiProcyclicality.STRESSED_WEIGHT)
    margin = initial_margin(flat_loss(100.0), params, stressed_pnl=flat_loss(200.0, 250))
    assert margin.tolist() == [125.0]
    heavier = MarginParams(
        es_worst=2,
        anti_procyclicality=AntiProcyclicality.STRESSED_WEIGHT,
        apc_stressed_weight=0.5,
    )
    assert initial_margin(flat_loss(100.0), heavier, flat_loss(200.0)).tolist() == [150.0]
    with pytest.raises(ValueError, match="needs stressed_pnl"):
        initial_margin(flat_loss(100.0), params)
    with pytest.raises(ValueError, match="one per account"):
        initial_margin(flat_loss(100.0), params, stressed_pnl=np.zeros((2, 10)))


def test_apc_ten_year_floor_takes_the_larger() -> None:
    # Art 28(1)(c) [EMIR-RTS-153]: max(M, M over the 10-year look-back).
    params = MarginParams(es_worst=1, anti_procyclicality=AntiProcyclicality.TEN_YEAR_FLOOR)
    current = np.array([[-100.0, 0.0], [-30.0, 0.0]])
    long_history = np.array([[-80.0, 0.0, 0.0], [-60.0, 0.0, 0.0]])
    margin = initial_margin(current, params, long_history_pnl=long_history)
    assert margin.tolist() == [100.0, 60.0]
    with pytest.raises(ValueError, match="needs long_history_pnl"):
        initial_margin(current, params, stressed_pnl=long_history)


def test_margin_breaches_counts_days_over_margin() -> None:
    realised = np.array([[-5.0, -20.0, 3.0], [-11.0, -12.0, -10.0]])
    margin = np.array([[10.0, 10.0, 10.0], [10.0, 10.0, 10.0]])
    assert margin_breaches(realised, margin).tolist() == [1, 2]
    assert margin_breaches(realised[:, 1], margin[:, 1]).tolist() == [1, 1]
    with pytest.raises(ValueError, match="shape"):
        margin_breaches(realised, margin[:, :2])

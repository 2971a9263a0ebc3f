"""Aggregation kernels: account P&L from positions, and group sums."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ccpwaterfall.risk.aggregate import account_pnl, float_array, sum_by_index


def test_account_pnl_is_positions_times_unit_pnl() -> None:
    positions = sp.csr_array(np.array([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0]]))
    unit_pnl = np.array([[1.0, -2.0], [10.0, 0.0], [4.0, 4.0]])
    assert account_pnl(positions, unit_pnl).tolist() == [[-2.0, -8.0], [30.0, 0.0]]


def test_account_pnl_keeps_float32_and_matches_float64() -> None:
    rng = np.random.default_rng(5)
    positions = sp.random_array((30, 50), density=0.2, format="csc", rng=rng)
    unit_pnl = rng.normal(size=(50, 40))
    exact = positions.toarray() @ unit_pnl
    single = account_pnl(positions, unit_pnl.astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, exact, rtol=1e-4, atol=1e-4)
    double = account_pnl(positions, unit_pnl)
    assert double.dtype == np.float64
    np.testing.assert_allclose(double, exact, rtol=1e-12, atol=1e-12)


def test_account_pnl_rejects_nan_in_a_held_instrument() -> None:
    positions = sp.csr_array(np.array([[1.0, 0.0], [0.0, 0.0]]))
    unit_pnl = np.array([[np.nan, 1.0], [np.nan, 2.0]])
    with pytest.raises(ValueError, match=r"instrument_pnl has NaN or infinite entries at \(0, 0\)"):
        account_pnl(positions, unit_pnl)
    # An instrument nobody holds is not inspected.
    held_only = np.array([[1.0, 1.0], [np.nan, 2.0]])
    assert account_pnl(positions, held_only).tolist() == [[1.0, 1.0], [0.0, 0.0]]


def test_account_pnl_checks_shapes() -> None:
    with pytest.raises(ValueError, match="3 instruments but instrument_pnl has 2 rows"):
        account_pnl(sp.csr_array(np.ones((1, 3))), np.ones((2, 4)))
    with pytest.raises(ValueError, match="sparse"):
        account_pnl(np.ones((1, 2)), np.ones((2, 4)))


def test_sum_by_index_sums_rows_per_group() -> None:
    rng = np.random.default_rng(9)
    values = rng.normal(size=(200, 7))
    index = rng.integers(0, 12, size=200)
    expected = np.zeros((13, 7))
    np.add.at(expected, index, values)
    result = sum_by_index(values, index, 13)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
    assert result[12].tolist() == [0.0] * 7  # a group with no rows
    assert sum_by_index(values.astype(np.float32), index, 13).dtype == np.float32


def test_sum_by_index_checks_the_index() -> None:
    with pytest.raises(ValueError, match=r"index values must lie in \[0, 2\)"):
        sum_by_index(np.ones((3, 2)), np.array([0, 1, 2]), 2)
    with pytest.raises(ValueError, match=r"index must have shape \(3,\)"):
        sum_by_index(np.ones((3, 2)), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="integer"):
        sum_by_index(np.ones((2, 2)), np.array([0.0, 1.0]), 2)


def test_float_array_passes_float32_through_and_converts_the_rest() -> None:
    single = np.ones((2, 2), dtype=np.float32)
    assert float_array("x", single, 2) is single
    assert float_array("x", [[1, 2]], 2).dtype == np.float64
    with pytest.raises(ValueError, match=r"x must be 1-D, got shape \(2, 2\)"):
        float_array("x", single, 1)
    with pytest.raises(ValueError, match="and 1 more"):
        float_array("x", [np.inf] * 6, 1)

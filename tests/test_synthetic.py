"""Synthetic clearing days: seeded, well formed, concentrated and fat-tailed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ccpwaterfall.samples.synthetic import SMALL_CCP_DAY, CcpDay, DayShape, generate_day

MEDIUM = DayShape(
    n_members=40,
    n_groups=25,
    n_accounts=2_000,
    n_instruments=1_500,
    n_positions=40_000,
    n_margin_scenarios=600,
    n_stress_scenarios=100,
    n_factors=10,
)


@pytest.fixture(scope="module")
def medium_day() -> CcpDay:
    return generate_day(MEDIUM, seed=7)


def test_same_seed_same_day_other_seed_other_day() -> None:
    first, again, other = (generate_day(SMALL_CCP_DAY, seed=s) for s in (1, 1, 2))
    assert (first.positions != again.positions).nnz == 0
    np.testing.assert_array_equal(first.margin_pnl, again.margin_pnl)
    np.testing.assert_array_equal(first.stress_pnl, again.stress_pnl)
    np.testing.assert_array_equal(first.account_member, again.account_member)
    np.testing.assert_array_equal(first.member_group, again.member_group)
    assert not np.array_equal(first.margin_pnl, other.margin_pnl)


def test_day_has_the_requested_shape(medium_day: CcpDay) -> None:
    day, shape = medium_day, MEDIUM
    assert day.positions.shape == (shape.n_accounts, shape.n_instruments)
    assert day.positions.format == "csr"
    assert day.positions.has_canonical_format
    assert day.positions.nnz == shape.n_positions
    assert np.count_nonzero(day.positions.data) == shape.n_positions
    assert day.margin_pnl.shape == (shape.n_instruments, shape.n_margin_scenarios)
    assert day.stress_pnl.shape == (shape.n_instruments, shape.n_stress_scenarios)
    for pnl in (day.margin_pnl, day.stress_pnl):
        assert pnl.dtype == np.float64
        assert pnl.flags.c_contiguous
        assert np.isfinite(pnl).all()
    assert day.account_member.shape == (shape.n_accounts,)
    assert day.member_group.shape == (shape.n_members,)
    assert day.n_members == shape.n_members
    assert day.n_groups == shape.n_groups
    np.testing.assert_array_equal(day.account_group, day.member_group[day.account_member])


def test_every_account_member_and_group_is_used(medium_day: CcpDay) -> None:
    day = medium_day
    assert np.all(np.diff(day.positions.indptr) >= 1)  # no empty account
    assert np.all(np.bincount(day.account_member, minlength=day.n_members) >= 1)
    assert np.all(np.bincount(day.member_group, minlength=day.n_groups) >= 1)


def test_positions_are_concentrated(medium_day: CcpDay) -> None:
    day = medium_day
    per_account = np.diff(day.positions.indptr)
    # Power-law accounts: the largest holds many times the median number of positions.
    assert per_account.max() > 20 * np.median(per_account)
    # A few large members: the top 5% of members hold over a quarter of all positions.
    per_member = np.sort(np.bincount(day.account_member, weights=per_account))[::-1]
    top = max(1, day.n_members // 20)
    assert per_member[:top].sum() > 0.25 * per_member.sum()
    # Popular instruments: the most held is held far more often than the median one.
    per_instrument = np.bincount(day.positions.indices, minlength=MEDIUM.n_instruments)
    assert per_instrument.max() > 20 * max(np.median(per_instrument), 1.0)
    # Both long and short positions.
    assert (day.positions.data > 0).any()
    assert (day.positions.data < 0).any()


def excess_kurtosis(values: Any) -> Any:
    centred = values - values.mean(axis=1, keepdims=True)
    return (centred**4).mean(axis=1) / (centred**2).mean(axis=1) ** 2 - 3.0


def test_pnl_is_fat_tailed_and_stress_is_larger(medium_day: CcpDay) -> None:
    day = medium_day
    # Normal P&L has zero excess kurtosis; the factor model's is clearly positive.
    assert np.median(excess_kurtosis(day.margin_pnl)) > 1.0
    ratio = day.stress_pnl.std(axis=1) / day.margin_pnl.std(axis=1)
    assert np.median(ratio) > 2.0


def test_instruments_share_factors(medium_day: CcpDay) -> None:
    # Independent series of 600 scenarios have |correlation| near 0.03 on average; a factor
    # model's instruments move together far more, and some pairs (same factor) strongly.
    correlation = np.abs(np.corrcoef(medium_day.margin_pnl[:300]))
    off_diagonal = correlation[~np.eye(300, dtype=bool)]
    assert off_diagonal.mean() > 0.15
    assert np.mean(off_diagonal > 0.5) > 0.05


def test_float32_pnl() -> None:
    day = generate_day(SMALL_CCP_DAY, seed=1, dtype=np.float32)
    double = generate_day(SMALL_CCP_DAY, seed=1)
    assert day.margin_pnl.dtype == np.float32
    assert day.stress_pnl.dtype == np.float32
    assert day.positions.dtype == np.float64
    np.testing.assert_allclose(day.margin_pnl, double.margin_pnl, rtol=1e-6)
    with pytest.raises(ValueError, match="float64 or float32"):
        generate_day(SMALL_CCP_DAY, dtype=np.float16)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_groups": 0}, "at least 1"),
        ({"n_factors": 0}, "at least 1"),
        ({"n_stress_scenarios": 0}, "scenario counts"),
        ({"n_members": 5, "n_groups": 6}, "n_groups <= n_members"),
        ({"n_accounts": 10, "n_members": 11}, "n_members <= n_accounts"),
        ({"n_positions": 10}, "n_accounts <= n_positions"),
        ({"n_positions": 10**9}, "half of all cells"),
    ],
)
def test_impossible_shapes_are_rejected(change: dict[str, int], message: str) -> None:
    fields: dict[str, int] = {
        "n_members": 10,
        "n_groups": 5,
        "n_accounts": 50,
        "n_instruments": 20,
        "n_positions": 200,
        "n_margin_scenarios": 30,
        "n_stress_scenarios": 5,
        "n_factors": 3,
    }
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        DayShape(**fields)

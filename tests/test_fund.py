"""Default fund sizing, contributions and reverse stress."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from ccpwaterfall.risk.fund import (
    SizingConstraint,
    allocate_contributions,
    contribution_key,
    size_default_fund,
)
from ccpwaterfall.risk.params import ContributionMethod, CoverBasis, FundParams
from ccpwaterfall.risk.reverse_stress import reverse_stress, reverse_stress_linear
from ccpwaterfall.risk.stress import account_shortfall, group_exposures

# Worked example on [EMIR-648]: stressed uncovered exposures, affiliates merged.
T10 = np.array([[500.0], [300.0], [250.0], [100.0]])
# Worked example: group exposures beyond IM.
A5 = np.array([[100.0], [70.0], [60.0], [10.0]])


def spread_with_minimum(size: float, key: NDArray[np.float64], minimum: float) -> list[float]:
    """The textbook procedure, step by step: members whose pro rata share falls below the
    minimum pay the minimum, the rest is spread again over the others, until none moves."""
    fixed = np.zeros(key.shape, dtype=bool)
    while True:
        rest = size - minimum * fixed.sum()
        share = np.where(fixed, minimum, rest * key / key[~fixed].sum())
        below = ~fixed & (share < minimum)
        if not below.any():
            return [float(c) for c in share]
        fixed |= below


def test_fund_covers_cover2_t10() -> None:
    # T10: Cover-2 800 beats the Art 42(3) floor 550.
    sizing = size_default_fund(T10, FundParams())
    assert sizing.cover.amount == 800.0
    assert sizing.art42_floor == 550.0
    assert (sizing.required, sizing.size) == (800.0, 800.0)
    assert sizing.binding is SizingConstraint.COVER
    assert sizing.exposures.tolist() == T10.tolist()


def test_junior_sitg_counts_toward_cover2_but_not_the_art42_floor() -> None:
    # T10 with junior SITG 300: Art 43 needs 800 - 300 = 500 from the fund, but Art 42(3)
    # makes the fund alone withstand 550.
    sizing = size_default_fund(T10, FundParams(sitg_junior=300.0))
    assert (sizing.required, sizing.size) == (550.0, 550.0)
    assert sizing.binding is SizingConstraint.ART42_FLOOR
    # SITG above Cover-2 never makes the need negative.
    assert size_default_fund(T10, FundParams(sitg_junior=900.0)).required == 550.0


def test_buffer_floor_and_cap() -> None:
    assert size_default_fund(T10, FundParams(buffer=0.1)).size == pytest.approx(880.0)
    floored = size_default_fund(T10, FundParams(floor=1000.0))
    assert (floored.size, floored.binding) == (1000.0, SizingConstraint.FLOOR)
    capped = size_default_fund(T10, FundParams(buffer=0.5, cap=1000.0))
    assert (capped.size, capped.binding) == (1000.0, SizingConstraint.CAP)
    assert capped.required == 800.0


def test_beyond_own_fund_basis_a5() -> None:
    # A5 mutualised variant: beyond own DF [60, 65, 55, 9] selects groups 1 and 0
    # (65 + 60 = 125 beyond their own 45, pooled: 70 + 100 - 45 = 125); Art 42(3) on the
    # same basis: max(65, 60 + 55) = 115. Their own 45 is part of the fund too, so the
    # fund must be 45 + 125 = 170, their whole loss beyond margin.
    params = FundParams(basis=CoverBasis.BEYOND_OWN_FUND)
    sizing = size_default_fund(A5, params, group_fund=[40.0, 5.0, 5.0, 1.0])
    assert (sizing.cover.amount, sizing.cover.groups) == (125.0, (1, 0))
    assert sizing.art42_floor == 115.0
    assert (sizing.own_contributions, sizing.mutualised) == (45.0, 125.0)
    assert sizing.size == 170.0
    with pytest.raises(ValueError, match="needs group_fund"):
        size_default_fund(A5, params)


def test_beyond_own_fund_basis_holds_the_defaulters_own_contributions() -> None:
    # T10 exposures 500/300/250/100 with own contributions 200/100/50/10: beyond own
    # 300/200/200/90 selects groups 0 and 1 (the tie to the lower index). Their loss
    # beyond their pooled 300 is 500; with the 300 itself the fund needs 800. Sizing on
    # the beyond-own amount alone (500) would leave the survivors' 60 + junior SITG 0
    # against a 500 loss. Art 42(3): max(200 + 300, 150 + 400) = 550 is less.
    params = FundParams(basis=CoverBasis.BEYOND_OWN_FUND)
    sizing = size_default_fund(T10, params, group_fund=[200.0, 100.0, 50.0, 10.0])
    assert sizing.cover.groups == (0, 1)
    assert (sizing.own_contributions, sizing.mutualised) == (300.0, 500.0)
    assert (sizing.required, sizing.size) == (800.0, 800.0)
    assert sizing.binding is SizingConstraint.COVER
    # Junior SITG of 100 and a 10% buffer: 300 + (500 - 100) x 1.1 = 740; the buffer
    # applies to what the defaulters' own contributions do not cover.
    buffered = FundParams(basis=CoverBasis.BEYOND_OWN_FUND, sitg_junior=100.0, buffer=0.1)
    sized = size_default_fund(T10, buffered, group_fund=[200.0, 100.0, 50.0, 10.0])
    assert sized.size == pytest.approx(740.0)


def test_contributions_pro_rata_to_margin_or_stress() -> None:
    margin = [300.0, 100.0, 0.0]
    stress = [10.0, 30.0, 60.0]
    by_margin = allocate_contributions(
        80.0, margin, stress, FundParams(method=ContributionMethod.MARGIN)
    )
    assert by_margin.tolist() == [60.0, 20.0, 0.0]
    by_stress = allocate_contributions(80.0, margin, stress, FundParams())
    assert by_stress == pytest.approx([8.0, 24.0, 48.0])


def test_mixed_key_blends_the_shares() -> None:
    # margin shares [0.5, 0, 0.5], stress shares [0, 0.25, 0.75], w = 0.5.
    params = FundParams(method=ContributionMethod.MIXED, margin_weight=0.5)
    key = contribution_key([100.0, 0.0, 100.0], [0.0, 50.0, 150.0], params)
    assert key.tolist() == [0.25, 0.125, 0.625]
    assert allocate_contributions(80.0, [100.0, 0.0, 100.0], [0.0, 50.0, 150.0], params) == (
        pytest.approx([20.0, 10.0, 50.0])
    )
    # No stress at all: the stress weight passes to margin.
    assert contribution_key([1.0, 3.0], [0.0, 0.0], params).tolist() == [0.25, 0.75]


def test_minimum_contribution_is_respread_to_a_fixed_point() -> None:
    key = np.array([70.0, 18.0, 12.0])
    params = FundParams(method=ContributionMethod.MARGIN, minimum_contribution=17.0)
    # 12 < 17 pays 17; 83 over (70, 18) leaves 16.98 < 17, which pays 17 too; 66 is left.
    expected = spread_with_minimum(100.0, key / key.sum(), 17.0)
    assert expected == pytest.approx([66.0, 17.0, 17.0])
    result = allocate_contributions(100.0, key, np.zeros(3), params)
    assert result == pytest.approx(expected)
    assert result.sum() == pytest.approx(100.0)


def test_static_contribution_eurex_style() -> None:
    # c_i = max(static, k x key_i) with sum c = size: 10 of 100 is below the static 15.
    params = FundParams(method=ContributionMethod.MARGIN, static_contribution=15.0)
    result = allocate_contributions(100.0, [70.0, 20.0, 10.0], [0.0, 0.0, 0.0], params)
    assert result == pytest.approx([85.0 * 7 / 9, 85.0 * 2 / 9, 15.0])
    both = FundParams(
        method=ContributionMethod.MARGIN, static_contribution=15.0, minimum_contribution=17.0
    )
    assert allocate_contributions(100.0, [70.0, 18.0, 12.0], [0.0] * 3, both) == (
        pytest.approx([66.0, 17.0, 17.0])
    )


def test_members_with_zero_key_pay_the_minimum() -> None:
    params = FundParams(method=ContributionMethod.MARGIN, minimum_contribution=5.0)
    assert allocate_contributions(50.0, [100.0, 0.0, 0.0], [0.0] * 3, params).tolist() == [
        40.0,
        5.0,
        5.0,
    ]


def test_minimums_above_the_size_raise_the_fund() -> None:
    params = FundParams(minimum_contribution=15.0)
    result = allocate_contributions(30.0, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], params)
    assert result.tolist() == [15.0, 15.0, 15.0]
    assert result.sum() == 45.0


def test_without_any_stress_key_the_fund_is_split_by_margin_then_equally() -> None:
    # A fund floored at 50 where no member loses over margin: by margin 1:2, else equally.
    by_margin = allocate_contributions(50.0, [1.0, 2.0], [0.0, 0.0], FundParams())
    assert by_margin == pytest.approx([50 / 3, 100 / 3])
    equal = allocate_contributions(50.0, [0.0, 0.0], [0.0, 0.0], FundParams())
    assert equal.tolist() == [25.0, 25.0]


def test_bad_sizes_and_keys_are_errors() -> None:
    with pytest.raises(ValueError, match="size must be finite"):
        allocate_contributions(-1.0, [1.0], [1.0], FundParams())
    with pytest.raises(ValueError, match="stress_by_member must be non-negative"):
        allocate_contributions(1.0, [1.0], [-1.0], FundParams())


def linear_grid(base: list[float], multipliers: list[float]) -> NDArray[np.float64]:
    """Exposures scaling linearly with the shock: shape (n_multipliers, n_groups, 1)."""
    grid: NDArray[np.float64] = np.array(multipliers)[:, None, None] * np.array(base)[None, :, None]
    return grid


def test_reverse_stress_interpolates_the_crossing() -> None:
    # Groups expose m x [60, 40, 10]; each gave 10; prefunded = 30 of DF + 20 SITG = 50.
    # The pair (0, 1) exhausts the prefunded waterfall once 100 m > 50: m = 0.5.
    multipliers = [0.25, 1.0, 2.0]
    result = reverse_stress(
        linear_grid([60.0, 40.0, 10.0], multipliers), multipliers, [10.0] * 3, prefunded=50.0
    )
    assert result.multiplier.tolist() == pytest.approx([0.5])
    assert result.defaulters[:, :, 0].tolist() == [[0, 1], [0, 1], [0, 1]]
    # At 0.25: loss 25, own DF 20, 5 from SITG + survivors' 30 leaves 25; at 1: 50 short.
    assert result.headroom[:, 0].tolist() == [25.0, -50.0, -150.0]
    assert result.worst_scenario == 0
    assert result.min_multiplier == pytest.approx(0.5)


def test_reverse_stress_never_or_at_once() -> None:
    grid = np.concatenate(
        [linear_grid([10.0, 10.0], [1.0, 2.0]), linear_grid([100.0, 100.0], [1.0, 2.0])],
        axis=2,
    )
    result = reverse_stress(grid, [1.0, 2.0], [5.0, 5.0], prefunded=60.0)
    # Scenario 0 loses at most 40 < 60; scenario 1 already 200 > 60 at the first point.
    assert result.multiplier.tolist() == [np.inf, 1.0]
    assert result.worst_scenario == 1


def test_reverse_stress_pair_selection_by_basis() -> None:
    # A5 with own DF [90, 5, 5, 1]: beyond own fund [10, 65, 55, 9] picks groups 2 + 3 (BoE);
    # loss over margin picks groups 1 + 2 (PQD 4.4.7).
    grid = A5[None, :, :]
    fund = [90.0, 5.0, 5.0, 1.0]
    boe = reverse_stress(grid, [1.0], fund, prefunded=200.0)
    assert boe.defaulters[0, :, 0].tolist() == [1, 2]
    # Their own DF is 10; 120 beyond it against 190 mutualised leaves 70.
    assert boe.headroom[0, 0] == 70.0
    pqd = reverse_stress(grid, [1.0], fund, prefunded=200.0, basis=CoverBasis.LOSS_OVER_MARGIN)
    assert pqd.defaulters[0, :, 0].tolist() == [0, 1]
    # Own DF 95 against 170: 75 beyond it, against 105 mutualised leaves 30.
    assert pqd.headroom[0, 0] == 30.0


def test_reverse_stress_with_gross_losses_and_group_margin() -> None:
    losses = linear_grid([100.0, 80.0], [1.0, 2.0])
    result = reverse_stress(
        losses, [1.0, 2.0], [0.0, 0.0], prefunded=100.0, group_margin=[50.0, 50.0]
    )
    # Exposures 50 + 30 = 80 at 1, 150 + 110 = 260 at 2: 100 is crossed at 1 + 20/180.
    assert result.multiplier[0] == pytest.approx(1.0 + 20.0 / 180.0)


def test_reverse_stress_checks_its_inputs() -> None:
    grid = linear_grid([1.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        reverse_stress(grid, [2.0, 1.0], [0.0, 0.0], prefunded=1.0)
    with pytest.raises(ValueError, match="include every contribution"):
        reverse_stress(grid, [1.0, 2.0], [5.0, 5.0], prefunded=9.0)
    with pytest.raises(ValueError, match="exposure_grid must be non-negative"):
        reverse_stress(-grid, [1.0, 2.0], [0.0, 0.0], prefunded=1.0)


def test_reverse_stress_linear_solves_the_crossing() -> None:
    # One account per group losing [60, 40, 10] at multiplier 1, margins [10, 10, 0],
    # prefunded 50: (60 m - 10) + (40 m - 10) > 50 from m = 0.7 on.
    pnl = np.array([[-60.0, -6.0], [-40.0, -4.0], [-10.0, -1.0]])
    result = reverse_stress_linear(
        pnl, [10.0, 10.0, 0.0], np.array([0, 1, 2]), 3, prefunded=50.0, max_multiplier=10.0
    )
    # The second scenario loses a tenth as much: (6 m - 10) + (4 m - 10) > 50 from m = 7 on.
    assert result == pytest.approx([0.7, 7.0], abs=1e-8)
    assert np.isinf(
        reverse_stress_linear(pnl, [10.0, 10.0, 0.0], np.array([0, 1, 2]), 3, prefunded=1e6)
    ).all()


def test_reverse_stress_linear_agrees_with_a_fine_grid() -> None:
    rng = np.random.default_rng(21)
    pnl = rng.normal(scale=10.0, size=(40, 6))
    margin = rng.uniform(0.0, 15.0, size=40)
    groups = rng.integers(0, 5, size=40)
    multipliers = np.linspace(0.0, 20.0, 2001)
    grid = np.stack(
        [group_exposures(account_shortfall(m * pnl, margin), groups, 5) for m in multipliers]
    )
    fund = np.full(5, 10.0)
    on_grid = reverse_stress(
        grid, multipliers, fund, prefunded=120.0, basis=CoverBasis.LOSS_OVER_MARGIN
    )
    solved = reverse_stress_linear(pnl, margin, groups, 5, prefunded=120.0, max_multiplier=20.0)
    # Exposures are piecewise linear in m; a 0.01 grid interpolates the crossing closely.
    np.testing.assert_allclose(solved, on_grid.multiplier, atol=1e-2)
    assert np.isfinite(solved).any()

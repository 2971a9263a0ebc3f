"""Reverse stress: how far each stress scenario can be scaled before prefunded resources run out.

Two searches. ``reverse_stress`` works on a grid of exposures at scaled
shocks and finds each crossing by bisection with full revaluation (or, with
no revaluation given, by linear interpolation on the grid).
``reverse_stress_linear`` is the special case of P&L linear in the shock,
bisected on the P&L itself.

Array shapes: (multipliers, groups, scenarios) for exposure grids,
(groups,) for contributions. NaN policy: a NaN or infinite entry raises
ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ccpwaterfall.risk.aggregate import float_array, indicator_matrix, require_non_negative
from ccpwaterfall.risk.params import CoverBasis
from ccpwaterfall.risk.stress import largest, rank_groups


# eq=False: the result holds arrays, which have no single truth value.
@dataclass(frozen=True, slots=True, eq=False)
class ReverseStress:
    """How far each stress scenario can be scaled before prefunded resources run out.

    ``multipliers``: shape (n_multipliers,), the grid. ``multiplier``: shape
    (n_scenarios,), the multiplier at which the defaulters' loss beyond their
    own resources comes to exceed the mutualised prefunded resources: found by
    bisection with full revaluation to ``tolerance`` and never above the true
    crossing, or (``tolerance`` None) interpolated linearly on the grid, the
    first grid point if already exhausted there; ``inf`` if never exhausted on
    the grid. ``defaulters``: shape
    (n_multipliers, n_defaulters, n_scenarios), intp, the defaulting groups at
    each grid point, in selection order. ``headroom``: shape (n_multipliers,
    n_scenarios), mutualised resources left after the defaulters' loss
    (negative: exhausted, by that much). All float64 and read-only.
    """

    multipliers: NDArray[np.float64]
    multiplier: NDArray[np.float64]
    defaulters: NDArray[np.intp]
    headroom: NDArray[np.float64]
    tolerance: float | None = None  # of the bisection; None: interpolated on the grid

    @property
    def worst_scenario(self) -> int:
        """The scenario exhausted at the smallest multiplier (the lower index on ties)."""
        return int(np.argmin(self.multiplier))

    @property
    def min_multiplier(self) -> float:
        """The smallest multiplier that exhausts the prefunded resources (inf if none)."""
        return float(self.multiplier.min())


def _grid_inputs(
    exposure_grid: ArrayLike,
    multipliers: ArrayLike,
    group_fund: ArrayLike,
    prefunded: float,
    group_margin: ArrayLike | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    grid = float_array("exposure_grid", exposure_grid, 3).astype(np.float64)
    n_multipliers, n_groups, n_scenarios = grid.shape
    if min(n_multipliers, n_groups, n_scenarios) == 0:
        raise ValueError(f"exposure_grid has an empty axis: shape {grid.shape}")
    scale = float_array("multipliers", multipliers, 1).astype(np.float64)
    if scale.shape != (n_multipliers,):
        raise ValueError(f"multipliers must have shape ({n_multipliers},), got {scale.shape}")
    if np.any(np.diff(scale) <= 0.0):
        raise ValueError("multipliers must be strictly increasing")
    fund = float_array("group_fund", group_fund, 1).astype(np.float64)
    if fund.shape != (n_groups,):
        raise ValueError(f"group_fund must have shape ({n_groups},), got {fund.shape}")
    require_non_negative("group_fund", fund)
    if not math.isfinite(prefunded) or prefunded < float(fund.sum()):
        raise ValueError(
            f"prefunded ({prefunded}) must be finite and include every contribution "
            f"(group_fund sums to {fund.sum()})"
        )
    if group_margin is None:
        require_non_negative("exposure_grid", grid)
        return grid, scale, fund
    margin = float_array("group_margin", group_margin, 1).astype(np.float64)
    if margin.shape != (n_groups,):
        raise ValueError(f"group_margin must have shape ({n_groups},), got {margin.shape}")
    require_non_negative("group_margin", margin)
    return np.maximum(grid - margin[None, :, None], 0.0), scale, fund


#: Default tolerance of the reverse-stress bisection, in multiplier units.
REVERSE_STRESS_TOLERANCE = 1e-6


def _headroom(
    exposure: NDArray[np.float64],
    fund: NDArray[np.float64],
    prefunded: float,
    n_defaulters: int,
    basis: CoverBasis,
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Mutualised resources left after the Cover-N default, and the defaulters.

    ``exposure``: shape (..., n_groups, n_scenarios). Returns the headroom,
    shape (..., n_scenarios), and the defaulting groups, shape (...,
    n_defaulters, n_scenarios); see ``reverse_stress`` for the definitions.
    """
    fund_axis = fund[:, None]
    ranking = (
        np.maximum(exposure - fund_axis, 0.0) if basis is CoverBasis.BEYOND_OWN_FUND else exposure
    )
    defaulters = rank_groups(ranking, n_defaulters)
    loss = np.take_along_axis(exposure, defaulters, axis=-2).sum(axis=-2)
    own_fund = fund[defaulters].sum(axis=-2)
    headroom = (prefunded - own_fund) - np.maximum(loss - own_fund, 0.0)
    return headroom, defaulters


def reverse_stress(
    exposure_grid: ArrayLike,
    multipliers: ArrayLike,
    group_fund: ArrayLike,
    *,
    prefunded: float,
    group_margin: ArrayLike | None = None,
    n_defaulters: int = 2,
    basis: CoverBasis = CoverBasis.BEYOND_OWN_FUND,
    revalue: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
    tolerance: float = REVERSE_STRESS_TOLERANCE,
) -> ReverseStress:
    """Reverse stress: the shock multiplier at which each scenario exhausts prefunded resources.

    ``exposure_grid``: shape (n_multipliers, n_groups, n_scenarios), >= 0,
    group stress loss over margin when every scenario's shock is scaled by
    ``multipliers[m]`` (strictly increasing, shape (n_multipliers,)). With
    ``group_margin`` (shape (n_groups,)) the grid holds gross stress losses
    instead, and exposure is ``max(loss - margin, 0)`` per group, which nets
    accounts inside a group; pass per-account shortfalls summed by group to
    avoid that. ``group_fund``: shape (n_groups,), each group's contribution.

    Definitions. ``prefunded`` is the whole prefunded waterfall behind the
    defaulters' margin: defaulters' DF + junior SITG + survivors' DF, i.e. SITG
    plus every contribution (so at least ``group_fund.sum()``). At each grid
    point and scenario the ``n_defaulters`` groups with the largest exposure on
    ``basis`` default (BEYOND_OWN_FUND: beyond their own contribution, the BoE
    2024 selection; LOSS_OVER_MARGIN: the PQD 4.4.7 selection); ties to the
    lower group index. Their contributions are pooled against their loss, as
    in the waterfall's ``defaulter_default_fund`` tranche, so the loss beyond
    their own resources is ``L = max(sum E - sum DF_defaulters, 0)`` and the
    mutualised resources are ``R = prefunded - sum DF_defaulters`` (SITG +
    survivors' DF). ``headroom = R - L``; the scenario is exhausted where it is
    negative.

    The crossing. With ``revalue`` (a function from per-scenario multipliers,
    shape (n_scenarios,), to the group exposures at them, shape (n_groups,
    n_scenarios), by full revaluation), it is found by bisection between the
    last grid point with headroom and the first without (from 0 when the first
    grid point is exhausted already), to ``tolerance``, and the multiplier
    returned is the bracket's lower end: never above the true crossing, at most
    ``tolerance`` below it. Options make exposure convex in the shock, so a
    straight line between grid points would overstate how far a scenario can
    be scaled. Without ``revalue`` the crossing is interpolated linearly on
    the grid, exact only for exposures linear between grid points.

    Vectorised over multipliers and scenarios. NaN, inf, negative entries, a
    non-increasing grid or a ``prefunded`` below the contributions -> ValueError.
    """
    if n_defaulters < 1:
        raise ValueError("n_defaulters must be at least 1")
    if not (math.isfinite(tolerance) and tolerance > 0.0):
        raise ValueError(f"tolerance must be positive and finite, got {tolerance}")
    exposure, scale, fund = _grid_inputs(
        exposure_grid, multipliers, group_fund, prefunded, group_margin
    )
    n_scenarios = exposure.shape[2]
    headroom, defaulters = _headroom(exposure, fund, prefunded, n_defaulters, basis)

    exhausted = headroom < 0.0
    ever = exhausted.any(axis=0)
    first = np.argmax(exhausted, axis=0)
    before = np.maximum(first - 1, 0)
    columns = np.arange(n_scenarios)
    if revalue is None:
        h_before = headroom[before, columns]
        h_first = headroom[first, columns]
        # Between grid points h_before >= 0 > h_first, so the gap is positive.
        gap = np.where(first > 0, h_before - h_first, 1.0)
        crossing = scale[before] + (scale[first] - scale[before]) * h_before / gap
        multiplier = np.where(first > 0, crossing, scale[0])
    else:
        low = np.where(first > 0, scale[before], 0.0)
        high = scale[first].copy()
        width = float((high - low)[ever].max()) if ever.any() else 0.0
        steps = max(math.ceil(math.log2(width / tolerance)), 0) if width > 0.0 else 0
        for _ in range(steps):
            middle = 0.5 * (low + high)
            # Scenarios not exhausted on the grid are revalued at a harmless multiplier.
            trial = np.where(ever, middle, scale[0])
            exposures = np.asarray(revalue(trial), dtype=np.float64)
            if exposures.shape != exposure.shape[1:]:
                raise ValueError(
                    f"revalue must return shape {exposure.shape[1:]}, got {exposures.shape}"
                )
            over = _headroom(exposures, fund, prefunded, n_defaulters, basis)[0] < 0.0
            high = np.where(over, middle, high)
            low = np.where(over, low, middle)
        multiplier = low
    multiplier = np.where(ever, multiplier, np.inf)
    for array in (scale, multiplier, defaulters, headroom):
        array.flags.writeable = False
    return ReverseStress(
        multipliers=scale,
        multiplier=multiplier,
        defaulters=defaulters,
        headroom=headroom,
        tolerance=None if revalue is None else tolerance,
    )


def reverse_stress_linear(
    stress_pnl: ArrayLike,
    margin: ArrayLike,
    account_group: ArrayLike,
    n_groups: int,
    *,
    prefunded: float,
    n_defaulters: int = 2,
    max_multiplier: float = 100.0,
    tolerance: float = 1e-9,
) -> NDArray[np.float64]:
    """Reverse stress for P&L linear in the shock: the multiplier found by bisection.

    ``stress_pnl``: shape (n_accounts, n_scenarios), account P&L at multiplier
    1 (gains positive); at multiplier m it is ``m x stress_pnl``, exact for
    linear products ([CFTC-SST-2019]: 5 x a 45 bp shock is 225 bp).
    ``margin``: shape (n_accounts,), >= 0, fixed while the shock grows;
    ``account_group``: shape (n_accounts,), in [0, n_groups).

    At multiplier m group exposures are ``sum over accounts of max(-m x pnl -
    IM, 0)`` (per account, as ``account_shortfall``), and the scenario is
    exhausted when the ``n_defaulters`` largest exceed ``prefunded`` (SITG plus
    every contribution). With the defaulters' contributions pooled, as in the
    waterfall, that is exactly when some ``n_defaulters`` groups' default
    exhausts the prefunded waterfall (the PQD 4.4.7 selection; ``reverse_stress``
    on a grid also offers the BoE one). The measure is continuous and
    non-decreasing in m, so bisection on [0, max_multiplier] finds the crossing
    to ``tolerance`` (absolute, in multiplier units).

    Returns shape (n_scenarios,), float64: the smallest multiplier found to
    exhaust the resources, to ``tolerance`` above the crossing; ``inf`` when
    not exhausted at ``max_multiplier``. Cost: one (n_accounts, n_scenarios)
    pass per halving, about log2(max_multiplier / tolerance) of them. NaN, inf
    or negative margin -> ValueError.
    """
    pnl = float_array("stress_pnl", stress_pnl, 2).astype(np.float64)
    held = float_array("margin", margin, 1).astype(np.float64)
    if held.shape != (pnl.shape[0],):
        raise ValueError(f"margin must have shape ({pnl.shape[0]},), got {held.shape}")
    require_non_negative("margin", held)
    if not math.isfinite(prefunded) or prefunded < 0.0:
        raise ValueError(f"prefunded must be finite and non-negative, got {prefunded}")
    if not math.isfinite(max_multiplier) or max_multiplier <= 0.0 or tolerance <= 0.0:
        raise ValueError("max_multiplier and tolerance must be positive and finite")
    if n_defaulters < 1:
        raise ValueError("n_defaulters must be at least 1")
    loss = -pnl
    indicator = indicator_matrix(account_group, n_groups, np.float64)
    if indicator.shape[1] != pnl.shape[0]:
        raise ValueError(f"account_group must have shape ({pnl.shape[0]},)")

    def exhausted(multiplier: NDArray[np.float64]) -> NDArray[np.bool_]:
        shortfall = np.maximum(loss * multiplier[None, :] - held[:, None], 0.0)
        exposures = np.asarray(indicator @ shortfall)
        over: NDArray[np.bool_] = largest(exposures, n_defaulters).sum(axis=0) > prefunded
        return over

    n_scenarios = pnl.shape[1]
    low = np.zeros(n_scenarios)
    high = np.full(n_scenarios, max_multiplier)
    ever = exhausted(high)
    for _ in range(max(math.ceil(math.log2(max_multiplier / tolerance)), 1)):
        middle = 0.5 * (low + high)
        over = exhausted(middle)
        high = np.where(over, middle, high)
        low = np.where(over, low, middle)
    result: NDArray[np.float64] = np.where(ever, high, np.inf)
    return result

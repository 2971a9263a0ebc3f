"""Default fund: sizing (Cover-N, EMIR Art 42(3)), split among members, reverse stress.

Sizing rule (EMIR Arts 42-43, quant-methods 5.1):

- Art 43(2): the default fund plus the CCP's other prefunded resources
  withstand Cover-N (N = 2 in the EU), so the fund needs Cover-N less the
  junior skin in the game (SITG) that stands ahead of it;
- Art 42(3): the fund alone withstands the largest exposure, or the second and
  third largest together if that is more;
- so ``required = max(Art 42(3) floor, max(Cover-N - SITG_junior, 0))`` and
  ``size = clamp(required x (1 + buffer), floor, cap)``.

On the ``BEYOND_OWN_FUND`` basis the defaulting groups are those with the
largest exposure beyond their own contribution (``beyond_own_fund``, the BoE
2024 SST selection). Their own contributions are part of the fund, so the fund
holds them plus what their loss takes beyond them:
``size = sum DF + max(sum E - sum DF - SITG_junior, 0) x (1 + buffer)``.

Array shapes: (groups, scenarios) for exposures, (members,) for keys and
contributions. NaN policy: a NaN or infinite entry raises ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ccpwaterfall.risk.aggregate import float_array, indicator_matrix, require_non_negative
from ccpwaterfall.risk.params import ContributionMethod, CoverBasis, FundParams
from ccpwaterfall.risk.stress import (
    CoverResult,
    beyond_own_fund,
    cover,
    emir_art42_floor,
    largest,
    rank_groups,
)


class SizingConstraint(StrEnum):
    """Which term of the sizing rule set the fund size."""

    COVER = "cover"  # Cover-N less junior SITG, times (1 + buffer)
    ART42_FLOOR = "art42_floor"  # EMIR Art 42(3), times (1 + buffer)
    FLOOR = "floor"  # the minimum fund size
    CAP = "cap"  # the maximum fund size
    MINIMUM_CONTRIBUTIONS = "minimum_contributions"  # the members' minimums add up to more


# eq=False: the result holds an array, which has no single truth value.
@dataclass(frozen=True, slots=True, eq=False)
class FundSizing:
    """A sized default fund, with every intermediate amount and the inputs used.

    ``exposures``: shape (n_groups, n_scenarios), float64, read-only: the
    exposures on ``params.basis`` that rank the defaulting groups and that
    ``art42_floor`` was measured on. ``cover``: on ``LOSS_OVER_MARGIN`` the
    Cover-N of those exposures; on ``BEYOND_OWN_FUND`` the loss the N selected
    groups leave beyond their own pooled contributions (what their default
    takes from SITG and the survivors), per scenario.

    The size is ``own_contributions + mutualised x (1 + buffer)``, clamped:
    ``mutualised`` is what the binding term needs from resources other than the
    defaulters' own contributions, ``own_contributions`` those contributions,
    which are part of the fund and so must be in it as well (zero on
    ``LOSS_OVER_MARGIN``, where exposures already include them).
    ``required = own_contributions + mutualised``, before buffer and clamp.
    """

    cover: CoverResult
    art42_floor: float  # EMIR Art 42(3) minimum on the basis
    own_contributions: float  # the binding term's defaulters' own contributions
    mutualised: float  # what the binding term needs beyond them (after junior SITG)
    required: float  # own_contributions + mutualised, before buffer and clamp
    size: float  # own_contributions + mutualised x (1 + buffer), clamped to [floor, cap]
    binding: SizingConstraint
    params: FundParams
    exposures: NDArray[np.float64]


# eq=False: the result holds arrays, which have no single truth value.
@dataclass(frozen=True, slots=True, eq=False)
class _Needs:
    """Per scenario, what one sizing term needs: own contributions and the rest."""

    own: NDArray[np.float64]  # shape (n_scenarios,)
    mutualised: NDArray[np.float64]  # shape (n_scenarios,)
    loss: NDArray[np.float64]  # pooled loss beyond own contributions, before SITG
    groups: NDArray[np.intp]  # shape (n_selected, n_scenarios): the selected groups


def _needs(
    exposures: NDArray[np.float64],
    fund: NDArray[np.float64],
    ranked: NDArray[np.intp],
    sitg: float,
) -> _Needs:
    """What the default of the groups ``ranked`` (shape (k, n_scenarios)) needs.

    Their contributions are pooled against their loss, as the waterfall's
    ``defaulter_default_fund`` tranche does, so the loss beyond them is
    ``max(sum E - sum DF, 0)``; junior SITG stands next.
    """
    own = fund[ranked].sum(axis=0)
    gross = np.take_along_axis(exposures, ranked, axis=0).sum(axis=0)
    loss = np.maximum(gross - own, 0.0)
    return _Needs(own, np.maximum(loss - sitg, 0.0), loss, ranked)


def size_default_fund(
    exposures: ArrayLike, params: FundParams, group_fund: ArrayLike | None = None
) -> FundSizing:
    """Size the default fund from stress exposures (see the module docstring for the rule).

    ``exposures``: shape (n_groups, n_scenarios), >= 0, stress loss over
    margin per member group (affiliates merged). ``group_fund``: shape
    (n_groups,), >= 0, each group's current contribution, required for the
    ``BEYOND_OWN_FUND`` basis and ignored otherwise. NaN, inf, negative entries
    or a missing ``group_fund`` -> ValueError.

    On ``BEYOND_OWN_FUND`` the N groups with the largest exposure beyond their
    own contribution default (the BoE 2024 selection); the fund must hold their
    contributions plus what their loss leaves beyond those contributions and
    the junior SITG: ``sum DF + max(max(sum E - sum DF, 0) - SITG, 0)``, the
    buffer applying to the second part. Art 42(3) likewise, without SITG. On
    ``LOSS_OVER_MARGIN`` the contributions are zero in that formula, which is
    then ``max(Cover-N - SITG, 0)``.
    """
    gross = float_array("exposures", exposures, 2).astype(np.float64)
    n_groups = gross.shape[0]
    if params.basis is CoverBasis.BEYOND_OWN_FUND:
        if group_fund is None:
            raise ValueError("the beyond_own_fund basis needs group_fund")
        basis = beyond_own_fund(gross, group_fund)
        fund = float_array("group_fund", group_fund, 1).astype(np.float64)
        cover_n = None
    else:
        basis = gross
        fund = np.zeros(n_groups)
        cover_n = cover(basis, params.cover)
    floor42 = emir_art42_floor(basis)
    order = rank_groups(basis, 3 if params.cover < 3 else params.cover)
    cover_needs = _needs(gross, fund, order[: params.cover], params.sitg_junior)
    # Art 42(3): the largest group alone, or the second and third together, without SITG.
    single = _needs(gross, fund, order[:1], 0.0)
    pair = _needs(gross, fund, order[1:3], 0.0) if n_groups > 1 else single
    use_pair = pair.own + pair.mutualised > single.own + single.mutualised
    art42_own = np.where(use_pair, pair.own, single.own)
    art42_mutualised = np.where(use_pair, pair.mutualised, single.mutualised)

    grow = 1.0 + params.buffer
    cover_total = cover_needs.own + cover_needs.mutualised * grow
    art42_total = art42_own + art42_mutualised * grow
    cover_at = int(np.argmax(cover_total))
    art42_at = int(np.argmax(art42_total))
    if cover_total[cover_at] >= art42_total[art42_at]:
        binding = SizingConstraint.COVER
        own, mutualised = float(cover_needs.own[cover_at]), float(cover_needs.mutualised[cover_at])
    else:
        binding = SizingConstraint.ART42_FLOOR
        own, mutualised = float(art42_own[art42_at]), float(art42_mutualised[art42_at])
    buffered = own + mutualised * grow
    size = max(buffered, params.floor)
    if params.cap is not None:
        size = min(size, params.cap)
    if params.cap is not None and buffered > params.cap:
        binding = SizingConstraint.CAP
    elif buffered < params.floor:
        binding = SizingConstraint.FLOOR
    if cover_n is None:
        loss = cover_needs.loss
        loss.flags.writeable = False
        at = int(np.argmax(loss))
        cover_n = CoverResult(
            amount=float(loss[at]),
            scenario=at,
            groups=tuple(int(g) for g in cover_needs.groups[:, at]),
            per_scenario=loss,
        )
    basis.flags.writeable = False
    return FundSizing(
        cover=cover_n,
        art42_floor=floor42.amount,
        own_contributions=own,
        mutualised=mutualised,
        required=own + mutualised,
        size=size,
        binding=binding,
        params=params,
        exposures=basis,
    )


def _shares(values: NDArray[np.float64]) -> NDArray[np.float64]:
    total = float(values.sum())
    return values / total if total > 0.0 else np.zeros_like(values)


def contribution_key(
    margin_by_member: ArrayLike, stress_by_member: ArrayLike, params: FundParams
) -> NDArray[np.float64]:
    """Each member's share of the dynamic part of the fund, shape (n_members,), float64.

    MARGIN: margin share; STRESS: stress share; MIXED: ``w x margin share +
    (1 - w) x stress share`` with ``w = params.margin_weight``. In MIXED a
    component that is zero for every member passes its weight to the other.
    The shares sum to 1, or are all zero when no member has a positive key.
    Inputs: shape (n_members,), >= 0; NaN, inf or negative -> ValueError.
    """
    margin = float_array("margin_by_member", margin_by_member, 1).astype(np.float64)
    stress = float_array("stress_by_member", stress_by_member, 1).astype(np.float64)
    if margin.shape != stress.shape:
        raise ValueError(
            f"margin_by_member has shape {margin.shape}, stress_by_member {stress.shape}"
        )
    require_non_negative("margin_by_member", margin)
    require_non_negative("stress_by_member", stress)
    margin_share, stress_share = _shares(margin), _shares(stress)
    if params.method is ContributionMethod.MARGIN:
        return margin_share
    if params.method is ContributionMethod.STRESS:
        return stress_share
    weight = params.margin_weight
    if not margin_share.any():
        weight = 0.0
    elif not stress_share.any():
        weight = 1.0
    return weight * margin_share + (1.0 - weight) * stress_share


def allocate_contributions(
    size: float,
    margin_by_member: ArrayLike,
    stress_by_member: ArrayLike,
    params: FundParams,
) -> NDArray[np.float64]:
    """Split a fund of ``size`` among members: ``c_i = max(m, k x key_i)``, k solved exactly.

    ``margin_by_member``, ``stress_by_member``: shape (n_members,), >= 0, the
    member's initial margin and its stress loss over margin (averaged over the
    caller's window). The key is ``contribution_key`` (pro rata to margin, to
    stress, or mixed). ``m = max(minimum_contribution, static_contribution)``:
    a minimum contribution (members whose share falls below it pay it, and the
    rest is spread over the others pro rata, to the fixed point) and the
    Eurex-style static part (``max(static, dynamic)``) are the same equation.
    It is piecewise linear and increasing in k, so k is found exactly by
    sorting the breakpoints ``m / key_i``, with no iteration. Members with a
    zero key pay ``m``.

    Returns shape (n_members,), float64, summing to ``size`` to float rounding.
    When the minimums alone exceed ``size`` every member pays ``m`` and the
    total, ``n_members x m``, is more than ``size``: the fund rises to the
    minimums, and the caller sees it in the sum. ValueError on a negative or
    non-finite size, bad arrays, or a size above the minimums with no member
    having a positive key (nothing to allocate the rest by).
    """
    if not math.isfinite(size) or size < 0.0:
        raise ValueError(f"size must be finite and non-negative, got {size}")
    key = contribution_key(margin_by_member, stress_by_member, params)
    minimum = max(params.minimum_contribution, params.static_contribution)
    n_members = key.shape[0]
    if n_members == 0:
        raise ValueError("there are no members to allocate the fund to")
    if size <= minimum * n_members:
        return np.full(n_members, minimum)
    if not key.any():
        raise ValueError(
            f"no member has a positive {params.method.value} key, so "
            f"{size - minimum * n_members} beyond the minimums cannot be allocated"
        )
    # Members by key, descending; at k = breakpoint[j] the first j + 1 are dynamic.
    descending = -np.sort(-key)
    positive = descending[descending > 0.0]
    cumulative = np.cumsum(positive)
    breakpoints = minimum / positive
    dynamic = np.arange(1, positive.shape[0] + 1)
    total_at = breakpoints * cumulative + minimum * (n_members - dynamic)
    n_dynamic = max(int(np.searchsorted(total_at, size, side="right")), 1)
    k = (size - minimum * (n_members - n_dynamic)) / cumulative[n_dynamic - 1]
    contributions: NDArray[np.float64] = np.maximum(minimum, k * key)
    return contributions


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
    linear products (quant-methods 8 A7: 5 x a 45 bp shock is 225 bp).
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

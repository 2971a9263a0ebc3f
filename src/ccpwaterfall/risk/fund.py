"""Default fund: sizing (Cover-N, EMIR Art 42(3)) and the split among members.

Sizing rule (EMIR Arts 42-43, docs/references.md [EMIR-648]):

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
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ccpwaterfall.risk.aggregate import float_array, require_non_negative
from ccpwaterfall.risk.params import ContributionMethod, CoverBasis, FundParams
from ccpwaterfall.risk.stress import (
    CoverResult,
    beyond_own_fund,
    cover,
    emir_art42_floor,
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
    minimums, and the caller sees it in the sum. When no member has a positive
    key (a fund floored above a need of nothing) the rest is split by margin,
    or equally when no member has margin either. ValueError on a negative or
    non-finite size or bad arrays.
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
        # A fund floored above any need, with no member at risk: the margin key, and
        # without margin either, equal shares, so the fund is still split in full.
        margin = float_array("margin_by_member", margin_by_member, 1).astype(np.float64)
        key = _shares(margin) if margin.any() else np.full(n_members, 1.0 / n_members)
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

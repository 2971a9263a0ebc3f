"""End of day, step 3: the default fund sized to Cover-N and split among members."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.domain import (
    Currency,
    Money,
    Rulebook,
    split_pro_rata,
)
from ccpwaterfall.lifecycle.border import to_float, to_money
from ccpwaterfall.lifecycle.inputs import (
    EndOfDayInputs,
    Progress,
    by_index,
    quiet,
    read_only,
)
from ccpwaterfall.lifecycle.margin import MarginRun
from ccpwaterfall.lifecycle.stress import StressRun
from ccpwaterfall.risk.fund import (
    FundSizing,
    SizingConstraint,
    allocate_contributions,
    size_default_fund,
)
from ccpwaterfall.risk.params import (
    CoverBasis,
    FundParams,
)
from ccpwaterfall.risk.stress import (
    CoverResult,
    beyond_own_fund,
    cover,
)
from ccpwaterfall.waterfall.kinds import junior_capital as waterfall_junior_capital

# Basis-dependent sizing converges geometrically; this bounds the rounds.
MAX_SIZING_ROUNDS = 100


@dataclass(frozen=True, slots=True, eq=False)
class FundRun:
    """A sized fund and each member's contribution (float and exact money).

    ``contributions``: shape (n_members,), float64. ``contributions_money``:
    the same in money: the fund (their float sum) rounded once at the border and
    split pro rata to them, so ``fund_money``, their sum, is that rounded fund.
    ``cover_beyond_own_fund``: Cover-N measured beyond each group's own
    contribution (BoE 2024 SST selection), given these contributions.
    """

    sizing: FundSizing
    contributions: NDArray[np.float64]
    contributions_money: tuple[Money, ...]
    group_fund: NDArray[np.float64]
    cover_beyond_own_fund: CoverResult
    rounds: int
    converged: bool = True  # False: the beyond-own-fund sizing did not settle

    @property
    def fund_money(self) -> Money:
        total = Money.zero(self.contributions_money[0].currency)
        for amount in self.contributions_money:
            total += amount
        return total


def junior_capital(rulebook: Rulebook, ccy: Currency) -> float:
    """CCP capital ahead of the members' fund in the waterfall (junior SITG), as a float."""
    return to_float(waterfall_junior_capital(rulebook.waterfall, ccy))


def size_fund(
    inputs: EndOfDayInputs, margin: MarginRun, stress: StressRun, progress: Progress = quiet
) -> FundRun:
    """Size the fund to Cover-N and split it among members.

    A member's stress key is its worst stress loss over margin across the
    scenarios. The junior CCP capital of the rulebook counts ahead of the fund
    unless the parameters already name one. With the ``beyond_own_fund`` basis
    the need depends on the contributions it sizes, so sizing repeats until the
    fund no longer changes: the need moves by at most the defaulters' share of
    a change in the fund, so the rounds converge geometrically. A fund that has
    not settled after ``MAX_SIZING_ROUNDS`` is reported as not converged, never
    passed off as a fixed point. When the members' minimum contributions add
    up to more than the sized fund, they set it.
    """
    progress("fund sizing")
    params = inputs.fund_params
    if params.sitg_junior == 0.0:
        params = _with_sitg(params, junior_capital(inputs.rulebook, inputs.currency))
    portfolio = inputs.portfolio
    stress_key = stress.member_exposures.max(axis=1)

    def split(size: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        contributions = allocate_contributions(size, margin.member_margin, stress_key, params)
        return contributions, by_index(contributions, portfolio.member_group, portfolio.n_groups)

    sizing = size_default_fund(stress.exposures, _with_basis(params, CoverBasis.LOSS_OVER_MARGIN))
    contributions, group_fund = split(sizing.size)
    rounds, converged = 1, True
    if params.basis is CoverBasis.BEYOND_OWN_FUND:
        sizing, rounds, converged = _size_to_fixed_point(
            stress.exposures, params, sizing.size, split
        )
        contributions, group_fund = split(sizing.size)
    total = float(contributions.sum())
    if total > sizing.size * (1.0 + 1e-12):
        # Every member pays its minimum and the fund rises to their sum.
        sizing = replace(sizing, size=total, binding=SizingConstraint.MINIMUM_CONTRIBUTIONS)
    progress("contributions")
    money = _contributions_money(contributions, portfolio.member_ids, inputs.currency)
    return FundRun(
        sizing=sizing,
        contributions=read_only(contributions),
        contributions_money=money,
        group_fund=read_only(group_fund),
        cover_beyond_own_fund=cover(beyond_own_fund(stress.exposures, group_fund), params.cover),
        rounds=rounds,
        converged=converged,
    )


def _size_to_fixed_point(
    exposures: NDArray[np.float64],
    params: FundParams,
    start: float,
    split: Callable[[float], tuple[NDArray[np.float64], NDArray[np.float64]]],
) -> tuple[FundSizing, int, bool]:
    """The beyond-own-fund sizing: a fund F whose contributions need no more than F.

    Each round splits F among members and sizes the fund those contributions
    need, ``g(F)``, the next F. Rounds stop when ``g(F) = F`` (to 1e-12
    relative). Which groups default depends on the contributions, so rounds can
    cycle (a group whose contribution covers its loss drops out of the
    selection, which lowers the fund, which brings it back): a repeated size or
    ``MAX_SIZING_ROUNDS`` rounds end the search unconverged, with the smallest
    fund seen that meets its own need (``g(F) <= F``), if any. Returns the
    sizing (``size`` the chosen F), the rounds and whether they converged.
    """
    size = start
    seen: set[float] = set()
    best: FundSizing | None = None  # the smallest fund seen that meets its own need
    for rounds in range(1, MAX_SIZING_ROUNDS + 1):
        need = size_default_fund(exposures, params, split(size)[1])
        if math.isclose(need.size, size, rel_tol=1e-12, abs_tol=1e-6):
            return need, rounds, True
        if need.size <= size and (best is None or size < best.size):
            best = replace(need, size=size)
        seen.add(size)
        if need.size in seen:
            break
        size = need.size
    return (best if best is not None else need), rounds, False


def _contributions_money(
    contributions: NDArray[np.float64], member_ids: tuple[str, ...], ccy: Currency
) -> tuple[Money, ...]:
    """Contributions in money that add up exactly to the fund, rounded once at the border.

    ``contributions``: shape (n_members,), float64, >= 0, aligned with
    ``member_ids``. Rounding each contribution on its own would let their sum
    drift from the rounded fund by up to half a minor unit per member, so the
    rounded fund is split pro rata to the rounded contributions instead
    (largest remainder, exact).
    """
    fund = to_money(float(contributions.sum()), ccy)
    # Building exact value objects, one per member: this is the border, not array code.
    rounded = {m: to_money(float(c), ccy) for m, c in zip(member_ids, contributions, strict=True)}
    if all(amount.is_zero() for amount in rounded.values()):
        return tuple(rounded.values())
    shares = split_pro_rata(fund, rounded)
    return tuple(shares[m] for m in member_ids)


def _with_sitg(params: FundParams, sitg: float) -> FundParams:
    return replace(params, sitg_junior=sitg)


def _with_basis(params: FundParams, basis: CoverBasis) -> FundParams:
    return replace(params, basis=basis)

"""The waterfall on many paths at once, in int64 minor units.

Each path is one default event: its defaulting members, in its scenario,
through the rulebook's tranches in order. The rules are those of the exact
engine (``waterfall.rules``) for an event with nothing before it: every
defaulter's margin for its own loss; the defaulters' contributions, own loss
first, then pooled; CCP capital up to its amount; CCP capital pro rata with
the next tranche, the CCP's amount weighing as one more contribution (the
CCP's key sorts first); the survivors' fund pro rata to contribution, capped
at what is left; assessments capped at ``cap_multiple`` times the
contribution, rounded down, less what earlier assessment tranches took; the
VM gains haircut pro rata to gains, capped at ``max_fraction`` of them,
rounded down. Splits round as the engine's do (``simulation.allocate``).

Where a rule's split over defaulters only moves the loss between their loss
accounts, the totals are tracked as one sum; each defaulter's remaining loss
is split out only when a later tranche reads it (a defaulter tranche after a
pooled one). Paths with no default are not computed: all their figures are 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.domain import TrancheKind
from ccpwaterfall.simulation.allocate import allocate_rows, allocate_rows_capped
from ccpwaterfall.simulation.book import Book

Int = NDArray[np.int64]

_DEFAULTER_KINDS = (TrancheKind.DEFAULTER_MARGIN, TrancheKind.DEFAULTER_DEFAULT_FUND)
_SUPPORTED = frozenset(TrancheKind)


@dataclass(frozen=True, slots=True, eq=False)
class PathResults:
    """Every path's waterfall: shapes (paths,), (paths, tranches) or (paths, members).

    ``loss``: the defaulters' close-out loss; ``available`` and ``used``: per
    tranche, as the exact engine reports them; ``fund``, ``assessment`` and
    ``haircut``: what each survivor bore from its contribution, by cash call
    and by VM haircut; ``uncovered``: the loss beyond the waterfall.
    """

    loss: Int
    available: Int
    used: Int
    fund: Int
    assessment: Int
    haircut: Int
    uncovered: Int

    @property
    def paid(self) -> Int:
        """What each survivor bore in all: shape (paths, members)."""
        total: Int = self.fund + self.assessment + self.haircut
        return total


def unsupported_kinds(book: Book) -> tuple[str, ...]:
    """Kinds of the rulebook the array waterfall does not implement (custom registries)."""
    return tuple(t.kind for t in book.rulebook.waterfall if t.kind not in _SUPPORTED)


def _floor_times(units: Int, factor: Fraction) -> Int:
    """Each amount times ``factor`` rounded down, exactly (as the engine's caps)."""
    flat = [u * factor.numerator // factor.denominator for u in units.ravel().tolist()]
    return np.asarray(flat, dtype=np.int64).reshape(units.shape)


@dataclass(frozen=True, slots=True, eq=False)
class _Caps:
    """Per-tranche caps that depend on no path: assessment caps, haircut caps per scenario."""

    assessment: Mapping[int, Int]
    haircut: Mapping[int, Int]


def _caps(book: Book) -> _Caps:
    assessment: dict[int, Int] = {}
    haircut: dict[int, Int] = {}
    for index, tranche in enumerate(book.rulebook.waterfall):
        if tranche.kind == TrancheKind.ASSESSMENTS:
            assert tranche.cap_multiple is not None  # required by the kind
            assessment[index] = _floor_times(book.contribution, Fraction(tranche.cap_multiple))
        elif tranche.kind == TrancheKind.VM_GAINS_HAIRCUT:
            haircut[index] = _floor_times(book.gains, Fraction(tranche.haircut_fraction))
    return _Caps(assessment, haircut)


def run_paths(
    book: Book,
    scenario: NDArray[np.intp],
    defaulted: NDArray[np.bool_],
    capital: Mapping[int, int] | None = None,
    caps: _Caps | None = None,
) -> PathResults:
    """The waterfall of every path: ``scenario`` shape (paths,), ``defaulted`` (paths, members).

    ``capital``: amounts in minor units replacing those of CCP capital tranches,
    by tranche index (a skin-in-the-game grid).
    """
    unsupported = unsupported_kinds(book)
    if unsupported:
        raise ValueError(f"no array rule for tranche kinds {', '.join(unsupported)}")
    caps = caps or _caps(book)
    tranches = book.rulebook.waterfall
    n_paths, n_members, n_tranches = len(scenario), book.n_members, len(tranches)
    out = PathResults(
        loss=np.zeros(n_paths, np.int64),
        available=np.zeros((n_paths, n_tranches), np.int64),
        used=np.zeros((n_paths, n_tranches), np.int64),
        fund=np.zeros((n_paths, n_members), np.int64),
        assessment=np.zeros((n_paths, n_members), np.int64),
        haircut=np.zeros((n_paths, n_members), np.int64),
        uncovered=np.zeros(n_paths, np.int64),
    )
    rows = np.flatnonzero(defaulted.any(axis=1))
    if rows.size == 0:
        return out
    capital = dict(capital or {})
    rank = np.arange(n_members, dtype=np.intp)
    s = scenario[rows]
    out_mask = defaulted[rows]
    surv = ~out_mask
    contribution = np.broadcast_to(book.contribution, out_mask.shape)
    # Each defaulter's remaining loss, and the balances the rules read.
    remaining = np.where(out_mask, book.loss[s], 0)
    margin_left = np.where(out_mask, book.usable_margin[s], 0)
    own_fund_left = np.where(out_mask, contribution, 0)
    fund_left = np.where(surv, contribution, 0)
    gains = np.where(surv, book.gains[s], 0)
    assessed = np.zeros(out_mask.shape, np.int64)
    haircut = np.zeros(out_mask.shape, np.int64)
    drawn_fund = np.zeros(out_mask.shape, np.int64)
    rest = remaining.sum(axis=1)
    out.loss[rows] = rest
    available = np.zeros((rows.size, n_tranches), np.int64)
    used = np.zeros((rows.size, n_tranches), np.int64)
    # A share of the CCP taken in step with the next tranche, by tranche index.
    capital_left = {
        i: capital.get(i, t.amount.minor_units if t.amount is not None else 0)
        for i, t in enumerate(tranches)
    }

    def cover(total: Int, index: int) -> None:
        """Apply a pooled amount to the defaulters, pro rata to their remaining loss."""
        nonlocal remaining, rest
        rest = rest - total
        if any(t.kind in _DEFAULTER_KINDS for t in tranches[index + 1 :]):
            remaining = remaining - allocate_rows_capped(total, remaining, remaining, rank)

    def survivor_terms(index: int) -> tuple[Int, Int]:
        kind = tranches[index].kind
        if kind == TrancheKind.MEMBER_DEFAULT_FUND:
            return np.where(surv, contribution, 0), fund_left
        cap = caps.assessment[index]
        return np.where(surv, contribution, 0), np.where(surv, np.maximum(cap - assessed, 0), 0)

    for index, tranche in enumerate(tranches):
        kind = tranche.kind
        if kind == TrancheKind.DEFAULTER_MARGIN:
            taken = np.minimum(margin_left, remaining)
            available[:, index] = margin_left.sum(axis=1)
            used[:, index] = taken.sum(axis=1)
            margin_left = margin_left - taken
            remaining = remaining - taken
            rest = remaining.sum(axis=1)
        elif kind == TrancheKind.DEFAULTER_DEFAULT_FUND:
            own = np.minimum(own_fund_left, remaining)
            left = own_fund_left - own
            still = remaining - own
            left_sum, still_sum = left.sum(axis=1), still.sum(axis=1)
            pooled = np.minimum(left_sum, still_sum)
            available[:, index] = own_fund_left.sum(axis=1)
            used[:, index] = own.sum(axis=1) + pooled
            # Either every contribution is spent or every loss is covered: exhaustive.
            own_fund_left = np.where((pooled == left_sum)[:, None], 0, left)
            remaining = still
            rest = still_sum - pooled
            if any(t.kind in _DEFAULTER_KINDS for t in tranches[index + 1 :]):
                remaining = still - allocate_rows_capped(pooled, still, still, rank)
        elif kind == TrancheKind.CCP_CAPITAL:
            avail = np.full(rows.size, capital_left[index], np.int64)
            take = np.minimum(avail, rest)
            available[:, index] = avail
            used[:, index] = take
            cover(take, index)
        elif kind == TrancheKind.CCP_CAPITAL_PRO_RATA:
            amount = capital_left[index]
            avail = np.full(rows.size, amount, np.int64)
            weights, member_caps = survivor_terms(index + 1)
            members_can = np.where(weights > 0, member_caps, 0).sum(axis=1)
            joint = np.minimum(avail + members_can, rest)
            share = np.zeros(rows.size, np.int64)
            live = joint > 0
            if amount and live.any():
                keys_w = np.concatenate(
                    [np.full((int(live.sum()), 1), amount, np.int64), weights[live]], axis=1
                )
                keys_c = np.concatenate([avail[live][:, None], member_caps[live]], axis=1)
                split = allocate_rows_capped(
                    joint[live], keys_w, keys_c, np.arange(n_members + 1, dtype=np.intp)
                )
                share[live] = split[:, 0]
            available[:, index] = avail
            used[:, index] = share
            cover(share, index)
        elif kind in (TrancheKind.MEMBER_DEFAULT_FUND, TrancheKind.ASSESSMENTS):
            weights, member_caps = survivor_terms(index)
            giving_caps = np.where(weights > 0, member_caps, 0)
            avail = giving_caps.sum(axis=1)
            take = np.minimum(avail, rest)
            drawn = allocate_rows_capped(take, weights, giving_caps, rank)
            available[:, index] = avail
            used[:, index] = take
            if kind == TrancheKind.MEMBER_DEFAULT_FUND:
                fund_left = fund_left - drawn
                drawn_fund = drawn_fund + drawn
            else:
                assessed = assessed + drawn
            cover(take, index)
        elif kind == TrancheKind.VM_GAINS_HAIRCUT:
            limit = np.where(surv, caps.haircut[index][s], 0)
            member_caps = np.where(gains > 0, np.maximum(limit - haircut, 0), 0)
            avail = member_caps.sum(axis=1)
            take = np.minimum(avail, rest)
            drawn = allocate_rows_capped(take, gains, member_caps, rank)
            available[:, index] = avail
            used[:, index] = take
            haircut = haircut + drawn
            cover(take, index)
    out.available[rows] = available
    out.used[rows] = used
    out.fund[rows] = drawn_fund
    out.assessment[rows] = assessed
    out.haircut[rows] = haircut
    out.uncovered[rows] = rest
    return out


__all__ = ["PathResults", "allocate_rows", "run_paths", "unsupported_kinds"]

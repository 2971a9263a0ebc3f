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
from ccpwaterfall.simulation.allocate import allocate_rows_capped
from ccpwaterfall.simulation.book import Book

Int = NDArray[np.int64]

_DEFAULTER_KINDS = (TrancheKind.DEFAULTER_MARGIN, TrancheKind.DEFAULTER_DEFAULT_FUND)
AUCTION_TIERS = "auction_tiers"
_SUPPORTED = frozenset(TrancheKind)


@dataclass(frozen=True, slots=True, eq=False)
class PathResults:
    """Every path's waterfall.

    Shapes (paths,) or (paths, tranches): ``loss``, the defaulters' close-out
    loss; ``available`` and ``used`` per tranche, as the exact engine reports
    them (a survivors' tranche no loss reaches shows 0 available: it is not
    computed); ``uncovered``, the loss beyond the waterfall. The survivors'
    charges are kept only for the paths that reach a survivors' tranche,
    ``charged`` (their indices, ascending): ``fund``, ``assessment`` and
    ``haircut``, shape (charged paths, members).
    """

    loss: Int
    available: Int
    used: Int
    uncovered: Int
    charged: NDArray[np.intp]
    fund: Int
    assessment: Int
    haircut: Int

    @property
    def paid(self) -> Int:
        """What each survivor bore in all, on the charged paths: shape (charged, members)."""
        total: Int = self.fund + self.assessment + self.haircut
        return total

    def dense(self) -> tuple[Int, Int, Int]:
        """The three charges on every path: shapes (paths, members)."""
        n = self.loss.shape[0]
        out = []
        for part in (self.fund, self.assessment, self.haircut):
            whole = np.zeros((n, part.shape[1]), np.int64)
            whole[self.charged] = part
            out.append(whole)
        return out[0], out[1], out[2]


def unsupported_kinds(book: Book) -> tuple[str, ...]:
    """Kinds of the rulebook the array waterfall does not implement (custom registries)."""
    return tuple(t.kind for t in book.rulebook.waterfall if t.kind not in _SUPPORTED)


def _floor_times(units: Int, factor: Fraction) -> Int:
    """Each amount times ``factor`` rounded down, exactly (as the engine's caps)."""
    flat = [u * factor.numerator // factor.denominator for u in units.ravel().tolist()]
    return np.asarray(flat, dtype=np.int64).reshape(units.shape)


@dataclass(frozen=True, slots=True, eq=False)
class Caps:
    """Per-tranche caps that depend on no path: assessment caps, haircut caps per scenario."""

    assessment: Mapping[int, Int]
    haircut: Mapping[int, Int]


def caps_of(book: Book) -> Caps:
    assessment: dict[int, Int] = {}
    haircut: dict[int, Int] = {}
    for index, tranche in enumerate(book.rulebook.waterfall):
        if tranche.kind == TrancheKind.ASSESSMENTS:
            assert tranche.cap_multiple is not None  # required by the kind
            assessment[index] = _floor_times(book.contribution, Fraction(tranche.cap_multiple))
        elif tranche.kind == TrancheKind.VM_GAINS_HAIRCUT:
            haircut[index] = _floor_times(book.gains, Fraction(tranche.haircut_fraction))
    return Caps(assessment, haircut)


def run_paths(
    book: Book,
    scenario: NDArray[np.intp],
    defaulted: NDArray[np.bool_],
    capital: Mapping[int, int] | None = None,
    caps: Caps | None = None,
) -> PathResults:
    """The waterfall of every path: ``scenario`` shape (paths,), ``defaulted`` (paths, members).

    ``capital``: amounts in minor units replacing those of CCP capital tranches,
    by tranche index (a skin-in-the-game grid).

    Defaulters are few on a path: their tranches run on (path, defaulter)
    pairs. The survivors' tranches run on dense (paths, members) arrays, but
    only for the paths whose loss is not yet covered when they come.
    """
    unsupported = unsupported_kinds(book)
    if unsupported:
        raise ValueError(f"no array rule for tranche kinds {', '.join(unsupported)}")
    caps = caps or caps_of(book)
    return _Run(book, scenario, defaulted, dict(capital or {}), caps).result()


class _Run:
    """The state of one array run: defaulters' pairs, the loss left, the survivors' side."""

    def __init__(
        self,
        book: Book,
        scenario: NDArray[np.intp],
        defaulted: NDArray[np.bool_],
        capital: dict[int, int],
        caps: Caps,
    ) -> None:
        self.book = book
        self.caps = caps
        self.tranches = book.rulebook.waterfall
        n, t, m = len(scenario), len(self.tranches), book.n_members
        self.n_members = m
        self.rank = np.arange(m, dtype=np.intp)
        self.loss = np.zeros(n, np.int64)
        self.available = np.zeros((n, t), np.int64)
        self.used = np.zeros((n, t), np.int64)
        self.uncovered = np.zeros(n, np.int64)
        self.rows = np.flatnonzero(defaulted.any(axis=1))
        self.scenario = scenario[self.rows]
        self.defaulted = defaulted[self.rows]
        # (row, member) of every defaulter, grouped by row (row-major order).
        self.pair_row, self.pair_member = np.nonzero(self.defaulted)
        self.starts = np.flatnonzero(np.r_[True, np.diff(self.pair_row) != 0])
        s = self.scenario[self.pair_row]
        self.remaining = book.loss[s, self.pair_member]
        self.margin_left = book.usable_margin[s, self.pair_member]
        self.own_fund_left = book.contribution[self.pair_member].copy()
        self.rest = self._per_row(self.remaining)
        self.loss[self.rows] = self.rest
        self.capital_left = {
            i: capital.get(i, tr.amount.minor_units if tr.amount is not None else 0)
            for i, tr in enumerate(self.tranches)
        }
        # The survivors' side: rows (indices into ``rows``) and their dense state.
        self.side: NDArray[np.intp] | None = None
        self.fund_left = self.assessed = self.haircut = self.drawn = np.zeros((0, m), np.int64)
        self.gains = self.weights = np.zeros((0, m), np.int64)

    def _per_row(self, values: Int) -> Int:
        if values.size == 0:
            return np.zeros(0, np.int64)
        sums: Int = np.add.reduceat(values, self.starts)
        return sums

    def _later_defaulter_tranche(self, index: int) -> bool:
        return any(t.kind in _DEFAULTER_KINDS for t in self.tranches[index + 1 :])

    def result(self) -> PathResults:
        for index, tranche in enumerate(self.tranches):
            kind = tranche.kind
            if kind == TrancheKind.DEFAULTER_MARGIN:
                self._defaulter_margin(index)
            elif kind == TrancheKind.DEFAULTER_DEFAULT_FUND:
                self._defaulter_fund(index)
            elif kind == TrancheKind.CCP_CAPITAL:
                self._capital(index)
            else:
                self._survivors(index, kind)
        self.uncovered[self.rows] = self.rest
        m = self.n_members
        charged = self.rows[self.side] if self.side is not None else np.zeros(0, dtype=np.intp)
        empty = np.zeros((0, m), np.int64)
        return PathResults(
            loss=self.loss,
            available=self.available,
            used=self.used,
            uncovered=self.uncovered,
            charged=charged,
            fund=self.drawn if self.side is not None else empty,
            assessment=self.assessed if self.side is not None else empty,
            haircut=self.haircut if self.side is not None else empty,
        )

    def _record(self, index: int, at: NDArray[np.intp], available: Int, used: Int) -> None:
        self.available[self.rows[at], index] = available
        self.used[self.rows[at], index] = used

    def _defaulter_margin(self, index: int) -> None:
        taken = np.minimum(self.margin_left, self.remaining)
        all_rows = np.arange(self.rows.size)
        self._record(index, all_rows, self._per_row(self.margin_left), self._per_row(taken))
        self.margin_left = self.margin_left - taken
        self.remaining = self.remaining - taken
        self.rest = self._per_row(self.remaining)

    def _defaulter_fund(self, index: int) -> None:
        own = np.minimum(self.own_fund_left, self.remaining)
        left = self.own_fund_left - own
        still = self.remaining - own
        left_sum, still_sum = self._per_row(left), self._per_row(still)
        pooled = np.minimum(left_sum, still_sum)
        all_rows = np.arange(self.rows.size)
        self._record(
            index, all_rows, self._per_row(self.own_fund_left), self._per_row(own) + pooled
        )
        # Either every contribution is spent or every loss is covered: exhaustive.
        self.own_fund_left = np.where((pooled == left_sum)[self.pair_row], 0, left)
        self.remaining = still
        self.rest = still_sum - pooled
        if self._later_defaulter_tranche(index):
            self._cover_defaulters(pooled)

    def _cover_defaulters(self, total: Int) -> None:
        """Apply pooled amounts to each row's defaulters, pro rata to their remaining loss."""
        live = np.flatnonzero(total > 0)
        if live.size == 0:
            return
        in_live = np.isin(self.pair_row, live)
        dense = np.zeros((self.rows.size, self.n_members), np.int64)
        dense[self.pair_row[in_live], self.pair_member[in_live]] = self.remaining[in_live]
        split = allocate_rows_capped(total[live], dense[live], dense[live], self.rank)
        dense[live] = dense[live] - split
        self.remaining = np.where(in_live, dense[self.pair_row, self.pair_member], self.remaining)

    def _capital(self, index: int) -> None:
        avail = np.full(self.rows.size, self.capital_left[index], np.int64)
        take = np.minimum(avail, self.rest)
        self._record(index, np.arange(self.rows.size), avail, take)
        self._covered(take, index)

    def _covered(self, take: Int, index: int) -> None:
        self.rest = self.rest - take
        if self._later_defaulter_tranche(index):
            self._cover_defaulters(take)

    def _open_side(self) -> NDArray[np.intp]:
        """The rows with loss left, as rows of the survivors' dense state (opened once)."""
        if self.side is None:
            side = np.flatnonzero(self.rest > 0)
            self.side = side
            surv = ~self.defaulted[side]
            contribution = self.book.contribution[None, :]
            self.weights = np.where(surv, contribution, 0)
            self.fund_left = self.weights.copy()
            self.gains = np.where(surv, self.book.gains[self.scenario[side]], 0)
            shape = (side.size, self.n_members)
            self.assessed = np.zeros(shape, np.int64)
            self.haircut = np.zeros(shape, np.int64)
            self.drawn = np.zeros(shape, np.int64)
        # Positions in the side state of its rows that still have a loss left.
        live: NDArray[np.intp] = np.flatnonzero(self.rest[self.side] > 0)
        return live

    def _terms(self, index: int, live: NDArray[np.intp]) -> tuple[Int, Int]:
        """Weights and caps of the survivors' fund or assessment tranche at ``index``."""
        weights = self.weights[live]
        if self.tranches[index].kind == TrancheKind.MEMBER_DEFAULT_FUND:
            return weights, self.fund_left[live]
        cap = self.caps.assessment[index]
        return weights, np.where(weights > 0, np.maximum(cap - self.assessed[live], 0), 0)

    def _draw(self, index: int, take: Int, weights: Int, member_caps: Int) -> Int:
        """``take`` split pro rata within caps, or tier by tier, most junior first."""
        tiers = self.book.auction_tiers
        if self.tranches[index].allocation != AUCTION_TIERS or not tiers:
            return allocate_rows_capped(take, weights, member_caps, self.rank)
        named = np.zeros(self.n_members, dtype=bool)
        masks = []
        for tier in tiers:
            mask = np.zeros(self.n_members, dtype=bool)
            mask[list(tier)] = True
            named |= mask
            masks.append(mask)
        masks.append(~named)  # survivors no tier names: one more tier after them
        drawn = np.zeros(weights.shape, np.int64)
        left = take.copy()
        for mask in masks:
            tier_weights = np.where(mask, weights, 0)
            tier_caps = np.where(mask, member_caps, 0)
            tier_take = np.minimum(left, tier_caps.sum(axis=1))
            drawn += allocate_rows_capped(tier_take, tier_weights, tier_caps, self.rank)
            left -= tier_take
        return drawn

    def _survivors(self, index: int, kind: str) -> None:
        live = self._open_side()
        assert self.side is not None  # opened above
        at = self.side[live]
        rest = self.rest[at]
        if kind == TrancheKind.CCP_CAPITAL_PRO_RATA:
            amount = self.capital_left[index]
            avail = np.full(live.size, amount, np.int64)
            weights, member_caps = self._terms(index + 1, live)
            members_can = np.where(weights > 0, member_caps, 0).sum(axis=1)
            joint = np.minimum(avail + members_can, rest)
            share = np.zeros(live.size, np.int64)
            go = joint > 0
            if amount and go.any():
                keys_w = np.concatenate(
                    [np.full((int(go.sum()), 1), amount, np.int64), weights[go]], axis=1
                )
                keys_c = np.concatenate([avail[go][:, None], member_caps[go]], axis=1)
                order = np.arange(self.n_members + 1, dtype=np.intp)
                share[go] = allocate_rows_capped(joint[go], keys_w, keys_c, order)[:, 0]
            self._record(index, at, avail, share)
            take = share
        else:
            if kind == TrancheKind.VM_GAINS_HAIRCUT:
                weights = self.gains[live]
                limit = self.caps.haircut[index][self.scenario[at]]
                member_caps = np.where(weights > 0, np.maximum(limit - self.haircut[live], 0), 0)
            else:
                weights, member_caps = self._terms(index, live)
                member_caps = np.where(weights > 0, member_caps, 0)
            avail = member_caps.sum(axis=1)
            take = np.minimum(avail, rest)
            drawn = self._draw(index, take, weights, member_caps)
            self._record(index, at, avail, take)
            if kind == TrancheKind.MEMBER_DEFAULT_FUND:
                self.fund_left[live] -= drawn
                self.drawn[live] += drawn
            elif kind == TrancheKind.ASSESSMENTS:
                self.assessed[live] += drawn
            else:
                self.haircut[live] += drawn
        full_take = np.zeros(self.rows.size, np.int64)
        full_take[at] = take
        self._covered(full_take, index)


__all__ = ["PathResults", "run_paths", "unsupported_kinds"]

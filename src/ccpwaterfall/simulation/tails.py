"""Exact tails of many figures in memory bounded by the chunk, over passes of the same chunks.

Value at risk and expected shortfall need, for each figure (a column), the
``k`` largest values over every path (``k``: 1% of the paths): the VaR is the
``k``-th largest, the tail sum adds the ``k`` largest. Keeping those ``k``
values per column grows with the paths. Here each column instead has a
*window*: the range of values (and, once it holds a single value, of paths)
where its ``k``-th largest lies, what is known above it (how many values,
and their sums) and how many values it still needs (``need``). A pass over
the chunks either

- counts the window's values in buckets (log-spaced over int64 at first,
  then linear within the window), which narrows the window to one bucket; or
- once ``need`` is at most ``budget``, keeps the ``need`` largest values of
  the window, which resolves the column exactly.

Values are ranked by value, then by path (the earlier path first among
equal values): a column's tail is one set of paths, so a figure's parts on
its tail (a member's fund, assessment and haircut; each group's loss) are
summed on those same paths, whichever way the chunks ran. A column whose
window holds a single value and whose parts are the value itself resolves at
once: ``need`` times that value. Memory: ``budget`` kept values per column
and a few thousand buckets per column, whatever the number of paths.

Only values above 0 take part: where fewer than ``k`` are, the VaR is 0 and
the tail sum is the sum of them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

Int = NDArray[np.int64]
Rows = NDArray[np.intp]

#: The largest int64.
TOP = 2**63 - 1
#: Buckets per octave of the first pass's log-spaced bounds.
PER_OCTAVE = 64
#: Buckets of a window narrowed again (linear over its values or paths).
LINEAR_BUCKETS = 256


def _log_bounds() -> Int:
    bounds = {(1 << e) + (j << e) // PER_OCTAVE for e in range(63) for j in range(PER_OCTAVE)}
    return np.asarray(sorted(b for b in bounds if b <= TOP), dtype=np.int64)


LOG_BOUNDS = _log_bounds()


def _linear_bounds(low: int, high: int) -> Int:
    """At most ``LINEAR_BUCKETS`` lower bounds splitting ``low..high`` evenly."""
    width = high - low + 1
    count = min(LINEAR_BUCKETS, width)
    return np.asarray(sorted({low + (i * width) // count for i in range(count)}), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Window:
    """Where one column's ``k``-th largest value lies, and what is known above it.

    ``low..high``: its values; ``first..last``: its paths (narrowed only when
    ``low == high``). ``above``: the count of ranked values above the window;
    ``sums``: their parts summed. ``bounds``: the buckets of the next pass
    (None: keep the ``need`` largest). ``var``: set once resolved, with
    ``sums`` then the tail's.
    """

    need: int
    low: int
    high: int
    first: int
    last: int
    above: int
    sums: tuple[int, ...]
    bounds: Int | None
    var: int | None = None

    @property
    def by_path(self) -> bool:
        return self.low == self.high

    def inside(self, values: Int, paths: Int) -> NDArray[np.bool_]:
        inside: NDArray[np.bool_] = (values >= self.low) & (values <= self.high)
        if self.by_path:
            inside &= (paths >= self.first) & (paths <= self.last)
        return inside


@dataclass(frozen=True, slots=True)
class Plan:
    """Every figure's windows: what the next pass keeps. ``budget``: the most values kept."""

    windows: Mapping[str, tuple[Window, ...]]
    budget: int

    @property
    def resolved(self) -> bool:
        return all(w.var is not None for ws in self.windows.values() for w in ws)

    def results(self, name: str) -> tuple[Int, list[list[int]]]:
        """A figure's VaR per column and its tail sums (columns x parts)."""
        windows = self.windows[name]
        assert all(w.var is not None for w in windows)
        var = np.asarray([w.var for w in windows], dtype=np.int64)
        return var, [list(w.sums) for w in windows]


def first_plan(figures: Mapping[str, tuple[int, int]], k: int, budget: int, paths: int) -> Plan:
    """Windows over every value above 0; ``figures``: name -> (columns, parts)."""
    select = k <= budget
    return Plan(
        {
            name: tuple(
                Window(
                    need=k,
                    low=1,
                    high=TOP,
                    first=0,
                    last=max(paths - 1, 0),
                    above=0,
                    sums=(0,) * parts,
                    bounds=None if select else LOG_BOUNDS,
                )
                for _ in range(columns)
            )
            for name, (columns, parts) in figures.items()
        },
        budget,
    )


# A figure's parts on some rows of its column: (column, rows) -> (rows, parts).
Parts = Callable[[int, Rows], Int]


@dataclass(frozen=True, slots=True, eq=False)
class Stream:
    """One figure over a chunk's rows: values (rows, columns), each row's path, its parts.

    ``parts`` None: the value itself is the one part.
    """

    values: Int
    paths: Int
    parts: Parts | None = None

    def parts_of(self, column: int, rows: Rows) -> Int:
        if self.parts is None:
            result: Int = self.values[rows, column][:, None]
            return result
        return self.parts(column, rows)


@dataclass(frozen=True, slots=True, eq=False)
class Counts:
    """A window's values counted in its buckets, with their parts summed per bucket.

    Only the buckets met are held (``buckets``, ascending). ``least`` and
    ``most``: the smallest and largest key met in each (value, or path once
    the window holds one value): a bucket of equal values narrows to that
    value at once.
    """

    buckets: Int  # (met,)
    counts: Int  # (met,)
    sums: Int  # (met, parts)
    least: Int  # (met,)
    most: Int  # (met,)

    @classmethod
    def of(cls, buckets: Int, counts: Int, sums: Int, least: Int, most: Int) -> Counts:
        """Rows of the same bucket added up (``counts`` and ``sums``), min and max kept."""
        met, at = np.unique(buckets, return_inverse=True)
        total = np.zeros((met.size, sums.shape[1]), np.int64)
        np.add.at(total, at, sums)
        low = np.full(met.size, TOP, np.int64)
        high = np.zeros(met.size, np.int64)
        np.minimum.at(low, at, least)
        np.maximum.at(high, at, most)
        count = np.zeros(met.size, np.int64)
        np.add.at(count, at, counts)
        return cls(met.astype(np.int64), count, total, low, high)


@dataclass(frozen=True, slots=True, eq=False)
class Kept:
    """A window's largest values (value descending, then path), at most its need."""

    values: Int
    paths: Int
    parts: Int  # (kept, parts)


Piece = Counts | Kept | None
Pieces = dict[str, tuple[Piece, ...]]


def _ranked(values: Int, paths: Int) -> Rows:
    order: Rows = np.lexsort((paths, -values))
    return order


def _keep(kept: Kept, need: int) -> Kept:
    order = _ranked(kept.values, kept.paths)[:need]
    return Kept(kept.values[order], kept.paths[order], kept.parts[order])


def piece_of(stream: Stream, window: Window, column: int) -> Piece:
    """What one chunk gives a window of ``column``."""
    if window.var is not None:
        return None
    values = stream.values[:, column]
    rows = np.flatnonzero(values > 0)
    inside = window.inside(values[rows], stream.paths[rows])
    rows = rows[inside]
    if window.bounds is None:
        if rows.size > window.need:
            rows = rows[_ranked(values[rows], stream.paths[rows])[: window.need]]
        return Kept(values[rows].copy(), stream.paths[rows].copy(), stream.parts_of(column, rows))
    keys = stream.paths[rows] if window.by_path else values[rows]
    bucket = np.searchsorted(window.bounds, keys, side="right") - 1
    return Counts.of(
        bucket.astype(np.int64),
        np.ones(bucket.size, np.int64),
        stream.parts_of(column, rows),
        keys,
        keys,
    )


def pieces_of(streams: Mapping[str, Stream], plan: Plan) -> Pieces:
    """Every window's piece from one chunk's streams."""
    return {
        name: tuple(piece_of(streams[name], w, c) for c, w in enumerate(windows))
        for name, windows in plan.windows.items()
    }


def _merge_piece(pieces: Sequence[Piece], window: Window) -> Piece:
    if window.var is not None:
        return None
    if window.bounds is None:
        kept = [p for p in pieces if isinstance(p, Kept)]
        return _keep(
            Kept(
                np.concatenate([p.values for p in kept]),
                np.concatenate([p.paths for p in kept]),
                np.concatenate([p.parts for p in kept]),
            ),
            window.need,
        )
    counted = [p for p in pieces if isinstance(p, Counts)]
    return Counts.of(
        np.concatenate([p.buckets for p in counted]),
        np.concatenate([p.counts for p in counted]),
        np.concatenate([p.sums for p in counted]),
        np.concatenate([p.least for p in counted]),
        np.concatenate([p.most for p in counted]),
    )


def merge_pieces(pieces: Sequence[Pieces], plan: Plan) -> Pieces:
    """Chunks' pieces as one (the kept values ranked again, counts added)."""
    if len(pieces) == 1:
        return pieces[0]
    return {
        name: tuple(_merge_piece([p[name][c] for p in pieces], w) for c, w in enumerate(windows))
        for name, windows in plan.windows.items()
    }


def _add(sums: tuple[int, ...], more: Int) -> tuple[int, ...]:
    return tuple(a + int(b) for a, b in zip(sums, more.tolist(), strict=True))


def _narrow(window: Window, piece: Piece, budget: int, value_is_part: bool) -> Window:
    if window.var is not None:
        return window
    if isinstance(piece, Kept):
        piece = _keep(piece, window.need)
        total = piece.parts.sum(axis=0, dtype=np.int64)
        if piece.values.size < window.need:  # fewer than k values above 0 in all
            return replace(window, var=0, sums=_add(window.sums, total))
        return replace(window, var=int(piece.values[-1]), sums=_add(window.sums, total))
    assert isinstance(piece, Counts)
    assert window.bounds is not None
    # From the largest keys down: the highest buckets by value, the first paths by path.
    order = np.arange(piece.buckets.size)
    if not window.by_path:
        order = order[::-1]
    running = np.cumsum(piece.counts[order])
    at = int(np.searchsorted(running, window.need, side="left"))
    if at == order.size:  # fewer than k values above 0 in all
        return replace(window, var=0, sums=_add(window.sums, piece.sums.sum(axis=0)))
    bucket = int(order[at])
    before = order[:at]
    above = window.above + int(piece.counts[before].sum())
    sums = _add(window.sums, piece.sums[before].sum(axis=0, dtype=np.int64))
    need = window.need - (above - window.above)
    # The keys met in the bucket, not its bounds: equal values make one value at once.
    low = int(piece.least[bucket])
    high = int(piece.most[bucket])
    if window.by_path:
        narrowed = replace(window, first=low, last=high)
    else:
        narrowed = replace(window, low=low, high=high)
    narrowed = replace(narrowed, need=need, above=above, sums=sums)
    if narrowed.by_path and value_is_part:
        # Equal values: the tail takes ``need`` of them, whichever paths they are.
        return replace(
            narrowed, var=narrowed.low, sums=tuple(s + need * narrowed.low for s in sums)
        )
    if narrowed.by_path and narrowed.first == narrowed.last:
        return replace(narrowed, var=narrowed.low, sums=_add(sums, piece.sums[bucket]))
    if need <= budget:
        return replace(narrowed, bounds=None)
    span = (narrowed.first, narrowed.last) if narrowed.by_path else (narrowed.low, narrowed.high)
    return replace(narrowed, bounds=_linear_bounds(*span))


def narrow(plan: Plan, pieces: Pieces, value_is_part: Mapping[str, bool]) -> Plan:
    """The plan after a pass: windows narrowed, or resolved."""
    return replace(
        plan,
        windows={
            name: tuple(
                _narrow(w, pieces[name][c], plan.budget, value_is_part[name])
                for c, w in enumerate(windows)
            )
            for name, windows in plan.windows.items()
        },
    )

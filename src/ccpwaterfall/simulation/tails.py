"""Exact tails of many figures in memory bounded by the chunk, over passes of the same chunks.

Value at risk and expected shortfall need, for each figure (a column), the
``k`` largest values over every path (``k``: 1% of the paths): the VaR is the
``k``-th largest, the tail sum adds the ``k`` largest. Keeping those ``k``
values per column grows with the paths. Here each column instead has a
*window*: the range of values where its ``k``-th largest lies, what is known
above it (how many values, and their parts summed) and how many values it
still needs (``need``). A pass over the chunks either

- counts the window's values in buckets (log-spaced over int64 at first,
  then linear within the window), with the least and largest value met in
  each, which narrows the window to one bucket's values; or
- once ``need`` is at most ``budget``, keeps the ``need`` largest values of
  the window, which resolves the column exactly; or
- once the window holds a single value, adds up the parts of its ``need``
  earliest paths, merged in chunk order, which resolves it too.

Values are ranked by value, then by path (the earlier path first among
equal values): a column's tail is one set of paths, so a figure's parts on
its tail (a member's fund, assessment and haircut; each group's loss) are
summed on those same paths, whichever way the chunks ran. A column whose
window holds a single value and whose one part is the value itself resolves
at once: ``need`` times that value. Memory: ``budget`` kept values per
column, the buckets met per column (a few thousand at most) and one chunk's
rows, whatever the number of paths.

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

    ``low..high``: its values. ``above``: the count of values above the
    window; ``sums``: their parts summed. ``bounds``: the buckets of the next
    pass (None: keep the ``need`` largest, or, for a single value, the parts
    of its ``need`` earliest paths). ``var``: set once resolved, with
    ``sums`` then the tail's.
    """

    need: int
    low: int
    high: int
    above: int
    sums: tuple[int, ...]
    bounds: Int | None
    var: int | None = None

    @property
    def by_path(self) -> bool:
        """One value left: its tied paths are taken in path order."""
        return self.low == self.high


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


def first_plan(figures: Mapping[str, tuple[int, int]], k: int, budget: int) -> Plan:
    """Windows over every value above 0; ``figures``: name -> (columns, parts)."""
    select = k <= budget
    return Plan(
        {
            name: tuple(
                Window(
                    need=k,
                    low=1,
                    high=TOP,
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
    ``most``: the smallest and largest value met in each, with how many
    times (``at_least``, ``at_most``) and, for the least, their parts summed
    (``least_sums``): a threshold on a bucket's edge value (a tranche used
    whole on many paths) is found without another pass.
    """

    buckets: Int  # (met,)
    counts: Int  # (met,)
    sums: Int  # (met, parts)
    least: Int  # (met,)
    at_least: Int  # (met,)
    least_sums: Int  # (met, parts)
    most: Int  # (met,)
    at_most: Int  # (met,)

    @classmethod
    def of(cls, values: Int, buckets: Int, parts: Int) -> Counts:
        """Values, each in its bucket, with its parts."""
        ones = np.ones(values.size, np.int64)
        return cls(buckets, ones, parts, values, ones, parts, values, ones).merged()

    @staticmethod
    def join(pieces: Sequence[Counts]) -> Counts:
        def cat(name: str) -> Int:
            return np.concatenate([getattr(p, name) for p in pieces])

        return Counts(*(cat(f) for f in Counts.__dataclass_fields__)).merged()

    def merged(self) -> Counts:
        """Rows of the same bucket as one: counts and sums added, edges kept."""
        if self.buckets.size == 0:
            return self
        order = np.argsort(self.buckets, kind="stable")
        buckets = self.buckets[order]
        starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
        runs = np.diff(np.r_[starts, buckets.size])

        def added(values: Int) -> Int:
            result: Int = np.add.reduceat(values[order], starts, axis=0)
            return result

        least = np.minimum.reduceat(self.least[order], starts)
        most = np.maximum.reduceat(self.most[order], starts)
        on_low = self.least[order] == np.repeat(least, runs)
        on_high = self.most[order] == np.repeat(most, runs)
        return Counts(
            buckets[starts],
            added(self.counts),
            added(self.sums),
            least,
            np.add.reduceat(np.where(on_low, self.at_least[order], 0), starts),
            np.add.reduceat(np.where(on_low[:, None], self.least_sums[order], 0), starts, axis=0),
            most,
            np.add.reduceat(np.where(on_high, self.at_most[order], 0), starts),
        )


@dataclass(frozen=True, slots=True, eq=False)
class Kept:
    """A window's largest values (ties: the earlier paths), at most its need, in no set order."""

    values: Int
    paths: Int
    parts: Int  # (kept, parts)
    #: Once cut to its need: the least value kept and the latest path kept at it.
    #: A later value below it, or equal on a later path, cannot enter.
    edge: tuple[int, int] | None = None

    def entering(self, value: int, path: int) -> Kept:
        """The rows that rank above a full window whose edge is ``value`` on ``path``."""
        rows = np.flatnonzero(
            (self.values > value) | ((self.values == value) & (self.paths < path))
        )
        if rows.size == self.values.size:
            return self
        return Kept(self.values[rows], self.paths[rows], self.parts[rows])


@dataclass(frozen=True, slots=True, eq=False)
class Ordered:
    """A single value's paths in path order: their count and the parts of the earliest.

    ``taken`` of them (at most the window's need) have their parts summed in
    ``sums``; a chunk's piece also has ``prefix``, the running sums of its
    own, for the merge with the chunks before it. Merged in chunk order, the
    earliest paths come first: memory is one chunk's tied paths.
    """

    count: int
    taken: int
    sums: Int  # (parts,)
    prefix: Int | None  # (taken, parts), a chunk's own piece only


Piece = Counts | Kept | Ordered | None
Pieces = dict[str, tuple[Piece, ...]]


def _top_rows(values: Int, paths: Int, need: int) -> tuple[Rows, tuple[int, int]]:
    """The rows of the ``need`` largest values (the earlier path first among equal ones), ascending.

    A selection, not a sort: linear in the rows, with only the paths tied at
    the ``need``-th value put in order. With the rows, their edge: the least
    value kept and the latest path kept at it. ``need`` below the rows.
    """
    n = values.size
    edge = int(np.partition(values, n - need)[n - need])
    above = np.flatnonzero(values > edge)
    tied = np.flatnonzero(values == edge)
    more = need - above.size
    if tied.size > more:
        tied = tied[np.argsort(paths[tied], kind="stable")[:more]]
    rows: Rows = np.sort(np.concatenate([above, tied]))
    return rows, (edge, int(paths[tied].max()))


def _keep(kept: Kept, need: int) -> Kept:
    if kept.values.size <= need:
        return kept
    rows, edge = _top_rows(kept.values, kept.paths, need)
    return Kept(kept.values[rows], kept.paths[rows], kept.parts[rows], edge)


#: Each figure's columns' edges where known: (value, path) of a full kept window, else None.
Edges = Mapping[str, Sequence[tuple[int, int] | None]]


def piece_of(
    stream: Stream, window: Window, column: int, edge: tuple[int, int] | None = None
) -> Piece:
    """What one chunk gives a window of ``column``.

    ``edge``: the least value (and the latest path at it) of the ``need``
    values kept so far from earlier chunks, where there are that many: only
    values ranking above it can enter, so the chunk gives only those. The
    tails are the same with or without it; it saves work.
    """
    if window.var is not None:
        return None
    values = stream.values[:, column]
    if edge is not None and window.bounds is None and not window.by_path:
        value, path = edge
        low = max(window.low, value)
        rows = np.flatnonzero((values >= low) & (values <= window.high))
        rows = rows[(values[rows] > value) | (stream.paths[rows] < path)]
    else:
        rows = np.flatnonzero((values >= window.low) & (values <= window.high))
    if window.by_path and window.bounds is None:
        # Rows ascend with paths: the earliest first.
        prefix = np.cumsum(stream.parts_of(column, rows[: window.need]), axis=0, dtype=np.int64)
        sums = prefix[-1] if prefix.shape[0] else np.zeros(prefix.shape[1], np.int64)
        return Ordered(int(rows.size), int(prefix.shape[0]), sums, prefix)
    if window.bounds is None:
        if rows.size > window.need:
            rows = rows[_top_rows(values[rows], stream.paths[rows], window.need)[0]]
        return Kept(values[rows].copy(), stream.paths[rows].copy(), stream.parts_of(column, rows))
    bucket = np.searchsorted(window.bounds, values[rows], side="right") - 1
    return Counts.of(values[rows], bucket.astype(np.int64), stream.parts_of(column, rows))


def _keeps(window: Window) -> bool:
    return window.var is None and window.bounds is None and not window.by_path


def figure_pieces(
    stream: Stream,
    windows: Sequence[Window],
    edges: Sequence[tuple[int, int] | None] | None = None,
) -> tuple[Piece, ...]:
    """``piece_of`` for every column of one figure; the columns keeping values at once.

    The columns whose windows keep their largest values are selected with one
    mask over the chunk's rows, rather than column by column.
    """
    edges = edges or (None,) * len(windows)
    pieces: list[Piece] = [
        None if _keeps(w) else piece_of(stream, w, c, edges[c]) for c, w in enumerate(windows)
    ]
    columns = np.asarray([c for c, w in enumerate(windows) if _keeps(w)], dtype=np.intp)
    if columns.size == 0:
        return tuple(pieces)
    # Below ``least``, or equal to it on a path from ``before`` on, a value cannot enter.
    least = np.empty(columns.size, np.int64)
    before = np.full(columns.size, -1, np.int64)
    high = np.empty(columns.size, np.int64)
    for i, c in enumerate(columns.tolist()):
        window, edge = windows[c], edges[c]
        high[i] = window.high
        if edge is None:
            least[i] = window.low - 1
        else:
            least[i], before[i] = edge
    values = stream.values[:, columns]
    paths = stream.paths[:, None]
    mask = ((values > least) | ((values == least) & (paths < before))) & (values <= high)
    at, rows = np.nonzero(mask.T)  # by column, then row: each column's rows ascending
    bounds = np.searchsorted(at, np.arange(columns.size + 1))
    for i, c in enumerate(columns.tolist()):
        chosen = rows[bounds[i] : bounds[i + 1]]
        column = values[chosen, i]
        need = windows[c].need
        if chosen.size > need:
            top = _top_rows(column, stream.paths[chosen], need)[0]
            chosen, column = chosen[top], column[top]
        pieces[c] = Kept(column, stream.paths[chosen], stream.parts_of(int(c), chosen))
    return tuple(pieces)


def pieces_of(streams: Mapping[str, Stream], plan: Plan, edges: Edges | None = None) -> Pieces:
    """Every window's piece from one chunk's streams (``edges``: see ``piece_of``)."""
    return {
        name: figure_pieces(streams[name], windows, None if edges is None else edges[name])
        for name, windows in plan.windows.items()
    }


def edges_of(pieces: Pieces) -> dict[str, tuple[tuple[int, int] | None, ...]]:
    """The edge of every full kept window among ``pieces``."""
    return {
        name: tuple(p.edge if isinstance(p, Kept) else None for p in column_pieces)
        for name, column_pieces in pieces.items()
    }


def _merge_piece(pieces: Sequence[Piece], window: Window) -> Piece:
    if window.var is not None:
        return None
    if window.by_path and window.bounds is None:
        ordered = [p for p in pieces if isinstance(p, Ordered)]
        return _merge_ordered(ordered, window.need)
    if window.bounds is None:
        kept = [p for p in pieces if isinstance(p, Kept)]
        if kept[0].edge is not None:
            # A full window: most later values cannot enter, and often none do.
            value, path = kept[0].edge
            later = [p.entering(value, path) for p in kept[1:]]
            kept = [kept[0], *(p for p in later if p.values.size)]
            if len(kept) == 1:
                return kept[0]
        return _keep(
            Kept(
                np.concatenate([p.values for p in kept]),
                np.concatenate([p.paths for p in kept]),
                np.concatenate([p.parts for p in kept]),
            ),
            window.need,
        )
    return Counts.join([p for p in pieces if isinstance(p, Counts)])


def _merge_ordered(pieces: Sequence[Ordered], need: int) -> Ordered:
    """Pieces of consecutive chunks, in chunk order, as one (without a prefix)."""
    head = pieces[0]
    count, taken, sums = head.count, head.taken, head.sums
    for later in pieces[1:]:
        assert later.prefix is not None  # a chunk's own piece
        more = min(need - taken, later.taken)
        if more > 0:
            sums = sums + later.prefix[more - 1]
            taken += more
        count += later.count
    return Ordered(count, taken, sums, None)


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
    if isinstance(piece, Ordered):
        assert piece.taken == window.need  # the counts found that many
        return replace(window, var=window.low, sums=_add(window.sums, piece.sums))
    if isinstance(piece, Kept):
        piece = _keep(piece, window.need)
        total = piece.parts.sum(axis=0, dtype=np.int64)
        if piece.values.size < window.need:  # fewer than k values above 0 in all
            return replace(window, var=0, sums=_add(window.sums, total))
        return replace(window, var=int(piece.values.min()), sums=_add(window.sums, total))
    assert isinstance(piece, Counts)
    assert window.bounds is not None
    order = np.arange(piece.buckets.size)[::-1]  # from the largest values down
    running = np.cumsum(piece.counts[order])
    at = int(np.searchsorted(running, window.need, side="left"))
    if at == order.size:  # fewer than k values above 0 in all
        return replace(window, var=0, sums=_add(window.sums, piece.sums.sum(axis=0)))
    bucket = int(order[at])
    before = order[:at]
    above = window.above + int(piece.counts[before].sum())
    sums = _add(window.sums, piece.sums[before].sum(axis=0, dtype=np.int64))
    need = window.need - (above - window.above)
    # The values met in the bucket, not its bounds: equal values make one value at once.
    low, high = int(piece.least[bucket]), int(piece.most[bucket])
    if need <= piece.at_most[bucket]:  # among the bucket's largest value
        low = high
    elif need > piece.counts[bucket] - piece.at_least[bucket]:  # among its least
        over = int(piece.counts[bucket] - piece.at_least[bucket])
        above += over
        need -= over
        sums = _add(sums, piece.sums[bucket] - piece.least_sums[bucket])
        high = low
    narrowed = replace(window, need=need, low=low, high=high, above=above, sums=sums)
    if narrowed.by_path and value_is_part:
        # Equal values: the tail takes ``need`` of them, whichever paths they are.
        return replace(
            narrowed, var=narrowed.low, sums=tuple(s + need * narrowed.low for s in sums)
        )
    if narrowed.by_path or need <= budget:
        return replace(narrowed, bounds=None)
    return replace(narrowed, bounds=_linear_bounds(narrowed.low, narrowed.high))


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

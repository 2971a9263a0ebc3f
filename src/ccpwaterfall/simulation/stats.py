"""Figures of many paths, kept in pieces that merge: counts, sums and the worst values.

Each chunk of paths gives a ``Tally`` of every figure: how many paths have it
above zero, its sum and sum of squares, and its largest values (as many as
the tail of the whole run holds). Tallies merge in chunk order, so the same
chunks give the same figures however they were run. Memory is the chunk's
arrays plus the tail: ``ceil((1 - confidence) * paths)`` values per figure.

Value at risk and expected shortfall at confidence ``a`` over ``n`` paths:
the tail is the ``k = ceil((1 - a) * n)`` largest values; VaR is the
smallest of them, ES their mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Int = NDArray[np.int64]


def tail_size(paths: int, confidence: float) -> int:
    """The count of paths in the tail beyond ``confidence`` (at least 1)."""
    return max(1, math.ceil(round((1.0 - confidence) * paths, 9)))


def largest(values: Int, k: int) -> Int:
    """The ``k`` largest values of each column, in no particular order: (<= k, columns).

    Rows where every column is 0 are dropped: the values left out are zeros.
    """
    if values.shape[0] > k:
        values = np.partition(values, values.shape[0] - k, axis=0)[values.shape[0] - k :]
    kept: Int = values[values.any(axis=1)]
    return kept


@dataclass(frozen=True, slots=True, eq=False)
class Tally:
    """Counts, sums and the largest values of figures over paths (columns: the figures).

    ``top``: the largest values of each column, in no particular order, at most
    the tail's count of rows; the rows left out are zeros.
    """

    paths: int
    positive: Int
    total: list[int]
    squares: NDArray[np.float64]
    top: Int

    @classmethod
    def of(cls, values: Int, k: int, paths: int | None = None, *, ranked: bool = True) -> Tally:
        """The tally of ``values`` (rows: paths, columns: figures), all >= 0.

        ``paths``: the count of paths when ``values`` holds only some of them, the
        others being 0 in every column. ``ranked``: False keeps no largest values
        (a caller that keeps them in another form).
        """
        n = values.shape[0] if paths is None else paths
        # Most paths give 0 everywhere: rank only the rows that give something.
        some = values[values.any(axis=1)] if values.size else values
        return cls(
            paths=n,
            positive=(some > 0).sum(axis=0).astype(np.int64),
            total=[int(v) for v in some.sum(axis=0, dtype=np.int64).tolist()],
            squares=np.square(some.astype(np.float64)).sum(axis=0),
            top=largest(some, k) if ranked else np.zeros((0, some.shape[1]), np.int64),
        )

    @staticmethod
    def merge(tallies: Sequence[Tally], k: int) -> Tally:
        """Several tallies of the same figures as one, their largest values ranked once."""
        first = tallies[0]
        return Tally(
            paths=sum(t.paths for t in tallies),
            positive=np.sum([t.positive for t in tallies], axis=0).astype(np.int64),
            total=[sum(column) for column in zip(*(t.total for t in tallies), strict=True)],
            squares=np.sum([t.squares for t in tallies], axis=0),
            top=largest(np.concatenate([t.top for t in tallies]), k)
            if len(tallies) > 1
            else first.top,
        )

    def probability(self) -> NDArray[np.float64]:
        result: NDArray[np.float64] = self.positive / max(self.paths, 1)
        return result

    def mean(self) -> list[float]:
        return [t / max(self.paths, 1) for t in self.total]

    def mean_error(self) -> NDArray[np.float64]:
        """Monte Carlo standard error of the mean of each figure."""
        n = max(self.paths, 1)
        mean = np.asarray(self.mean())
        variance = np.maximum(self.squares / n - mean**2, 0.0)
        result: NDArray[np.float64] = np.sqrt(variance / n)
        return result

    def var(self, k: int) -> Int:
        """The smallest of the ``k`` largest (0 where fewer are above 0)."""
        if self.top.shape[0] < k:
            return np.zeros(self.top.shape[1], np.int64)
        result: Int = self.top.min(axis=0)
        return result

    def es_units(self, k: int) -> list[tuple[int, int]]:
        """Each column's tail sum and count: ES = sum / count, exact."""
        return [(int(s), k) for s in self.top.sum(axis=0, dtype=np.int64).tolist()]


def probability_error(p: float, paths: int) -> float:
    """Monte Carlo standard error of a frequency ``p`` over ``paths`` paths."""
    return math.sqrt(max(p * (1.0 - p), 0.0) / max(paths, 1))

"""Figures of many paths, kept in pieces that merge: counts, sums and, at the end, the tail.

Each chunk of paths gives a ``Tally`` of every figure: how many paths have it
above zero, its sum and sum of squares. Tallies merge in chunk order, so the
same chunks give the same figures however they were run. The tail of each
figure (its VaR and the sum of its worst values) is found apart, in memory
bounded by the chunk (``simulation.tails``), and set on the merged tally.

Value at risk and expected shortfall at confidence ``a`` over ``n`` paths:
the tail is the ``k = ceil((1 - a) * n)`` largest values; VaR is the
smallest of them, ES their mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

Int = NDArray[np.int64]


def tail_size(paths: int, confidence: float) -> int:
    """The count of paths in the tail beyond ``confidence`` (at least 1)."""
    return max(1, math.ceil(round((1.0 - confidence) * paths, 9)))


@dataclass(frozen=True, slots=True, eq=False)
class Tally:
    """Counts and sums of figures over paths (columns: the figures), and their tails.

    ``tail_var`` and ``tail_sums``: each column's VaR and the sum of its ``k``
    largest values, set once the run is over (``with_tail``).
    """

    paths: int
    positive: Int
    total: list[int]
    squares: NDArray[np.float64]
    tail: int = 0
    tail_var: Int | None = None
    tail_sums: list[int] | None = None

    @classmethod
    def of(cls, values: Int, paths: int | None = None) -> Tally:
        """The tally of ``values`` (rows: paths, columns: figures), all >= 0.

        ``paths``: the count of paths when ``values`` holds only some of them, the
        others being 0 in every column.
        """
        n = values.shape[0] if paths is None else paths
        return cls(
            paths=n,
            positive=(values > 0).sum(axis=0).astype(np.int64),
            total=[int(v) for v in values.sum(axis=0, dtype=np.int64).tolist()],
            squares=np.square(values.astype(np.float64)).sum(axis=0),
        )

    @staticmethod
    def merge(tallies: Sequence[Tally]) -> Tally:
        """Several tallies of the same figures as one."""
        return Tally(
            paths=sum(t.paths for t in tallies),
            positive=np.sum([t.positive for t in tallies], axis=0).astype(np.int64),
            total=[sum(column) for column in zip(*(t.total for t in tallies), strict=True)],
            squares=np.sum([t.squares for t in tallies], axis=0),
        )

    def with_tail(self, k: int, var: Int, sums: Sequence[int]) -> Tally:
        """The same with each column's VaR and tail sum over its ``k`` largest values."""
        return replace(self, tail=k, tail_var=var, tail_sums=list(sums))

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
        assert self.tail_var is not None, "the tail is set once the run is over"
        assert k == self.tail
        return self.tail_var

    def es_units(self, k: int) -> list[tuple[int, int]]:
        """Each column's tail sum and count: ES = sum / count, exact."""
        assert self.tail_sums is not None, "the tail is set once the run is over"
        assert k == self.tail
        return [(s, k) for s in self.tail_sums]


def probability_error(p: float, paths: int) -> float:
    """Monte Carlo standard error of a frequency ``p`` over ``paths`` paths."""
    return math.sqrt(max(p * (1.0 - p), 0.0) / max(paths, 1))

"""Pro rata splits of many paths at once, with the exact engine's rounding.

The same rules as ``domain.money.allocate_pro_rata_capped``, row by row over
a matrix: each key gets the floor of its exact share, the units left go one
each to the largest remainders, ties to the key that sorts first (``rank``);
with caps, keys whose exact share reaches their cap give their cap and the
rest is split over the others (water-filling). Water-filling here adds every
key that reaches its cap at once and repeats until none does: the level only
rises as keys are capped, so this ends on the same set of capped keys as the
one-by-one order of the exact engine, and a key whose share equals its cap
exactly gives the same amounts either way.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.simulation.exact_int import muldiv, product_at_least

Int = NDArray[np.int64]


def allocate_rows(total: Int, weights: Int, rank: NDArray[np.intp]) -> Int:
    """Each row's ``total`` split pro rata to its ``weights`` (shape (rows, keys)).

    ``rank``: each key's place in the sort order of the keys, shape (keys,).
    Rows of zero total or zero weight get nothing.
    """
    rows, keys = weights.shape
    weight_sum = weights.sum(axis=1)
    shares = np.zeros((rows, keys), dtype=np.int64)
    live = (total > 0) & (weight_sum > 0)
    if not live.any():
        return shares
    t = total[live][:, None]
    w = weights[live]
    q, r = muldiv(t, w, weight_sum[live][:, None])
    left = total[live] - q.sum(axis=1)
    if left.any():
        # Largest remainder first, then the key that sorts first; keys with no
        # remainder never get a unit (the units left are fewer than those with one).
        order = np.lexsort((np.broadcast_to(rank, r.shape), -r), axis=-1)
        position = np.empty_like(order)
        np.put_along_axis(position, order, np.arange(keys)[None, :], axis=1)
        q += (position < left[:, None]) & (r > 0)
    shares[live] = q
    return shares


def allocate_rows_capped(total: Int, weights: Int, caps: Int, rank: NDArray[np.intp]) -> Int:
    """``allocate_rows`` with no key above its cap; ``total`` within the capacity of each row."""
    giving = weights > 0
    capped = np.zeros(weights.shape, dtype=bool)
    while True:
        remaining = total - np.where(capped, caps, 0).sum(axis=1)
        weight_left = np.where(capped | ~giving, 0, weights).sum(axis=1)
        reach = (
            giving
            & ~capped
            & product_at_least(remaining[:, None], weights, caps, weight_left[:, None])
        )
        if not reach.any():
            break
        capped |= reach
    rest = np.where(capped | ~giving, 0, weights)
    remaining = total - np.where(capped, caps, 0).sum(axis=1)
    return np.where(capped, caps, allocate_rows(remaining, rest, rank))

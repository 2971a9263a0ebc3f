"""Exact integer arithmetic on int64 arrays where the products do not fit in 64 bits.

Money in minor units fits in int64, but a pro rata share ``total * weight //
weight_sum`` multiplies two amounts, which may reach 10^22. Each product is
estimated in float64 (exact to within a few units of the quotient) and then
corrected with the remainder computed in wrapping int64 arithmetic: the true
remainder is small, so its value modulo 2^64 is the value itself. Amounts must
stay below ``MAX_UNITS`` (2^53 minor units: 90 trillion in a currency of cents).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: The largest amount, in minor units, the array waterfall accepts.
MAX_UNITS = 2**53

Int = NDArray[np.int64]


def muldiv(a: Any, b: Any, c: Any) -> tuple[Int, Int]:
    """``divmod(a * b, c)`` exactly, elementwise, for 0 <= a, b and 0 < c below 2^53."""
    a64 = np.asarray(a, dtype=np.int64)
    b64 = np.asarray(b, dtype=np.int64)
    c64 = np.asarray(c, dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        estimate = np.floor(a64.astype(np.float64) * b64.astype(np.float64) / c64)
        q = estimate.astype(np.int64)
        r = a64 * b64 - q * c64  # wraps in int64; the true value is within a few c of 0
        for _ in range(4):
            low = r < 0
            q = np.where(low, q - 1, q)
            r = np.where(low, r + c64, r)
            high = r >= c64
            q = np.where(high, q + 1, q)
            r = np.where(high, r - c64, r)
    return q, r


def product_at_least(a: Any, b: Any, c: Any, d: Any) -> NDArray[np.bool_]:
    """``a * b >= c * d`` exactly, elementwise, for non-negative int64 below 2^53."""
    a64 = np.asarray(a, dtype=np.int64)
    b64 = np.asarray(b, dtype=np.int64)
    c64 = np.asarray(c, dtype=np.int64)
    d64 = np.asarray(d, dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        left = a64.astype(np.float64) * b64.astype(np.float64)
        right = c64.astype(np.float64) * d64.astype(np.float64)
        # Where the float difference is small, the exact difference fits in int64.
        near = np.abs(left - right) < 2.0**62
        exact = a64 * b64 - c64 * d64
        result: NDArray[np.bool_] = np.where(near, exact >= 0, left > right)
    return result

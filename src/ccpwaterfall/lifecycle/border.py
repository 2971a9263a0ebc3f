"""The one border between float risk numbers and exact money.

Risk code (margin, stress, fund sizing) works in float64 arrays. The waterfall
and the ledger work in exact ``Money``. Every float amount that enters a case
crosses here, and only here: it is rounded half-to-even to the currency's
minor unit from its exact binary value (``Decimal(float)`` is exact), so the
same float always gives the same amount on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

from ccpwaterfall.domain import Currency, Money


def to_money(value: float, ccy: Currency) -> Money:
    """A non-negative finite float amount as Money, rounded half-to-even to the minor unit.

    Values within half a minor unit below zero (float noise around 0) become zero;
    anything more negative, NaN or infinite is a programmer error.
    """
    if not math.isfinite(value):
        raise ValueError(f"cannot convert {value!r} to money")
    amount = Decimal(value).quantize(ccy.quantum, rounding=ROUND_HALF_EVEN)
    if amount < 0:
        raise ValueError(f"negative amount {value!r} cannot become money")
    return Money(amount + 0, ccy)  # + 0 turns -0.00 into 0.00


def amounts_to_money(values: Iterable[float], ccy: Currency) -> tuple[Money, ...]:
    """``to_money`` for each value, in order."""
    return tuple(to_money(float(v), ccy) for v in values)

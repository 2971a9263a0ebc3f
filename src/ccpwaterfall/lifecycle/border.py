"""The one border between float risk numbers and exact money.

Risk code (margin, stress, fund sizing) works in float64 arrays. The waterfall
and the ledger work in exact ``Money``. Every amount crosses here, and only
here, in either direction: ``to_float`` for money that risk code reads (a
CCP capital tranche), ``to_money`` for every float amount that enters a case.
``to_money`` rounds half-to-even to the currency's minor unit from the float's
exact binary value (``Decimal(float)`` is exact), so the same float always
gives the same amount on every machine.
"""

from __future__ import annotations

import math
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


def to_float(money: Money) -> float:
    """An exact amount as the nearest float, for risk arithmetic (sizing, SITG)."""
    return float(money.amount)

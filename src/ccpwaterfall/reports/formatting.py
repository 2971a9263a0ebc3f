"""How amounts, shares and dates read on screen.

Exact figures carry thousands separators and the currency code
("EUR 107,000,000.00"). Tables may use a compact form for large amounts
("107.00m"), with the currency code in the column heading; the exact figure
is always in the JSON result and in the explain view.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from ccpwaterfall.domain import Money
from ccpwaterfall.waterfall.result import InputValue

_COMPACT_STEPS = (
    (Decimal(1_000_000_000), "bn"),
    (Decimal(1_000_000), "m"),
)
_BAR_WIDTH = 10


def format_money(amount: Money) -> str:
    """The exact amount with its currency code: ``EUR 107,000,000.00``."""
    return f"{amount.currency.code} {format_amount(amount)}"


def format_amount(amount: Money) -> str:
    """The exact amount with thousands separators and no code: ``107,000,000.00``."""
    return f"{amount.amount:,}"


def compact_amount(amount: Money) -> str:
    """A short form for tables: ``107.00m``, ``1.50bn``; below a million, the exact figure."""
    value = amount.amount
    for step, suffix in _COMPACT_STEPS:
        if abs(value) >= step:
            scaled = (value / step).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            return f"{scaled:,}{suffix}"
    return format_amount(amount)


def format_share(share: Decimal | None) -> str:
    """A ratio as a percentage with one decimal (``64.5%``); ``n/a`` when undefined."""
    if share is None:
        return "n/a"
    percent = (share * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{percent}%"


def share_of(part: Money, whole: Money) -> Decimal | None:
    """``part / whole`` as an exact ratio, or ``None`` when ``whole`` is zero."""
    if whole.is_zero():
        return None
    return part.amount / whole.amount


def usage_bar(used: Money, available: Money) -> str:
    """How much of a tranche is consumed: ``██████░░░░ 64.5%``; ``-`` when it had nothing.

    A tranche that gave something shows at least one full cell, and only a
    tranche used to the last minor unit shows all of them.
    """
    share = share_of(used, available)
    if share is None:
        return "-"
    cells = int((share * _BAR_WIDTH).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if used < available:
        cells = min(cells, _BAR_WIDTH - 1)
    text = format_share(share)
    if not used.is_zero():
        cells = max(cells, 1)
        if text == "0.0%":
            text = "<0.1%"
    if used < available and text == "100.0%":
        text = ">99.9%"
    return "█" * cells + "░" * (_BAR_WIDTH - cells) + f" {text}"


def format_date(day: dt.date | None) -> str:
    """An ISO date, or ``undated`` for an event without one."""
    return day.isoformat() if day is not None else "undated"


def format_input(value: InputValue) -> str:
    """A rule's input as read on screen: money exact with its code, flags as yes or no."""
    if isinstance(value, Money):
        return format_money(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)

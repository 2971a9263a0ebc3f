"""Business days: Monday to Friday, as the case format defines them."""

from __future__ import annotations

import datetime as dt

_SATURDAY = 5


def is_business_day(day: dt.date) -> bool:
    """True from Monday to Friday."""
    return day.weekday() < _SATURDAY


def add_business_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` business days after ``start`` (``start`` itself for 0).

    A weekend ``start`` counts from the Friday before it: Saturday plus one
    business day is Monday, as is Friday plus one.
    """
    if days < 0:
        raise ValueError(f"business days must be non-negative, got {days}")
    if days == 0:
        return start
    day = start
    while not is_business_day(day):
        day -= dt.timedelta(days=1)
    weeks, rest = divmod(days, 5)
    day += dt.timedelta(weeks=weeks)  # five business days from a business day is one week
    while rest:
        day += dt.timedelta(days=1)
        if is_business_day(day):
            rest -= 1
    return day

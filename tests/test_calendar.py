"""Business days: Monday to Friday."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccpwaterfall.domain import add_business_days, is_business_day

MONDAY = dt.date(2024, 1, 8)


def test_weekdays_are_business_days() -> None:
    week = [MONDAY + dt.timedelta(days=i) for i in range(7)]
    assert [is_business_day(d) for d in week] == [True] * 5 + [False] * 2


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (dt.date(2024, 1, 12), 1, dt.date(2024, 1, 15)),  # Friday + 1 is Monday
        (dt.date(2024, 1, 11), 2, dt.date(2024, 1, 15)),  # Thursday + 2 crosses the weekend
        (dt.date(2024, 1, 13), 1, dt.date(2024, 1, 15)),  # Saturday counts from Friday
        (dt.date(2024, 1, 14), 0, dt.date(2024, 1, 14)),  # zero days is the start itself
        (MONDAY, 5, dt.date(2024, 1, 15)),  # five business days is one week
        (MONDAY, 20, dt.date(2024, 2, 5)),
        (dt.date(2018, 9, 11), 2, dt.date(2018, 9, 13)),  # Nasdaq: default Tue, funds due Thu
    ],
)
def test_add_business_days(start: dt.date, days: int, expected: dt.date) -> None:
    assert add_business_days(start, days) == expected


def test_negative_business_days_are_an_error() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        add_business_days(MONDAY, -1)


@given(
    start=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
    days=st.integers(min_value=1, max_value=200),
)
def test_counting_business_days_one_by_one_agrees(start: dt.date, days: int) -> None:
    end = add_business_days(start, days)
    assert is_business_day(end)
    between = (start + dt.timedelta(days=i) for i in range(1, (end - start).days + 1))
    assert sum(is_business_day(d) for d in between) == days

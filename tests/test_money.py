"""Exact money: currencies, minor units, caps rounded down and pro rata splits."""

from __future__ import annotations

from decimal import Context, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccpwaterfall.domain import (
    Currency,
    CurrencyMismatchError,
    Money,
    UnknownCurrencyError,
    allocate_pro_rata,
    allocate_pro_rata_capped,
    currency,
    split_pro_rata,
    split_pro_rata_capped,
)
from ccpwaterfall.domain.money import fixed_text


@pytest.mark.parametrize(
    ("code", "minor_unit", "quantum"),
    [("EUR", 2, "0.01"), ("JPY", 0, "1"), ("KRW", 0, "1"), ("KWD", 3, "0.001")],
)
def test_currency_minor_units(code: str, minor_unit: int, quantum: str) -> None:
    ccy = currency(code)
    assert ccy.minor_unit == minor_unit
    assert ccy.quantum == Decimal(quantum)


@pytest.mark.parametrize("code", ["XXX", "eur", "EURO", "XAU"])
def test_unknown_currency_is_rejected(code: str) -> None:
    with pytest.raises(UnknownCurrencyError):
        currency(code)


def test_amount_carries_the_currency_exponent(eur: Currency, jpy: Currency) -> None:
    assert str(Money.of(7, eur).amount) == "7.00"
    assert str(Money.of("165200000", eur).amount) == "165200000.00"
    assert str(Money.of(57_000_000_000, currency("KRW")).amount) == "57000000000"
    assert str(Money.of("1.5", currency("KWD")).amount) == "1.500"
    assert str(Money.of(100, jpy).amount) == "100"


@pytest.mark.parametrize(("code", "amount"), [("EUR", "0.001"), ("JPY", "0.5"), ("KWD", "0.0001")])
def test_more_decimals_than_the_minor_unit_is_an_error(code: str, amount: str) -> None:
    with pytest.raises(ValueError, match="more decimals"):
        Money.of(amount, currency(code))


def test_amounts_of_different_currencies_do_not_mix(eur: Currency, jpy: Currency) -> None:
    with pytest.raises(CurrencyMismatchError):
        _ = Money.of(1, eur) + Money.of(1, jpy)
    with pytest.raises(CurrencyMismatchError):
        _ = Money.of(1, eur) < Money.of(1, jpy)
    with pytest.raises(CurrencyMismatchError):
        split_pro_rata(Money.of(1, eur), {"a": Money.of(1, jpy)})


def test_minor_units_round_trip(eur: Currency) -> None:
    amount = Money.of("1234.56", eur)
    assert amount.minor_units == 123456
    assert Money.from_minor_units(123456, eur) == amount
    assert Money.from_minor_units(-5, currency("KWD")).amount == Decimal("-0.005")


def test_times_floor_rounds_caps_down(eur: Currency) -> None:
    # 1,000.01 x 2.75 = 2,750.0275: a cap is rounded down, never to nearest.
    assert Money.of("1000.01", eur).times_floor(Decimal("2.75")) == Money.of("2750.02", eur)
    # 0.99 x 0.5 = 0.495 would round half up to 0.50; down it is 0.49.
    assert Money.of("0.99", eur).times_floor(Decimal("0.5")) == Money.of("0.49", eur)
    assert Money.of(3, currency("JPY")).times_floor(Decimal("0.5")) == Money.of(1, currency("JPY"))
    kwd = currency("KWD")
    assert Money.of("1.001", kwd).times_floor(Decimal("1.5")) == Money.of("1.501", kwd)


def test_cme_base_assessment_power_is_exact_in_usd() -> None:
    # CME Base guaranty fund 6,154,113,094 x 275% = 16,923,811,008.50: CME's
    # financial safeguards page of 30 Sep 2023 ([CME-SAFEGUARDS-2023])
    # publishes 16,923,811,009, rounded half up to the dollar; in cents the cap is exact.
    usd = currency("USD")
    cap = Money.of(6_154_113_094, usd).times_floor(Decimal("2.75"))
    assert cap == Money.of("16923811008.50", usd)
    # In a currency without decimals the half unit is dropped, never rounded up.
    jpy_cap = Money.of(6_154_113_094, currency("JPY")).times_floor(Decimal("2.75"))
    assert jpy_cap.amount == Decimal(16_923_811_008)


def test_pro_rata_floors_then_largest_remainders() -> None:
    # 10 over 3:2:1 is 5, 3.33.., 1.66..: floors 5, 3, 1; the unit left goes to
    # the largest remainder (c's 0.66).
    assert allocate_pro_rata(10, {"a": 3, "b": 2, "c": 1}) == {"a": 5, "b": 3, "c": 2}


def test_pro_rata_ties_go_to_the_id_that_sorts_first() -> None:
    assert allocate_pro_rata(1, {"b": 1, "a": 1}) == {"b": 0, "a": 1}
    assert allocate_pro_rata(2, {"c": 1, "b": 1, "a": 1}) == {"c": 0, "b": 1, "a": 1}
    # Sorting is by code point: upper case before lower case.
    assert allocate_pro_rata(1, {"a": 1, "B": 1}) == {"a": 0, "B": 1}


def test_pro_rata_edge_cases() -> None:
    assert allocate_pro_rata(0, {"a": 0, "b": 0}) == {"a": 0, "b": 0}
    assert allocate_pro_rata(5, {"a": 0, "b": 2}) == {"a": 0, "b": 5}
    with pytest.raises(ValueError, match="negative"):
        allocate_pro_rata(-1, {"a": 1})
    with pytest.raises(ValueError, match="zero weights"):
        allocate_pro_rata(1, {"a": 0})
    with pytest.raises(ValueError, match="non-negative"):
        allocate_pro_rata(1, {"a": 2, "b": -1})


def test_capped_split_fills_caps_then_spreads_the_rest() -> None:
    # a's exact share 25 is over its cap 10: a gives 10 and the other 90 goes 1:2
    # over b and c.
    result = allocate_pro_rata_capped(100, {"a": 1, "b": 1, "c": 2}, {"a": 10, "b": 100, "c": 100})
    assert result == {"a": 10, "b": 30, "c": 60}


def test_capped_split_cascades_through_several_caps() -> None:
    # Shares of 90 at 1:1:1 are 30 each; a (cap 5) gives 5; of 85, b's 42.5 is
    # over its cap 20; c takes the 65 left.
    result = allocate_pro_rata_capped(90, {"a": 1, "b": 1, "c": 1}, {"a": 5, "b": 20, "c": 100})
    assert result == {"a": 5, "b": 20, "c": 65}


def test_capped_split_rounding_never_passes_a_cap() -> None:
    # 3 over three equal weights with b at cap 0: a and c share 3 as 1.5 each;
    # the tie goes to a, which sorts first.
    assert allocate_pro_rata_capped(3, {"a": 1, "b": 1, "c": 1}, {"a": 9, "b": 0, "c": 9}) == {
        "a": 2,
        "b": 0,
        "c": 1,
    }


def test_capped_split_beyond_capacity_is_an_error() -> None:
    with pytest.raises(ValueError, match="capacity"):
        allocate_pro_rata_capped(11, {"a": 1, "b": 1}, {"a": 5, "b": 5})
    # A key of zero weight adds nothing to the capacity.
    with pytest.raises(ValueError, match="capacity"):
        allocate_pro_rata_capped(6, {"a": 1, "b": 0}, {"a": 5, "b": 5})


def test_money_splits_keep_the_currency(eur: Currency) -> None:
    parts = split_pro_rata(Money.of("0.03", eur), {"a": Money.of(1, eur), "b": Money.of(1, eur)})
    assert parts == {"a": Money.of("0.02", eur), "b": Money.of("0.01", eur)}
    capped = split_pro_rata_capped(
        Money.of(10, eur),
        {"a": Money.of(1, eur), "b": Money.of(1, eur)},
        {"a": Money.of(2, eur), "b": Money.of(100, eur)},
    )
    assert capped == {"a": Money.of(2, eur), "b": Money.of(8, eur)}


weights_strategy = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=3),
    st.integers(min_value=0, max_value=10**9),
    min_size=1,
    max_size=20,
).filter(lambda w: sum(w.values()) > 0)


@given(total=st.integers(min_value=0, max_value=10**12), weights=weights_strategy)
def test_pro_rata_parts_add_up_and_stay_within_one_unit(
    total: int, weights: dict[str, int]
) -> None:
    parts = allocate_pro_rata(total, weights)
    assert sum(parts.values()) == total
    weight_sum = sum(weights.values())
    for key, part in parts.items():
        exact = Fraction(total * weights[key], weight_sum)
        assert exact - 1 < part < exact + 1


@given(
    data=st.data(),
    weights=weights_strategy,
)
def test_capped_split_adds_up_and_never_passes_a_cap(
    data: st.DataObject, weights: dict[str, int]
) -> None:
    caps = {k: data.draw(st.integers(min_value=0, max_value=10**9)) for k in weights}
    capacity = sum(caps[k] for k, w in weights.items() if w > 0)
    total = data.draw(st.integers(min_value=0, max_value=capacity))
    parts = allocate_pro_rata_capped(total, weights, caps)
    assert sum(parts.values()) == total
    assert all(0 <= parts[k] <= caps[k] for k in weights)
    assert all(parts[k] == 0 for k, w in weights.items() if w == 0)


def test_times_floor_is_exact_with_28_significant_digits(eur: Currency) -> None:
    # 28 digits of nines round to 1 in a 28-digit context: the cap must stay below 3.00.
    factor = Decimal("0.9999999999999999999999999999")
    assert Money.of("3.00", eur).times_floor(factor) == Money.of("2.99", eur)


def test_times_floor_is_exact_far_past_28_digits(eur: Currency) -> None:
    contribution = Money.of("99999999999999999999", eur)
    cap = contribution.times_floor(Decimal(1_000_000_000))
    assert cap.minor_units == 99999999999999999999 * 1_000_000_000 * 100
    assert str(cap.amount) == "99999999999999999999000000000.00"


def test_sums_of_large_amounts_are_exact(eur: Currency) -> None:
    big = Money.of("99999999999999999999000000000.01", eur)
    assert (big + Money.of("0.01", eur)).amount == Decimal("99999999999999999999000000000.02")
    assert (big - big).is_zero()
    assert (-big).minor_units == -big.minor_units


def _capped_by_exact_order(
    total: int, weights: dict[str, int], caps: dict[str, int]
) -> dict[str, int]:
    """Water-filling with the keys ordered by exact ratio: the reference."""
    from fractions import Fraction

    from ccpwaterfall.domain import allocate_pro_rata

    result = dict.fromkeys(weights, 0)
    active = sorted(
        (k for k, w in weights.items() if w > 0 and caps[k] > 0),
        key=lambda k: (Fraction(caps[k], weights[k]), k),
    )
    remaining, weight_left, index = total, sum(weights[k] for k in active), 0
    while index < len(active) and remaining * weights[active[index]] >= (
        caps[active[index]] * weight_left
    ):
        key = active[index]
        result[key] = caps[key]
        remaining -= caps[key]
        weight_left -= weights[key]
        index += 1
    if active[index:]:
        result.update(allocate_pro_rata(remaining, {k: weights[k] for k in active[index:]}))
    return result


def test_capped_split_orders_ratios_exactly_where_floats_tie() -> None:
    from random import Random

    from ccpwaterfall.domain import allocate_pro_rata_capped

    rng = Random(7)
    # Ratios a hair apart at 10^20: float division gives the same value for many.
    for _ in range(300):
        keys = [f"K{i}" for i in range(6)]
        weights = {k: 10**20 + rng.randint(0, 3) for k in keys}
        caps = {k: 10**20 + rng.randint(0, 3) for k in keys}
        capacity = sum(caps.values())
        total = rng.randint(capacity // 2, capacity)
        assert allocate_pro_rata_capped(total, weights, caps) == _capped_by_exact_order(
            total, weights, caps
        )


@given(st.integers(min_value=-(10**30), max_value=10**30), st.integers(min_value=0, max_value=6))
def test_fixed_text_is_the_decimal_in_fixed_point(units: int, places: int) -> None:
    exact = Decimal(units).scaleb(-places, Context(prec=100))  # no rounding at 28 digits
    assert fixed_text(units, places) == format(exact, "f")

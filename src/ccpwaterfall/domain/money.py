"""Exact money: ``Decimal`` amounts in whole minor units of an ISO 4217 currency.

The rounding rule of the whole project lives here. A pro rata split gives each
party the floor of its exact share, then hands the remaining minor units one
each to the largest fractional remainders, ties to the key that sorts first.
The parts always add up exactly to the whole. Sums, differences, splits and
caps are computed in integer minor units, so no intermediate value is ever
rounded, whatever the size of the amounts (``Decimal`` arithmetic would round
to the 28 digits of its default context).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import total_ordering

# ISO 4217 active codes and their minor units (decimal places). Funds codes with
# a defined minor unit are included; precious metals, XDR and testing codes,
# whose minor unit is "N.A.", cannot hold money amounts and are left out.
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL "
        "BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP "
        "DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR "
        "ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD "
        "MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN "
        "PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP "
        "STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES "
        "WST XCD XCG YER ZAR ZMW ZWG".split(),
        2,
    ),
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


class UnknownCurrencyError(ValueError):
    """A code that is not an active ISO 4217 currency with a minor unit."""


class CurrencyMismatchError(ValueError):
    """Arithmetic between amounts of different currencies."""


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency and the number of decimals of its minor unit."""

    code: str
    minor_unit: int

    @property
    def quantum(self) -> Decimal:
        """The minor unit as a Decimal: 0.01 for EUR, 1 for JPY and KRW."""
        return Decimal(1).scaleb(-self.minor_unit)

    def __str__(self) -> str:
        return self.code


def currency(code: str) -> Currency:
    """The currency of an ISO 4217 code (upper case), or UnknownCurrencyError."""
    try:
        return Currency(code, _MINOR_UNITS[code])
    except KeyError:
        raise UnknownCurrencyError(f"{code!r} is not an ISO 4217 currency code") from None


@total_ordering
class Money:
    """An exact amount: a whole number of minor units of one currency.

    Held as that integer: sums, differences and splits are integer arithmetic,
    and making an amount costs no Decimal. ``amount`` is the Decimal with the
    currency's exponent (``Decimal('7.00')`` for EUR), made when read, so its
    string form is the JSON form of the result format. Immutable: ``amount``,
    ``currency`` and ``minor_units`` are read-only. Equal when units and
    currency are.
    """

    __slots__ = ("_currency", "_units")

    _units: int
    _currency: Currency

    def __init__(self, amount: Decimal, currency: Currency) -> None:
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise TypeError(f"Money needs a finite Decimal amount, got {amount!r}")
        units = _exact_units(amount, currency.minor_unit)
        if units is None:
            raise ValueError(f"{amount} has more decimals than the minor unit of {currency.code}")
        self._units = units
        self._currency = currency

    def __reduce__(self) -> tuple[object, ...]:
        return (Money.from_minor_units, (self._units, self._currency))

    @property
    def currency(self) -> Currency:
        return self._currency

    @property
    def amount(self) -> Decimal:
        """The amount as a Decimal with the currency's exponent, built exactly."""
        return _from_units(self._units, self._currency.minor_unit)

    @classmethod
    def of(cls, amount: Decimal | int | str, ccy: Currency) -> Money:
        """Money from an exact value; more decimals than the minor unit is an error."""
        return cls(Decimal(amount), ccy)

    @classmethod
    def zero(cls, ccy: Currency) -> Money:
        return cls.from_minor_units(0, ccy)

    @classmethod
    def from_minor_units(cls, units: int, ccy: Currency) -> Money:
        # The hot path of the engine: no Decimal, no validation (an int is exact).
        money = object.__new__(cls)
        money._units = units
        money._currency = ccy
        return money

    @property
    def minor_units(self) -> int:
        """The amount as an integer count of minor units (cents for EUR)."""
        return self._units

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self._units == other._units and self._currency == other._currency

    def __hash__(self) -> int:
        return hash((self._units, self._currency))

    def __repr__(self) -> str:
        return f"Money(amount={self.amount!r}, currency={self.currency!r})"

    def fixed(self) -> str:
        """The amount in fixed-point with the currency's decimals (``"-7.05"``), from the units.

        The JSON form of money; the same text as ``format(self.amount, "f")``.
        """
        return fixed_text(self._units, self._currency.minor_unit)

    def is_zero(self) -> bool:
        return self._units == 0

    def _same(self, other: Money) -> None:
        if self._currency is not other._currency and self._currency != other._currency:
            raise CurrencyMismatchError(f"{self.currency.code} and {other.currency.code}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money.from_minor_units(self._units + other._units, self._currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money.from_minor_units(self._units - other._units, self._currency)

    def __neg__(self) -> Money:
        return Money.from_minor_units(-self._units, self._currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self._units < other._units

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    def max(self, other: Money) -> Money:
        return self if self >= other else other

    def times_floor(self, factor: Decimal) -> Money:
        """This amount times ``factor``, rounded down to the minor unit (caps).

        Exact at any size and any number of digits of ``factor``: the product is
        a fraction of integers, floored once.
        """
        if not factor.is_finite():
            raise ValueError(f"cannot multiply money by {factor}")
        ratio = Fraction(factor)  # exact: a finite Decimal is a ratio of integers
        units = self.minor_units * ratio.numerator // ratio.denominator
        return Money.from_minor_units(units, self.currency)

    def __str__(self) -> str:
        return f"{self.currency.code} {self.amount:,}"


# Zero at each count of decimals: most charges of most members are zero.
_ZEROS = tuple("0." + "0" * places if places else "0" for places in range(5))


def fixed_text(units: int, places: int) -> str:
    """``units`` minor units in fixed-point with ``places`` decimals: ``Money.fixed`` of ints."""
    if not places:
        return str(units)
    if not units:
        return _ZEROS[places] if places < len(_ZEROS) else "0." + "0" * places
    # The digits cut at the point: no division, and no nested format spec.
    if units < 0:
        digits, sign = str(-units), "-"
    else:
        digits, sign = str(units), ""
    if len(digits) <= places:
        digits = "0" * (places + 1 - len(digits)) + digits
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _exact_units(amount: Decimal, minor_unit: int) -> int | None:
    """``amount`` as a whole number of minor units, or None if it has more decimals.

    Read from the digits themselves: ``scaleb`` and ``quantize`` would round to
    the context's precision.
    """
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # a finite Decimal
    value = int("".join(map(str, digits)) or "0")
    shift = exponent + minor_unit
    scale: int = 10 ** abs(shift)
    if shift >= 0:
        value *= scale
    else:
        value, rest = divmod(value, scale)
        if rest:
            return None
    return -value if sign else value


def _from_units(units: int, minor_unit: int) -> Decimal:
    """The Decimal of ``units`` minor units with the currency's exponent, built exactly.

    Parsed from text, which no context rounds, whatever the number of digits.
    """
    return Decimal(f"{units}E-{minor_unit}")


def sum_money(amounts: Iterable[Money], ccy: Currency) -> Money:
    """The exact sum of amounts in ``ccy`` (zero for none)."""
    return Money.from_minor_units(sum(m.minor_units for m in amounts), ccy)


def allocate_pro_rata(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``total`` integer units pro rata to non-negative integer ``weights``.

    Each key gets the floor of its exact share; the units left go one each to
    the largest fractional remainders, ties to the key that sorts first. Keys
    of zero weight get 0. The parts add up to ``total`` exactly.
    """
    if total < 0:
        raise ValueError(f"cannot split a negative total {total}")
    weight_sum = sum(weights.values())
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must be non-negative")
    if weight_sum == 0:
        if total:
            raise ValueError("cannot split a positive total over zero weights")
        return dict.fromkeys(weights, 0)
    shares: dict[str, int] = {}
    remainders: list[tuple[int, str]] = []
    for key, weight in weights.items():
        share, remainder = divmod(total * weight, weight_sum)
        shares[key] = share
        if remainder:
            remainders.append((-remainder, key))
    left = total - sum(shares.values())
    remainders.sort()
    for _, key in remainders[:left]:
        shares[key] += 1
    return shares


def allocate_pro_rata_capped(
    total: int, weights: Mapping[str, int], caps: Mapping[str, int]
) -> dict[str, int]:
    """Split ``total`` pro rata to ``weights`` with no key above its cap.

    A key whose exact share reaches its cap gives its cap, and the rest is
    spread pro rata over the others (water-filling). ``total`` must not exceed
    the capacity, the caps of the keys of positive weight. Rounding as in
    ``allocate_pro_rata``; no rounded share ever exceeds its cap.
    """
    capacity = sum(caps[k] for k, w in weights.items() if w > 0)
    if total > capacity:
        raise ValueError(f"total {total} exceeds the capacity {capacity}")
    result = dict.fromkeys(weights, 0)
    weight_sum = sum(w for w in weights.values() if w > 0)
    # Usual case first: no exact share reaches its cap, so it is a plain split.
    if all(total * w < caps[k] * weight_sum for k, w in weights.items() if w > 0):
        return allocate_pro_rata(total, weights) if weight_sum else result
    # Keys reach their caps in the order of cap per unit of weight: sorted by the
    # float ratio (correctly rounded, so a smaller float is a smaller ratio), then
    # each run of equal floats, which may hide unequal ratios, exactly.
    ratio = {k: caps[k] / w for k, w in weights.items() if w > 0 and caps[k] > 0}
    active = sorted(ratio, key=lambda k: (ratio[k], k))
    start = 0
    while start < len(active):
        end = start + 1
        while end < len(active) and ratio[active[end]] == ratio[active[start]]:
            end += 1
        if end - start > 1:
            active[start:end] = sorted(
                active[start:end], key=lambda k: (Fraction(caps[k], weights[k]), k)
            )
        start = end
    remaining = total
    weight_left = sum(weights[k] for k in active)
    index = 0
    while index < len(active):
        key = active[index]
        # Exact share remaining * w / weight_left reaches the cap.
        if remaining * weights[key] < caps[key] * weight_left:
            break
        result[key] = caps[key]
        remaining -= caps[key]
        weight_left -= weights[key]
        index += 1
    rest = active[index:]
    if rest:
        result.update(allocate_pro_rata(remaining, {k: weights[k] for k in rest}))
    return result


def split_pro_rata(total: Money, weights: Mapping[str, Money]) -> dict[str, Money]:
    """``allocate_pro_rata`` on Money: weights are amounts of the same currency."""
    ccy = total.currency
    units = allocate_pro_rata(total.minor_units, {k: _units(w, ccy) for k, w in weights.items()})
    return {k: Money.from_minor_units(u, ccy) for k, u in units.items()}


def split_pro_rata_capped(
    total: Money, weights: Mapping[str, Money], caps: Mapping[str, Money]
) -> dict[str, Money]:
    """``allocate_pro_rata_capped`` on Money."""
    ccy = total.currency
    units = allocate_pro_rata_capped(
        total.minor_units,
        {k: _units(w, ccy) for k, w in weights.items()},
        {k: _units(c, ccy) for k, c in caps.items()},
    )
    return {k: Money.from_minor_units(u, ccy) for k, u in units.items()}


def _units(amount: Money, ccy: Currency) -> int:
    if amount.currency != ccy:
        raise CurrencyMismatchError(f"{amount.currency.code} and {ccy.code}")
    return amount.minor_units

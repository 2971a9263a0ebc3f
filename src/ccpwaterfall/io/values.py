"""Plain values of case documents: amounts, decimal numbers and whole numbers.

Each parser reads one TOML value and returns what it holds, or the ``Issue``
with it (its file, field path and message); none keeps state. ``DocumentChecker``
(``io.checker``) calls them a place at a time and adds range and presence
checks. The rules are the case format's "Amounts" section: money is never a
binary float.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.io.issues import Issue

_AMOUNT = re.compile(r"([0-9]+(?:\.[0-9]+)?)([kKmM]|[bB][nN])?")
_NEGATIVE_AMOUNT = re.compile(r"-\s*[0-9]+(?:\.[0-9]+)?(?:[kKmM]|[bB][nN])?")
_NOT_FINITE = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# ASCII digits only: str.isdigit() also accepts "²", which int() cannot read.
_DIGITS = re.compile(r"[0-9]+")
_SUFFIX_EXPONENT = {"": 0, "k": 3, "m": 6, "bn": 9}
# Amounts stay well inside the 28 significant digits of Decimal's default
# context, so sums of many of them remain exact.
_MAX_AMOUNT_DIGITS = 20
_MAX_DECIMAL_DIGITS = 28
_AMOUNT_HINT = (
    'write an integer or a decimal string with an optional suffix k, m or bn, such as "7m", '
    '"1.5bn" or "107000000.00"'
)


def parse_amount(value: object, ccy: Currency, file: str, field: str) -> Money | Issue:
    """An amount of ``ccy`` from a TOML value, or the issue with it.

    A TOML integer (``7_000_000``) or a string holding a decimal number with an
    optional suffix k, m or bn in any case (``"7m"``, ``"1.5bn"``,
    ``"107000000.00"``, ``"2.5K"``). Floats, booleans, negative amounts,
    non-numbers and more decimals than the currency's minor unit (after the
    suffix is applied: ``"1.2345k"`` is 1234.5) are rejected.
    """
    exact = exact_amount(value)
    if isinstance(exact, str):
        return Issue(file, field, exact)
    if exact.quantize(ccy.quantum) != exact:
        quantum = format(ccy.quantum, "f")
        return Issue(
            file,
            field,
            f"{shown(value)} is {format(exact, 'f')} {ccy.code}: more decimals than the minor "
            f"unit of {ccy.code} ({quantum})",
        )
    return Money(exact.quantize(ccy.quantum), ccy)


def parse_decimal(value: object, file: str, field: str) -> Decimal | Issue:
    """A plain decimal number (``cap_multiple``, ``max_fraction``), or the issue with it.

    A string such as ``"2"`` or ``"0.5"`` (a leading minus is read, so range
    checks can name it) or a TOML integer; floats are rejected with a hint to
    quote them, and no suffix is allowed.
    """
    if isinstance(value, bool):
        return Issue(file, field, f'expected a decimal number such as "2", got {kind_of(value)}')
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Issue(file, field, _float_message(value, "decimals"))
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            return Issue(
                file,
                field,
                f"not a decimal number: {value!r}; write digits with an optional decimal point, "
                'such as "2" or "0.5"',
            )
        number = Decimal(value)
        if len(number.as_tuple().digits) > _MAX_DECIMAL_DIGITS:
            return Issue(file, field, f"{value!r} has more than {_MAX_DECIMAL_DIGITS} digits")
        return number
    return Issue(
        file,
        field,
        f'expected a decimal number (a string such as "2" or "0.5", or an integer), '
        f"got {kind_of(value)}",
    )


def parse_whole(value: object, file: str, field: str, *, digit_string: bool) -> int | Issue:
    """A whole number (a TOML integer; with ``digit_string`` also ``"20"``), or the issue.

    Booleans are not numbers here, although Python counts them as integers; a
    float that is whole gets a hint to write it without its point.
    """
    if digit_string and isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value)
    # bool is an int subclass in Python, but true is not a number of days.
    if isinstance(value, bool) or not isinstance(value, int):
        hint = f"; write {int(value)}" if isinstance(value, float) and value.is_integer() else ""
        return Issue(file, field, f"expected a whole number, got {kind_of(value)}{hint}")
    return value


def exact_amount(value: object) -> Decimal | str:
    """The exact non-negative value of an amount (suffix applied), or what is wrong.

    For amounts read before their currency is known: only their form is checked.
    """
    if isinstance(value, bool):
        return f"expected an amount, got {kind_of(value)}; {_AMOUNT_HINT}"
    if isinstance(value, int):
        if value < 0:
            return f"negative amount {value}: amounts are zero or more"
        return _bounded(Decimal(value), str(value))
    if isinstance(value, float):
        if math.isfinite(value) and value < 0:
            return f"negative amount {value!r}: amounts are zero or more"
        return _float_message(value, "money")
    if not isinstance(value, str):
        return f"expected an amount, got {kind_of(value)}; {_AMOUNT_HINT}"
    match = _AMOUNT.fullmatch(value)
    if match is None:
        if not value.strip():
            return f"empty amount; {_AMOUNT_HINT}"
        if _NEGATIVE_AMOUNT.fullmatch(value.strip()):
            if not any(c in "123456789" for c in value):
                # "-0" is zero, not negative: only its sign is wrong.
                return f'{value!r} has a minus sign: amounts are written without one; write "0"'
            return f"negative amount {value!r}: amounts are zero or more"
        if _NOT_FINITE.fullmatch(value.strip()):
            return f"{value!r} is not a number: amounts are finite decimal numbers"
        return f"not an amount: {value!r}; {_AMOUNT_HINT}"
    digits, suffix = match.groups()
    # The constructor is exact at any length; arithmetic would round to 28 digits.
    exponent = _SUFFIX_EXPONENT[(suffix or "").lower()]
    return _bounded(Decimal(f"{digits}E{exponent}"), value)


def _bounded(amount: Decimal, written: str) -> Decimal | str:
    if amount.adjusted() >= _MAX_AMOUNT_DIGITS:
        return (
            f"amount {written} is too large: at most {_MAX_AMOUNT_DIGITS} digits before the "
            "decimal point"
        )
    return amount


def _float_message(value: float, what: str) -> str:
    if not math.isfinite(value):
        return f"{value!r} is not a number: write a finite decimal number in quotes"
    # The shortest decimal that reads back as this float: what the user wrote.
    written = Decimal(repr(value))
    whole = written.to_integral_value()
    text = format(whole if written == whole else written, "f")
    return (
        f"got the TOML float {value!r}; quote it: binary floats cannot hold {what} exactly, "
        f'write "{text}"'
    )


def shown(value: object) -> str:
    """A TOML value as messages quote it: strings in quotes, anything else as written."""
    return repr(value) if isinstance(value, str) else str(value)


def kind_of(value: object) -> str:
    """What a TOML value is, in words, for messages: ``an integer (3)``, ``a table``."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a float ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, dt.datetime):
        return f"a date-time ({value.isoformat()})"
    if isinstance(value, dt.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, dt.time):
        return f"a time ({value.isoformat()})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__

"""What plain case files and risk cases share: the header, amounts and a document checker.

Both documents start with the same header (``format``, ``name``, ``description``,
``currency``, ``[ccp]``) and write amounts and decimal numbers the same way (the
case format's "File" and "Amounts" sections). ``DocumentChecker`` reads one
parsed TOML document a place at a time and collects every problem as an
``Issue`` with the path of its field, so a user sees them all at once; each
loader extends it with the checks of its own tables.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from ccpwaterfall.domain import Currency, Money, UnknownCurrencyError, currency
from ccpwaterfall.io.issues import Issue, field_path

CASE_FORMAT = "ccp-case/1"

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
_CCP_KEYS = ("name",)

_Parsed = TypeVar("_Parsed")


def parse_amount(value: object, ccy: Currency, file: str, field: str) -> Money | Issue:
    """An amount of ``ccy`` from a TOML value, or the issue with it.

    A TOML integer (``7_000_000``) or a string holding a decimal number with an
    optional suffix k, m or bn in any case (``"7m"``, ``"1.5bn"``,
    ``"107000000.00"``, ``"2.5K"``). Floats, booleans, negative amounts,
    non-numbers and more decimals than the currency's minor unit (after the
    suffix is applied: ``"1.2345k"`` is 1234.5) are rejected.
    """
    exact = _exact_amount(value)
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


def _exact_amount(value: object) -> Decimal | str:
    """The exact non-negative value of an amount (suffix applied), or what is wrong."""
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


def closest(word: str, choices: Collection[str]) -> str:
    """``; did you mean 'x'?`` for a close choice, else nothing."""
    # Case slips ("aas" for "AAS") first: difflib scores them as unlike.
    same_letters = [c for c in choices if c.casefold() == word.casefold()]
    close = same_letters or difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


@dataclass(frozen=True, slots=True)
class Header:
    """The header of a case document, read without an issue."""

    name: str
    description: str | None
    currency: Currency
    ccp_name: str


@dataclass(slots=True)
class DocumentChecker:
    """Reads one document, collecting every issue in ``issues``; each method checks one place.

    A method returns the value it read, or ``None`` when the value is absent or
    has an issue; ``path`` is the field path of the table a key is read from
    (``""`` for the top of the document).
    """

    file: str
    issues: list[Issue] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        """Record an issue at ``path``."""
        self.issues.append(Issue(self.file, path, message))

    def present(self, table: Mapping[str, object], key: str, path: str, *, required: bool) -> bool:
        """Whether ``table`` has ``key``; an issue if it has not and ``required``."""
        if key in table:
            return True
        if required:
            self.add(field_path(path, key), "missing required key")
        return False

    def keys(
        self,
        table: Mapping[str, object],
        allowed: Collection[str],
        path: str,
        context: str = "",
        elsewhere: Mapping[str, str] | None = None,
    ) -> None:
        """An issue for every key of ``table`` not in ``allowed``.

        ``elsewhere`` names where a key does belong, for keys allowed only in
        other variants of the table (``amount`` belongs to ``ccp_capital``).
        """
        expected = ", ".join(sorted(allowed))
        for key in table:
            if key in allowed:
                continue
            home = (elsewhere or {}).get(key)
            where = f" ({key} belongs to {home})" if home else ""
            self.add(
                field_path(path, key),
                f"unknown key {key!r}{context}{where}; expected one of: {expected}"
                f"{'' if home else closest(key, allowed)}",
            )

    def table(self, value: object, path: str, what: str) -> Mapping[str, object] | None:
        """``value`` if it is a table; else an issue saying it should be ``what``."""
        if isinstance(value, dict):
            return value
        self.add(path, f"expected {what}, got {kind_of(value)}")
        return None

    def table_at(
        self,
        parent: Mapping[str, object],
        key: str,
        path: str,
        what: str = "a table",
        *,
        required: bool,
    ) -> Mapping[str, object] | None:
        """The table at ``key`` of ``parent``."""
        if not self.present(parent, key, path, required=required):
            return None
        return self.table(parent[key], field_path(path, key), what)

    def tables(
        self, value: object, path: str, what: str, header: str
    ) -> list[tuple[str, Mapping[str, object]]] | None:
        """The tables of an array of tables, each with its path; ``None`` if not an array."""
        if not isinstance(value, list):
            self.add(path, f"expected an array of tables ({header}), got {kind_of(value)}")
            return None
        if not value:
            self.add(path, f"at least one {what} is required")
            return None
        result = []
        for index, item in enumerate(value):
            item_path = field_path(path, index)
            table = self.table(item, item_path, "a table")
            if table is not None:
                result.append((item_path, table))
        return result

    def string(
        self,
        table: Mapping[str, object],
        key: str,
        path: str,
        *,
        required: bool = False,
        non_empty: bool = False,
    ) -> str | None:
        """A string (with ``non_empty``, one that is not blank)."""
        if not self.present(table, key, path, required=required):
            return None
        key_path = field_path(path, key)
        value = table[key]
        if not isinstance(value, str):
            self.add(key_path, f"expected a string, got {kind_of(value)}")
            return None
        if non_empty and not value.strip():
            self.add(key_path, "must not be empty")
            return None
        return value

    def integer(
        self,
        table: Mapping[str, object],
        key: str,
        path: str,
        minimum: int,
        *,
        maximum: int | None = None,
        why_maximum: str = "",
        required: bool = False,
        digit_string: bool = False,
    ) -> int | None:
        """A whole number from ``minimum`` to ``maximum``; with ``digit_string`` also ``"20"``.

        ``why_maximum`` follows the maximum in the message (``" (ten years)"``).
        """
        if not self.present(table, key, path, required=required):
            return None
        key_path = field_path(path, key)
        value = table[key]
        if digit_string and isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
            value = int(value)
        # bool is an int subclass in Python, but true is not a number of days.
        if isinstance(value, bool) or not isinstance(value, int):
            hint = (
                f"; write {int(value)}" if isinstance(value, float) and value.is_integer() else ""
            )
            self.add(key_path, f"expected a whole number, got {kind_of(value)}{hint}")
            return None
        if value < minimum:
            self.add(key_path, f"must be {minimum} or more, got {value}")
            return None
        if maximum is not None and value > maximum:
            self.add(key_path, f"must be at most {maximum:,}{why_maximum}, got {value:,}")
            return None
        return value

    def amount(
        self,
        table: Mapping[str, object],
        key: str,
        path: str,
        ccy: Currency | None,
        *,
        required: bool = True,
    ) -> Money | None:
        """An amount; with no valid currency only its form is checked."""
        if not self.present(table, key, path, required=required):
            return None
        key_path = field_path(path, key)
        if ccy is None:
            exact = _exact_amount(table[key])
            if isinstance(exact, str):
                self.add(key_path, exact)
            return None
        return self.checked(parse_amount(table[key], ccy, self.file, key_path))

    def decimal(
        self, table: Mapping[str, object], key: str, path: str, *, required: bool
    ) -> Decimal | None:
        """A plain decimal number (``parse_decimal``)."""
        if not self.present(table, key, path, required=required):
            return None
        return self.checked(parse_decimal(table[key], self.file, field_path(path, key)))

    def checked(self, parsed: _Parsed | Issue) -> _Parsed | None:
        """What a parse function read, or ``None`` with its issue recorded."""
        if isinstance(parsed, Issue):
            self.issues.append(parsed)
            return None
        return parsed

    def header(self, doc: Mapping[str, object]) -> tuple[Header | None, Currency | None]:
        """The header both case documents start with (``None`` with an issue), and its currency.

        Checks ``format``, ``name``, ``description``, ``currency`` and ``[ccp]``
        with its name; which other top-level keys are allowed is the caller's to
        check. The currency comes back even when another part of the header has
        an issue, so that amounts elsewhere can still be read with it.
        """
        start = len(self.issues)
        self.case_format(doc)
        name = self.string(doc, "name", "", required=True, non_empty=True)
        description = self.string(doc, "description", "")
        ccy = self.case_currency(doc)
        ccp_name = None
        ccp = self.table_at(doc, "ccp", "", "a table ([ccp] with a name)", required=True)
        if ccp is not None:
            self.keys(ccp, _CCP_KEYS, "ccp")
            ccp_name = self.string(ccp, "name", "ccp", required=True, non_empty=True)
        if name is None or ccy is None or ccp_name is None or len(self.issues) > start:
            return None, ccy
        return Header(name, description, ccy, ccp_name), ccy

    def case_format(self, doc: Mapping[str, object]) -> None:
        """An issue unless ``format`` is this version's ``CASE_FORMAT``."""
        if "format" not in doc:
            self.add("format", f'missing required key: write format = "{CASE_FORMAT}"')
            return
        value = doc["format"]
        if value != CASE_FORMAT:
            self.add(
                "format",
                f"unsupported format {shown(value)}: this version reads {CASE_FORMAT!r} only",
            )

    def case_currency(self, doc: Mapping[str, object]) -> Currency | None:
        """The ISO 4217 currency of the document, suggesting the code for a case slip."""
        if not self.present(doc, "currency", "", required=True):
            return None
        value = doc["currency"]
        if not isinstance(value, str):
            self.add("currency", f'expected an ISO 4217 code such as "EUR", got {kind_of(value)}')
            return None
        try:
            return currency(value)
        except UnknownCurrencyError:
            pass
        upper = value.strip().upper()
        try:
            currency(upper)
        except UnknownCurrencyError:
            self.add(
                "currency",
                f"{value!r} is not an ISO 4217 currency code with a minor unit "
                "(such as EUR, USD or JPY)",
            )
        else:
            self.add(
                "currency",
                f"{value!r} is not an ISO 4217 currency code; did you mean {upper!r}? "
                "(codes are upper case)",
            )
        return None

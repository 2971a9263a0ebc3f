"""What plain case files and risk cases share: the header and a document checker.

Both documents start with the same header (``format``, ``name``, ``description``,
``currency``, ``[ccp]``) and write amounts and decimal numbers the same way (the
case format's "File" and "Amounts" sections; the value parsers are in
``io.values``). ``DocumentChecker`` reads one
parsed TOML document a place at a time and collects every problem as an
``Issue`` with the path of its field, so a user sees them all at once; each
loader extends it with the checks of its own tables.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from ccpwaterfall.domain import Currency, Money, UnknownCurrencyError, currency
from ccpwaterfall.io.issues import Issue, field_path
from ccpwaterfall.io.values import (
    exact_amount,
    kind_of,
    parse_amount,
    parse_decimal,
    parse_whole,
    shown,
)

# The value parsers live in io.values; callers that read them through this module still may.
__all__ = [
    "CASE_FORMAT",
    "RISK_CASE_FORMAT",
    "DocumentChecker",
    "Header",
    "closest",
    "kind_of",
    "parse_amount",
    "parse_decimal",
    "shown",
]

CASE_FORMAT = "ccp-case/1"
# Risk cases have their own format; they were once written with CASE_FORMAT, which
# still loads with a warning.
RISK_CASE_FORMAT = "ccp-risk-case/1"

_CCP_KEYS = ("name",)

_Parsed = TypeVar("_Parsed")


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
        value = self.checked(
            parse_whole(table[key], self.file, key_path, digit_string=digit_string)
        )
        if value is None:
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
            exact = exact_amount(table[key])
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
        """An issue unless ``format`` is this version's ``CASE_FORMAT``.

        Risk cases override it to read ``RISK_CASE_FORMAT``.
        """
        if "format" not in doc:
            self.add("format", f'missing required key: write format = "{CASE_FORMAT}"')
            return
        value = doc["format"]
        if value == RISK_CASE_FORMAT:
            self.add(
                "format",
                f"{RISK_CASE_FORMAT!r} is the format of risk cases, which name their data files "
                f"in [portfolio]; a case with [[members]] and [[defaults]] is "
                f'format = "{CASE_FORMAT}"',
            )
        elif value != CASE_FORMAT:
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

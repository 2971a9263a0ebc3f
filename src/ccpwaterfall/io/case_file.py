"""Case files (``ccp-case/1``, TOML): read, check every rule, build a ``Case``.

Every problem in a file is collected as an ``Issue`` with the path of its
field, so a user sees them all at once; nothing is built from a file with any
issue. The rules are those of the case format's "File", "Amounts" and
"Errors" sections.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ccpwaterfall.domain import (
    Case,
    CoolingOff,
    Currency,
    Default,
    Member,
    Money,
    Rulebook,
    Tranche,
    TrancheKind,
    UnknownCurrencyError,
    currency,
)
from ccpwaterfall.io.issues import InputError, Issue, field_path

CASE_FORMAT = "ccp-case/1"

# Keys allowed at each place of the document.
_TOP_KEYS = ("ccp", "currency", "defaults", "description", "format", "members", "name", "rulebook")
_CCP_KEYS = ("name",)
_RULEBOOK_KEYS = ("business_days_to_replenish", "cooling_off", "waterfall")
_COOLING_OFF_KEYS = ("business_days", "extend_per_default", "max_business_days")
_MEMBER_KEYS = ("default_fund", "group", "id", "initial_margin", "name", "vm_gains")
_DEFAULT_KEYS = ("date", "loss", "member")
# The parameter each tranche kind takes besides ``kind`` and ``name``.
_TRANCHE_PARAMETER = {
    TrancheKind.CCP_CAPITAL: "amount",
    TrancheKind.ASSESSMENTS: "cap_multiple",
    TrancheKind.VM_GAINS_HAIRCUT: "max_fraction",
}
_TRANCHE_KEYS = ("kind", "name", *_TRANCHE_PARAMETER.values())
# Tables that make a document a risk case, read by another loader.
_RISK_CASE_TABLES = ("portfolio", "risk")

_AMOUNT = re.compile(r"([0-9]+(?:\.[0-9]+)?)([kKmM]|[bB][nN])?")
_NEGATIVE_AMOUNT = re.compile(r"-\s*[0-9]+(?:\.[0-9]+)?(?:[kKmM]|[bB][nN])?")
_NOT_FINITE = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SUFFIX_EXPONENT = {"": 0, "k": 3, "m": 6, "bn": 9}
# Amounts stay well inside the 28 significant digits of Decimal's default
# context, so sums of many of them remain exact.
_MAX_AMOUNT_DIGITS = 20
_MAX_DECIMAL_DIGITS = 28
_AMOUNT_HINT = (
    'write an integer or a decimal string with an optional suffix k, m or bn, such as "7m", '
    '"1.5bn" or "107000000.00"'
)


def read_toml(path: Path) -> tuple[dict[str, object] | None, list[Issue]]:
    """The TOML document at ``path``, or the issues that stop it being read.

    A missing file, bytes that are not UTF-8 and TOML syntax errors (with their
    line and column) are issues, never exceptions. A UTF-8 byte order mark is
    accepted.
    """
    file = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [Issue(file, "", "file not found")]
    except IsADirectoryError:
        return None, [Issue(file, "", "is a directory, not a case file")]
    except OSError as error:
        return None, [Issue(file, "", f"cannot be read: {error.strerror or error}")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        return None, [
            Issue(file, "", f"not UTF-8 text: byte 0x{byte:02x} at line {line} cannot be decoded")
        ]
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as error:
        return None, [Issue(file, "", f"TOML syntax error: {error}")]


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
            f"{_shown(value)} is {format(exact, 'f')} {ccy.code}: more decimals than the minor "
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
        return Issue(file, field, f'expected a decimal number such as "2", got {_kind(value)}')
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
        f"got {_kind(value)}",
    )


def validate_rulebook(
    value: object, ccy: Currency, file: str, field: str = "rulebook"
) -> tuple[Rulebook | None, list[Issue]]:
    """The rulebook table at ``field``, or every issue with it."""
    check = _Checker(file)
    rulebook = check.rulebook(value, ccy, field)
    if check.issues:
        return None, check.issues
    return rulebook, []


def validate_case(doc: Mapping[str, object], file: str) -> tuple[Case | None, list[Issue]]:
    """The case a parsed ``ccp-case/1`` document describes, or every issue with it.

    Members keep their order in the file; nothing downstream depends on it.
    """
    risk_tables = [t for t in _RISK_CASE_TABLES if t in doc]
    if risk_tables:
        return None, [
            Issue(
                file,
                "",
                f"this is a risk case (it has a [{risk_tables[0]}] table): use ccp margin, "
                "ccp stress or ccp size-fund",
            )
        ]
    check = _Checker(file)
    check.keys(doc, _TOP_KEYS, "")
    check.case_format(doc)
    name = check.string(doc, "name", "", required=True, non_empty=True)
    description = check.string(doc, "description", "")
    ccy = check.case_currency(doc)
    ccp_name = check.ccp(doc)
    rulebook = None
    if "rulebook" in doc:
        rulebook = check.rulebook(doc["rulebook"], ccy, "rulebook")
    else:
        check.missing("rulebook")
    members = check.members(doc, ccy)
    defaults = check.defaults(doc, ccy, members)
    if check.issues:
        return None, check.issues
    # With no issue every part above was read; the checks only narrow the types.
    assert name is not None
    assert ccy is not None
    assert ccp_name is not None
    assert rulebook is not None
    assert members is not None
    assert defaults is not None
    case = Case(
        name=name,
        currency=ccy,
        ccp_name=ccp_name,
        rulebook=rulebook,
        members=tuple(m for m in members.values() if m is not None),
        defaults=tuple(d for d in defaults if d is not None),
        description=description,
    )
    return case, []


def load_case(path: Path) -> Case:
    """The case in the ``ccp-case/1`` file at ``path``; InputError with every issue if bad."""
    doc, issues = read_toml(path)
    if doc is None:
        raise InputError(issues)
    case, issues = validate_case(doc, str(path))
    if case is None:
        raise InputError(issues)
    return case


def _exact_amount(value: object) -> Decimal | str:
    """The exact non-negative value of an amount (suffix applied), or what is wrong."""
    if isinstance(value, bool):
        return f"expected an amount, got {_kind(value)}; {_AMOUNT_HINT}"
    if isinstance(value, int):
        if value < 0:
            return f"negative amount {value}: amounts are zero or more"
        return _bounded(Decimal(value), str(value))
    if isinstance(value, float):
        if math.isfinite(value) and value < 0:
            return f"negative amount {value!r}: amounts are zero or more"
        return _float_message(value, "money")
    if not isinstance(value, str):
        return f"expected an amount, got {_kind(value)}; {_AMOUNT_HINT}"
    match = _AMOUNT.fullmatch(value)
    if match is None:
        if not value.strip():
            return f"empty amount; {_AMOUNT_HINT}"
        if _NEGATIVE_AMOUNT.fullmatch(value.strip()):
            return f"negative amount {value!r}: amounts are zero or more"
        if _NOT_FINITE.fullmatch(value.strip()):
            return f"{value!r} is not a number: amounts are finite decimal numbers"
        return f"not an amount: {value!r}; {_AMOUNT_HINT}"
    digits, suffix = match.groups()
    # The constructor is exact at any length; arithmetic would round to 28 digits.
    exponent = _SUFFIX_EXPONENT[(suffix or "").lower()]
    return _bounded(Decimal(f"{digits}E{exponent}"), value)


def _bounded(amount: Decimal, shown: str) -> Decimal | str:
    if amount.adjusted() >= _MAX_AMOUNT_DIGITS:
        return (
            f"amount {shown} is too large: at most {_MAX_AMOUNT_DIGITS} digits before the "
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


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _kind(value: object) -> str:
    """What a TOML value is, in words, for messages."""
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


def _closest(word: str, choices: Collection[str]) -> str:
    """``; did you mean 'x'?`` for a close choice, else nothing."""
    # Case slips ("aas" for "AAS") first: difflib scores them as unlike.
    same_letters = [c for c in choices if c.casefold() == word.casefold()]
    close = same_letters or difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


@dataclass(slots=True)
class _Checker:
    """Reads one document, collecting every issue; each method checks one place."""

    file: str
    issues: list[Issue] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.issues.append(Issue(self.file, path, message))

    def missing(self, path: str) -> None:
        self.add(path, "missing required key")

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
                f"{'' if home else _closest(key, allowed)}",
            )

    def table(self, value: object, path: str, what: str) -> Mapping[str, object] | None:
        if isinstance(value, dict):
            return value
        self.add(path, f"expected {what}, got {_kind(value)}")
        return None

    def tables(
        self, value: object, path: str, what: str, header: str
    ) -> list[tuple[str, Mapping[str, object]]] | None:
        """The tables of an array of tables, each with its path; ``None`` if not an array."""
        if not isinstance(value, list):
            self.add(path, f"expected an array of tables ({header}), got {_kind(value)}")
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
        key_path = field_path(path, key)
        if key not in table:
            if required:
                self.missing(key_path)
            return None
        value = table[key]
        if not isinstance(value, str):
            self.add(key_path, f"expected a string, got {_kind(value)}")
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
        required: bool = False,
    ) -> int | None:
        key_path = field_path(path, key)
        if key not in table:
            if required:
                self.missing(key_path)
            return None
        value = table[key]
        # bool is an int subclass in Python, but true is not a number of days.
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(key_path, f"expected a whole number, got {_kind(value)}")
            return None
        if value < minimum:
            self.add(key_path, f"must be {minimum} or more, got {value}")
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
        key_path = field_path(path, key)
        if key not in table:
            if required:
                self.missing(key_path)
            return None
        if ccy is None:
            exact = _exact_amount(table[key])
            if isinstance(exact, str):
                self.add(key_path, exact)
            return None
        parsed = parse_amount(table[key], ccy, self.file, key_path)
        if isinstance(parsed, Issue):
            self.issues.append(parsed)
            return None
        return parsed

    def decimal(
        self, table: Mapping[str, object], key: str, path: str, *, required: bool
    ) -> Decimal | None:
        key_path = field_path(path, key)
        if key not in table:
            if required:
                self.missing(key_path)
            return None
        parsed = parse_decimal(table[key], self.file, key_path)
        if isinstance(parsed, Issue):
            self.issues.append(parsed)
            return None
        return parsed

    def case_format(self, doc: Mapping[str, object]) -> None:
        if "format" not in doc:
            self.add("format", f'missing required key: write format = "{CASE_FORMAT}"')
            return
        value = doc["format"]
        if value != CASE_FORMAT:
            self.add(
                "format",
                f"unsupported format {_shown(value)}: this version reads {CASE_FORMAT!r} only",
            )

    def case_currency(self, doc: Mapping[str, object]) -> Currency | None:
        if "currency" not in doc:
            self.missing("currency")
            return None
        value = doc["currency"]
        if not isinstance(value, str):
            self.add("currency", f'expected an ISO 4217 code such as "EUR", got {_kind(value)}')
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

    def ccp(self, doc: Mapping[str, object]) -> str | None:
        if "ccp" not in doc:
            self.missing("ccp")
            return None
        table = self.table(doc["ccp"], "ccp", "a table ([ccp] with a name)")
        if table is None:
            return None
        self.keys(table, _CCP_KEYS, "ccp")
        return self.string(table, "name", "ccp", required=True, non_empty=True)

    def rulebook(self, value: object, ccy: Currency | None, path: str) -> Rulebook | None:
        table = self.table(value, path, "a table ([rulebook] with its waterfall)")
        if table is None:
            return None
        start = len(self.issues)
        self.keys(table, _RULEBOOK_KEYS, path)
        replenish = self.integer(table, "business_days_to_replenish", path, 0)
        cooling_off = (
            self.cooling_off(table["cooling_off"], field_path(path, "cooling_off"))
            if "cooling_off" in table
            else None
        )
        waterfall: list[Tranche] = []
        waterfall_path = field_path(path, "waterfall")
        if "waterfall" not in table:
            self.missing(waterfall_path)
        else:
            tables = self.tables(
                table["waterfall"], waterfall_path, "tranche", f"[[{waterfall_path}]]"
            )
            for tranche_path, tranche_table in tables or ():
                tranche = self.tranche(tranche_table, tranche_path, ccy)
                if tranche is not None:
                    waterfall.append(tranche)
        # Without a currency no amount could be read: the issue is on the currency.
        if ccy is None or len(self.issues) > start:
            return None
        return Rulebook(tuple(waterfall), replenish, cooling_off)

    def cooling_off(self, value: object, path: str) -> CoolingOff | None:
        table = self.table(value, path, "a table such as { business_days = 20 }")
        if table is None:
            return None
        start = len(self.issues)
        self.keys(table, _COOLING_OFF_KEYS, path)
        days = self.integer(table, "business_days", path, 1, required=True)
        extend = self.integer(table, "extend_per_default", path, 0)
        longest = self.integer(table, "max_business_days", path, 1)
        if days is not None and longest is not None and longest < days:
            self.add(
                field_path(path, "max_business_days"),
                f"must be at least business_days ({days}), got {longest}",
            )
        if days is None or len(self.issues) > start:
            return None
        return CoolingOff(days, extend or 0, longest)

    def tranche(
        self, table: Mapping[str, object], path: str, ccy: Currency | None
    ) -> Tranche | None:
        start = len(self.issues)
        kinds = [k.value for k in TrancheKind]
        kind: TrancheKind | None = None
        kind_path = field_path(path, "kind")
        if "kind" not in table:
            self.add(kind_path, f"missing required key; one of: {', '.join(kinds)}")
        elif not isinstance(table["kind"], str) or table["kind"] not in kinds:
            value = table["kind"]
            hint = _closest(value, kinds) if isinstance(value, str) else ""
            self.add(
                kind_path,
                f"unknown tranche kind {_shown(value)}; expected one of: {', '.join(kinds)}{hint}",
            )
        else:
            kind = TrancheKind(table["kind"])
        if kind is None:
            # The kind is unknown: tell apart only keys of no kind at all, and
            # still check the form of any parameter given.
            self.keys(table, _TRANCHE_KEYS, path)
            if "amount" in table:
                self.amount(table, "amount", path, ccy)
            for key in ("cap_multiple", "max_fraction"):
                self.decimal(table, key, path, required=False)
        else:
            parameter = _TRANCHE_PARAMETER.get(kind)
            allowed = ("kind", "name") if parameter is None else ("kind", "name", parameter)
            elsewhere = {p: k.value for k, p in _TRANCHE_PARAMETER.items() if k is not kind}
            self.keys(table, allowed, path, f" for kind {kind.value}", elsewhere)
        name = self.string(table, "name", path)
        amount = cap_multiple = max_fraction = None
        if kind is TrancheKind.CCP_CAPITAL:
            amount = self.amount(table, "amount", path, ccy)
        elif kind is TrancheKind.ASSESSMENTS:
            cap_multiple = self.decimal(table, "cap_multiple", path, required=True)
            if cap_multiple is not None and cap_multiple < 0:
                self.add(
                    field_path(path, "cap_multiple"),
                    f"cap_multiple below zero ({cap_multiple}): it must be 0 or more",
                )
        elif kind is TrancheKind.VM_GAINS_HAIRCUT:
            max_fraction = self.decimal(table, "max_fraction", path, required=False)
            if max_fraction is not None and not Decimal(0) <= max_fraction <= Decimal(1):
                self.add(
                    field_path(path, "max_fraction"),
                    f"max_fraction must be between 0 and 1, got {max_fraction}",
                )
        if kind is None or ccy is None or len(self.issues) > start:
            return None
        return Tranche(kind, name, amount, cap_multiple, max_fraction)

    def members(
        self, doc: Mapping[str, object], ccy: Currency | None
    ) -> dict[str, Member | None] | None:
        """Members by id in file order (``None`` for one with issues)."""
        if "members" not in doc:
            self.missing("members")
            return None
        tables = self.tables(doc["members"], "members", "member", "[[members]]")
        if tables is None:
            return None
        members: dict[str, Member | None] = {}
        first_at: dict[str, str] = {}
        for path, table in tables:
            start = len(self.issues)
            self.keys(table, _MEMBER_KEYS, path)
            member_id = self.string(table, "id", path, required=True, non_empty=True)
            if member_id is not None and member_id in first_at:
                self.add(
                    field_path(path, "id"),
                    f"duplicate member id {member_id!r} (first at {first_at[member_id]})",
                )
                member_id = None
            name = self.string(table, "name", path)
            group = self.string(table, "group", path, non_empty=True)
            default_fund = self.amount(table, "default_fund", path, ccy)
            initial_margin = self.amount(table, "initial_margin", path, ccy)
            vm_gains = self.amount(table, "vm_gains", path, ccy, required=False)
            if member_id is None:
                continue
            first_at[member_id] = path
            members[member_id] = None
            if len(self.issues) > start or ccy is None:
                continue
            assert default_fund is not None
            assert initial_margin is not None
            members[member_id] = Member(
                id=member_id,
                default_fund=default_fund,
                initial_margin=initial_margin,
                vm_gains=vm_gains or Money.zero(ccy),
                name=name,
                group=group,
            )
        return members

    def defaults(
        self,
        doc: Mapping[str, object],
        ccy: Currency | None,
        members: Mapping[str, Member | None] | None,
    ) -> list[Default | None] | None:
        if "defaults" not in doc:
            self.missing("defaults")
            return None
        tables = self.tables(doc["defaults"], "defaults", "default", "[[defaults]]")
        if tables is None:
            return None
        defaults: list[Default | None] = []
        first_at: dict[str, str] = {}
        for path, table in tables:
            start = len(self.issues)
            self.keys(table, _DEFAULT_KEYS, path)
            member = self.string(table, "member", path, required=True, non_empty=True)
            member_path = field_path(path, "member")
            if member is not None and members is not None and member not in members:
                self.add(
                    member_path,
                    f"unknown member {member!r}: not listed in [[members]]"
                    f"{_closest(member, members)}",
                )
            elif member is not None and member in first_at:
                self.add(
                    member_path,
                    f"member {member!r} already defaults at {first_at[member]}: "
                    "a member defaults at most once in a case",
                )
            elif member is not None:
                first_at[member] = path
            loss = self.amount(table, "loss", path, ccy)
            date = None
            if "date" in table:
                date = self.default_date(table["date"], field_path(path, "date"))
            if member is None or loss is None or len(self.issues) > start:
                defaults.append(None)
                continue
            defaults.append(Default(member, loss, date))
        self.mixed_dates(tables)
        return defaults

    def default_date(self, value: object, path: str) -> dt.date | None:
        # A TOML date-time is a datetime, which is also a date: rule it out first.
        if isinstance(value, dt.datetime):
            self.add(path, f"expected a date such as 2018-09-11, got {_kind(value)}")
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            if not _DATE.fullmatch(value):
                self.add(path, f"expected a date written YYYY-MM-DD, got {value!r}")
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                self.add(path, f"{value!r} is not a valid date")
                return None
        self.add(path, f"expected a date such as 2018-09-11, got {_kind(value)}")
        return None

    def mixed_dates(self, tables: list[tuple[str, Mapping[str, object]]]) -> None:
        """Dated and undated defaults cannot be mixed: flag the entries of the minority."""
        dated = [path for path, table in tables if "date" in table]
        undated = [path for path, table in tables if "date" not in table]
        if not dated or not undated:
            return
        # The majority shows the intent; a tie goes to the kind of the first entry.
        first_is_dated = "date" in tables[0][1]
        dated_wins = len(dated) > len(undated) or (len(dated) == len(undated) and first_is_dated)
        if dated_wins:
            for path in undated:
                self.add(
                    field_path(path, "date"),
                    "missing: the other defaults are dated, and dated and undated defaults "
                    "cannot be mixed",
                )
        else:
            for path in dated:
                self.add(
                    field_path(path, "date"),
                    "dated, but the other defaults have no date: dated and undated defaults "
                    "cannot be mixed",
                )

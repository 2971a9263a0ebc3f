"""Case files (``ccp-case/1``, TOML): read, check every rule, build a ``Case``.

Every problem in a file is collected as an ``Issue`` with the path of its
field, so a user sees them all at once; nothing is built from a file with any
issue. The rules are those of the case format's "File", "Amounts" and
"Errors" sections.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import Any

from ccpwaterfall.domain import (
    Auction,
    Case,
    CoolingOff,
    Currency,
    Default,
    Member,
    Money,
    Rulebook,
    Tranche,
    auction_problems,
)
from ccpwaterfall.domain.case import LAST_DATE, MAX_BUSINESS_DAYS, MAX_CAP_MULTIPLE
from ccpwaterfall.io.checker import CASE_FORMAT, DocumentChecker, closest
from ccpwaterfall.io.issues import (
    InputError,
    InputWarning,
    Issue,
    field_path,
    not_a_regular_file,
)
from ccpwaterfall.io.values import kind_of, parse_amount, parse_decimal, shown
from ccpwaterfall.waterfall.kinds import (
    TRANCHE_KINDS,
    Parameter,
    ParameterType,
    TrancheRegistry,
    TrancheRole,
    TrancheSpec,
)
from ccpwaterfall.waterfall.resolve import tranche_problems

# The format and the rules for amounts are shared with risk cases (io.checker,
# io.values); they are read through this module too.
__all__ = [
    "CASE_FORMAT",
    "load_case",
    "parse_amount",
    "parse_decimal",
    "read_toml",
    "validate_case",
    "validate_rulebook",
]

# Keys allowed at each place of the document.
_TOP_KEYS = (
    "auctions",
    "ccp",
    "currency",
    "defaults",
    "description",
    "format",
    "members",
    "name",
    "rulebook",
)
_RULEBOOK_KEYS = ("business_days_to_replenish", "cooling_off", "waterfall")
_COOLING_OFF_KEYS = ("business_days", "extend_per_default", "max_business_days")
_MEMBER_KEYS = ("default_fund", "group", "id", "initial_margin", "name", "vm_gains")
_DEFAULT_KEYS = ("date", "loss", "member")
# Tables that make a document a risk case, read by another loader.
_RISK_CASE_TABLES = ("portfolio", "risk")

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Counts of business days are at most ten years, so the dates they move stay in the calendar.
_TEN_YEARS = " business days (ten years)"


def read_toml(path: Path) -> tuple[dict[str, object] | None, list[Issue]]:
    """The TOML document at ``path``, or the issues that stop it being read.

    A missing file, bytes that are not UTF-8 and TOML syntax errors (with their
    line and column) are issues, never exceptions. A UTF-8 byte order mark is
    accepted.
    """
    file = str(path)
    unreadable = not_a_regular_file(path, "a case file")
    if unreadable is not None:
        return None, [unreadable]
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [Issue(file, "", "file not found")]
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


def validate_rulebook(
    value: object, ccy: Currency, file: str, field: str = "rulebook"
) -> tuple[Rulebook | None, list[Issue]]:
    """The rulebook table at ``field``, or every issue with it."""
    check = _CaseChecker(file)
    rulebook = check.rulebook(value, ccy, field)
    if check.issues:
        return None, check.issues
    return rulebook, []


def validate_case(
    doc: Mapping[str, object], file: str, kinds: TrancheRegistry = TRANCHE_KINDS
) -> tuple[Case | None, list[Issue]]:
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
    check = _CaseChecker(file, kinds=kinds)
    check.keys(doc, _TOP_KEYS, "")
    header, ccy = check.header(doc)
    rulebook = None
    if check.present(doc, "rulebook", "", required=True):
        rulebook = check.rulebook(doc["rulebook"], ccy, "rulebook")
    members = check.members(doc, ccy)
    defaults = check.defaults(doc, ccy, members)
    auctions = check.auctions(doc, defaults)
    if check.issues:
        return None, check.issues
    # With no issue every part above was read; the checks only narrow the types.
    assert header is not None
    assert rulebook is not None
    assert members is not None
    assert defaults is not None
    assert auctions is not None
    case = Case(
        name=header.name,
        currency=header.currency,
        ccp_name=header.ccp_name,
        rulebook=rulebook,
        members=tuple(m for m in members.values() if m is not None),
        defaults=tuple(d for d in defaults if d is not None),
        description=header.description,
    )
    for index, auction in enumerate(auctions):
        for problem in auction_problems(case, (auction,)):
            check.add(field_path("auctions", index), problem)
    if len(auctions) != len({a.date for a in auctions}):
        check.add("auctions", "at most one auction per event: two name the same date")
    if check.issues:
        return None, check.issues
    return replace(case, auctions=auctions), []


def load_case(path: str | PathLike[str], kinds: TrancheRegistry = TRANCHE_KINDS) -> Case:
    """The case in the ``ccp-case/1`` file at ``path``; InputError with every issue if bad.

    ``kinds``: the tranche kinds its waterfall may list (the built-in ones by default).
    """
    return load_case_with_warnings(path, kinds)[0]


def load_case_with_warnings(
    path: str | PathLike[str], kinds: TrancheRegistry = TRANCHE_KINDS
) -> tuple[Case, tuple[InputWarning, ...]]:
    """``load_case``, and the warnings about the case (``case_warnings``)."""
    path = Path(path)
    doc, issues = read_toml(path)
    if doc is None:
        raise InputError(issues)
    case, issues = validate_case(doc, str(path), kinds)
    if case is None:
        raise InputError(issues)
    return case, case_warnings(case, str(path))


def case_warnings(case: Case, file: str) -> tuple[InputWarning, ...]:
    """What is valid in a case but likely not what was meant; see ``rulebook_warnings``.

    A member id with spaces around it is a different id from the one without.
    """
    found = list(rulebook_warnings(case.rulebook, file))
    for index, member in enumerate(case.members):
        if member.id != member.id.strip():
            found.append(
                InputWarning(
                    file,
                    f"members[{index}].id",
                    f"id {member.id!r} has spaces around it: it is a different member from "
                    f"{member.id.strip()!r}, and defaults must name it with the spaces",
                )
            )
    return tuple(found)


# Kinds that give everything they hold the first time: listed again, they give nothing.
_OWN_ROLES = (TrancheRole.DEFAULTER_MARGIN, TrancheRole.DEFAULTER_FUND)


def rulebook_warnings(
    rulebook: Rulebook, file: str, path: str = "rulebook", kinds: TrancheRegistry = TRANCHE_KINDS
) -> tuple[InputWarning, ...]:
    """A tranche that can give nothing, survivors' money before the defaulter's, unused keys.

    Read from the kinds' specs: a kind that uses all it has (``exhaustive``)
    listed twice, and a tranche drawing on the survivors' fund before one
    drawing on the defaulters' own resources.
    """
    found: list[InputWarning] = []
    first: dict[str, int] = {}
    waterfall = field_path(path, "waterfall")
    fund: int | None = None
    own: dict[int, str] = {}
    for index, tranche in enumerate(rulebook.waterfall):
        at = field_path(field_path(waterfall, index), "kind")
        kind = str(tranche.kind)
        spec = kinds.get(kind)
        if spec is None:
            continue
        if spec.exhaustive and kind in first:
            found.append(
                InputWarning(
                    file,
                    at,
                    f"{kind} is already at {waterfall}[{first[kind]}], which uses all of "
                    "it: listed again it gives nothing",
                )
            )
        first.setdefault(kind, index)
        if TrancheRole.MEMBER_FUND in spec.roles and fund is None:
            fund = index
        if set(_OWN_ROLES) & set(spec.roles):
            own.setdefault(index, kind)
    later = [i for i in own if fund is not None and i > fund]
    if fund is not None and later:
        found.append(
            InputWarning(
                file,
                field_path(field_path(waterfall, fund), "kind"),
                f"the members' default fund comes before the defaulter's own resources "
                f"({own[later[0]]} at {waterfall}[{later[0]}]): survivors pay for a loss the "
                "defaulter's own margin and contribution could cover",
            )
        )
    if rulebook.cooling_off is not None and rulebook.business_days_to_replenish is not None:
        found.append(
            InputWarning(
                file,
                field_path(path, "business_days_to_replenish"),
                "not used: with cooling_off the fund is replenished when the cooling-off "
                "period ends",
            )
        )
    return tuple(found)


@dataclass(slots=True)
class _CaseChecker(DocumentChecker):
    """The checks of the tables only case files have, and of the rulebook.

    ``kinds``: the tranche kinds a waterfall may list, each with its parameters.
    """

    kinds: TrancheRegistry = field(default_factory=lambda: TRANCHE_KINDS)

    def rulebook(self, value: object, ccy: Currency | None, path: str) -> Rulebook | None:
        table = self.table(value, path, "a table ([rulebook] with its waterfall)")
        if table is None:
            return None
        start = len(self.issues)
        self.keys(table, _RULEBOOK_KEYS, path)
        replenish = self.integer(
            table,
            "business_days_to_replenish",
            path,
            0,
            maximum=MAX_BUSINESS_DAYS,
            why_maximum=_TEN_YEARS,
        )
        cooling_off = (
            self.cooling_off(table["cooling_off"], field_path(path, "cooling_off"))
            if "cooling_off" in table
            else None
        )
        waterfall: list[Tranche] = []
        waterfall_path = field_path(path, "waterfall")
        if self.present(table, "waterfall", path, required=True):
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
        self.waterfall_rules(tuple(waterfall), waterfall_path)
        if len(self.issues) > start:
            return None
        return Rulebook(tuple(waterfall), replenish, cooling_off)

    def cooling_off(self, value: object, path: str) -> CoolingOff | None:
        table = self.table(value, path, "a table such as { business_days = 20 }")
        if table is None:
            return None
        start = len(self.issues)
        self.keys(table, _COOLING_OFF_KEYS, path)
        days = self.integer(
            table,
            "business_days",
            path,
            1,
            required=True,
            maximum=MAX_BUSINESS_DAYS,
            why_maximum=_TEN_YEARS,
        )
        extend = self.integer(
            table, "extend_per_default", path, 0, maximum=MAX_BUSINESS_DAYS, why_maximum=_TEN_YEARS
        )
        longest = self.integer(
            table, "max_business_days", path, 1, maximum=MAX_BUSINESS_DAYS, why_maximum=_TEN_YEARS
        )
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
        """A tranche: its kind, and the parameters its kind's spec lists, each by its type."""
        start = len(self.issues)
        kinds = [str(kind) for kind in self.kinds]
        spec: TrancheSpec | None = None
        kind_path = field_path(path, "kind")
        if "kind" not in table:
            self.add(kind_path, f"missing required key; one of: {', '.join(kinds)}")
        elif not isinstance(table["kind"], str) or table["kind"] not in kinds:
            value = table["kind"]
            hint = closest(value, kinds) if isinstance(value, str) else ""
            self.add(
                kind_path,
                f"unknown tranche kind {shown(value)}; expected one of: {', '.join(kinds)}{hint}",
            )
        else:
            spec = self.kinds[table["kind"]]
        homes: dict[str, str] = {}
        for other in self.kinds.values():
            for parameter in other.parameters:
                homes.setdefault(parameter.name, other.kind)
        if spec is None:
            # The kind is unknown: tell apart only keys of no kind at all, and
            # still check the form of any parameter given.
            self.keys(table, ("kind", "name", *homes), path)
            self.amount(table, "amount", path, ccy, required=False)
            for key in ("cap_multiple", "max_fraction"):
                self.decimal(table, key, path, required=False)
            self.string(table, "name", path)
            return None
        allowed = ("kind", "name", *(p.name for p in spec.parameters))
        elsewhere = {name: home for name, home in homes.items() if name not in spec.fields}
        self.keys(table, allowed, path, f" for kind {spec.kind}", elsewhere)
        name = self.string(table, "name", path)
        # Each value is of its parameter's type, which names a field of Tranche.
        values: dict[str, Any] = {
            p.name: value
            for p in spec.parameters
            if (value := self.parameter(table, p, path, ccy)) is not None
        }
        if ccy is None or len(self.issues) > start:
            return None
        return Tranche(spec.kind, name, **values)

    def parameter(
        self, table: Mapping[str, object], parameter: Parameter, path: str, ccy: Currency | None
    ) -> object:
        """One tranche parameter by its type, or None (absent, or with an issue)."""
        key, required = parameter.name, parameter.required
        at = field_path(path, key)
        if parameter.type is ParameterType.AMOUNT:
            return self.amount(table, key, path, ccy, required=required)
        if parameter.type is ParameterType.CHOICE:
            word = self.string(table, key, path, required=required)
            if word is not None and word not in parameter.choices:
                choices = ", ".join(parameter.choices)
                self.add(at, f"{word!r} is not one of: {choices}{closest(word, parameter.choices)}")
                return None
            if word is None and parameter.default is not None:
                return parameter.default
            return word
        number = self.decimal(table, key, path, required=required)
        if number is None:
            return None
        if parameter.type is ParameterType.FRACTION and not Decimal(0) <= number <= Decimal(1):
            self.add(at, f"{key} must be between 0 and 1, got {number}")
        elif parameter.type is ParameterType.MULTIPLE and number < 0:
            self.add(at, f"{key} below zero ({number}): it must be 0 or more")
        elif parameter.type is ParameterType.MULTIPLE and number > MAX_CAP_MULTIPLE:
            self.add(at, f"{key} {number} is too large: at most {MAX_CAP_MULTIPLE:,}")
        return number

    def waterfall_rules(self, waterfall: tuple[Tranche, ...], path: str) -> None:
        """The kinds' own checks of each tranche in its waterfall (a partner that must follow)."""
        for index in range(len(waterfall)):
            for name, problem in tranche_problems(index, waterfall, self.kinds):
                self.add(field_path(field_path(path, index), name or "kind"), problem)

    def auctions(
        self, doc: Mapping[str, object], defaults: list[Default | None] | None
    ) -> tuple[Auction, ...] | None:
        """The ``[[auctions]]`` tables: a date and tiers of member ids, most junior first."""
        if "auctions" not in doc:
            return ()
        tables = self.tables(doc["auctions"], "auctions", "auction", "[[auctions]]")
        if tables is None:
            return None
        found: list[Auction] = []
        start = len(self.issues)
        for path, table in tables:
            self.keys(table, ("date", "tiers"), path)
            day = (
                self.default_date(table["date"], field_path(path, "date"))
                if "date" in table
                else None
            )
            tiers = self.tiers(table, path)
            if tiers is not None:
                found.append(Auction(day, tiers))
        if len(self.issues) > start:
            return None
        return tuple(found)

    def tiers(self, table: Mapping[str, object], path: str) -> tuple[tuple[str, ...], ...] | None:
        at = field_path(path, "tiers")
        if not self.present(table, "tiers", path, required=True):
            return None
        value = table["tiers"]
        shape = 'an array of arrays of member ids, such as [["A"], ["B", "C"]]'
        if not isinstance(value, list) or not all(isinstance(t, list) for t in value):
            self.add(at, f"expected {shape}, got {kind_of(value)}")
            return None
        tiers: list[tuple[str, ...]] = []
        seen: dict[str, str] = {}
        start = len(self.issues)
        for index, tier in enumerate(value):
            tier_path = field_path(at, index)
            if not tier:
                self.add(tier_path, "an auction tier lists at least one member")
            for position, member in enumerate(tier):
                member_path = field_path(tier_path, position)
                if not isinstance(member, str):
                    self.add(member_path, f"expected a member id, got {kind_of(member)}")
                elif member in seen:
                    self.add(member_path, f"{member!r} is already in {seen[member]}")
                else:
                    seen[member] = tier_path
            tiers.append(tuple(m for m in tier if isinstance(m, str)))
        return tuple(tiers) if len(self.issues) == start else None

    def members(
        self, doc: Mapping[str, object], ccy: Currency | None
    ) -> dict[str, Member | None] | None:
        """Members by id in file order (``None`` for one with issues)."""
        if not self.present(doc, "members", "", required=True):
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
        if not self.present(doc, "defaults", "", required=True):
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
                    f"{closest(member, members)}",
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
            self.add(path, f"expected a date such as 2018-09-11, got {kind_of(value)}")
            return None
        date = None
        if isinstance(value, dt.date):
            date = value
        elif isinstance(value, str):
            if not _DATE.fullmatch(value):
                self.add(path, f"expected a date written YYYY-MM-DD, got {value!r}")
                return None
            try:
                date = dt.date.fromisoformat(value)
            except ValueError:
                self.add(path, f"{value!r} is not a valid date")
                return None
        else:
            self.add(path, f"expected a date such as 2018-09-11, got {kind_of(value)}")
            return None
        if date > LAST_DATE:
            self.add(
                path,
                f"{date.isoformat()} is too late: default dates go up to {LAST_DATE.isoformat()}, "
                "so that replenishment and cooling-off ends stay inside the calendar",
            )
            return None
        return date

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

"""Drill files (``ccp-drill/1``, TOML): read, check every rule, build a ``DrillPlan``.

A drill file starts like a case file (header, ``[ccp]``, ``[rulebook]``,
``[[members]]``; no ``[[defaults]]``: the drill makes the loss) and then
describes the default and the CCP's plan (``docs/drill-format.md``). Every
problem is collected with its field path, and the plan's own checks
(``lifecycle.drill.drill_problems``: names that resolve, times in order, the
bids replayed through the auction) are added, so whatever loads here runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import TypeVar

from ccpwaterfall.domain import Case, Currency, Money
from ccpwaterfall.io.case_file import _CaseChecker, read_toml
from ccpwaterfall.io.checker import closest
from ccpwaterfall.io.issues import InputError, Issue, field_path
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.io.values import kind_of, parse_decimal, shown
from ccpwaterfall.lifecycle.drill import drill_problems
from ccpwaterfall.lifecycle.drill_plan import (
    DRILL_FORMAT,
    Account,
    AccountKind,
    AuctionPlan,
    Bid,
    BiddingModel,
    DrillPlan,
    Hedge,
    HedgeStage,
    Hedging,
    Instrument,
    Lot,
    MarginCall,
    Position,
    Product,
    Round,
)
from ccpwaterfall.lifecycle.drill_risk import (
    history_moves,
    largest_member,
    path_days,
    risk_drill_parts,
    scenario_moves,
)
from ccpwaterfall.lifecycle.fund import size_fund
from ccpwaterfall.lifecycle.inputs import EndOfDayInputs
from ccpwaterfall.lifecycle.margin import compute_margin
from ccpwaterfall.lifecycle.stress import compute_stress

_TOP_KEYS = (
    "accounts",
    "auction",
    "bidding",
    "bids",
    "ccp",
    "currency",
    "default",
    "description",
    "format",
    "hedging",
    "instruments",
    "members",
    "name",
    "porting",
    "positions",
    "products",
    "rulebook",
)
_DEFAULT_KEYS = (
    "declared_at",
    "deadline",
    "grace_minutes",
    "issued_at",
    "margin_call",
    "member",
    "regulator",
)
_ACCOUNT_KEYS = ("accepts", "collateral", "collateral_ported", "id", "kind", "port_to")
_PRODUCT_KEYS = ("active", "half_spread", "id", "impact", "margin_rate", "moves")
_POSITION_KEYS = ("account", "delta", "product", "value")
_HEDGING_KEYS = ("at", "day", "hedges", "stage")
_HEDGE_KEYS = ("instrument", "product", "ratio")
_AUCTION_KEYS = ("fallback_margin_multiple", "lots", "reserve_margin_multiple", "rounds")
_ROUND_KEYS = ("day", "deadline", "opens_at")
_BID_KEYS = ("at", "lot", "member", "price")
_MAX_HOURS = 24 * 366

T = TypeVar("T")

#: ``member = "largest"``: the member with the largest initial margin (risk cases only).
LARGEST = "largest"
#: ``margin_call = "engine"``: the defaulter's initial margin from the engine.
ENGINE = "engine"
_RISK_TOP_KEYS = (
    "auction",
    "bidding",
    "bids",
    "default",
    "description",
    "format",
    "hedging",
    "market",
    "name",
    "porting",
    "risk_case",
)


def load_drill(path: str | PathLike[str]) -> DrillPlan:
    """The plan in the ``ccp-drill/1`` file at ``path``; InputError with every issue if bad."""
    path = Path(path)
    doc, issues = read_toml(path)
    if doc is None:
        raise InputError(issues)
    plan, issues = validate_drill(doc, str(path))
    if plan is None:
        raise InputError(issues)
    return plan


def is_drill(doc: Mapping[str, object]) -> bool:
    """Whether a parsed document says it is a drill file."""
    return doc.get("format") == DRILL_FORMAT


def validate_drill(doc: Mapping[str, object], file: str) -> tuple[DrillPlan | None, list[Issue]]:
    """The plan a parsed drill document describes, or every issue with it.

    With ``risk_case`` the CCP, the defaulter's book and the market path come
    from that risk case and the engine (``validate_risk_drill``).
    """
    if "risk_case" in doc:
        return validate_risk_drill(doc, file)
    check = _DrillChecker(file)
    check.keys(doc, _TOP_KEYS, "")
    header, ccy = check.header(doc)
    rulebook = None
    if check.present(doc, "rulebook", "", required=True):
        rulebook = check.rulebook(doc["rulebook"], ccy, "rulebook")
    members = check.members(doc, ccy)
    call, defaulter = check.default(doc, ccy)
    window = check.porting(doc)
    accounts = check.list_of(doc, "accounts", lambda t, p: check.account(t, p, ccy))
    products = check.list_of(doc, "products", check.product)
    positions = check.list_of(doc, "positions", lambda t, p: check.position(t, p, ccy))
    instruments = check.list_of(doc, "instruments", check.instrument, required=False)
    hedging = check.hedging(doc)
    auction = check.auction(doc, products or [])
    bids = check.list_of(doc, "bids", lambda t, p: check.bid(t, p, ccy), required=False)
    bidding = check.bidding(doc)
    if check.issues:
        return None, check.issues
    assert header is not None
    assert rulebook is not None
    assert members is not None
    assert call is not None
    assert defaulter is not None
    assert window is not None
    assert accounts is not None
    assert products is not None
    assert positions is not None
    assert instruments is not None
    assert auction is not None
    assert bids is not None
    ccp = Case(
        name=header.name,
        currency=header.currency,
        ccp_name=header.ccp_name,
        rulebook=rulebook,
        members=tuple(m for m in members.values() if m is not None),
        defaults=(),
        description=header.description,
    )
    plan = DrillPlan(
        name=header.name,
        ccp=ccp,
        defaulter=defaulter,
        margin_call=call,
        porting_window=window,
        accounts=tuple(accounts),
        products=tuple(products),
        positions=tuple(positions),
        instruments=tuple(instruments),
        hedging=hedging,
        auction=auction,
        bids=tuple(bids),
        bidding=bidding,
        description=header.description,
    )
    for where, message in drill_problems(plan):
        check.add(where, message)
    if check.issues:
        return None, check.issues
    return plan, []


def validate_risk_drill(
    doc: Mapping[str, object], file: str
) -> tuple[DrillPlan | None, list[Issue]]:
    """A drill on a risk case: its file, then the default, porting, market and auction."""
    check = _DrillChecker(file)
    check.keys(doc, _RISK_TOP_KEYS, "")
    check.case_format(doc)
    name = check.string(doc, "name", "", required=True, non_empty=True)
    description = check.string(doc, "description", "")
    source = check.string(doc, "risk_case", "", required=True, non_empty=True)
    if check.issues or source is None or name is None:
        return None, check.issues
    path = Path(file).parent / source
    try:
        risk_case = load_risk_case(path)
    except InputError as error:
        return None, [*check.issues, *error.issues]
    inputs = risk_case.inputs
    ccy = inputs.currency
    call, member = check.default(doc, ccy, engine=True)
    port_to, ported, window, refused = check.risk_porting(doc)
    market = check.market(doc, inputs)
    hedging = check.hedging(doc)
    bids = check.list_of(doc, "bids", lambda t, p: check.bid(t, p, ccy), required=False)
    bidding = check.bidding(doc)
    if check.issues:
        return None, check.issues
    assert call is not None
    assert member is not None
    assert market is not None
    assert window is not None
    assert bids is not None
    margin = compute_margin(inputs)
    fund = size_fund(inputs, margin, compute_stress(inputs, margin))
    ids = inputs.portfolio.member_ids
    defaulter = largest_member(margin, inputs) if member == LARGEST else member
    if defaulter not in ids:
        check.add(
            "default.member",
            f"unknown member {defaulter!r}: not in {source}{closest(defaulter, ids)}",
        )
    if port_to is not None and port_to == defaulter:
        check.add("porting.port_to", f"{port_to!r} is the defaulter: it cannot take clients")
    elif port_to is not None and port_to not in ids:
        check.add(
            "porting.port_to", f"unknown member {port_to!r}: not in {source}{closest(port_to, ids)}"
        )
    accounts = inputs.portfolio.account_ids
    defaulter_index = ids.index(defaulter) if defaulter in ids else -1
    own = {
        a
        for a, m in zip(accounts, inputs.portfolio.account_member, strict=True)
        if m == defaulter_index
    }
    for index, account in enumerate(refused):
        if account not in own:
            check.add(
                f"porting.refused[{index}]",
                f"{account!r} is not an account of the defaulter {defaulter!r}",
            )
    if check.issues:
        return None, check.issues
    moves, costs = market
    parts = risk_drill_parts(
        inputs,
        margin,
        fund,
        defaulter,
        moves=moves,
        costs=costs,
        port_to=port_to,
        collateral_ported=ported,
        refused=frozenset(refused),
    )
    auction = check.auction(doc, list(parts.products))
    if check.issues or auction is None:
        return None, check.issues
    default_table = doc.get("default")
    if isinstance(default_table, dict) and default_table.get("margin_call") == ENGINE:
        call = replace(call, amount=parts.margin)
    plan = DrillPlan(
        name=name,
        ccp=parts.ccp,
        defaulter=defaulter,
        margin_call=call,
        porting_window=window,
        accounts=parts.accounts,
        products=parts.products,
        positions=parts.positions,
        instruments=parts.instruments,
        hedging=hedging,
        auction=auction,
        bids=tuple(bids),
        bidding=bidding,
        description=description,
    )
    for where, message in drill_problems(plan):
        check.add(where, message)
    if check.issues:
        return None, check.issues
    return plan, []


@dataclass(slots=True)
class _DrillChecker(_CaseChecker):
    """The case checks of the header, rulebook and members, and the drill's own tables."""

    def case_format(self, doc: Mapping[str, object]) -> None:
        if "format" not in doc:
            self.add("format", f'missing required key: write format = "{DRILL_FORMAT}"')
        elif doc["format"] != DRILL_FORMAT:
            self.add(
                "format",
                f"unsupported format {shown(doc['format'])}: a drill file is "
                f'format = "{DRILL_FORMAT}"',
            )

    def list_of(
        self,
        doc: Mapping[str, object],
        key: str,
        read: Callable[[Mapping[str, object], str], T | None],
        *,
        required: bool = True,
        parent: str = "",
    ) -> list[T] | None:
        """Each table of the array ``key``, read by ``read``; None if any has an issue."""
        if not self.present(doc, key, parent, required=required):
            return [] if not required else None
        at = field_path(parent, key)
        tables = self.tables(doc[key], at, key.rstrip("s"), f"[[{at}]]")
        if tables is None:
            return None
        start = len(self.issues)
        found = [read(table, path) for path, table in tables]
        if len(self.issues) > start:
            return None
        return [item for item in found if item is not None]

    def moment(
        self, table: Mapping[str, object], key: str, path: str, *, required: bool = True
    ) -> dt.datetime | None:
        """A TOML date-time with its offset, as UTC."""
        if not self.present(table, key, path, required=required):
            return None
        value = table[key]
        at = field_path(path, key)
        if not isinstance(value, dt.datetime):
            self.add(at, f"expected a date-time such as 2018-09-11T08:00:00Z, got {kind_of(value)}")
            return None
        if value.tzinfo is None:
            self.add(
                at,
                f"{value.isoformat()} has no offset: write it in UTC with a Z "
                f"({value.isoformat()}Z) or with its offset",
            )
            return None
        return value.astimezone(dt.UTC)

    def signed(
        self, table: Mapping[str, object], key: str, path: str, ccy: Currency | None
    ) -> Money | None:
        """An amount that may be negative (a mark, a delta, a bid): a leading minus is read."""
        if not self.present(table, key, path, required=True):
            return None
        value = table[key]
        negative = False
        if isinstance(value, str) and value.strip().startswith("-"):
            negative, value = True, value.strip()[1:]
        elif isinstance(value, int) and not isinstance(value, bool) and value < 0:
            negative, value = True, -value
        amount = self.amount({key: value}, key, path, ccy)
        if amount is None:
            return None
        return -amount if negative else amount

    def fraction(
        self, table: Mapping[str, object], key: str, path: str, default: Decimal | None
    ) -> Decimal | None:
        """A decimal from 0 to 1 (``default`` when absent)."""
        if key not in table:
            return default
        number = self.decimal(table, key, path, required=True)
        if number is not None and not Decimal(0) <= number <= Decimal(1):
            self.add(field_path(path, key), f"must be from 0 to 1, got {number}")
            return None
        return number

    def non_negative(
        self, table: Mapping[str, object], key: str, path: str, default: Decimal | None
    ) -> Decimal | None:
        if key not in table:
            return default
        number = self.decimal(table, key, path, required=True)
        if number is not None and number < 0:
            self.add(field_path(path, key), f"must be 0 or more, got {number}")
            return None
        return number

    def default(
        self, doc: Mapping[str, object], ccy: Currency | None, *, engine: bool = False
    ) -> tuple[MarginCall | None, str | None]:
        """The margin call and the defaulter; with ``engine`` (a drill on a risk case),
        ``margin_call = "engine"`` (an amount of zero here, the engine's margin later)
        and ``member = "largest"`` are allowed."""
        table = self.table_at(doc, "default", "", "a table ([default])", required=True)
        if table is None:
            return None, None
        path = "default"
        start = len(self.issues)
        self.keys(table, _DEFAULT_KEYS, path)
        member = self.string(table, "member", path, required=True, non_empty=True)
        if member == LARGEST and not engine:
            self.add(f"{path}.member", f"{LARGEST!r} needs a risk case: name the member")
        amount: Money | None = None
        if table.get("margin_call") == ENGINE:
            if engine and ccy is not None:
                amount = Money.zero(ccy)
            else:
                self.add(f"{path}.margin_call", f"{ENGINE!r} needs a risk case: give the amount")
        else:
            amount = self.amount(table, "margin_call", path, ccy)
        issued = self.moment(table, "issued_at", path)
        deadline = self.moment(table, "deadline", path)
        grace = self.integer(table, "grace_minutes", path, 0, maximum=60 * _MAX_HOURS)
        declared = self.moment(table, "declared_at", path)
        regulator = self.string(table, "regulator", path, non_empty=True)
        if len(self.issues) > start or amount is None:
            return None, None
        assert issued is not None
        assert deadline is not None
        assert declared is not None
        call = MarginCall(
            amount,
            issued,
            deadline,
            dt.timedelta(minutes=grace or 0),
            declared,
            regulator or "the competent authority",
        )
        return call, member

    def risk_porting(
        self, doc: Mapping[str, object]
    ) -> tuple[str | None, Decimal, dt.timedelta | None, tuple[str, ...]]:
        """The back-up member of every client account, the collateral share, the window,
        and the accounts the back-up refuses."""
        if "porting" not in doc:
            return None, Decimal(1), dt.timedelta(0), ()
        table = self.table(doc["porting"], "porting", "a table ([porting])")
        if table is None:
            return None, Decimal(1), None, ()
        self.keys(table, ("collateral_ported", "port_to", "refused", "window_hours"), "porting")
        refused: tuple[str, ...] = ()
        if "refused" in table:
            value = table["refused"]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                refused = tuple(str(v) for v in value)
            else:
                self.add(
                    "porting.refused", f"expected an array of account ids, got {kind_of(value)}"
                )
        hours = self.integer(table, "window_hours", "porting", 0, maximum=_MAX_HOURS)
        port_to = self.string(table, "port_to", "porting", non_empty=True)
        ported = self.fraction(table, "collateral_ported", "porting", Decimal(1))
        window = None if hours is None else dt.timedelta(hours=hours)
        return port_to, ported or Decimal(0), window, refused

    def market(
        self, doc: Mapping[str, object], inputs: EndOfDayInputs
    ) -> tuple[dict[str, tuple[Decimal, ...]], dict[str, tuple[Decimal, Decimal]]] | None:
        """The market path (real history from a date, or a named stress scenario spread over
        the close-out days) and the hedging costs by underlying."""
        table = self.table_at(doc, "market", "", "a table ([market])", required=True)
        if table is None:
            return None
        path = "market"
        start = len(self.issues)
        self.keys(table, ("costs", "days", "path_start", "scenario"), path)
        day = None
        if "path_start" in table:
            value = table["path_start"]
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                day = value
            else:
                self.add(
                    f"{path}.path_start",
                    f"expected a date such as 2008-10-06, got {kind_of(value)}",
                )
        scenario = self.string(table, "scenario", path, non_empty=True)
        if ("path_start" in table) == ("scenario" in table):
            self.add(path, "give either path_start (a date of the history) or scenario (a name)")
        days = self.integer(table, "days", path, 1, maximum=250, required=True)
        costs = self.costs(table, path, inputs)
        if len(self.issues) > start or days is None:
            return None
        if scenario is not None:
            moves = scenario_moves(inputs, scenario, days)
            if moves is None:
                names = [d.name for d in inputs.stress]
                self.add(
                    f"{path}.scenario",
                    f"no stress scenario {scenario!r} in the risk case; it has: "
                    f"{', '.join(names) or 'none'}{closest(scenario, names)}",
                )
                return None
            return moves, costs
        assert day is not None
        row = path_days(inputs, day, days)
        if row is None:
            history = inputs.history
            span = (
                "no price history"
                if history is None
                else f"history from {history.dates[0]} to {history.dates[-1]}"
            )
            self.add(
                f"{path}.path_start",
                f"a path of {days} days from {day.isoformat()} is outside the risk case's "
                f"{span} (the start must be a date of the history, with {days} dates after it)",
            )
            return None
        return history_moves(inputs, row, days), costs

    def costs(
        self, table: Mapping[str, object], path: str, inputs: EndOfDayInputs
    ) -> dict[str, tuple[Decimal, Decimal]]:
        """(half spread, impact) by underlying; an underlying not in the risk case is an issue."""
        costs: dict[str, tuple[Decimal, Decimal]] = {}
        if "costs" not in table:
            return costs
        factors = inputs.instruments.factor_ids
        costs_path = f"{path}.costs"
        by_factor = self.table(table["costs"], costs_path, "a table by underlying")
        for factor, value in (by_factor or {}).items():
            at = field_path(costs_path, factor)
            if factor not in factors:
                self.add(
                    at, f"unknown underlying {factor!r}; the risk case has: {', '.join(factors)}"
                )
                continue
            cost = self.table(value, at, "a table { half_spread, impact }")
            if cost is None:
                continue
            self.keys(cost, ("half_spread", "impact"), at)
            spread = self.non_negative(cost, "half_spread", at, Decimal(0))
            impact = self.non_negative(cost, "impact", at, Decimal(0))
            if spread is not None and impact is not None:
                costs[factor] = (spread, impact)
        return costs

    def porting(self, doc: Mapping[str, object]) -> dt.timedelta | None:
        if "porting" not in doc:
            return dt.timedelta(0)
        table = self.table(doc["porting"], "porting", "a table ([porting])")
        if table is None:
            return None
        self.keys(table, ("window_hours",), "porting")
        hours = self.integer(table, "window_hours", "porting", 0, maximum=_MAX_HOURS)
        return None if hours is None else dt.timedelta(hours=hours)

    def account(
        self, table: Mapping[str, object], path: str, ccy: Currency | None
    ) -> Account | None:
        start = len(self.issues)
        self.keys(table, _ACCOUNT_KEYS, path)
        account_id = self.string(table, "id", path, required=True, non_empty=True)
        kind = self.choice(table, "kind", path, tuple(k.value for k in AccountKind))
        collateral = self.amount(table, "collateral", path, ccy)
        port_to = self.string(table, "port_to", path, non_empty=True)
        accepts = self.boolean(table, "accepts", path)
        ported = self.fraction(table, "collateral_ported", path, Decimal(1))
        if len(self.issues) > start or collateral is None:
            return None
        assert account_id is not None
        assert kind is not None
        assert ported is not None
        return Account(account_id, AccountKind(kind), collateral, port_to, accepts, ported)

    def product(self, table: Mapping[str, object], path: str) -> Product | None:
        start = len(self.issues)
        self.keys(table, _PRODUCT_KEYS, path)
        product_id = self.string(table, "id", path, required=True, non_empty=True)
        moves: list[Decimal] = []
        if self.present(table, "moves", path, required=True):
            value = table["moves"]
            if not isinstance(value, list):
                self.add(field_path(path, "moves"), f"expected an array, got {kind_of(value)}")
            else:
                for index, move in enumerate(value):
                    at = field_path(field_path(path, "moves"), index)
                    number = self.checked(parse_decimal(move, self.file, at))
                    if number is not None:
                        moves.append(number)
        margin_rate = self.non_negative(table, "margin_rate", path, None)
        if "margin_rate" not in table:
            self.add(field_path(path, "margin_rate"), "missing required key")
        half_spread = self.non_negative(table, "half_spread", path, Decimal(0))
        impact = self.non_negative(table, "impact", path, Decimal(0))
        active: list[tuple[str, int]] = []
        if "active" in table:
            weights = self.table(table["active"], field_path(path, "active"), "a table")
            for member, _ in (weights or {}).items():
                assert weights is not None
                interest = self.integer(weights, member, field_path(path, "active"), 0)
                if interest is not None:
                    active.append((member, interest))
        if len(self.issues) > start:
            return None
        assert product_id is not None
        assert margin_rate is not None
        assert half_spread is not None
        assert impact is not None
        return Product(product_id, tuple(moves), margin_rate, half_spread, impact, tuple(active))

    def position(
        self, table: Mapping[str, object], path: str, ccy: Currency | None
    ) -> Position | None:
        start = len(self.issues)
        self.keys(table, _POSITION_KEYS, path)
        account = self.string(table, "account", path, required=True, non_empty=True)
        product = self.string(table, "product", path, required=True, non_empty=True)
        value = self.signed(table, "value", path, ccy)
        delta = self.signed(table, "delta", path, ccy)
        if len(self.issues) > start or value is None or delta is None:
            return None
        assert account is not None
        assert product is not None
        return Position(account, product, value, delta)

    def instrument(self, table: Mapping[str, object], path: str) -> Instrument | None:
        start = len(self.issues)
        self.keys(table, ("id", "product"), path)
        instrument_id = self.string(table, "id", path, required=True, non_empty=True)
        product = self.string(table, "product", path, required=True, non_empty=True)
        if len(self.issues) > start:
            return None
        assert instrument_id is not None
        assert product is not None
        return Instrument(instrument_id, product)

    def hedging(self, doc: Mapping[str, object]) -> Hedging | None:
        if "hedging" not in doc:
            return None
        table = self.table(doc["hedging"], "hedging", "a table ([hedging])")
        if table is None:
            return None
        path = "hedging"
        start = len(self.issues)
        self.keys(table, _HEDGING_KEYS, path)
        at = self.moment(table, "at", path)
        stage = self.choice(table, "stage", path, tuple(s.value for s in HedgeStage))
        day = self.integer(table, "day", path, 0, maximum=10_000)
        hedges = self.list_of(table, "hedges", self.hedge, parent=path)
        if len(self.issues) > start:
            return None
        assert at is not None
        assert stage is not None
        assert hedges is not None
        return Hedging(at, HedgeStage(stage), day or 0, tuple(hedges))

    def hedge(self, table: Mapping[str, object], path: str) -> Hedge | None:
        start = len(self.issues)
        self.keys(table, _HEDGE_KEYS, path)
        product = self.string(table, "product", path, required=True, non_empty=True)
        instrument = self.string(table, "instrument", path, required=True, non_empty=True)
        ratio = self.fraction(table, "ratio", path, Decimal(1))
        if len(self.issues) > start:
            return None
        assert product is not None
        assert instrument is not None
        assert ratio is not None
        return Hedge(product, instrument, ratio)

    def auction(self, doc: Mapping[str, object], products: list[Product]) -> AuctionPlan | None:
        table = self.table_at(doc, "auction", "", "a table ([auction])", required=True)
        if table is None:
            return None
        path = "auction"
        start = len(self.issues)
        self.keys(table, _AUCTION_KEYS, path)
        lots: list[Lot] = []
        value = table.get("lots", "by_product")
        lots_path = field_path(path, "lots")
        if value == "by_product":
            lots = [Lot(p.id, (p.id,)) for p in products]
        elif isinstance(value, list):
            seen: set[str] = set()
            for index, item in enumerate(value):
                at = field_path(lots_path, index)
                lot = self.table(item, at, "a table { id, products }")
                if lot is None:
                    continue
                self.keys(lot, ("id", "products"), at)
                lot_id = self.string(lot, "id", at, required=True, non_empty=True)
                names = lot.get("products")
                if (
                    not isinstance(names, list)
                    or not names
                    or not all(isinstance(n, str) for n in names)
                ):
                    self.add(
                        field_path(at, "products"), "expected a non-empty array of product ids"
                    )
                    continue
                for name in names:
                    if name in seen:
                        self.add(field_path(at, "products"), f"product {name!r} is in two lots")
                    seen.add(name)
                if lot_id is not None:
                    lots.append(Lot(lot_id, tuple(names)))
        else:
            self.add(lots_path, f'expected "by_product" or an array of lots, got {kind_of(value)}')
        rounds = self.list_of(table, "rounds", self.round, parent=path)
        if rounds is not None and len(rounds) > 2:
            self.add(field_path(path, "rounds"), "at most two rounds, then the fallback")
        reserve = self.non_negative(table, "reserve_margin_multiple", path, None)
        fallback = self.non_negative(table, "fallback_margin_multiple", path, Decimal(1))
        if len(self.issues) > start:
            return None
        assert rounds is not None
        assert fallback is not None
        return AuctionPlan(tuple(lots), tuple(rounds), reserve, fallback)

    def round(self, table: Mapping[str, object], path: str) -> Round | None:
        start = len(self.issues)
        self.keys(table, _ROUND_KEYS, path)
        opens = self.moment(table, "opens_at", path)
        deadline = self.moment(table, "deadline", path)
        day = self.integer(table, "day", path, 0, maximum=10_000, required=True)
        if len(self.issues) > start:
            return None
        assert opens is not None
        assert deadline is not None
        assert day is not None
        return Round(opens, deadline, day)

    def bid(self, table: Mapping[str, object], path: str, ccy: Currency | None) -> Bid | None:
        start = len(self.issues)
        self.keys(table, _BID_KEYS, path)
        member = self.string(table, "member", path, required=True, non_empty=True)
        lot = self.string(table, "lot", path, required=True, non_empty=True)
        price = self.signed(table, "price", path, ccy)
        at = self.moment(table, "at", path)
        if len(self.issues) > start or price is None:
            return None
        assert member is not None
        assert lot is not None
        assert at is not None
        return Bid(member, lot, price, at)

    def bidding(self, doc: Mapping[str, object]) -> BiddingModel | None:
        if "bidding" not in doc:
            return None
        table = self.table(doc["bidding"], "bidding", "a table ([bidding])")
        if table is None:
            return None
        self.keys(table, ("model", "premium"), "bidding")
        model = self.choice(table, "model", "bidding", ("risk_premium",))
        premium = self.non_negative(table, "premium", "bidding", None)
        if "premium" not in table:
            self.add("bidding.premium", "missing required key")
        if model is None or premium is None:
            return None
        return BiddingModel(premium)

    def choice(
        self, table: Mapping[str, object], key: str, path: str, choices: tuple[str, ...]
    ) -> str | None:
        word = self.string(table, key, path, required=True)
        if word is not None and word not in choices:
            self.add(
                field_path(path, key),
                f"{word!r} is not one of: {', '.join(choices)}{closest(word, choices)}",
            )
            return None
        return word

    def boolean(self, table: Mapping[str, object], key: str, path: str) -> bool:
        value = table.get(key, True)
        if not isinstance(value, bool):
            self.add(field_path(path, key), f"expected true or false, got {kind_of(value)}")
            return True
        return value

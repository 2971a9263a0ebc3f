"""A default management drill's plan: the CCP, the default and what the CCP will do.

The plan is the parsed ``ccp-drill/1`` file (``io.drill_file`` builds it): the
members and rulebook of the CCP, the defaulter's margin call, its accounts and
positions, the porting of its clients, the hedges, the auction's lots and
rounds and the bids. ``plan_problems`` lists what would stop the drill from
running, each with the field path of the file, so ``ccp drill --check``
refuses exactly what cannot run.

Positions are described by their mark at default (``value``, the CCP's value
of the position: negative when it is a liability) and their ``delta``, the
change of value for a relative move of 1 (100%) in their product's risk
factor. A product's ``moves`` are the factor's relative moves on each
close-out day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ccpwaterfall.domain import Case, Money

DRILL_FORMAT = "ccp-drill/1"


class AccountKind(StrEnum):
    """House accounts are the member's own; client accounts may be ported."""

    HOUSE = "house"
    CLIENT = "client"  # individually segregated
    OMNIBUS = "omnibus"  # several clients together: ported all or nothing


class HedgeStage(StrEnum):
    """When the hedges are placed: before the auction opens, or after a failed first round."""

    BEFORE_AUCTION = "before_auction"
    BEFORE_SECOND_ROUND = "before_second_round"


@dataclass(frozen=True, slots=True)
class MarginCall:
    """The call the defaulter misses, and when the default is declared."""

    amount: Money
    issued_at: dt.datetime
    deadline: dt.datetime
    grace: dt.timedelta
    declared_at: dt.datetime
    regulator: str = "the competent authority"


@dataclass(frozen=True, slots=True)
class Account:
    """One of the defaulter's accounts at the CCP and what porting does with it.

    A client or omnibus account with ``port_to`` moves to that back-up clearing
    member if the back-up ``accepts`` within the porting window, with
    ``collateral_ported`` (a fraction) of its collateral; otherwise it is
    closed out with the house portfolio, and its collateral with it.
    """

    id: str
    kind: AccountKind
    collateral: Money
    port_to: str | None = None
    accepts: bool = True
    collateral_ported: Decimal = Decimal(1)

    @property
    def is_ported(self) -> bool:
        return self.kind is not AccountKind.HOUSE and self.port_to is not None and self.accepts


@dataclass(frozen=True, slots=True)
class Product:
    """A risk factor the portfolio is exposed to, its market path and its liquidity.

    ``margin_rate``: the lot's standalone margin per unit of absolute delta.
    ``half_spread`` and ``impact``: the cost of trading a unit of delta in its
    hedge instrument. ``active``: members active in the product, with their
    open interest, which puts them under the obligation to bid on its lots and
    weighs a forced allocation.
    """

    id: str
    moves: tuple[Decimal, ...]
    margin_rate: Decimal
    half_spread: Decimal = Decimal(0)
    impact: Decimal = Decimal(0)
    active: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Position:
    """A position of one of the defaulter's accounts in a product."""

    account: str
    product: str
    value: Money  # mark at default, signed
    delta: Money  # change of value for a relative factor move of 1, signed


@dataclass(frozen=True, slots=True)
class Instrument:
    """A liquid instrument the CCP can hedge a product with."""

    id: str
    product: str


@dataclass(frozen=True, slots=True)
class Hedge:
    """Sell ``ratio`` of the close-out portfolio's delta in ``product`` through ``instrument``."""

    product: str
    instrument: str
    ratio: Decimal


@dataclass(frozen=True, slots=True)
class Hedging:
    """The hedges, when they are placed, and after how many close-out days of moves."""

    at: dt.datetime
    stage: HedgeStage
    day: int
    hedges: tuple[Hedge, ...]


@dataclass(frozen=True, slots=True)
class Lot:
    """What is auctioned as one: the close-out positions in ``products``."""

    id: str
    products: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Round:
    """One sealed-bid round: its window and the close-out day its prices are marked at."""

    opens_at: dt.datetime
    deadline: dt.datetime
    day: int


@dataclass(frozen=True, slots=True)
class Bid:
    """A sealed bid: what ``member`` pays to take ``lot`` (negative: what it asks for)."""

    member: str
    lot: str
    price: Money
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class BiddingModel:
    """Bids modelled when none are recorded.

    Each member active in a lot's products (every survivor when none is listed)
    bids the lot's fair value less ``premium`` x its standalone margin x
    (1 + margin / capacity), capacity being the member's own margin and
    contribution: a small member asks more to take on a large risk.
    """

    premium: Decimal


@dataclass(frozen=True, slots=True)
class AuctionPlan:
    """The lots, the rounds, the reserve and the fallback.

    A lot's reserve price is its fair value less ``reserve_multiple`` x its
    margin (no reserve when None); a lot without an acceptable bid after the
    last round is allocated by force, pro rata to the members' open interest
    in its products, at its fair value less ``fallback_multiple`` x its margin.
    """

    lots: tuple[Lot, ...]
    rounds: tuple[Round, ...]
    reserve_multiple: Decimal | None = None
    fallback_multiple: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class DrillPlan:
    """A whole drill: the CCP (as a case without defaults) and the default's plan."""

    name: str
    ccp: Case
    defaulter: str
    margin_call: MarginCall
    porting_window: dt.timedelta
    accounts: tuple[Account, ...]
    products: tuple[Product, ...]
    positions: tuple[Position, ...]
    instruments: tuple[Instrument, ...]
    hedging: Hedging | None
    auction: AuctionPlan
    bids: tuple[Bid, ...] = ()
    bidding: BiddingModel | None = None
    description: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def product(self, product_id: str) -> Product:
        return next(p for p in self.products if p.id == product_id)


def plan_problems(plan: DrillPlan) -> list[tuple[str, str]]:
    """What in ``plan`` would stop the drill, as (field path, message), in file order.

    The static checks: every name resolves, nobody acts for the defaulter,
    times run forward, the market path covers every day it is read at. The
    bids are then replayed through the auction (``lifecycle.drill``) so that
    a refused bid is a problem of the file.
    """
    problems: list[tuple[str, str]] = []
    members = {m.id for m in plan.ccp.members}
    survivors = members - {plan.defaulter}
    if plan.defaulter not in members:
        problems.append(("default.member", _unknown_member(plan.defaulter)))
    call = plan.margin_call
    missed = call.deadline + call.grace
    if call.deadline < call.issued_at:
        problems.append(("default.deadline", "the call's deadline is before it is issued"))
    if call.declared_at < missed:
        problems.append(
            (
                "default.declared_at",
                f"the default is declared before the call is missed ({_t(missed)}: "
                "its deadline plus the grace period)",
            )
        )
    account_ids = {a.id for a in plan.accounts}
    for index, account in enumerate(plan.accounts):
        at = f"accounts[{index}]"
        if account.port_to is None:
            continue
        if account.kind is AccountKind.HOUSE:
            problems.append((f"{at}.port_to", "a house account is never ported"))
        elif account.port_to == plan.defaulter:
            problems.append(
                (f"{at}.port_to", f"{account.port_to!r} is the defaulter: it cannot take clients")
            )
        elif account.port_to not in members:
            problems.append((f"{at}.port_to", _unknown_member(account.port_to)))
        if account.kind is AccountKind.OMNIBUS and account.collateral_ported not in (0, 1):
            problems.append(
                (
                    f"{at}.collateral_ported",
                    "an omnibus account ports all or nothing: 0 or 1 of its collateral",
                )
            )
    days = {p.id: len(p.moves) for p in plan.products}
    for index, product in enumerate(plan.products):
        for member, _ in product.active:
            if member not in members:
                problems.append((f"products[{index}].active.{member}", _unknown_member(member)))
    for index, position in enumerate(plan.positions):
        at = f"positions[{index}]"
        if position.account not in account_ids:
            problems.append((f"{at}.account", f"unknown account {position.account!r}"))
        if position.product not in days:
            problems.append((f"{at}.product", f"unknown product {position.product!r}"))
    instruments = {i.id: i for i in plan.instruments}
    for index, instrument in enumerate(plan.instruments):
        if instrument.product not in days:
            problems.append(
                (f"instruments[{index}].product", f"unknown product {instrument.product!r}")
            )
    problems += _hedging_problems(plan, instruments, days)
    lot_ids = {lot.id for lot in plan.auction.lots}
    for index, lot in enumerate(plan.auction.lots):
        for name in lot.products:
            if name not in days:
                problems.append((f"auction.lots[{index}].products", f"unknown product {name!r}"))
    rounds = plan.auction.rounds
    # Porting and close-out happen when the window ends; everything after runs in order.
    start = call.declared_at + plan.porting_window
    hedging = plan.hedging
    if hedging is not None and hedging.at < start:
        problems.append(
            ("hedging.at", f"before the close-out ({_t(start)}, when the porting window ends)")
        )
    if hedging is not None and hedging.stage is HedgeStage.BEFORE_AUCTION:
        start = max(start, hedging.at)
    for index, round_ in enumerate(rounds):
        at = f"auction.rounds[{index}]"
        if round_.opens_at < start:
            problems.append((f"{at}.opens_at", f"opens before {_t(start)}: steps run in order"))
        if round_.deadline < round_.opens_at:
            problems.append((f"{at}.deadline", "the round closes before it opens"))
        start = max(start, round_.deadline)
        short = sorted(p for p, n in days.items() if n < round_.day)
        if short:
            problems.append(
                (
                    f"{at}.day",
                    f"day {round_.day} is beyond the market path of {', '.join(short)} "
                    f"({min(days[p] for p in short)} days of moves)",
                )
            )
    for index, bid in enumerate(plan.bids):
        at = f"bids[{index}]"
        if bid.member == plan.defaulter:
            problems.append((f"{at}.member", f"{bid.member!r} is the defaulter: it cannot bid"))
        elif bid.member not in survivors:
            problems.append((f"{at}.member", _unknown_member(bid.member)))
        if bid.lot not in lot_ids:
            problems.append((f"{at}.lot", f"unknown lot {bid.lot!r}; lots: {_names(lot_ids)}"))
    return problems


def _hedging_problems(
    plan: DrillPlan, instruments: Mapping[str, Instrument], days: Mapping[str, int]
) -> list[tuple[str, str]]:
    hedging = plan.hedging
    if hedging is None:
        return []
    problems: list[tuple[str, str]] = []
    for index, hedge in enumerate(hedging.hedges):
        at = f"hedging.hedges[{index}]"
        if hedge.product not in days:
            problems.append((f"{at}.product", f"unknown product {hedge.product!r}"))
        instrument = instruments.get(hedge.instrument)
        if instrument is None:
            problems.append(
                (
                    f"{at}.instrument",
                    f"unknown instrument {hedge.instrument!r}: not one of the instruments the "
                    f"drill may hedge with; known: {_names(instruments)}",
                )
            )
        elif instrument.product != hedge.product:
            problems.append(
                (
                    f"{at}.instrument",
                    f"{hedge.instrument!r} hedges {instrument.product!r}, not {hedge.product!r}",
                )
            )
    short = sorted(p for p, n in days.items() if n < hedging.day)
    if short:
        problems.append(
            ("hedging.day", f"day {hedging.day} is beyond the market path of {', '.join(short)}")
        )
    rounds = plan.auction.rounds
    if hedging.at < plan.margin_call.declared_at:
        problems.append(("hedging.at", "hedges are placed after the default is declared"))
    if hedging.stage is HedgeStage.BEFORE_AUCTION and rounds and hedging.at > rounds[0].opens_at:
        problems.append(
            ("hedging.at", "hedges placed before the auction must be placed by its opening")
        )
    if hedging.stage is HedgeStage.BEFORE_SECOND_ROUND:
        if len(rounds) < 2:
            problems.append(("hedging.stage", "a hedge before the second round needs two rounds"))
        elif not rounds[0].deadline <= hedging.at <= rounds[1].opens_at:
            problems.append(
                ("hedging.at", "between the first round's deadline and the second round's opening")
            )
    return problems


def _unknown_member(member: str) -> str:
    return f"unknown member {member!r}: not listed in [[members]]"


def _names(ids: object) -> str:
    assert isinstance(ids, (set, dict))
    return ", ".join(sorted(str(i) for i in ids)) or "none"


def _t(moment: dt.datetime) -> str:
    return moment.isoformat()

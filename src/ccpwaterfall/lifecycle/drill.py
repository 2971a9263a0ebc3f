"""A default management drill, from a missed margin call to an allocated loss, as events.

The drill is event-sourced: every step appends a ``DrillEvent`` (its time,
taken from the plan, never the clock; its kind; and a JSON-able payload of
what it decided), and the state is a function of the plan and the events.

- ``open_drill``: margin call, missed call, declaration, notices, isolation,
  porting, close-out, hedging; the auction opens with its lots listed.
- ``submit_bid``: one sealed bid, or ``BidRefused`` with a reason.
- ``close_auction``: the rounds close (a second round, hedges placed after a
  failed first round, then forced allocation), the loss is crystallised and
  run through the waterfall exactly, with the auction tiers observed
  (juniorisation), then replenishment calls and a statement per member.
- ``replay``: the state rebuilt from stored events, checked against the plan.
- ``run_drill``: open, the plan's recorded (or modelled) bids, close.

The crystallised loss is what the CCP pays to be rid of the portfolio against
its mark at default: for each lot its mark at default less the price it went
for, plus the cost of the hedges. It splits exactly into the market move of
the unhedged portfolio, the hedges' P&L, the auction discount (fair value at
the round less the price) and the hedging costs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from ccpwaterfall.domain import (
    Auction,
    Case,
    Currency,
    Default,
    Money,
    allocate_pro_rata,
)
from ccpwaterfall.domain.money import fixed_text
from ccpwaterfall.lifecycle.drill_plan import (
    AccountKind,
    DrillPlan,
    HedgeStage,
    Lot,
    plan_problems,
)
from ccpwaterfall.waterfall import CaseResult, run_case

RECORD_FORMAT = "ccp-drill-record/1"

OPEN = "open"
CLOSED = "closed"

# The tiers of juniorisation, most junior first.
NO_BID = "no bid"
BELOW = "bid below the winning price"
AT_OR_ABOVE = "bid at or above the winning price"


class BidRefused(Exception):  # noqa: N818 - the name the store and web service use
    """A bid the auction does not accept; ``reason`` says why, for a person."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class DrillReplayError(ValueError):
    """Stored events that the plan does not produce: they belong to another drill."""


@dataclass(frozen=True, slots=True)
class DrillEvent:
    """One step of the drill: when, what, and what it decided, as JSON-able data."""

    sequence: int
    kind: str
    at: dt.datetime
    payload: Mapping[str, object]

    def to_json(self) -> dict[str, object]:
        return {
            "sequence": self.sequence,
            "kind": self.kind,
            "at": _time(self.at),
            "payload": dict(self.payload),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> DrillEvent:
        sequence, kind, at, payload = data["sequence"], data["kind"], data["at"], data["payload"]
        if not isinstance(sequence, int) or not isinstance(kind, str) or not isinstance(at, str):
            raise ValueError("a drill event has an integer sequence, a kind and a time")
        if not isinstance(payload, dict):
            raise ValueError("a drill event's payload is an object")
        moment = dt.datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError(f"a drill event's time carries its offset: {at!r}")
        return cls(sequence, kind, moment.astimezone(dt.UTC), payload)


@dataclass(frozen=True, slots=True)
class _Exposure:
    """A lot's close-out positions in one product: exact sums of mark and delta."""

    product: str
    value: Decimal
    delta: Decimal


@dataclass(frozen=True, slots=True)
class _LotBook:
    lot: Lot
    exposures: tuple[_Exposure, ...]
    positions: int


@dataclass(frozen=True, slots=True)
class _Hedged:
    ratio: Decimal
    from_day: int


@dataclass(frozen=True, slots=True)
class _Mark:
    """A lot marked at a round: its parts in money, so they add up exactly."""

    at_default: Money
    market_move: Money
    hedge_pnl: Money
    margin: Money

    @property
    def fair_value(self) -> Money:
        return self.at_default + self.market_move + self.hedge_pnl


@dataclass(frozen=True, slots=True)
class _Award:
    lot: str
    round: int  # 0-based; len(rounds) for a forced allocation
    price: Money
    winner: str | None  # None: forced allocation
    mark: _Mark
    allocation: tuple[tuple[str, Money], ...] = ()


@dataclass(frozen=True, slots=True)
class _Bid:
    member: str
    lot: str
    price: Money
    at: dt.datetime
    round: int


@dataclass(frozen=True, slots=True, eq=False)
class DrillOutcome:
    """What closing the auction decided: the loss, the tiers, the case and its result."""

    loss: Money
    tiers: tuple[tuple[str, ...], ...]
    case: Case
    result: CaseResult


@dataclass(frozen=True, slots=True, eq=False)
class DrillState:
    """The drill after its events; ``phase`` is ``open`` until the auction closes."""

    plan: DrillPlan
    events: tuple[DrillEvent, ...]
    phase: str
    lots: tuple[_LotBook, ...]
    collateral: Money  # what the waterfall uses as the defaulter's margin
    hedges: Mapping[str, _Hedged] = field(default_factory=dict)
    hedging_cost: Money | None = None
    round: int = 0
    bids: tuple[_Bid, ...] = ()
    # Each member's best price on each lot so far, in minor units: the tiers' ranking.
    best_prices: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    awards: tuple[_Award, ...] = ()
    outcome: DrillOutcome | None = None

    @property
    def currency(self) -> Currency:
        return self.plan.ccp.currency

    def record(self) -> dict[str, object]:
        """The whole drill as JSON-able data: what ``ccp drill --json`` prints."""
        plan = self.plan
        record: dict[str, object] = {
            "format": RECORD_FORMAT,
            "drill": plan.name,
            "ccp": plan.ccp.ccp_name,
            "currency": self.currency.code,
            "defaulter": plan.defaulter,
            "phase": self.phase,
            "events": [event.to_json() for event in self.events],
        }
        if self.outcome is not None:
            record["loss"] = self.outcome.loss.fixed()
            record["tiers"] = [list(tier) for tier in self.outcome.tiers]
            record["uncovered"] = self.outcome.result.uncovered.fixed()
        return record


def open_drill(plan: DrillPlan) -> DrillState:
    """Margin call to auction opening: every step up to the first sealed bid."""
    ccy = plan.ccp.currency
    call = plan.margin_call
    events = _Events(ccy)
    events.add(
        "margin_call",
        call.issued_at,
        member=plan.defaulter,
        amount=call.amount.fixed(),
        deadline=_time(call.deadline),
        grace_minutes=int(call.grace.total_seconds() // 60),
    )
    events.add(
        "call_missed",
        call.deadline + call.grace,
        member=plan.defaulter,
        amount=call.amount.fixed(),
    )
    declared = call.declared_at
    events.add("default_declared", declared, member=plan.defaulter)
    for addressee, text in _notices(plan):
        events.add("notice", declared, to=addressee, text=text)
    house = [a for a in plan.accounts if a.kind is AccountKind.HOUSE]
    clients = [a for a in plan.accounts if a.kind is not AccountKind.HOUSE]
    defaulter = plan.ccp.member(plan.defaulter)
    events.add(
        "isolated",
        declared,
        member=plan.defaulter,
        frozen=[a.id for a in plan.accounts],
        house=[a.id for a in house],
        clients=[a.id for a in clients],
        house_collateral=_sum((a.collateral for a in house), ccy).fixed(),
        default_fund=defaulter.default_fund.fixed(),
    )
    window_end = declared + plan.porting_window
    closed_out = list(house)
    for account in clients:
        if account.is_ported:
            ported = _floor(account.collateral.amount * account.collateral_ported, ccy)
            events.add(
                "ported",
                window_end,
                account=account.id,
                kind=str(account.kind),
                to=account.port_to,
                collateral_ported=ported.fixed(),
                collateral_returned=(account.collateral - ported).fixed(),
            )
        else:
            closed_out.append(account)
    collateral = _sum((a.collateral for a in closed_out), ccy)
    kept = {a.id for a in closed_out}
    lots = _lot_books(plan, kept)
    events.add(
        "closed_out",
        window_end,
        accounts=[a.id for a in closed_out],
        positions=sum(book.positions for book in lots),
        value_at_default=_sum((_money(_value(b), ccy) for b in lots), ccy).fixed(),
        collateral=collateral.fixed(),
    )
    state = DrillState(plan, (), OPEN, lots, collateral)
    hedging = plan.hedging
    if hedging is not None and hedging.stage is HedgeStage.BEFORE_AUCTION:
        state = _hedge(state, events, {b.lot.id for b in lots})
    rounds = plan.auction.rounds
    first = rounds[0]
    events.add(
        "auction_opened",
        first.opens_at,
        lots=[
            {
                "lot": book.lot.id,
                "products": list(book.lot.products),
                "value_at_default": _money(_value(book), ccy).fixed(),
                "margin": _mark(state, book, first.day).margin.fixed(),
                "obliged": list(_obliged(plan, book.lot)),
            }
            for book in lots
        ],
        rounds=[
            {"opens_at": _time(r.opens_at), "deadline": _time(r.deadline), "day": r.day}
            for r in rounds
        ],
        tie_break="highest price; then the earliest bid; then the member id that sorts first",
    )
    return replace(state, events=events.done())


def submit_bid(
    state: DrillState, member: str, lot: str, price: Money, at: dt.datetime
) -> DrillState:
    """``state`` with one more sealed bid; ``BidRefused`` if the auction does not take it."""
    plan = state.plan
    if state.phase != OPEN:
        raise BidRefused("the auction is closed")
    if member == plan.defaulter:
        raise BidRefused(f"{member!r} is the defaulter: it cannot bid")
    if member not in {m.id for m in plan.ccp.members}:
        raise BidRefused(f"unknown member {member!r}")
    if lot not in {b.lot.id for b in state.lots}:
        lots = ", ".join(b.lot.id for b in state.lots) or "none"
        raise BidRefused(f"no lot {lot!r} in this auction (its lots: {lots})")
    if price.currency != state.currency:
        raise BidRefused(f"bids are in {state.currency.code}")
    if at.tzinfo is None:
        raise BidRefused("a bid's time carries its offset (UTC)")
    last = state.events[-1].at
    if at < last:
        raise BidRefused(f"{_time(at)} is before the drill's last step ({_time(last)})")
    rounds = plan.auction.rounds
    index = next((i for i, r in enumerate(rounds) if r.opens_at <= at <= r.deadline), None)
    if index is None:
        if at < rounds[0].opens_at:
            raise BidRefused(f"the auction opens at {_time(rounds[0].opens_at)}")
        if at > rounds[-1].deadline:
            raise BidRefused(f"after the deadline ({_time(rounds[-1].deadline)})")
        raise BidRefused("between two rounds: no round takes bids then")
    if index < state.round:
        raise BidRefused(f"round {index + 1} is closed")
    events = _Events(state.currency, state.events)
    while state.round < index:
        state = _close_round(state, events)
    if lot in {a.lot for a in state.awards}:
        raise BidRefused(f"lot {lot!r} was awarded in an earlier round")
    if any(b.member == member and b.lot == lot and b.round == index for b in state.bids):
        raise BidRefused(f"{member!r} has already bid on lot {lot!r} in round {index + 1}")
    events.add("bid", at, member=member, lot=lot, price=price.fixed(), round=index + 1)
    bid = _Bid(member, lot, price, at, index)
    on_lot = dict(state.best_prices.get(lot, {}))
    on_lot[member] = max(price.minor_units, on_lot.get(member, price.minor_units))
    best_prices = {**state.best_prices, lot: on_lot}
    return replace(state, events=events.done(), bids=(*state.bids, bid), best_prices=best_prices)


def close_auction(state: DrillState, at: dt.datetime) -> DrillState:
    """Close every round left, allocate what no bid took, and allocate the loss."""
    if state.phase != OPEN:
        raise ValueError("the auction is already closed")
    if at < state.events[-1].at:
        raise ValueError(f"{_time(at)} is before the drill's last step")
    plan = state.plan
    ccy = state.currency
    events = _Events(ccy, state.events)
    rounds = plan.auction.rounds
    while state.round < len(rounds):
        state = _close_round(state, events, at)
    state = _force_allocate(state, events, min(at, rounds[-1].deadline))
    hedging_cost = state.hedging_cost or Money.zero(ccy)
    lot_loss = _sum((a.mark.at_default - a.price for a in state.awards), ccy)
    loss = lot_loss + hedging_cost
    parts = {
        "mark_at_default": _sum((a.mark.at_default for a in state.awards), ccy),
        "market_move": _sum((a.mark.market_move for a in state.awards), ccy),
        "hedge_pnl": _sum((a.mark.hedge_pnl for a in state.awards), ccy),
        "auction_discount": _sum((a.mark.fair_value - a.price for a in state.awards), ccy),
        "hedging_costs": hedging_cost,
    }
    events.add(
        "loss_crystallised",
        at,
        loss=loss.fixed(),
        proceeds=_sum((a.price for a in state.awards), ccy).fixed(),
        **{name: amount.fixed() for name, amount in parts.items()},
    )
    state = replace(state, events=events.done())
    return _allocate_loss(state, loss, at)


def _allocate_loss(state: DrillState, loss: Money, at: dt.datetime) -> DrillState:
    """The waterfall step: the tiers, the case, the exact engine, calls and statements."""
    plan = state.plan
    ccy = state.currency
    events = _Events(ccy, state.events)
    tiers, why = _tiers(state)
    places = ccy.minor_unit
    case = drill_case(plan, state.collateral, loss, tiers)
    result = run_case(case)
    event = result.events[0]
    events.add(
        "waterfall",
        at,
        loss=event.loss.fixed(),
        gain_to_estate=(-loss).max(Money.zero(ccy)).fixed(),
        tiers=[list(t) for t in tiers],
        tranches=[
            {
                "kind": t.kind,
                "name": t.name,
                "available": t.available.fixed(),
                "used": t.used.fixed(),
                "remaining": t.remaining.fixed(),
            }
            for t in event.tranches
        ],
        members={
            c.member: {
                "default_fund": fixed_text(drawn, places),
                "assessment": fixed_text(assessed, places),
                "vm_haircut": fixed_text(cut, places),
                "total": fixed_text(drawn + assessed + cut, places),
            }
            for c in event.members
            for drawn, assessed, cut in (c.units,)
        },
        defaulter_surplus={m: s.fixed() for m, s in event.defaulter_surplus},
        uncovered=event.uncovered.fixed(),
        cooling_off_end=None
        if event.cooling_off_end is None
        else event.cooling_off_end.isoformat(),
    )
    for charge in event.members:
        if not charge.assessment.is_zero():
            events.add(
                "assessment_called", at, member=charge.member, amount=charge.assessment.fixed()
            )
    call = event.replenishment
    due = None if call is None or call.due is None else call.due.isoformat()
    for member, amount in call.members if call is not None else ():
        events.add("replenishment_call", at, member=member, amount=amount.fixed(), due=due)
    for statement in _statements(plan, result, why, due):
        events.add("statement", at, **statement)
    outcome = DrillOutcome(loss, tiers, case, result)
    return replace(state, events=events.done(), phase=CLOSED, outcome=outcome)


def run_drill(plan: DrillPlan) -> DrillState:
    """The whole drill: open, the plan's bids (recorded, else modelled), close."""
    state = open_drill(plan)
    if plan.bids or plan.bidding is None:
        # A stable sort: bids at the same time keep the file's order.
        for recorded in sorted(plan.bids, key=lambda b: b.at):
            state = submit_bid(state, recorded.member, recorded.lot, recorded.price, recorded.at)
    else:
        for index in range(len(plan.auction.rounds)):
            state = _advance(state, index)
            for bid in _modelled_bids(state, index):
                state = submit_bid(state, bid.member, bid.lot, bid.price, bid.at)
    return close_auction(state, max(plan.auction.rounds[-1].deadline, state.events[-1].at))


def replay(plan: DrillPlan, events: Sequence[DrillEvent]) -> DrillState:
    """The state the stored ``events`` describe, rebuilt from ``plan``.

    Each step is redone (bids through ``submit_bid``, the close through
    ``close_auction``) and must give back exactly the stored events, else
    ``DrillReplayError``: the events do not belong to this plan.
    """
    state = open_drill(plan)
    checked = _same(state.events, events, 0)
    while len(state.events) < len(events):
        rest = events[len(state.events) :]
        step = next((e for e in rest if e.kind not in _ROUND_STEPS), None)
        try:
            if step is not None and step.kind == "bid":
                payload = step.payload
                state = submit_bid(
                    state,
                    str(payload["member"]),
                    str(payload["lot"]),
                    Money.of(str(payload["price"]), state.currency),
                    step.at,
                )
            elif step is not None and step.kind == "loss_crystallised":
                state = close_auction(state, step.at)
            else:
                raise DrillReplayError(
                    f"event {rest[0].sequence} ({rest[0].kind}): no bid or close follows"
                )
        except (BidRefused, KeyError, ValueError) as error:
            if isinstance(error, DrillReplayError):
                raise
            raise DrillReplayError(f"event {rest[0].sequence}: {error}") from error
        # Steps only append: the events already matched are not compared again.
        checked = _same(state.events, events, checked)
    return state


def drill_problems(plan: DrillPlan) -> list[tuple[str, str]]:
    """``plan_problems``, then each recorded bid through the auction: a refusal is a problem."""
    problems = plan_problems(plan)
    if problems:
        return problems
    state = open_drill(plan)
    ordered = sorted(enumerate(plan.bids), key=lambda pair: pair[1].at)
    for index, bid in ordered:
        try:
            state = submit_bid(state, bid.member, bid.lot, bid.price, bid.at)
        except BidRefused as refused:
            problems.append((f"bids[{index}]", refused.reason))
    return sorted(problems)


def drill_case(
    plan: DrillPlan, collateral: Money, loss: Money, tiers: tuple[tuple[str, ...], ...]
) -> Case:
    """The ``ccp-case/1`` case the drill allocates: its loss, and the tiers it observed.

    The defaulter's margin is the collateral of the accounts closed out; a
    gain (a negative loss) goes to its estate and the waterfall sees no loss.
    """
    ccy = plan.ccp.currency
    day = plan.margin_call.declared_at.astimezone(dt.UTC).date()
    members = tuple(
        replace(m, initial_margin=collateral) if m.id == plan.defaulter else m
        for m in plan.ccp.members
    )
    return replace(
        plan.ccp,
        name=plan.name,
        members=members,
        defaults=(Default(plan.defaulter, loss.max(Money.zero(ccy)), day),),
        auctions=(Auction(day, tiers),) if tiers else (),
        description=plan.description,
    )


# -- steps ------------------------------------------------------------------------------


class _Events:
    """Events appended in order, numbered from where the stored ones end."""

    def __init__(self, ccy: Currency, before: Iterable[DrillEvent] = ()) -> None:
        self.ccy = ccy
        self.events = list(before)

    def add(self, step: str, at: dt.datetime, **payload: object) -> None:
        # Every amount in a payload is a decimal string of this currency, named with it.
        document = {**payload, "currency": self.ccy.code}
        self.events.append(DrillEvent(len(self.events), step, at.astimezone(dt.UTC), document))

    def done(self) -> tuple[DrillEvent, ...]:
        return tuple(self.events)


def _notices(plan: DrillPlan) -> list[tuple[str, str]]:
    call = plan.margin_call
    who = plan.defaulter
    ccp = plan.ccp.ccp_name
    day = _time(call.declared_at)
    amount = f"{call.amount.currency.code} {call.amount.amount:,}"
    tiered = any(t.allocation == "auction_tiers" for t in plan.ccp.rulebook.waterfall)
    juniorised = (
        "; the members' fund is drawn from the members that bid worst first" if tiered else ""
    )
    return [
        (
            who,
            f"{ccp} declares {who} in default at {day}: the margin call of {amount} due "
            f"{_time(call.deadline)} was not met. Your accounts are frozen; {ccp} will "
            "port your clients' positions where it can and close out the rest.",
        ),
        (
            call.regulator,
            f"{ccp} informs {call.regulator} that it declared {who} in default at {day} after "
            f"a missed margin call of {amount}, and has started its default management process.",
        ),
        (
            "all members",
            f"{ccp} declared {who} in default at {day}. Members active in its products will be "
            f"invited to the default auction and must bid on their lots{juniorised}.",
        ),
    ]


def _lot_books(plan: DrillPlan, accounts: set[str]) -> tuple[_LotBook, ...]:
    lot_of = {p: lot.id for lot in plan.auction.lots for p in lot.products}
    sums: dict[str, dict[str, list[Decimal]]] = {lot.id: {} for lot in plan.auction.lots}
    counts = dict.fromkeys(sums, 0)
    # Exact Decimal sums, one pass over the positions: the close-out book by lot and product.
    for position in plan.positions:
        if position.account not in accounts:
            continue
        lot = lot_of.get(position.product)
        if lot is None:
            continue
        pair = sums[lot].setdefault(position.product, [Decimal(0), Decimal(0)])
        pair[0] += position.value.amount
        pair[1] += position.delta.amount
        counts[lot] += 1
    # A lot whose positions were all ported has nothing to auction.
    return tuple(
        _LotBook(
            lot,
            tuple(_Exposure(p, *sums[lot.id][p]) for p in lot.products if p in sums[lot.id]),
            counts[lot.id],
        )
        for lot in plan.auction.lots
        if counts[lot.id]
    )


def _hedge(state: DrillState, events: _Events, lots: set[str]) -> DrillState:
    """Place the plan's hedges on the products of ``lots``, paying spread and impact."""
    plan = state.plan
    hedging = plan.hedging
    assert hedging is not None
    ccy = state.currency
    deltas: dict[str, Decimal] = {}
    for book in state.lots:
        if book.lot.id in lots:
            for exposure in book.exposures:
                deltas[exposure.product] = deltas.get(exposure.product, Decimal(0)) + exposure.delta
    placed: dict[str, _Hedged] = dict(state.hedges)
    trades = []
    cost = state.hedging_cost or Money.zero(ccy)
    for hedge in hedging.hedges:
        if hedge.product not in deltas:
            continue
        product = plan.product(hedge.product)
        notional = hedge.ratio * deltas[hedge.product]
        trade_cost = _money(abs(notional) * (product.half_spread + product.impact), ccy)
        cost += trade_cost
        placed[hedge.product] = _Hedged(hedge.ratio, hedging.day)
        trades.append(
            {
                "product": hedge.product,
                "instrument": hedge.instrument,
                "ratio": str(hedge.ratio),
                "delta_sold": _money(notional, ccy).fixed(),
                "cost": trade_cost.fixed(),
            }
        )
    events.add("hedged", hedging.at, stage=str(hedging.stage), day=hedging.day, trades=trades)
    return replace(state, hedges=placed, hedging_cost=cost)


def _mark(state: DrillState, book: _LotBook, day: int) -> _Mark:
    ccy = state.currency
    value = market = hedge = margin = Decimal(0)
    for exposure in book.exposures:
        product = state.plan.product(exposure.product)
        moved = sum(product.moves[:day], Decimal(0))
        value += exposure.value
        market += exposure.delta * moved
        hedged = state.hedges.get(exposure.product)
        ratio = Decimal(0)
        if hedged is not None:
            since = sum(product.moves[hedged.from_day : day], Decimal(0))
            hedge -= hedged.ratio * exposure.delta * since
            ratio = hedged.ratio
        margin += abs(exposure.delta * (1 - ratio)) * product.margin_rate
    return _Mark(_money(value, ccy), _money(market, ccy), _money(hedge, ccy), _money(margin, ccy))


def _close_round(state: DrillState, events: _Events, at: dt.datetime | None = None) -> DrillState:
    """Close the current round: the best acceptable bid takes each lot still open."""
    plan = state.plan
    index = state.round
    round_ = plan.auction.rounds[index]
    closes = round_.deadline if at is None else min(round_.deadline, at)
    closes = max(closes, events.events[-1].at)
    taken = {a.lot for a in state.awards}
    awards = list(state.awards)
    results = []
    for book in state.lots:
        if book.lot.id in taken:
            continue
        mark = _mark(state, book, round_.day)
        reserve = _reserve(plan, mark)
        bids = [b for b in state.bids if b.lot == book.lot.id and b.round == index]
        acceptable = [b for b in bids if reserve is None or not b.price < reserve]
        best = min(acceptable, key=lambda b: (-b.price.amount, b.at, b.member), default=None)
        bidders = {b.member for b in state.bids if b.lot == book.lot.id}
        results.append(
            {
                "lot": book.lot.id,
                "missed_obligation": [m for m in _obliged(plan, book.lot) if m not in bidders],
                "unhedged_value": (mark.at_default + mark.market_move).fixed(),
                "fair_value": mark.fair_value.fixed(),
                "reserve": None if reserve is None else reserve.fixed(),
                "bids": len(bids),
                "winner": None if best is None else best.member,
                "price": None if best is None else best.price.fixed(),
            }
        )
        if best is not None:
            awards.append(_Award(book.lot.id, index, best.price, best.member, mark))
    if results:  # a round with no lot left to take closes without an event
        events.add("auction_round_closed", closes, round=index + 1, lots=results)
    for award in awards[len(state.awards) :]:
        events.add(
            "lot_allocated",
            closes,
            lot=award.lot,
            to=award.winner,
            price=award.price.fixed(),
            round=index + 1,
        )
    state = replace(state, awards=tuple(awards), round=index + 1)
    hedging = plan.hedging
    open_lots = {b.lot.id for b in state.lots} - {a.lot for a in state.awards}
    if (
        index == 0
        and open_lots
        and hedging is not None
        and hedging.stage is HedgeStage.BEFORE_SECOND_ROUND
    ):
        state = _hedge(state, events, open_lots)
    return state


def _force_allocate(state: DrillState, events: _Events, at: dt.datetime) -> DrillState:
    """Lots no round took go to the members active in them, pro rata, at the fallback price."""
    plan = state.plan
    ccy = state.currency
    at = max(at, events.events[-1].at)
    taken = {a.lot for a in state.awards}
    awards = list(state.awards)
    day = plan.auction.rounds[-1].day
    for book in state.lots:
        if book.lot.id in taken:
            continue
        mark = _mark(state, book, day)
        price = mark.fair_value - _money(plan.auction.fallback_multiple * mark.margin.amount, ccy)
        weights = _open_interest(plan, book.lot)
        units = allocate_pro_rata(abs(price.minor_units), weights)
        sign = -1 if price.minor_units < 0 else 1
        shares = tuple((m, Money.from_minor_units(sign * u, ccy)) for m, u in sorted(units.items()))
        awards.append(_Award(book.lot.id, len(plan.auction.rounds), price, None, mark, shares))
        events.add(
            "lot_allocated",
            at,
            lot=book.lot.id,
            to=None,
            price=price.fixed(),
            round=None,
            forced={m: s.fixed() for m, s in shares},
        )
    return replace(state, awards=tuple(awards))


def _tiers(state: DrillState) -> tuple[tuple[tuple[str, ...], ...], dict[str, str]]:
    """The auction tiers, most junior first, and each ranked member's reason.

    On each lot, a member obliged to bid (or that bid) ranks by its best bid:
    no bid, a bid below the winning price (every bid, when the lot went to the
    fallback), or a bid at or above it. Its tier is its most junior over the
    lots. Survivors never involved come after the named tiers.
    """
    plan = state.plan
    order = (NO_BID, BELOW, AT_OR_ABOVE)
    rank: dict[str, int] = {}
    best_of = state.best_prices
    lots = {book.lot.id: book.lot for book in state.lots}
    for award in state.awards:
        bids = best_of.get(award.lot, {})
        winning = award.price.minor_units
        for member in set(_obliged(plan, lots[award.lot])) | set(bids):
            best = bids.get(member)
            if best is None:
                level = 0
            elif award.winner is None or best < winning:
                level = 1
            else:
                level = 2
            rank[member] = min(rank.get(member, 2), level)
    tiers = tuple(
        tuple(sorted(m for m, r in rank.items() if r == level))
        for level in range(3)
        if any(r == level for r in rank.values())
    )
    return tiers, {m: order[r] for m, r in rank.items()}


def _statements(
    plan: DrillPlan, result: CaseResult, why: Mapping[str, str], due: str | None
) -> list[dict[str, str | None]]:
    """What each survivor paid, why, and the most it can still be asked for.

    Amounts are worked in minor units and written once, as the JSON text of money.
    """
    places = plan.ccp.currency.minor_unit
    event = result.events[0]
    charges = {c.member: c.units for c in event.members}
    call = event.replenishment
    top_ups = dict(call.member_units) if call is not None else {}
    # Each assessments tranche's cap multiple as an exact fraction, made once.
    caps = [
        Fraction(t.cap_multiple)
        for t in plan.ccp.rulebook.waterfall
        if t.kind == "assessments" and t.cap_multiple is not None
    ]
    period = event.cooling_off_end
    until = None if period is None else period.isoformat()
    statements: list[dict[str, str | None]] = []
    for member in plan.ccp.members:
        if member.id == plan.defaulter:
            continue
        contribution = member.default_fund.minor_units
        # Money.times_floor of each multiple, summed.
        cap = sum(contribution * c.numerator // c.denominator for c in caps)
        drawn, assessed, cut = charges.get(member.id, (0, 0, 0))
        # Over a cooling-off period caps count once; without one each new default may take them.
        assessable = max(cap - assessed, 0) if period is not None else cap
        statements.append(
            {
                "member": member.id,
                "tier": why.get(member.id, "not involved in the auction"),
                "default_fund": fixed_text(drawn, places),
                "assessment": fixed_text(assessed, places),
                "vm_haircut": fixed_text(cut, places),
                "paid": fixed_text(drawn + assessed + cut, places),
                "replenishment": fixed_text(top_ups.get(member.id, 0), places),
                "replenishment_due": due,
                "contribution_at_risk": fixed_text(contribution - drawn, places),
                "assessments_at_risk": fixed_text(assessable, places),
                "at_risk_until": until,
            }
        )
    return statements


def _modelled_bids(state: DrillState, index: int) -> list[_Bid]:
    """The bidding model's bids in round ``index`` on the lots still open, at its opening."""
    plan = state.plan
    model = plan.bidding
    assert model is not None
    ccy = state.currency
    round_ = plan.auction.rounds[index]
    taken = {a.lot for a in state.awards}
    capacity = {m.id: m.default_fund.amount + m.initial_margin.amount for m in plan.ccp.members}
    bids = []
    for book in state.lots:
        if book.lot.id in taken or not book.exposures:
            continue
        mark = _mark(state, book, round_.day)
        margin = mark.margin.amount
        for member in _obliged(plan, book.lot):
            room = capacity.get(member, Decimal(0))
            scale = 1 + (margin / room if room > 0 else Decimal(1))
            premium = _money(model.premium * margin * scale, ccy)
            price = mark.fair_value - premium
            bids.append(_Bid(member, book.lot.id, price, round_.opens_at, index))
    return bids


def _obliged(plan: DrillPlan, lot: Lot) -> tuple[str, ...]:
    """Members that must bid on ``lot``: those active in its products, else every survivor."""
    active = {m for p in lot.products for m, _ in plan.product(p).active}
    if not active:
        active = {m.id for m in plan.ccp.members}
    active.discard(plan.defaulter)
    return tuple(sorted(active))


def _open_interest(plan: DrillPlan, lot: Lot) -> dict[str, int]:
    """Forced allocation weights: open interest in the lot's products, else contributions."""
    weights: dict[str, int] = {}
    for product in lot.products:
        for member, interest in plan.product(product).active:
            if member != plan.defaulter:
                weights[member] = weights.get(member, 0) + interest
    if not any(weights.values()):
        weights = {
            m.id: m.default_fund.minor_units for m in plan.ccp.members if m.id != plan.defaulter
        }
    if not any(weights.values()):
        weights = {m.id: 1 for m in plan.ccp.members if m.id != plan.defaulter}
    return weights


def _reserve(plan: DrillPlan, mark: _Mark) -> Money | None:
    multiple = plan.auction.reserve_multiple
    if multiple is None:
        return None
    return mark.fair_value - _money(multiple * mark.margin.amount, mark.margin.currency)


def _advance(state: DrillState, index: int) -> DrillState:
    """Close the rounds before round ``index`` (as its first bid would)."""
    if state.round >= index:
        return state
    events = _Events(state.currency, state.events)
    while state.round < index:
        state = _close_round(state, events)
    return replace(state, events=events.done())


_ROUND_STEPS = ("auction_round_closed", "lot_allocated", "hedged")


def _same(made: Sequence[DrillEvent], stored: Sequence[DrillEvent], start: int) -> int:
    """Check ``made[start:]`` against the stored events; the count of events matched."""
    for mine, theirs in zip(made[start:], stored[start:], strict=False):
        if mine.to_json() != theirs.to_json():
            raise DrillReplayError(
                f"event {theirs.sequence} ({theirs.kind}) is not what the plan gives "
                f"({mine.kind} at {_time(mine.at)})"
            )
    if len(made) > len(stored):
        raise DrillReplayError(f"the plan gives more events than the {len(stored)} stored")
    return len(made)


def _value(book: _LotBook) -> Decimal:
    return sum((e.value for e in book.exposures), Decimal(0))


def _money(amount: Decimal, ccy: Currency) -> Money:
    """An exact Decimal as money, half-even to the minor unit: one rounding per figure."""
    return Money(amount.quantize(ccy.quantum, rounding=ROUND_HALF_EVEN) + 0, ccy)


def _floor(amount: Decimal, ccy: Currency) -> Money:
    return Money(amount.quantize(ccy.quantum, rounding=ROUND_FLOOR) + 0, ccy)


def _sum(amounts: Iterable[Money], ccy: Currency) -> Money:
    total = Money.zero(ccy)
    for amount in amounts:
        total += amount
    return total


def _time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

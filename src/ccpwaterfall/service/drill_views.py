"""What each role sees of a live drill.

The risk team and the regulator see the whole record: every step, every bid,
the waterfall with its auction tiers, every statement. A clearing member sees
only what concerns it: the lots, which of them it must bid on, its own sealed
bids, the notices addressed to it or to all members, and once the auction is
closed the loss, the waterfall's tranches, and its own tier, allocation,
replenishment call and statement; never another member's bid, tier or charge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from ccpwaterfall.app.service_drills import LiveDrill

ALL_MEMBERS = "all members"


@dataclass(frozen=True, slots=True)
class MemberLot:
    lot: str
    products: tuple[str, ...]
    obliged: bool  # the rulebook obliges the member to bid on it
    allocated: str | None  # to the member itself: "you at PRICE"; else None


@dataclass(frozen=True, slots=True)
class MemberDrill:
    """A live drill as one member sees it."""

    id: int
    drill: str
    ccp: str
    currency: str
    defaulter: str
    member: str
    phase: str
    version: int
    drill_time: str
    rounds: tuple[tuple[str, str], ...]  # (opens at, deadline), drill time
    lots: tuple[MemberLot, ...]
    bids: tuple[Mapping[str, object], ...]
    notices: tuple[tuple[str, str], ...]  # (time, text)
    loss: str | None
    uncovered: str | None
    tranches: tuple[Mapping[str, object], ...]
    statement: Mapping[str, object] | None
    replenishment: Mapping[str, object] | None

    def to_json(self) -> dict[str, object]:
        return {
            "format": "ccp-member-drill/1",
            "id": self.id,
            "drill": self.drill,
            "ccp": self.ccp,
            "currency": self.currency,
            "defaulter": self.defaulter,
            "member": self.member,
            "phase": self.phase,
            "version": self.version,
            "drill_time": self.drill_time,
            "rounds": [{"opens_at": o, "deadline": d} for o, d in self.rounds],
            "lots": [
                {
                    "lot": lot.lot,
                    "products": list(lot.products),
                    "obliged": lot.obliged,
                    "allocated_to_you": lot.allocated,
                }
                for lot in self.lots
            ],
            "bids": [dict(bid) for bid in self.bids],
            "notices": [{"at": at, "text": text} for at, text in self.notices],
            "loss": self.loss,
            "uncovered": self.uncovered,
            "tranches": [dict(t) for t in self.tranches],
            "statement": None if self.statement is None else dict(self.statement),
            "replenishment": None if self.replenishment is None else dict(self.replenishment),
        }


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def member_drill(live: LiveDrill, member: str, now: dt.datetime) -> MemberDrill:
    """The drill as ``member`` sees it at wall-clock ``now``."""
    state = live.state
    plan = state.plan
    events = state.events
    opened = next((e.payload for e in events if e.kind == "auction_opened"), {})
    allocated: dict[str, str] = {}
    for event in events:
        if event.kind == "lot_allocated" and event.payload.get("to") == member:
            allocated[str(event.payload["lot"])] = f"you at {event.payload['price']}"
    lots = []
    listed = opened.get("lots", [])
    for lot in listed if isinstance(listed, list) else []:
        obliged = lot.get("obliged", [])
        lots.append(
            MemberLot(
                lot=str(lot["lot"]),
                products=tuple(str(p) for p in lot.get("products", [])),
                obliged=isinstance(obliged, list) and member in obliged,
                allocated=allocated.get(str(lot["lot"])),
            )
        )
    bids = tuple(
        {
            "lot": e.payload["lot"],
            "price": e.payload["price"],
            "round": e.payload["round"],
            "at": _stamp(e.at),
        }
        for e in events
        if e.kind == "bid" and e.payload.get("member") == member
    )
    notices = tuple(
        (_stamp(e.at), str(e.payload["text"]))
        for e in events
        if e.kind == "notice" and e.payload.get("to") in {member, ALL_MEMBERS}
    )
    crystallised = next((e.payload for e in events if e.kind == "loss_crystallised"), None)
    waterfall = next((e.payload for e in events if e.kind == "waterfall"), None)
    tranches = waterfall.get("tranches", []) if waterfall is not None else []
    statement = next(
        (e.payload for e in events if e.kind == "statement" and e.payload.get("member") == member),
        None,
    )
    call = next(
        (
            e.payload
            for e in events
            if e.kind == "replenishment_call" and e.payload.get("member") == member
        ),
        None,
    )
    outcome = state.outcome
    return MemberDrill(
        id=live.id,
        drill=plan.name,
        ccp=plan.ccp.ccp_name,
        currency=state.currency.code,
        defaulter=plan.defaulter,
        member=member,
        phase=state.phase,
        version=live.version,
        drill_time=_stamp(live.drill_time(now)),
        rounds=tuple((_stamp(r.opens_at), _stamp(r.deadline)) for r in plan.auction.rounds),
        lots=tuple(lots),
        bids=bids,
        notices=notices,
        loss=None if crystallised is None else str(crystallised["loss"]),
        uncovered=None if outcome is None else outcome.result.uncovered.fixed(),
        tranches=tuple(t for t in tranches if isinstance(t, Mapping))
        if isinstance(tranches, list)
        else (),
        statement=statement,
        replenishment=call,
    )

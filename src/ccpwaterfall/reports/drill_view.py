"""The drill report: the timeline of a default, the auction, the loss and who pays.

One view model read by the rich renderer and the JSON serialiser. The JSON is
the drill's record (``DrillState.record``), every event with its time and
payload; the text is a timeline table, the lots, the loss's parts, the
waterfall as ``ccp run`` shows it, and a statement per member.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.lifecycle.drill import DrillEvent, DrillState
from ccpwaterfall.reports.formatting import format_amount
from ccpwaterfall.reports.layout import Column, FitTable, Heading, clean, pairs
from ccpwaterfall.reports.run_view import RunView, render_event, run_view

_LOSS_PARTS = (
    ("mark_at_default", "Mark at default"),
    ("market_move", "Market move, unhedged"),
    ("hedge_pnl", "Hedges' P&L"),
    ("auction_discount", "Auction discount (fair value less price)"),
    ("hedging_costs", "Hedging costs (half spread and impact)"),
    ("loss", "Crystallised loss"),
    ("proceeds", "Proceeds of the auction and forced allocation"),
)


@dataclass(frozen=True)
class DrillView:
    """A drill as shown: its heading, timeline, lots, loss, waterfall and statements."""

    drill: str
    ccp: str
    currency: Currency
    defaulter: str
    phase: str
    timeline: tuple[tuple[str, str, str], ...]  # (time, step, what it decided)
    lots: tuple[tuple[str, str, str, str], ...]  # (lot, round, taken by, price)
    loss: tuple[tuple[str, str], ...]
    tiers: tuple[tuple[str, ...], ...]
    notices: tuple[tuple[str, str, str], ...]  # (time, addressee, text)
    waterfall: RunView | None
    statements: tuple[Mapping[str, object], ...]
    record: Mapping[str, object]
    written: str | None = None


def drill_view(state: DrillState, written: str | None = None) -> DrillView:
    """The view of a drill in any phase; the waterfall and statements once it is closed."""
    ccy = state.currency
    events = state.events
    lots = tuple(
        (
            str(e.payload["lot"]),
            "forced" if e.payload["round"] is None else f"round {e.payload['round']}",
            "pro rata: " + ", ".join(_forced(e.payload))
            if e.payload["to"] is None
            else str(e.payload["to"]),
            _money(e.payload["price"], ccy),
        )
        for e in events
        if e.kind == "lot_allocated"
    )
    crystallised = next((e.payload for e in events if e.kind == "loss_crystallised"), None)
    loss = (
        tuple((label, _money(crystallised[key], ccy)) for key, label in _LOSS_PARTS)
        if crystallised is not None
        else ()
    )
    outcome = state.outcome
    return DrillView(
        drill=state.plan.name,
        ccp=state.plan.ccp.ccp_name,
        currency=ccy,
        defaulter=state.plan.defaulter,
        phase=state.phase,
        timeline=_timeline(events, ccy),
        lots=lots,
        loss=loss,
        tiers=outcome.tiers if outcome is not None else (),
        notices=tuple(
            (_time(e), str(e.payload["to"]), str(e.payload["text"]))
            for e in events
            if e.kind == "notice"
        ),
        waterfall=run_view(outcome.result) if outcome is not None else None,
        statements=tuple(e.payload for e in events if e.kind == "statement"),
        record=state.record(),
        written=written,
    )


def drill_to_json(view: DrillView) -> Mapping[str, object]:
    """The drill's whole record (``ccp-drill-record/1``)."""
    return view.record


def render_drill(view: DrillView) -> RenderableType:
    """Heading, timeline, lots, loss, tiers, the waterfall and each member's statement."""
    code = view.currency.code
    parts: list[RenderableType] = [
        Text.assemble(
            (clean(view.drill), "bold"),
            f"\n{clean(view.ccp)} · {code} · defaulter {clean(view.defaulter)}",
        ),
        Text(""),
        Heading("Timeline (UTC)"),
    ]
    timeline = FitTable((Column("Time"), Column("Step"), Column("What happened")))
    for moment, step, what in view.timeline:
        timeline.add_row(moment, step, clean(what), words=True)
    parts.append(timeline)
    if view.notices:
        parts += [Text(""), Heading("Notices")]
        for moment, addressee, text in view.notices:
            parts.append(Text.assemble((clean(f"{moment} to {addressee}: "), "bold"), clean(text)))
    if view.lots:
        parts += [Text(""), Heading(f"Lots ({code})")]
        table = FitTable(
            (Column("Lot"), Column("Round"), Column("Taken by"), Column("Price", numeric=True))
        )
        for row in view.lots:
            table.add_row(*(clean(cell) for cell in row))
        parts.append(table)
    if view.loss:
        parts += [Text(""), Heading(f"The loss ({code})"), pairs(view.loss)]
    if view.tiers:
        tiers = " < ".join("[" + ", ".join(tier) + "]" for tier in view.tiers)
        parts += [Text(""), Text(clean(f"Auction tiers, most junior first: {tiers}"))]
    if view.waterfall is not None:
        for event in view.waterfall.events:
            parts.extend(render_event(event))
    if view.statements:
        parts += [Text(""), Heading(f"Statements ({code})")]
        parts.append(_statements(view.statements, view.currency))
    if view.written is not None:
        parts += [Text(""), Text(clean(f"Case written to {view.written}: ccp run gives the same."))]
    return Group(*parts)


_TIER_SHORT = {
    "no bid": "no bid",
    "bid below the winning price": "below winner",
    "bid at or above the winning price": "at winner",
    "not involved in the auction": "-",
}


def _statements(rows: Sequence[Mapping[str, object]], ccy: Currency) -> FitTable:
    table = FitTable(
        (
            Column("Member"),
            Column("Tier"),
            Column("Paid", numeric=True),
            Column("Replenish", numeric=True),
            Column("Still at risk", numeric=True),
            Column("Until"),
        )
    )
    for row in rows:
        at_risk = Money.of(str(row["contribution_at_risk"]), ccy) + Money.of(
            str(row["assessments_at_risk"]), ccy
        )
        until = row["at_risk_until"]
        table.add_row(
            clean(str(row["member"])),
            _TIER_SHORT.get(str(row["tier"]), clean(str(row["tier"]))),
            _money(row["paid"], ccy),
            _money(row["replenishment"], ccy),
            format_amount(at_risk),
            "each default" if until is None else str(until),
            words=True,
        )
    return table


# Steps with one event per member: one timeline row each, the details in their tables.
_PER_MEMBER = {
    "assessment_called": "members assessed",
    "replenishment_call": "members called to top up",
    "statement": "statements sent",
    "ported": "client accounts ported",
}


_BIDS_SHOWN = 8  # more bids in a row are one timeline row


def _timeline(events: Sequence[DrillEvent], ccy: Currency) -> tuple[tuple[str, str, str], ...]:
    rows: list[tuple[str, str, str]] = []
    index = 0
    while index < len(events):
        event = events[index]
        if event.kind == "bid":
            end = index
            while end < len(events) and events[end].kind == "bid":
                end += 1
            if end - index > _BIDS_SHOWN:
                lots = sorted({str(e.payload["lot"]) for e in events[index:end]})
                what = f"{end - index} sealed bids on {', '.join(lots)}"
                rows.append((_time(event), "bids", what))
                index = end
                continue
        if event.kind in _PER_MEMBER:
            end = index
            while end < len(events) and events[end].kind == event.kind:
                end += 1
            count = end - index
            what = f"{count} {_PER_MEMBER[event.kind]}"
            if event.kind in ("replenishment_call", "assessment_called"):
                total = sum(
                    (Decimal(str(e.payload["amount"])) for e in events[index:end]), Decimal(0)
                )
                what += f": {_money(str(total), ccy)}"
                if event.kind == "replenishment_call":
                    what += f" by {event.payload['due']}"
            if event.kind == "ported":
                moved = sum(
                    (Decimal(str(e.payload["collateral_ported"])) for e in events[index:end]),
                    Decimal(0),
                )
                targets = sorted({str(e.payload["to"]) for e in events[index:end]})
                what += f" to {', '.join(targets)} with {_money(str(moved), ccy)} of collateral"
            rows.append((_time(event), event.kind.replace("_", " "), what))
            index = end
            continue
        rows.append((_time(event), event.kind.replace("_", " "), _what(event, ccy)))
        index += 1
    return tuple(rows)


def _what(event: DrillEvent, ccy: Currency) -> str:
    """One line on what a step decided, from its payload."""
    p = event.payload
    kind = event.kind
    if kind == "margin_call":
        return f"{p['member']} called for {_money(p['amount'], ccy)}, due {p['deadline']}"
    if kind == "call_missed":
        return f"{p['member']} misses the call, grace period over"
    if kind == "default_declared":
        return f"{p['member']} declared in default"
    if kind == "notice":
        return f"notice to {p['to']}"
    if kind == "isolated":
        return (
            f"accounts frozen: house {_ids(p['house'])}, {_count(p['clients'])} client; "
            f"margin {_money(p['house_collateral'], ccy)} and fund "
            f"{_money(p['default_fund'], ccy)} set aside"
        )
    if kind == "ported":
        return (
            f"{p['account']} ported to {p['to']} with {_money(p['collateral_ported'], ccy)} "
            "of collateral"
        )
    if kind == "closed_out":
        return (
            f"{_ids(p['accounts'])} closed out: {p['positions']} positions marked "
            f"{_money(p['value_at_default'], ccy)}, collateral {_money(p['collateral'], ccy)}"
        )
    if kind == "hedged":
        trades = p["trades"]
        assert isinstance(trades, list)
        sold = ", ".join(f"{t['product']} {t['ratio']} via {t['instrument']}" for t in trades)
        cost = sum((Decimal(str(t["cost"])) for t in trades), Decimal(0))
        return f"hedged {sold or 'nothing'}; cost {_money(str(cost), ccy)}"
    if kind == "auction_opened":
        lots = p["lots"]
        assert isinstance(lots, list)
        return (
            f"{len(lots)} lot{'s' if len(lots) != 1 else ''}: {_ids([lot['lot'] for lot in lots])}"
        )
    if kind == "bid":
        return f"{p['member']} bids {_money(p['price'], ccy)} for {p['lot']} (round {p['round']})"
    if kind == "auction_round_closed":
        lots = p["lots"]
        assert isinstance(lots, list)
        taken = sum(1 for lot in lots if lot["winner"] is not None)
        return f"round {p['round']}: {taken} of {len(lots)} lots taken"
    if kind == "lot_allocated":
        to = "forced allocation" if p["to"] is None else str(p["to"])
        return f"{p['lot']} to {to} at {_money(p['price'], ccy)}"
    if kind == "loss_crystallised":
        return f"loss {_money(p['loss'], ccy)}"
    if kind == "waterfall":
        uncovered = _money(p["uncovered"], ccy)
        return f"loss {_money(p['loss'], ccy)} through the waterfall; uncovered {uncovered}"
    if kind == "replenishment_call":
        return f"{p['member']} tops up {_money(p['amount'], ccy)} by {p['due']}"
    if kind == "statement":
        return f"{p['member']}: paid {_money(p['paid'], ccy)} ({p['tier']})"
    return ""


def _forced(payload: Mapping[str, object]) -> list[str]:
    forced = payload.get("forced")
    assert isinstance(forced, dict)
    return [str(member) for member in forced]


def _count(values: object) -> int:
    assert isinstance(values, list)
    return len(values)


def _ids(values: object) -> str:
    assert isinstance(values, list)
    return ", ".join(str(v) for v in values) or "none"


def _money(value: object, ccy: Currency) -> str:
    return format_amount(Money.of(str(value), ccy))


def _time(event: DrillEvent) -> str:
    return event.at.strftime("%Y-%m-%d %H:%M")

"""The explain view: who paid what, under which rule, entry by entry.

It lays out the journal grouped by event (the opening balances first). Each
event starts with the rule and inputs of each of its tranches, then lists its
entries, each with its sequence number, rule, narration and postings. Every
amount is exact. ``explain_view`` decides the rows once; ``render_explain`` lays
them out and ``explain_to_json`` gives the same as data (``ccp-explain/1``), the
inputs typed: amounts as decimal strings with their currency, multiples as
decimal strings, days as ISO dates, flags as booleans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.ledger import Entry
from ccpwaterfall.reports.formatting import (
    format_amount,
    format_date,
    format_input,
    format_money,
)
from ccpwaterfall.reports.layout import Column, FitTable, Heading, clean
from ccpwaterfall.waterfall.kinds import TRANCHE_KINDS
from ccpwaterfall.waterfall.result import CaseResult, InputValue, TrancheResult

EXPLAIN_FORMAT = "ccp-explain/1"

# Entry metadata already shown with the tranche's rule above the entries.
_TRANCHE_META = frozenset({"tranche", "tranche_index"})


@dataclass(frozen=True, slots=True)
class EntryView:
    """A journal entry as shown: ``tranche`` the tranche whose rule and inputs it applies
    (its inputs are shown with the tranche), else ``meta`` its own metadata; ``notes``
    the metadata the text shows beneath it."""

    seq: int
    event: int | None  # None: an opening balance
    kind: str
    narration: str
    tranche: int | None
    meta: tuple[tuple[str, str], ...]
    notes: tuple[tuple[str, str], ...]
    postings: tuple[tuple[str, Money], ...]  # (account, amount)


@dataclass(frozen=True, slots=True)
class TrancheRule:
    """A tranche in an event: what it gave, the rule applied and its typed inputs."""

    index: int
    kind: str
    name: str
    available: Money
    used: Money
    remaining: Money
    rule: str
    inputs: tuple[tuple[str, InputValue], ...]


@dataclass(frozen=True, slots=True)
class EventJournal:
    index: int
    date: dt.date | None
    defaulters: tuple[str, ...]
    loss: Money
    tranches: tuple[TrancheRule, ...]
    entries: tuple[EntryView, ...]


@dataclass(frozen=True, slots=True)
class ExplainView:
    """The journal grouped by event: the opening entries, then each event's."""

    case: str
    ccp: str
    currency: Currency
    opening: tuple[EntryView, ...]
    events: tuple[EventJournal, ...]


def explain_view(result: CaseResult) -> ExplainView:
    """The journal of ``result`` grouped by event, with each tranche's rule and inputs."""
    case = result.case
    entries = tuple(entry_view(e) for e in result.journal)
    return ExplainView(
        case=case.name,
        ccp=case.ccp_name,
        currency=case.currency,
        opening=tuple(e for e in entries if e.event is None),
        events=tuple(
            EventJournal(
                index=event.index,
                date=event.date,
                defaulters=event.defaulters,
                loss=event.loss,
                tranches=tuple(_tranche_rule(t) for t in event.tranches),
                entries=tuple(e for e in entries if e.event == event.index),
            )
            for event in result.events
        ),
    )


def _tranche_rule(tranche: TrancheResult) -> TrancheRule:
    return TrancheRule(
        index=tranche.index,
        kind=tranche.kind,
        name=tranche.name,
        available=tranche.available,
        used=tranche.used,
        remaining=tranche.remaining,
        rule=tranche.rule,
        inputs=tranche.inputs,
    )


def entry_view(entry: Entry) -> EntryView:
    """One journal entry as shown, in the explain view and in ``ccp run --journal``."""
    meta = dict(entry.meta)
    applies = entry.rule in TRANCHE_KINDS
    tranche = int(meta["tranche_index"]) if applies and "tranche_index" in meta else None
    return EntryView(
        seq=entry.seq,
        event=entry.event,
        kind=entry.rule,
        narration=entry.narration,
        tranche=tranche,
        meta=() if tranche is not None else entry.meta,
        # A tranche's inputs are shown with its rule; other entries carry their own.
        notes=() if applies else tuple((k, v) for k, v in entry.meta if k not in _TRANCHE_META),
        postings=tuple((p.account, p.amount) for p in entry.postings),
    )


# --------------------------------------------------------------------------- rendering


def render_explain(view: ExplainView) -> RenderableType:
    """The journal, grouped by event, with each tranche's rule and inputs."""
    ccy = view.currency.code
    parts: list[RenderableType] = [
        Text.assemble(
            (clean(view.case), "bold"), f"\n{clean(view.ccp)} · {ccy} · amounts in {ccy}"
        ),
    ]
    if view.opening:
        parts.extend([Text(""), Heading("Opening balances")])
        parts.extend(render_entries(view.opening))
    for event in view.events:
        title = (
            f"Event {event.index + 1} · {format_date(event.date)} · "
            f"{clean(', '.join(event.defaulters))} · loss {format_money(event.loss)}"
        )
        parts.extend([Text(""), Heading(title)])
        parts.append(Text("Rules applied", style="bold"))
        parts.extend(render_tranche_rules(event.tranches))
        parts.append(Text("Journal", style="bold"))
        parts.extend(render_entries(event.entries))
    return Group(*parts)


def render_tranche_rules(tranches: Sequence[TrancheRule]) -> list[RenderableType]:
    """Each tranche of an event: what it gave, the rule applied and its inputs."""
    return [_render_rule(t) for t in tranches]


def _render_rule(tranche: TrancheRule) -> RenderableType:
    head = Text.assemble(
        (f"[{tranche.index}] ", "dim"),
        (clean(tranche.name), "bold"),
        (f" ({tranche.kind})", "dim"),
        f": used {format_amount(tranche.used)} of {format_amount(tranche.available)}",
    )
    body = Text(tranche.rule)
    for key, value in tranche.inputs:
        body.append(f"\n{key}: ", style="dim")
        body.append(clean(format_input(value)))
    return Group(head, Padding(body, (0, 0, 0, 4)))


def render_entries(entries: Sequence[EntryView]) -> list[RenderableType]:
    """Entries one after the other: a line for the entry, then its postings beneath it."""
    if not entries:
        return [Padding(Text("no movement", style="dim"), (0, 0, 0, 4))]
    return [_render_entry(e) for e in entries]


def _render_entry(entry: EntryView) -> RenderableType:
    head = Text.assemble(
        (f"#{entry.seq} ", "dim"), (entry.kind, "cyan"), " ", clean(entry.narration)
    )
    for key, value in entry.notes:
        head.append(f"\n    {key}: ", style="dim")
        head.append(clean(value))
    postings = FitTable((Column(), Column(numeric=True)), boxed=False)
    for account, amount in entry.postings:
        postings.add_row(clean(account), format_amount(amount))
    return Group(head, Padding(postings, (0, 0, 0, 4)))


# --------------------------------------------------------------------------- JSON


def explain_to_json(view: ExplainView) -> dict[str, object]:
    """The journal as data: the opening entries, then per event its tranches (rule and
    typed inputs) and its entries, each with its postings; amounts are decimal strings."""
    return {
        "format": EXPLAIN_FORMAT,
        "case": view.case,
        "ccp": view.ccp,
        "currency": view.currency.code,
        "opening": [entry_json(e) for e in view.opening],
        "events": [
            {
                "index": event.index,
                "date": None if event.date is None else event.date.isoformat(),
                "defaulters": list(event.defaulters),
                "loss": _amount(event.loss),
                "tranches": [_tranche_json(t) for t in event.tranches],
                "entries": [entry_json(e) for e in event.entries],
            }
            for event in view.events
        ],
    }


def _tranche_json(tranche: TrancheRule) -> dict[str, object]:
    return {
        "index": tranche.index,
        "kind": tranche.kind,
        "name": tranche.name,
        "available": _amount(tranche.available),
        "used": _amount(tranche.used),
        "remaining": _amount(tranche.remaining),
        "rule": tranche.rule,
        "inputs": {key: input_json(value) for key, value in tranche.inputs},
    }


def entry_json(entry: EntryView) -> dict[str, object]:
    """An entry as data: sequence, kind, narration, its tranche (or its own metadata) and
    its postings."""
    data: dict[str, object] = {"seq": entry.seq, "kind": entry.kind, "narration": entry.narration}
    if entry.tranche is not None:
        # Its inputs are the tranche's, typed, under the event's "tranches".
        data["tranche"] = entry.tranche
    else:
        data["meta"] = dict(entry.meta)
    data["postings"] = [
        {"account": account, "amount": _amount(amount)} for account, amount in entry.postings
    ]
    return data


def journal_entry_json(entry: EntryView) -> dict[str, object]:
    """An entry of the whole journal: as ``entry_json``, with its event (null: opening)."""
    data = entry_json(entry)
    return {"seq": data.pop("seq"), "event": entry.event, **data}


def input_json(value: InputValue) -> object:
    """A rule input as a JSON value: money ``{"amount": "7000000.00", "currency": "EUR"}``,
    a decimal as a string, a date in ISO form, ids as a list, flags and counts as they are."""
    if isinstance(value, Money):
        return {"amount": _amount(value), "currency": value.currency.code}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, bool | int | str):
        return value
    return format(value, "f")


def _amount(money: Money) -> str:
    # Fixed-point, as in ccp-result/1: str() of a Decimal may switch to exponents.
    return format(money.amount, "f")

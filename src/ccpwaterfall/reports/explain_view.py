"""The explain view: who paid what, under which rule, entry by entry.

It lays out the journal grouped by event (the opening balances first). Each
event starts with the rule and inputs of each of its tranches, then lists its
entries, each with its sequence number, rule, narration and postings. Every
amount is exact. ``explain_to_json`` gives the same as data (``ccp-explain/1``),
the inputs typed: amounts as decimal strings with their currency, multiples as
decimal strings, days as ISO dates, flags as booleans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from ccpwaterfall.domain import Money, TrancheKind
from ccpwaterfall.ledger import Entry
from ccpwaterfall.reports.formatting import (
    format_amount,
    format_date,
    format_input,
    format_money,
)
from ccpwaterfall.reports.layout import Column, FitTable, Heading, clean
from ccpwaterfall.waterfall.result import CaseResult, EventResult, InputValue, TrancheResult

EXPLAIN_FORMAT = "ccp-explain/1"

# Entry metadata already shown with the tranche's rule above the entries.
_TRANCHE_META = frozenset({"tranche", "tranche_index"})
_TRANCHE_RULES = frozenset(kind.value for kind in TrancheKind)


def render_explain(result: CaseResult) -> RenderableType:
    """The journal of ``result``, grouped by event, with each tranche's rule and inputs."""
    case = result.case
    ccy = case.currency.code
    parts: list[RenderableType] = [
        Text.assemble(
            (clean(case.name), "bold"), f"\n{clean(case.ccp_name)} · {ccy} · amounts in {ccy}"
        ),
    ]
    opening = [e for e in result.journal if e.event is None]
    if opening:
        parts.extend([Text(""), Heading("Opening balances")])
        parts.extend(render_entries(opening))
    for event in result.events:
        title = (
            f"Event {event.index + 1} · {format_date(event.date)} · "
            f"{clean(', '.join(event.defaulters))} · loss {format_money(event.loss)}"
        )
        parts.extend([Text(""), Heading(title)])
        parts.append(Text("Rules applied", style="bold"))
        parts.extend(render_tranche_rules(event))
        parts.append(Text("Journal", style="bold"))
        parts.extend(render_entries([e for e in result.journal if e.event == event.index]))
    return Group(*parts)


def render_tranche_rules(event: EventResult) -> list[RenderableType]:
    """Each tranche of an event: what it gave, the rule applied and its inputs."""
    return [_tranche_rule(t) for t in event.tranches]


def _tranche_rule(tranche: TrancheResult) -> RenderableType:
    head = Text.assemble(
        (f"[{tranche.index}] ", "dim"),
        (clean(tranche.name), "bold"),
        (f" ({tranche.kind.value})", "dim"),
        f": used {format_amount(tranche.used)} of {format_amount(tranche.available)}",
    )
    body = Text(tranche.rule)
    for key, value in tranche.inputs:
        body.append(f"\n{key}: ", style="dim")
        body.append(clean(format_input(value)))
    return Group(head, Padding(body, (0, 0, 0, 4)))


def render_entries(entries: Sequence[Entry]) -> list[RenderableType]:
    """Entries one after the other: a line for the entry, then its postings beneath it."""
    if not entries:
        return [Padding(Text("no movement", style="dim"), (0, 0, 0, 4))]
    return [_entry(e) for e in entries]


def _entry(entry: Entry) -> RenderableType:
    head = Text.assemble(
        (f"#{entry.seq} ", "dim"), (entry.rule, "cyan"), " ", clean(entry.narration)
    )
    extra = [(k, v) for k, v in entry.meta if k not in _TRANCHE_META]
    if entry.rule not in _TRANCHE_RULES:
        # A tranche's inputs are shown with its rule; other entries carry their own.
        for key, value in extra:
            head.append(f"\n    {key}: ", style="dim")
            head.append(clean(value))
    postings = FitTable((Column(), Column(numeric=True)), boxed=False)
    for posting in entry.postings:
        postings.add_row(clean(posting.account), format_amount(posting.amount))
    return Group(head, Padding(postings, (0, 0, 0, 4)))


def explain_to_json(result: CaseResult) -> dict[str, object]:
    """The journal as data: the opening entries, then per event its tranches (rule and
    typed inputs) and its entries, each with its postings; amounts are decimal strings."""
    case = result.case
    return {
        "format": EXPLAIN_FORMAT,
        "case": case.name,
        "ccp": case.ccp_name,
        "currency": case.currency.code,
        "opening": [_entry_json(e) for e in result.journal if e.event is None],
        "events": [
            {
                "index": event.index,
                "date": None if event.date is None else event.date.isoformat(),
                "defaulters": list(event.defaulters),
                "loss": _amount(event.loss),
                "tranches": [_tranche_json(t) for t in event.tranches],
                "entries": [_entry_json(e) for e in result.journal if e.event == event.index],
            }
            for event in result.events
        ],
    }


def _tranche_json(tranche: TrancheResult) -> dict[str, object]:
    return {
        "index": tranche.index,
        "kind": tranche.kind.value,
        "name": tranche.name,
        "available": _amount(tranche.available),
        "used": _amount(tranche.used),
        "remaining": _amount(tranche.remaining),
        "rule": tranche.rule,
        "inputs": {key: input_json(value) for key, value in tranche.inputs},
    }


def _entry_json(entry: Entry) -> dict[str, object]:
    data: dict[str, object] = {"seq": entry.seq, "kind": entry.rule, "narration": entry.narration}
    meta = dict(entry.meta)
    if entry.rule in _TRANCHE_RULES and "tranche_index" in meta:
        # Its inputs are the tranche's, typed, under the event's "tranches".
        data["tranche"] = int(meta["tranche_index"])
    else:
        data["meta"] = meta
    data["postings"] = [{"account": p.account, "amount": _amount(p.amount)} for p in entry.postings]
    return data


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

"""The run view: the waterfall of a case, event by event, as tables read at a glance.

``run_view`` decides what is shown once (each event's facts, tranches and the
members that bore most, the totals) and holds the ``ccp-result/1`` document, with
the journal when asked; ``render_run`` lays it out and ``run_to_json`` gives the
document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.io.result_json import result_to_json
from ccpwaterfall.reports.explain_view import EntryView, entry_view, journal_entry_json
from ccpwaterfall.reports.formatting import (
    compact_amount,
    format_date,
    format_money,
    format_share,
    usage_bar,
)
from ccpwaterfall.reports.layout import Column, FitTable, Heading, clean, pairs
from ccpwaterfall.reports.notes import MEMBERS_SHOWN
from ccpwaterfall.waterfall.result import CaseResult, EventResult, MemberCharge, ReplenishmentCall
from ccpwaterfall.waterfall.summary import summarise


@dataclass(frozen=True, slots=True)
class MoreMembers:
    """The members a table leaves out: how many, and their total of the table's figure."""

    count: int
    total: Money


@dataclass(frozen=True, slots=True)
class TrancheRow:
    name: str
    kind: str
    available: Money
    used: Money
    remaining: Money


@dataclass(frozen=True, slots=True)
class ChargeTable:
    """Members and what they bore, largest first: the rows shown, then the rest."""

    title: str
    currency: Currency
    rows: tuple[MemberCharge, ...]
    more: MoreMembers | None


@dataclass(frozen=True, slots=True)
class EventView:
    title: str
    facts: tuple[tuple[str, str], ...]  # defaulters, loss, replenished before ...
    currency: Currency
    tranches: tuple[TrancheRow, ...]
    survivors: ChargeTable | None  # None: no survivor bears a loss
    surplus: tuple[tuple[str, Money], ...]  # returned to each defaulter's estate
    replenishment: str | None  # the call that restores the fund, in words
    replenishes_nothing: bool
    uncovered: Money | None


@dataclass(frozen=True)
class RunView:
    """A case run as shown; ``document`` is its ``ccp-result/1`` JSON, ``journal`` its
    entries when asked for (``None``: not asked).

    The event tables, the members over all events and the document are made
    when first read: text output reads the tables, JSON output the document,
    and for a case of 100,000 members neither should pay for the other.
    """

    case: str
    ccp: str
    currency: Currency
    totals_title: str
    totals: tuple[tuple[str, Money], ...]
    fund_share: str  # the share of the members' fund used, of what
    uncovered: Money | None
    result: CaseResult
    top: int | None  # members shown per table (None: all)
    journal: tuple[EntryView, ...] | None = None

    @cached_property
    def events(self) -> tuple[EventView, ...]:
        return tuple(_event_view(self.result, event, self.top) for event in self.result.events)

    @cached_property
    def members(self) -> ChargeTable | None:
        """The members over all events, when there are several."""
        result = self.result
        if len(result.events) > 1 and result.totals:
            return charge_table(result.totals, self.currency, "Members over all events", self.top)
        return None

    @cached_property
    def document(self) -> Mapping[str, object]:
        return result_to_json(self.result)


def run_view(
    result: CaseResult, top: int | None = MEMBERS_SHOWN, *, journal: bool = False
) -> RunView:
    """The view of ``result``: member tables show the ``top`` that bore most (all: None)."""
    case = result.case
    ccy = case.currency
    summary = summarise(result)
    totals = (
        ("Loss", summary.loss),
        ("Defaulter resources used", summary.defaulter_resources_used),
        ("CCP capital used", summary.ccp_capital_used),
        ("Members' default fund used", summary.member_fund_used),
        ("Assessments", summary.assessments),
        ("VM gains haircut", summary.vm_haircut),
        ("Uncovered", summary.uncovered),
    )
    return RunView(
        case=case.name,
        ccp=case.ccp_name,
        currency=ccy,
        totals_title=f"Totals over {summary.events} event{'s' if summary.events != 1 else ''}",
        totals=totals,
        fund_share=(
            f"{format_share(summary.member_fund_share_used)} of "
            f"{format_money(summary.member_fund_before)}"
        ),
        uncovered=None if summary.uncovered.is_zero() else summary.uncovered,
        result=result,
        top=top,
        journal=tuple(entry_view(e) for e in result.journal) if journal else None,
    )


def _event_view(result: CaseResult, event: EventResult, top: int | None) -> EventView:
    ccy = result.case.currency
    defaulters = ", ".join(event.defaulters)
    facts = [("Defaulters", defaulters), ("Loss", format_money(event.loss))]
    for member, loss in event.losses if len(event.losses) > 1 else ():
        facts.append((f"  {member}", format_money(loss)))
    facts.append(("Replenished before", "yes" if event.replenished_before else "no"))
    if event.cooling_off_end is not None:
        facts.append(("Cooling-off ends", event.cooling_off_end.isoformat()))
    call = event.replenishment
    return EventView(
        title=(
            f"Event {event.index + 1} of {len(result.events)} · "
            f"{format_date(event.date)} · {defaulters}"
        ),
        facts=tuple(facts),
        currency=ccy,
        tranches=tuple(
            TrancheRow(t.name, t.kind, t.available, t.used, t.remaining) for t in event.tranches
        ),
        survivors=charge_table(event.members, ccy, "Survivors bearing a loss", top)
        if event.members
        else None,
        surplus=event.defaulter_surplus,
        replenishment=None if call is None else _replenishment_line(call, ccy),
        replenishes_nothing=call is not None and not call.members and not call.ccp_capital,
        uncovered=None if event.uncovered.is_zero() else event.uncovered,
    )


def _replenishment_line(call: ReplenishmentCall, ccy: Currency) -> str:
    """The call that restores the fund and CCP capital, and its due date."""
    due = "when the rulebook replenishes" if call.due is None else f"by {call.due.isoformat()}"
    if not call.members and not call.ccp_capital:
        return "Replenishment: nothing to restore."
    pieces = []
    if call.members:
        count = len(call.members)
        pieces.append(
            f"members {format_money(call.members_total(ccy))} "
            f"({count} member{'' if count == 1 else 's'})"
        )
    pieces.extend(f"{name} {format_money(amount)}" for name, amount in call.ccp_capital)
    return f"Replenishment due {due}: " + "; ".join(pieces)


def charge_table(
    charges: Sequence[MemberCharge], ccy: Currency, title: str, top: int | None = MEMBERS_SHOWN
) -> ChargeTable:
    """Members and what they bore, largest first; beyond the largest ``top``, their total."""
    ordered = sorted(charges, key=lambda c: (-c.total.minor_units, c.member))
    shown, rest = (ordered, []) if top is None else (ordered[:top], ordered[top:])
    more = None
    if rest:
        rest_total = Money.zero(ccy)
        for charge in rest:
            rest_total += charge.total
        more = MoreMembers(len(rest), rest_total)
    return ChargeTable(f"{title} ({ccy.code})", ccy, tuple(shown), more)


# --------------------------------------------------------------------------- JSON


def run_to_json(view: RunView, *, streamed: bool = False) -> dict[str, object]:
    """The ``ccp-result/1`` document; with the journal, its entries under ``journal``.

    ``streamed``: the per-member objects are made as they are printed
    (``JsonPairs``, for ``json_text.write_indented``), so a result of millions
    of charges is never held whole; otherwise plain dicts.
    """
    data = result_to_json(view.result, streamed=streamed)
    if view.journal is not None:
        data["journal"] = [journal_entry_json(entry) for entry in view.journal]
    return data


# --------------------------------------------------------------------------- rendering


def render_run(view: RunView) -> RenderableType:
    """The whole case: a heading, each event's waterfall, then the totals."""
    parts: list[RenderableType] = [
        Text.assemble((clean(view.case), "bold"), f"\n{clean(view.ccp)} · {view.currency.code}"),
    ]
    for event in view.events:
        parts.extend(render_event(event))
    parts.extend(_render_totals(view))
    return Group(*parts)


def render_event(event: EventView) -> list[RenderableType]:
    """One event: header, tranche table, members bearing a loss, surplus, uncovered loss."""
    parts: list[RenderableType] = [
        Text(""),
        Heading(clean(event.title)),
        pairs((clean(label), clean(value)) for label, value in event.facts),
        Text(""),
        _tranche_table(event),
        Text(""),
    ]
    if event.survivors is not None:
        parts.append(members_table(event.survivors))
    else:
        parts.append(Text("No survivor bears a loss in this event.", style="green"))
    parts.extend([Text(""), _surplus_line(event)])
    if event.replenishment is not None:
        style = "dim" if event.replenishes_nothing else ""
        parts.append(Text(clean(event.replenishment), style=style))
    if event.uncovered is not None:
        parts.append(uncovered_panel(event.uncovered))
    return parts


def _tranche_table(event: EventView) -> FitTable:
    table = FitTable(
        (
            Column("Tranche"),
            Column("Available", numeric=True),
            Column("Used", numeric=True),
            Column("Remaining", numeric=True),
            Column("Consumed", numeric=True, justify="left"),
        ),
        title=f"Waterfall ({event.currency.code})",
    )
    for tranche in event.tranches:
        name = Text(clean(tranche.name))
        name.append(f"\n{tranche.kind}", style="dim")
        table.add_row(
            name,
            compact_amount(tranche.available),
            compact_amount(tranche.used),
            compact_amount(tranche.remaining),
            usage_bar(tranche.used, tranche.available),
        )
    return table


def members_table(charges: ChargeTable) -> RenderableType:
    """Members and what they bore, largest first, then one line for the rest."""
    table = FitTable(
        (
            Column("Member"),
            *(
                Column(heading, numeric=True)
                for heading in ("Default fund", "Assessment", "VM haircut", "Total")
            ),
        ),
        title=charges.title,
    )
    for charge in charges.rows:
        table.add_row(
            Text(clean(charge.member)),
            compact_amount(charge.default_fund),
            compact_amount(charge.assessment),
            compact_amount(charge.vm_haircut),
            compact_amount(charge.total),
        )
    if charges.more is None:
        return table
    return Group(table, more_members_line(charges.more.count, format_money(charges.more.total)))


def more_members_line(count: int, total: str) -> Text:
    """The line for the members a table leaves out, and how to see them."""
    return Text(
        f"... and {count} more member{'' if count == 1 else 's'}: total {total} "
        f"(--all shows {'it' if count == 1 else 'them'})",
        style="dim",
    )


def uncovered_panel(uncovered: Money) -> Panel:
    """The loss no tranche covered, in plain sight."""
    return Panel(
        Text(
            f"UNCOVERED LOSS: {format_money(uncovered)} beyond the waterfall: "
            "recovery or resolution",
            style="bold red",
        ),
        border_style="bold red",
    )


def _surplus_line(event: EventView) -> Text:
    parts = [f"{clean(member)} {format_money(amount)}" for member, amount in event.surplus]
    line = Text("Defaulter surplus returned to the estate: ", style="dim")
    line.append(", ".join(parts) if parts else "none")
    return line


def _render_totals(view: RunView) -> list[RenderableType]:
    table = FitTable((Column(style="dim"), Column(numeric=True)), boxed=False)
    for label, amount in view.totals:
        style = "bold red" if label == "Uncovered" and not amount.is_zero() else ""
        table.add_row(label, Text(format_money(amount), style=style))
    table.add_row("Share of members' fund used", view.fund_share)
    parts: list[RenderableType] = [Text(""), Heading(view.totals_title), table]
    if view.members is not None:
        parts.append(Text(""))
        parts.append(members_table(view.members))
    if view.uncovered is not None:
        parts.append(uncovered_panel(view.uncovered))
    return parts

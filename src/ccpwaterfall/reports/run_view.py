"""The run view: the waterfall of a case, event by event, as tables read at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.reports.formatting import (
    compact_amount,
    format_date,
    format_money,
    format_share,
    usage_bar,
)
from ccpwaterfall.reports.layout import Column, FitTable, Heading, clean, pairs
from ccpwaterfall.waterfall.result import CaseResult, EventResult, MemberCharge, ReplenishmentCall
from ccpwaterfall.waterfall.summary import summarise

MEMBERS_SHOWN = 20  # longer member lists show the largest and one line for the rest


def render_run(result: CaseResult, top: int | None = MEMBERS_SHOWN) -> RenderableType:
    """The whole case: a heading, each event's waterfall, then the totals.

    Member tables show the ``top`` members that bore most (all with ``None``).
    """
    case = result.case
    parts: list[RenderableType] = [
        Text.assemble(
            (clean(case.name), "bold"), f"\n{clean(case.ccp_name)} · {case.currency.code}"
        ),
    ]
    for event in result.events:
        parts.extend(render_event(result, event, top))
    parts.extend(_render_totals(result, top))
    return Group(*parts)


def render_event(
    result: CaseResult, event: EventResult, top: int | None = MEMBERS_SHOWN
) -> list[RenderableType]:
    """One event: header, tranche table, members bearing a loss, surplus, uncovered loss."""
    ccy = result.case.currency
    count = len(result.events)
    defaulters = clean(", ".join(event.defaulters))
    title = f"Event {event.index + 1} of {count} · {format_date(event.date)} · {defaulters}"
    rows: list[tuple[str | Text, str | Text]] = [
        ("Defaulters", defaulters),
        ("Loss", format_money(event.loss)),
    ]
    for member, loss in event.losses if len(event.losses) > 1 else ():
        rows.append((f"  {clean(member)}", format_money(loss)))
    rows.append(("Replenished before", "yes" if event.replenished_before else "no"))
    if event.cooling_off_end is not None:
        rows.append(("Cooling-off ends", event.cooling_off_end.isoformat()))
    parts: list[RenderableType] = [
        Text(""),
        Heading(title),
        pairs(rows),
        Text(""),
        _tranche_table(event, ccy),
        Text(""),
    ]
    if event.members:
        parts.append(members_table(event.members, ccy, "Survivors bearing a loss", top))
    else:
        parts.append(Text("No survivor bears a loss in this event.", style="green"))
    parts.extend([Text(""), _surplus_line(event)])
    if event.replenishment is not None:
        parts.append(_replenishment_line(event.replenishment, ccy))
    if not event.uncovered.is_zero():
        parts.append(uncovered_panel(event.uncovered))
    return parts


def _replenishment_line(call: ReplenishmentCall, ccy: Currency) -> Text:
    """The call that restores the fund and CCP capital, and its due date."""
    due = "when the rulebook replenishes" if call.due is None else f"by {call.due.isoformat()}"
    if not call.members and not call.ccp_capital:
        return Text("Replenishment: nothing to restore.", style="dim")
    pieces = []
    if call.members:
        count = len(call.members)
        pieces.append(
            f"members {format_money(call.members_total(ccy))} "
            f"({count} member{'' if count == 1 else 's'})"
        )
    pieces.extend(f"{clean(name)} {format_money(amount)}" for name, amount in call.ccp_capital)
    return Text(f"Replenishment due {due}: " + "; ".join(pieces))


def _tranche_table(event: EventResult, ccy: Currency) -> FitTable:
    table = FitTable(
        (
            Column("Tranche"),
            Column("Available", numeric=True),
            Column("Used", numeric=True),
            Column("Remaining", numeric=True),
            Column("Consumed", numeric=True, justify="left"),
        ),
        title=f"Waterfall ({ccy.code})",
    )
    for tranche in event.tranches:
        name = Text(clean(tranche.name))
        name.append(f"\n{tranche.kind.value}", style="dim")
        table.add_row(
            name,
            compact_amount(tranche.available),
            compact_amount(tranche.used),
            compact_amount(tranche.remaining),
            usage_bar(tranche.used, tranche.available),
        )
    return table


def members_table(
    charges: Sequence[MemberCharge], ccy: Currency, title: str, top: int | None = MEMBERS_SHOWN
) -> RenderableType:
    """Members and what they bore, largest first; beyond the largest ``top``, one summary line."""
    ordered = sorted(charges, key=lambda c: (-c.total.minor_units, c.member))
    shown, rest = (ordered, []) if top is None else (ordered[:top], ordered[top:])
    table = FitTable(
        (
            Column("Member"),
            *(
                Column(heading, numeric=True)
                for heading in ("Default fund", "Assessment", "VM haircut", "Total")
            ),
        ),
        title=f"{title} ({ccy.code})",
    )
    for charge in shown:
        table.add_row(
            Text(clean(charge.member)),
            compact_amount(charge.default_fund),
            compact_amount(charge.assessment),
            compact_amount(charge.vm_haircut),
            compact_amount(charge.total),
        )
    if not rest:
        return table
    rest_total = Money.zero(ccy)
    for charge in rest:
        rest_total += charge.total
    return Group(table, more_members_line(len(rest), format_money(rest_total)))


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


def _surplus_line(event: EventResult) -> Text:
    parts = [
        f"{clean(member)} {format_money(amount)}" for member, amount in event.defaulter_surplus
    ]
    line = Text("Defaulter surplus returned to the estate: ", style="dim")
    line.append(", ".join(parts) if parts else "none")
    return line


def _render_totals(result: CaseResult, top: int | None) -> list[RenderableType]:
    summary = summarise(result)
    title = f"Totals over {summary.events} event{'s' if summary.events != 1 else ''}"
    table = FitTable((Column(style="dim"), Column(numeric=True)), boxed=False)
    rows = (
        ("Loss", summary.loss),
        ("Defaulter resources used", summary.defaulter_resources_used),
        ("CCP capital used", summary.ccp_capital_used),
        ("Members' default fund used", summary.member_fund_used),
        ("Assessments", summary.assessments),
        ("VM gains haircut", summary.vm_haircut),
        ("Uncovered", summary.uncovered),
    )
    for label, amount in rows:
        style = "bold red" if label == "Uncovered" and not amount.is_zero() else ""
        table.add_row(label, Text(format_money(amount), style=style))
    share = format_share(summary.member_fund_share_used)
    table.add_row(
        "Share of members' fund used", f"{share} of {format_money(summary.member_fund_before)}"
    )
    parts: list[RenderableType] = [Text(""), Heading(title), table]
    if len(result.events) > 1 and result.totals:
        parts.append(Text(""))
        parts.append(
            members_table(result.totals, result.case.currency, "Members over all events", top)
        )
    if not summary.uncovered.is_zero():
        parts.append(uncovered_panel(summary.uncovered))
    return parts

"""The run view: the waterfall of a case, event by event, as tables read at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.reports.formatting import (
    compact_amount,
    format_date,
    format_money,
    format_share,
    usage_bar,
)
from ccpwaterfall.waterfall.result import CaseResult, EventResult, MemberCharge, ReplenishmentCall
from ccpwaterfall.waterfall.summary import summarise

MEMBERS_SHOWN = 20  # longer member lists show the largest and one line for the rest


def render_run(result: CaseResult) -> RenderableType:
    """The whole case: a heading, each event's waterfall, then the totals."""
    case = result.case
    parts: list[RenderableType] = [
        Text.assemble((case.name, "bold"), f"\n{case.ccp_name} · {case.currency.code}"),
    ]
    for event in result.events:
        parts.extend(render_event(result, event))
    parts.extend(_render_totals(result))
    return Group(*parts)


def render_event(result: CaseResult, event: EventResult) -> list[RenderableType]:
    """One event: header, tranche table, members bearing a loss, surplus, uncovered loss."""
    ccy = result.case.currency
    count = len(result.events)
    defaulters = ", ".join(event.defaulters)
    title = f"Event {event.index + 1} of {count} · {format_date(event.date)} · {defaulters}"
    header = Table.grid(padding=(0, 2))
    header.add_column(style="dim")
    header.add_column()
    header.add_row("Defaulters", Text(defaulters))
    header.add_row("Loss", format_money(event.loss))
    for member, loss in event.losses if len(event.losses) > 1 else ():
        header.add_row(Text(f"  {member}"), format_money(loss))
    header.add_row("Replenished before", "yes" if event.replenished_before else "no")
    if event.cooling_off_end is not None:
        header.add_row("Cooling-off ends", event.cooling_off_end.isoformat())
    parts: list[RenderableType] = [
        Text(""),
        Rule(Text(title), align="left"),
        header,
        Text(""),
        _tranche_table(event, ccy),
        Text(""),
    ]
    if event.members:
        parts.append(members_table(event.members, ccy, title="Survivors bearing a loss"))
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
    pieces.extend(f"{name} {format_money(amount)}" for name, amount in call.ccp_capital)
    return Text(f"Replenishment due {due}: " + "; ".join(pieces))


def _tranche_table(event: EventResult, ccy: Currency) -> Table:
    table = Table(
        title=f"Waterfall ({ccy.code})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("Tranche", ratio=1, min_width=16, overflow="fold")
    table.add_column("Available", justify="right", no_wrap=True)
    table.add_column("Used", justify="right", no_wrap=True)
    table.add_column("Remaining", justify="right", no_wrap=True)
    table.add_column("Consumed", no_wrap=True)
    for tranche in event.tranches:
        name = Text(tranche.name)
        name.append(f"\n{tranche.kind.value}", style="dim")
        table.add_row(
            name,
            compact_amount(tranche.available),
            compact_amount(tranche.used),
            compact_amount(tranche.remaining),
            usage_bar(tranche.used, tranche.available),
        )
    return table


def members_table(charges: Sequence[MemberCharge], ccy: Currency, title: str) -> RenderableType:
    """Members and what they bore, largest first; beyond the largest 20, one summary line."""
    ordered = sorted(charges, key=lambda c: (-c.total.minor_units, c.member))
    shown, rest = ordered[:MEMBERS_SHOWN], ordered[MEMBERS_SHOWN:]
    table = Table(
        title=f"{title} ({ccy.code})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("Member", overflow="fold")
    for heading in ("Default fund", "Assessment", "VM haircut", "Total"):
        table.add_column(heading, justify="right", no_wrap=True)
    for charge in shown:
        table.add_row(
            Text(charge.member),
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
    more = Text(f"... and {len(rest)} more members: total {format_money(rest_total)}", "dim")
    return Group(table, more)


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
    parts = [f"{member} {format_money(amount)}" for member, amount in event.defaulter_surplus]
    line = Text("Defaulter surplus returned to the estate: ", style="dim")
    line.append(", ".join(parts) if parts else "none")
    return line


def _render_totals(result: CaseResult) -> list[RenderableType]:
    summary = summarise(result)
    title = f"Totals over {summary.events} event{'s' if summary.events != 1 else ''}"
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column(justify="right")
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
    parts: list[RenderableType] = [Text(""), Rule(title, align="left"), table]
    if len(result.events) > 1 and result.totals:
        parts.append(Text(""))
        parts.append(
            members_table(result.totals, result.case.currency, title="Members over all events")
        )
    if not summary.uncovered.is_zero():
        parts.append(uncovered_panel(summary.uncovered))
    return parts

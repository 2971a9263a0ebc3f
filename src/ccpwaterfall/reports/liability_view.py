"""The liability view: a member's maximum loss under the rulebook, and what it pays."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.domain import CoolingOff, Money
from ccpwaterfall.reports.formatting import (
    compact_amount,
    format_amount,
    format_date,
    format_money,
)
from ccpwaterfall.reports.layout import Column, FitTable, Heading, clean
from ccpwaterfall.waterfall.liability import Liability, MemberRole


def describe_cooling_off(period: CoolingOff | None) -> str:
    """The period caps are counted over, in words."""
    if period is None:
        return "each event on its own (no cooling-off period)"
    text = f"a cooling-off period of {period.business_days} business days from a default"
    if period.extend_per_default:
        text += (
            f", extended to {period.extend_per_default} business days after each further"
            " default within it"
        )
    if period.max_business_days is not None:
        text += f", at most {period.max_business_days} business days in all"
    return text


def render_liability(liability: Liability) -> RenderableType:
    """The member's maximum loss per event or period, then what it bears in the case."""
    member = liability.member
    per = "event" if liability.cooling_off is None else "cooling-off period"
    who = clean(member.id if member.name is None else f"{member.id} ({member.name})")
    parts: list[RenderableType] = [
        Text.assemble(
            (f"Liability of {who}", "bold"), f"\n{clean(liability.ccp)} · {clean(liability.case)}"
        ),
    ]

    limits = FitTable(
        (Column("Layer"), Column("At risk", numeric=True)),
        title=f"Maximum loss per {per} ({liability.currency.code})",
    )
    limits.add_row(
        Text(f"Default fund contribution (of {format_money(member.default_fund)})"),
        format_amount(liability.default_fund_at_risk),
    )
    for cap in liability.assessment_caps:
        limits.add_row(
            Text(f"{clean(cap.tranche)}: {cap.cap_multiple} x contribution, rounded down"),
            format_amount(cap.cap),
        )
    if len(liability.assessment_caps) > 1:
        limits.add_row(
            Text("Assessments in all: the tranches share one count, the largest cap binds"),
            format_amount(liability.assessment_cap),
        )
    if not liability.assessment_caps:
        limits.add_row(
            Text("Assessments: none in the rulebook"), format_amount(liability.assessment_cap)
        )
    limits.add_row(
        Text(f"VM gains haircut (of gains {format_money(member.vm_gains)}; once in all)"),
        format_amount(liability.vm_gains_at_risk),
        end_section=True,
    )
    limits.add_row(
        Text(f"Maximum per {per}", style="bold"),
        Text(format_amount(liability.max_total), style="bold"),
    )
    parts.extend([Text(""), limits, Text("")])
    parts.append(Text(f"Assessment caps count over {describe_cooling_off(liability.cooling_off)}."))
    if liability.default is not None:
        parts.append(
            Text(
                f"{clean(member.id)} defaults in this case ({format_date(liability.default.date)}, "
                f"loss {format_money(liability.default.loss)}): its own initial margin and "
                f"default fund ({format_money(liability.own_resources_at_risk)} in the "
                "waterfall) are used first for its own loss.",
                style="yellow",
            )
        )

    parts.extend([Text(""), Heading("In this case's events")])
    parts.append(_events_table(liability))
    paid = liability.paid
    parts.append(Text(f"Borne as a survivor over all events: {format_money(paid.total)}"))
    return Group(*parts)


def _events_table(liability: Liability) -> FitTable:
    defaults = liability.default is not None
    headings = ("Fund", "Assessed", "Haircut", "Total", *(("Own used",) if defaults else ()))
    table = FitTable(
        (
            Column("#", numeric=True),
            Column("Date", numeric=True),
            Column("Role"),
            *(Column(heading, numeric=True) for heading in headings),
        ),
        title=f"Per event ({liability.currency.code})",
        caption="Fund: from its default fund contribution. Assessed: cash called from it. "
        "Haircut: of its VM gains."
        + (" Own used: its own IM and DF used for its own default." if defaults else ""),
    )
    own_total = Money.zero(liability.currency)
    for row in liability.events:
        own_total += row.own_resources_used
        cells: list[str | Text] = [
            str(row.index + 1),
            format_date(row.date),
            row.role.value,
            *_compact(row.charge.default_fund, row.charge.assessment, row.charge.vm_haircut),
            compact_amount(row.charge.total),
        ]
        if defaults:
            cells.append(compact_amount(row.own_resources_used))
        style = "dim" if row.role is MemberRole.DEFAULTED_BEFORE else ""
        table.add_row(*cells, style=style)
    paid = liability.paid
    totals: list[str | Text] = [
        "",
        Text("Total", style="bold"),
        "",
        *_compact(paid.default_fund, paid.assessment, paid.vm_haircut),
        compact_amount(paid.total),
    ]
    if defaults:
        totals.append(compact_amount(own_total))
    table.add_section()
    table.add_row(*totals)
    return table


def _compact(*amounts: Money) -> list[str | Text]:
    return [compact_amount(a) for a in amounts]


def liability_to_json(liability: Liability) -> dict[str, object]:
    """The liability as JSON-ready data; amounts are exact decimal strings."""
    period = liability.cooling_off
    default = liability.default
    paid = liability.paid
    return {
        "format": "ccp-liability/1",
        "case": liability.case,
        "ccp": liability.ccp,
        "currency": liability.currency.code,
        "member": liability.member.id,
        "default_fund_at_risk": str(liability.default_fund_at_risk.amount),
        "assessment_caps": [
            {"tranche": c.tranche, "cap_multiple": str(c.cap_multiple), "cap": str(c.cap.amount)}
            for c in liability.assessment_caps
        ],
        "assessment_cap": str(liability.assessment_cap.amount),
        "vm_gains_at_risk": str(liability.vm_gains_at_risk.amount),
        "max_total": str(liability.max_total.amount),
        "per": "event" if period is None else "cooling_off_period",
        "cooling_off": None
        if period is None
        else {
            "business_days": period.business_days,
            "extend_per_default": period.extend_per_default,
            "max_business_days": period.max_business_days,
        },
        "default": None
        if default is None
        else {
            "date": None if default.date is None else default.date.isoformat(),
            "loss": str(default.loss.amount),
            "own_resources_at_risk": str(liability.own_resources_at_risk.amount),
        },
        "events": [
            {
                "date": None if row.date is None else row.date.isoformat(),
                "role": row.role.value,
                "default_fund": str(row.charge.default_fund.amount),
                "assessment": str(row.charge.assessment.amount),
                "vm_haircut": str(row.charge.vm_haircut.amount),
                "total": str(row.charge.total.amount),
                "own_resources_used": str(row.own_resources_used.amount),
            }
            for row in liability.events
        ],
        "totals": {
            "default_fund": str(paid.default_fund.amount),
            "assessment": str(paid.assessment.amount),
            "vm_haircut": str(paid.vm_haircut.amount),
            "total": str(paid.total.amount),
        },
    }

"""The liability view: a member's maximum loss under the rulebook, and what it pays.

``liability_view`` decides the rows once (each layer at risk, each event);
``render_liability`` and ``liability_to_json`` (``ccp-liability/1``) both read it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.domain import CoolingOff, Currency, Money
from ccpwaterfall.reports.formatting import (
    compact_amount,
    format_amount,
    format_date,
    format_money,
)
from ccpwaterfall.reports.layout import Column, FitTable, Heading, clean
from ccpwaterfall.waterfall.liability import Liability, MemberRole
from ccpwaterfall.waterfall.result import MemberCharge


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


@dataclass(frozen=True, slots=True)
class AtRisk:
    """A layer of the member's maximum loss: what it is, and how much of the member it takes."""

    label: str
    amount: Money


@dataclass(frozen=True, slots=True)
class CapRow:
    tranche: str
    cap_multiple: Decimal
    cap: Money


@dataclass(frozen=True, slots=True)
class OwnDefault:
    """The member's own default in the case."""

    date: dt.date | None
    loss: Money
    own_resources_at_risk: Money
    note: str  # in words, for the text view


@dataclass(frozen=True, slots=True)
class EventRow:
    number: int  # counting from 1
    date: dt.date | None
    role: str
    charge: MemberCharge
    own_resources_used: Money
    defaulted_before: bool


@dataclass(frozen=True, slots=True)
class LiabilityView:
    """A member's liability as shown: each layer at risk in order, then each event."""

    case: str
    ccp: str
    currency: Currency
    member: str
    who: str  # the member's id, with its name when it has one
    per: str  # event | cooling-off period
    layers: tuple[AtRisk, ...]
    default_fund_at_risk: Money
    assessment_caps: tuple[CapRow, ...]
    assessment_cap: Money
    vm_gains_at_risk: Money
    max_total: Money
    cooling_off: CoolingOff | None
    cooling_off_text: str
    default: OwnDefault | None
    events: tuple[EventRow, ...]
    paid: MemberCharge
    own_resources_used: Money  # over all events


def liability_view(liability: Liability) -> LiabilityView:
    """The view of a member's liability."""
    member = liability.member
    layers = [
        AtRisk(
            f"Default fund contribution (of {format_money(member.default_fund)})",
            liability.default_fund_at_risk,
        ),
        *(
            AtRisk(f"{cap.tranche}: {cap.cap_multiple} x contribution, rounded down", cap.cap)
            for cap in liability.assessment_caps
        ),
    ]
    if len(liability.assessment_caps) > 1:
        layers.append(
            AtRisk(
                "Assessments in all: the tranches share one count, the largest cap binds",
                liability.assessment_cap,
            )
        )
    if not liability.assessment_caps:
        layers.append(AtRisk("Assessments: none in the rulebook", liability.assessment_cap))
    layers.append(
        AtRisk(
            f"VM gains haircut (of gains {format_money(member.vm_gains)}; once in all)",
            liability.vm_gains_at_risk,
        )
    )
    default = None
    if liability.default is not None:
        own = liability.own_resources_at_risk
        default = OwnDefault(
            date=liability.default.date,
            loss=liability.default.loss,
            own_resources_at_risk=own,
            note=(
                f"{member.id} defaults in this case ({format_date(liability.default.date)}, "
                f"loss {format_money(liability.default.loss)}): its own initial margin and "
                f"default fund ({format_money(own)} in the waterfall) are used first for its "
                "own loss."
            ),
        )
    own_total = Money.zero(liability.currency)
    for row in liability.events:
        own_total += row.own_resources_used
    return LiabilityView(
        case=liability.case,
        ccp=liability.ccp,
        currency=liability.currency,
        member=member.id,
        who=member.id if member.name is None else f"{member.id} ({member.name})",
        per="event" if liability.cooling_off is None else "cooling-off period",
        layers=tuple(layers),
        default_fund_at_risk=liability.default_fund_at_risk,
        assessment_caps=tuple(
            CapRow(c.tranche, c.cap_multiple, c.cap) for c in liability.assessment_caps
        ),
        assessment_cap=liability.assessment_cap,
        vm_gains_at_risk=liability.vm_gains_at_risk,
        max_total=liability.max_total,
        cooling_off=liability.cooling_off,
        cooling_off_text=describe_cooling_off(liability.cooling_off),
        default=default,
        events=tuple(
            EventRow(
                number=row.index + 1,
                date=row.date,
                role=row.role.value,
                charge=row.charge,
                own_resources_used=row.own_resources_used,
                defaulted_before=row.role is MemberRole.DEFAULTED_BEFORE,
            )
            for row in liability.events
        ),
        paid=liability.paid,
        own_resources_used=own_total,
    )


def render_liability(view: LiabilityView) -> RenderableType:
    """The member's maximum loss per event or period, then what it bears in the case."""
    parts: list[RenderableType] = [
        Text.assemble(
            (f"Liability of {clean(view.who)}", "bold"), f"\n{clean(view.ccp)} · {clean(view.case)}"
        ),
    ]
    limits = FitTable(
        (Column("Layer"), Column("At risk", numeric=True)),
        title=f"Maximum loss per {view.per} ({view.currency.code})",
    )
    last = len(view.layers) - 1
    for n, layer in enumerate(view.layers):
        limits.add_row(Text(clean(layer.label)), format_amount(layer.amount), end_section=n == last)
    limits.add_row(
        Text(f"Maximum per {view.per}", style="bold"),
        Text(format_amount(view.max_total), style="bold"),
    )
    parts.extend([Text(""), limits, Text("")])
    parts.append(Text(f"Assessment caps count over {view.cooling_off_text}."))
    if view.default is not None:
        parts.append(Text(clean(view.default.note), style="yellow"))
    parts.extend([Text(""), Heading("In this case's events")])
    parts.append(_events_table(view))
    parts.append(Text(f"Borne as a survivor over all events: {format_money(view.paid.total)}"))
    return Group(*parts)


def _events_table(view: LiabilityView) -> FitTable:
    defaults = view.default is not None
    headings = ("Fund", "Assessed", "Haircut", "Total", *(("Own used",) if defaults else ()))
    table = FitTable(
        (
            Column("#", numeric=True),
            Column("Date", numeric=True),
            Column("Role"),
            *(Column(heading, numeric=True) for heading in headings),
        ),
        title=f"Per event ({view.currency.code})",
        caption="Fund: from its default fund contribution. Assessed: cash called from it. "
        "Haircut: of its VM gains."
        + (" Own used: its own IM and DF used for its own default." if defaults else ""),
    )
    for row in view.events:
        cells: list[str | Text] = [
            str(row.number),
            format_date(row.date),
            row.role,
            *_compact(row.charge.default_fund, row.charge.assessment, row.charge.vm_haircut),
            compact_amount(row.charge.total),
        ]
        if defaults:
            cells.append(compact_amount(row.own_resources_used))
        table.add_row(*cells, style="dim" if row.defaulted_before else "")
    paid = view.paid
    totals: list[str | Text] = [
        "",
        Text("Total", style="bold"),
        "",
        *_compact(paid.default_fund, paid.assessment, paid.vm_haircut),
        compact_amount(paid.total),
    ]
    if defaults:
        totals.append(compact_amount(view.own_resources_used))
    table.add_section()
    table.add_row(*totals)
    return table


def _compact(*amounts: Money) -> list[str | Text]:
    return [compact_amount(a) for a in amounts]


def liability_to_json(view: LiabilityView) -> dict[str, object]:
    """The liability as JSON-ready data; amounts are exact decimal strings."""
    period = view.cooling_off
    default = view.default
    paid = view.paid
    return {
        "format": "ccp-liability/1",
        "case": view.case,
        "ccp": view.ccp,
        "currency": view.currency.code,
        "member": view.member,
        "default_fund_at_risk": str(view.default_fund_at_risk.amount),
        "assessment_caps": [
            {"tranche": c.tranche, "cap_multiple": str(c.cap_multiple), "cap": str(c.cap.amount)}
            for c in view.assessment_caps
        ],
        "assessment_cap": str(view.assessment_cap.amount),
        "vm_gains_at_risk": str(view.vm_gains_at_risk.amount),
        "max_total": str(view.max_total.amount),
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
            "own_resources_at_risk": str(default.own_resources_at_risk.amount),
        },
        "events": [
            {
                "date": None if row.date is None else row.date.isoformat(),
                "role": row.role,
                "default_fund": str(row.charge.default_fund.amount),
                "assessment": str(row.charge.assessment.amount),
                "vm_haircut": str(row.charge.vm_haircut.amount),
                "total": str(row.charge.total.amount),
                "own_resources_used": str(row.own_resources_used.amount),
            }
            for row in view.events
        ],
        "totals": {
            "default_fund": str(paid.default_fund.amount),
            "assessment": str(paid.assessment.amount),
            "vm_haircut": str(paid.vm_haircut.amount),
            "total": str(paid.total.amount),
        },
    }

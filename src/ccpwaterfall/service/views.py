"""Chart view models of the service's own pages, built from the report views."""

from __future__ import annotations

from dataclasses import dataclass

from ccpwaterfall.reports.charts import LiabilityChart, MemberAmountsChart, MemberChargeBar
from ccpwaterfall.reports.formatting import format_date, format_money
from ccpwaterfall.reports.liability_view import LiabilityView


@dataclass(frozen=True, slots=True)
class LiabilityCharts:
    """A member's charts: its maximum loss by layer, and what it paid in each event."""

    at_risk: MemberAmountsChart
    paid: LiabilityChart | None  # None: the case has no event the member bore

    def all(self) -> tuple[MemberAmountsChart | LiabilityChart, ...]:
        return (self.at_risk,) if self.paid is None else (self.at_risk, self.paid)


def liability_charts(view: LiabilityView) -> LiabilityCharts:
    """The charts of a member's liability page: only that member's figures."""
    ccy = view.currency
    at_risk = MemberAmountsChart(
        f"{view.member}: maximum loss per {view.per} ({ccy.code})",
        f"At most {format_money(view.max_total)}",
        ccy,
        "At risk",
        tuple((layer.label, layer.amount) for layer in view.layers),
        None,
    )
    bars = tuple(
        MemberChargeBar(
            f"Event {row.number} · {format_date(row.date)}",
            row.charge.default_fund,
            row.charge.assessment,
            row.charge.vm_haircut,
        )
        for row in view.events
    )
    paid = (
        LiabilityChart(f"{view.member}: paid per event ({ccy.code})", ccy, bars) if bars else None
    )
    return LiabilityCharts(at_risk, paid)

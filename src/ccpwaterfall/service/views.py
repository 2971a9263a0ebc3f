"""Chart view models of the service's own pages, built from the report views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccpwaterfall.domain import Money
from ccpwaterfall.reports.charts import (
    CHART_FONT,
    CHART_MEMBERS,
    CHART_WIDTH,
    LiabilityChart,
    MemberAmountsChart,
    MemberChargeBar,
    chart_spec,
)
from ccpwaterfall.reports.formatting import format_date, format_money
from ccpwaterfall.reports.liability_view import LiabilityView
from ccpwaterfall.reports.simulation_view import SimulationView


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


@dataclass(frozen=True, slots=True)
class TrancheOddsChart:
    """Each tranche in rulebook order: how often the simulated paths reach it and how often
    they exhaust it, then how often a loss is left uncovered."""

    title: str
    rows: tuple[tuple[str, float, float], ...]  # (tranche, reached, exhausted)
    uncovered: float


@dataclass(frozen=True, slots=True)
class SimulationCharts:
    odds: TrancheOddsChart
    members: MemberAmountsChart  # each member's expected shortfall, largest first

    def all(self) -> tuple[TrancheOddsChart | MemberAmountsChart, ...]:
        return (self.odds, self.members)


def simulation_charts(view: SimulationView) -> SimulationCharts:
    """The charts of a simulation page."""
    ccy = view.header.currency
    odds = TrancheOddsChart(
        f"How often each tranche is reached and exhausted ({view.paths:,} paths)",
        tuple(
            (f"{i}. {row.name}", row.reached.value, row.exhausted.value)
            for i, row in enumerate(view.tranches, start=1)
        ),
        view.uncovered.value,
    )
    ranked = sorted(view.members, key=lambda m: (-m.total.es.minor_units, m.id))
    shown = ranked[:CHART_MEMBERS]
    rest = ranked[CHART_MEMBERS:]
    others = None
    if rest:
        total = Money.zero(ccy)
        for member in rest:
            total += member.total.es
        others = (f"{len(rest)} other members", total)
    members = MemberAmountsChart(
        f"What each member pays in the worst {view.tail_paths:,} paths ({ccy.code})",
        f"Expected shortfall at {100 * view.confidence:g}%",
        ccy,
        "Expected shortfall",
        tuple((m.id, m.total.es) for m in shown),
        others,
    )
    return SimulationCharts(odds, members)


@chart_spec.register
def _odds_spec(chart: TrancheOddsChart) -> dict[str, Any]:
    import altair as alt  # noqa: PLC0415 (drawing only)

    rows: list[dict[str, object]] = []
    for order, (tranche, reached, exhausted) in enumerate(chart.rows):
        rows.append({"bar": tranche, "order": order, "measure": "reached", "p": reached})
        rows.append({"bar": tranche, "order": order, "measure": "exhausted", "p": exhausted})
    rows.append(
        {
            "bar": "Uncovered loss",
            "order": len(chart.rows),
            "measure": "reached",
            "p": chart.uncovered,
        }
    )
    ranked = [str(row["bar"]) for row in rows if row["measure"] == "reached"]
    bars = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_bar()
        .encode(
            x=alt.X("p:Q", title="share of paths", axis=alt.Axis(format="%")),
            y=alt.Y("bar:N", sort=ranked, title=None),
            yOffset=alt.YOffset("measure:N"),
            color=alt.Color(
                "measure:N",
                scale=alt.Scale(domain=["reached", "exhausted"], range=["#2171b5", "#d62728"]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=["bar:N", "measure:N", alt.Tooltip("p:Q", format=".3%")],
        )
        .properties(width=CHART_WIDTH, title=chart.title)
    )
    spec: dict[str, Any] = bars.configure(font=CHART_FONT).configure_view(stroke=None).to_dict()
    return spec

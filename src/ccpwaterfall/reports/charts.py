"""Chart view models, built from the report view models, and their Vega-Lite specifications.

One view model per chart, each a frozen dataclass decided once from a view the
terminal and JSON already read (``run_view``, ``margin_view``, ``fund_view``):

- ``WaterfallChart``: an event's tranches stacked in rulebook order, what each
  had available against what it used, and the uncovered loss in red;
- ``MemberChargesChart``: what the members bore, by default fund, assessment and
  VM haircut, largest first;
- ``LiabilityChart``: what the survivors bore in each event, by layer;
- ``MemberAmountsChart``: one amount per member, largest first (initial margin,
  default fund contributions).

``chart_spec`` gives a chart's Vega-Lite specification (drawn with Altair),
which a page can show interactively with the Vega JavaScript served alongside
it (``vl_convert.javascript_bundle``); ``chart_svg`` draws it as SVG offline
(``vl-convert``), with no browser and no network. Amounts are exact money in
the view models, and decimal strings in the specification's data (as in the JSON
results), which Vega reads as numbers only to draw the bars.

Altair and vl-convert are imported only by the functions that draw, so building
the view models costs nothing for a command that never draws.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import singledispatch
from typing import TYPE_CHECKING, Any

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.reports.formatting import format_money
from ccpwaterfall.reports.run_view import ChargeTable, EventView, RunView

if TYPE_CHECKING:  # the risk views load numpy, which a waterfall's charts never need
    from ccpwaterfall.reports.eod_view import EndOfDayView
    from ccpwaterfall.reports.fund_view import FundView
    from ccpwaterfall.reports.margin_view import MarginView

CHART_MEMBERS = 15  # bars per member chart; the rest is one bar
CHART_WIDTH = 560
CHART_FONT = "DejaVu Sans"  # shipped with fontconfig on Debian, and the report's CSS font

UNCOVERED_COLOUR = "#d62728"
# Tranches in rulebook order, senior resources dark: no red, which is the uncovered loss's.
_TRANCHE_COLOURS = (
    "#08306b",
    "#2171b5",
    "#4292c6",
    "#6baed6",
    "#31a354",
    "#74c476",
    "#a1d99b",
    "#fd8d3c",
    "#fdae6b",
    "#9e9ac8",
    "#756bb1",
    "#969696",
)
_LAYER_COLOURS = ("#2171b5", "#fd8d3c", "#9e9ac8")  # default fund, assessment, VM haircut
_LAYERS = ("Default fund", "Assessment", "VM haircut")
# Axis labels as the tables write amounts: 1.5bn, 107m.
_MONEY_LABELS = (
    "abs(datum.value) >= 1e9 ? format(datum.value / 1e9, '.3~g') + 'bn'"
    " : abs(datum.value) >= 1e6 ? format(datum.value / 1e6, '.3~g') + 'm'"
    " : format(datum.value, ',.3~g')"
)
AVAILABLE_BAR = "Available"
USED_BAR = "Used"
UNCOVERED_SEGMENT = "Uncovered"
OTHERS = "others"  # the kind of the bar of the members not shown one by one


@dataclass(frozen=True, slots=True)
class TrancheSegment:
    """One tranche of an event: its place in the rulebook (from 1), what it had and used."""

    order: int
    name: str
    kind: str
    available: Money
    used: Money

    @property
    def label(self) -> str:
        return f"{self.order}. {self.name}"


@dataclass(frozen=True, slots=True)
class WaterfallChart:
    """An event's waterfall: the tranches stacked in rulebook order, available against used,
    then the loss no tranche covered (zero when covered)."""

    title: str
    currency: Currency
    tranches: tuple[TrancheSegment, ...]
    uncovered: Money


@dataclass(frozen=True, slots=True)
class MemberChargeBar:
    """What one member (or the members not shown, together) bore, by layer."""

    member: str
    default_fund: Money
    assessment: Money
    vm_haircut: Money

    @property
    def total(self) -> Money:
        return self.default_fund + self.assessment + self.vm_haircut


@dataclass(frozen=True, slots=True)
class MemberChargesChart:
    """Members and what they bore by layer, largest first; ``rest`` the others together."""

    title: str
    currency: Currency
    members: tuple[MemberChargeBar, ...]
    rest: MemberChargeBar | None


@dataclass(frozen=True, slots=True)
class LiabilityChart:
    """What the survivors bore in each event, by layer (one bar per event)."""

    title: str
    currency: Currency
    events: tuple[MemberChargeBar, ...]  # ``member`` is the event's label


@dataclass(frozen=True, slots=True)
class MemberAmountsChart:
    """One amount per member, largest first, and the others together as one bar."""

    title: str
    subtitle: str
    currency: Currency
    measure: str  # what the amount is, for the axis
    members: tuple[tuple[str, Money], ...]
    rest: tuple[str, Money] | None


Chart = WaterfallChart | MemberChargesChart | LiabilityChart | MemberAmountsChart


# --------------------------------------------------------------------------- view models


def waterfall_chart(event: EventView) -> WaterfallChart:
    """The waterfall of one event of a run view."""
    return WaterfallChart(
        title=event.title,
        currency=event.currency,
        tranches=tuple(
            TrancheSegment(i + 1, t.name, t.kind, t.available, t.used)
            for i, t in enumerate(event.tranches)
        ),
        uncovered=Money.zero(event.currency) if event.uncovered is None else event.uncovered,
    )


def member_charges_chart(charges: ChargeTable, top: int = CHART_MEMBERS) -> MemberChargesChart:
    """The members of a charge table, the ``top`` that bore most as bars; the members past
    them, and those the table itself leaves out, as one more bar."""
    ccy = charges.currency
    bars = [
        MemberChargeBar(c.member, c.default_fund, c.assessment, c.vm_haircut) for c in charges.rows
    ]
    shown, rest = bars[:top], bars[top:]
    count = len(rest) + (charges.more.count if charges.more is not None else 0)
    others = None
    if count:
        zero = Money.zero(ccy)
        fund = sum((b.default_fund for b in rest), zero)
        assessment = sum((b.assessment for b in rest), zero)
        haircut = sum((b.vm_haircut for b in rest), zero)
        if charges.more is not None:
            # The table kept only their total: show it as the fund's, the first layer.
            fund += charges.more.total
        others = MemberChargeBar(_others(count), fund, assessment, haircut)
    return MemberChargesChart(charges.title, ccy, tuple(shown), others)


def liability_chart(view: RunView) -> LiabilityChart:
    """What the survivors bore in each event of a run, by layer."""
    ccy = view.currency
    zero = Money.zero(ccy)
    bars = []
    for event in view.result.events:
        label = f"Event {event.index + 1}"
        bars.append(
            MemberChargeBar(
                label,
                sum((c.default_fund for c in event.members), zero),
                sum((c.assessment for c in event.members), zero),
                sum((c.vm_haircut for c in event.members), zero),
            )
        )
    return LiabilityChart(f"Survivors' liability per event ({ccy.code})", ccy, tuple(bars))


def margin_chart(view: MarginView, top: int = CHART_MEMBERS) -> MemberAmountsChart:
    """Initial margin by member, largest first."""
    ccy = view.header.currency
    amounts = tuple((m.id, m.initial_margin) for m in view.members)
    return _ranked(
        f"Initial margin by member ({ccy.code})",
        f"Total {format_money(view.total)}",
        ccy,
        "Initial margin",
        amounts,
        top,
    )


def contributions_chart(view: FundView, top: int = CHART_MEMBERS) -> MemberAmountsChart:
    """Default fund contributions by member, largest first, with the fund and its Cover-N."""
    ccy = view.header.currency
    sizing = view.sizing
    ordered = sorted(view.contributions, key=lambda item: (-item[1].minor_units, item[0]))
    return _ranked(
        f"Default fund contributions ({ccy.code})",
        f"Fund {format_money(view.fund)}; Cover-{sizing.cover_n} "
        f"{format_money(sizing.cover.amount)}",
        ccy,
        "Contribution",
        tuple(ordered),
        top,
    )


@dataclass(frozen=True, slots=True)
class EventCharts:
    """An event's charts: its waterfall, and its survivors' charges when any bore a loss."""

    waterfall: WaterfallChart
    charges: MemberChargesChart | None


@dataclass(frozen=True, slots=True)
class RunCharts:
    """A run's charts: the liability per event, each event's (in the run view's order), and
    the members over all events when there are several events."""

    liability: LiabilityChart
    events: tuple[EventCharts, ...]
    members: MemberChargesChart | None

    def all(self) -> tuple[Chart, ...]:
        charts: list[Chart] = [self.liability]
        for event in self.events:
            charts.append(event.waterfall)
            if event.charges is not None:
                charts.append(event.charges)
        if self.members is not None:
            charts.append(self.members)
        return tuple(charts)


@dataclass(frozen=True, slots=True)
class EndOfDayCharts:
    """An end of day's charts: margin by member, the fund's contributions, and the worst
    Cover-N default's run."""

    margin: MemberAmountsChart
    contributions: MemberAmountsChart
    worst_run: RunCharts

    def all(self) -> tuple[Chart, ...]:
        return (self.margin, self.contributions, *self.worst_run.all())


def run_charts(view: RunView) -> RunCharts:
    """Every chart of a run view."""
    return RunCharts(
        liability=liability_chart(view),
        events=tuple(
            EventCharts(
                waterfall_chart(event),
                None if event.survivors is None else member_charges_chart(event.survivors),
            )
            for event in view.events
        ),
        members=None if view.members is None else member_charges_chart(view.members),
    )


def end_of_day_charts(view: EndOfDayView) -> EndOfDayCharts:
    """Every chart of an end-of-day view."""
    return EndOfDayCharts(
        margin=margin_chart(view.margin),
        contributions=contributions_chart(view.fund),
        worst_run=run_charts(view.worst_run),
    )


def _ranked(
    title: str,
    subtitle: str,
    ccy: Currency,
    measure: str,
    amounts: Sequence[tuple[str, Money]],
    top: int,
) -> MemberAmountsChart:
    shown, rest = amounts[:top], amounts[top:]
    others = None
    if rest:
        others = (_others(len(rest)), sum((amount for _, amount in rest), Money.zero(ccy)))
    return MemberAmountsChart(title, subtitle, ccy, measure, tuple(shown), others)


def _others(count: int) -> str:
    return f"{count} other member{'' if count == 1 else 's'}"


# --------------------------------------------------------------------------- Vega-Lite


@singledispatch
def chart_spec(chart: object) -> dict[str, Any]:
    """The chart's Vega-Lite specification, its data inline."""
    raise TypeError(f"not a chart: {type(chart).__name__}")


@chart_spec.register
def _waterfall_spec(chart: WaterfallChart) -> dict[str, Any]:
    import altair as alt  # noqa: PLC0415 (drawing only)

    ccy = chart.currency
    rows: list[dict[str, object]] = []
    for tranche in chart.tranches:
        for bar, amount in ((AVAILABLE_BAR, tranche.available), (USED_BAR, tranche.used)):
            rows.append(_row(bar, tranche.order, tranche.label, amount, tranche.kind))
    segments = [t.label for t in chart.tranches]
    colours = [_TRANCHE_COLOURS[i % len(_TRANCHE_COLOURS)] for i in range(len(segments))]
    if not chart.uncovered.is_zero():
        rows.append(
            _row(USED_BAR, len(segments) + 1, UNCOVERED_SEGMENT, chart.uncovered, "uncovered")
        )
        segments.append(UNCOVERED_SEGMENT)
        colours.append(UNCOVERED_COLOUR)
        subtitle = f"UNCOVERED LOSS: {format_money(chart.uncovered)} beyond the waterfall"
        subtitle_colour = UNCOVERED_COLOUR
    else:
        subtitle = "Loss covered within the waterfall"
        subtitle_colour = "#555555"
    bars = (
        alt.Chart(_inline(rows))
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("amount:Q", stack="zero", title=f"{ccy.code}", axis=_money_axis()),
            y=alt.Y("bar:N", sort=[AVAILABLE_BAR, USED_BAR], title=None),
            color=alt.Color(
                "segment:N",
                scale=alt.Scale(domain=segments, range=colours),
                sort=segments,
                legend=alt.Legend(
                    title="Tranche, in rulebook order", orient="bottom", columns=2, labelLimit=320
                ),
            ),
            order=alt.Order("order:Q", sort="ascending"),
            tooltip=["segment:N", "kind:N", "bar:N", "exact:N"],
        )
    )
    return _finish(
        bars.properties(
            width=CHART_WIDTH,
            height=90,
            title=alt.Title(chart.title, subtitle=subtitle, subtitleColor=subtitle_colour),
        )
    )


@chart_spec.register
def _charges_spec(chart: MemberChargesChart) -> dict[str, Any]:
    return _layers_spec(chart.title, chart.currency, chart.members, chart.rest)


@chart_spec.register
def _liability_spec(chart: LiabilityChart) -> dict[str, Any]:
    return _layers_spec(chart.title, chart.currency, chart.events)


@chart_spec.register
def _amounts_spec(chart: MemberAmountsChart) -> dict[str, Any]:
    import altair as alt  # noqa: PLC0415 (drawing only)

    rows = [
        _row(label, i, chart.measure, amount, "") for i, (label, amount) in enumerate(chart.members)
    ]
    if chart.rest is not None:
        rows.append(_row(chart.rest[0], len(rows), chart.measure, chart.rest[1], OTHERS))
    order = [str(row["bar"]) for row in rows]
    bars = (
        alt.Chart(_inline(rows))
        .mark_bar(color=_TRANCHE_COLOURS[1])
        .encode(
            x=alt.X(
                "amount:Q", title=f"{chart.measure} ({chart.currency.code})", axis=_money_axis()
            ),
            y=alt.Y("bar:N", sort=order, title=None),
            opacity=_others_faded(),
            tooltip=["bar:N", "exact:N"],
        )
    )
    return _finish(
        bars.properties(
            width=CHART_WIDTH,
            height=alt.Step(16),
            title=alt.Title(chart.title, subtitle=chart.subtitle),
        )
    )


def _layers_spec(
    title: str,
    ccy: Currency,
    bars: Sequence[MemberChargeBar],
    others: MemberChargeBar | None = None,
) -> dict[str, Any]:
    """Horizontal bars stacked by layer: default fund, assessment, VM haircut; the bar of the
    ``others`` together last, faded."""
    import altair as alt  # noqa: PLC0415 (drawing only)

    rows = []
    everyone = [(bar, "") for bar in bars] + ([] if others is None else [(others, OTHERS)])
    for bar, kind in everyone:
        layers = (bar.default_fund, bar.assessment, bar.vm_haircut)
        for order, (layer, amount) in enumerate(zip(_LAYERS, layers, strict=True)):
            rows.append(_row(bar.member, order, layer, amount, kind))
    bars = [bar for bar, _ in everyone]
    chart = (
        alt.Chart(_inline(rows))
        .mark_bar()
        .encode(
            x=alt.X("amount:Q", stack="zero", title=ccy.code, axis=_money_axis()),
            y=alt.Y("bar:N", sort=[bar.member for bar in bars], title=None),
            color=alt.Color(
                "segment:N",
                scale=alt.Scale(domain=list(_LAYERS), range=list(_LAYER_COLOURS)),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            order=alt.Order("order:Q", sort="ascending"),
            opacity=_others_faded(),
            tooltip=["bar:N", "segment:N", "exact:N"],
        )
        .properties(width=CHART_WIDTH, height=alt.Step(16))
    )
    return _finish(chart.properties(title=title))


def _others_faded() -> Any:
    """The bar of the members not shown one by one, faded: a sum, not a member."""
    import altair as alt  # noqa: PLC0415 (drawing only)

    return alt.condition(f"datum.kind === '{OTHERS}'", alt.value(0.45), alt.value(1.0))


def _money_axis() -> Any:
    import altair as alt  # noqa: PLC0415 (drawing only)

    return alt.Axis(labelExpr=_MONEY_LABELS)


def decimal_text(amount: Money) -> str:
    """The amount as a decimal string in its minor unit (``"10700000.00"``), as JSON has it."""
    # Fixed-point: str() of a Decimal may switch to exponents.
    return format(amount.amount, "f")


def _inline(rows: list[dict[str, object]]) -> Any:
    """The rows as the chart's data: amounts are decimal strings, read as numbers by Vega."""
    import altair as alt  # noqa: PLC0415 (drawing only)

    return alt.InlineData(values=rows, format={"parse": {"amount": "number"}})


def _row(bar: str, order: int, segment: str, amount: Money, kind: str) -> dict[str, object]:
    # Exact in the specification: the bar's length as a decimal string, the tooltip with
    # its currency; only the drawing reads the length as a number.
    return {
        "bar": bar,
        "order": order,
        "segment": segment,
        "kind": kind,
        "amount": decimal_text(amount),
        "exact": format_money(amount),
    }


def _finish(chart: Any) -> dict[str, Any]:
    # The font the SVG is measured in is the one a page (and WeasyPrint) draws it in.
    configured = chart.configure(font=CHART_FONT).configure_view(stroke=None)
    spec: dict[str, Any] = configured.to_dict()
    return spec


# The bundle's snippet: the three libraries as globals, for the pages' own scripts.
_GLOBALS = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"


def chart_javascript() -> str:
    """Vega, Vega-Lite and Vega-Embed in one script with nothing to import or fetch, for a page
    that serves it itself and draws ``chart_spec`` in the browser: it sets ``window.vegaEmbed``
    (and ``window.vega``, ``window.vegaLite``)."""
    import vl_convert  # noqa: PLC0415 (drawing only)

    bundle: str = vl_convert.javascript_bundle(_GLOBALS)
    return bundle


# --------------------------------------------------------------------------- SVG

_SVG_ID = re.compile(r'\bid="([^"]+)"')


def chart_svg(chart: Chart, key: str = "chart") -> str:
    """The chart drawn as an SVG element, offline; element ids are prefixed with ``key`` so
    that several charts inline in one page never share an id."""
    import vl_convert  # noqa: PLC0415 (drawing only)

    svg: str = vl_convert.vegalite_to_svg(chart_spec(chart))
    return _prefix_ids(svg, key)


def _prefix_ids(svg: str, key: str) -> str:
    ids = set(_SVG_ID.findall(svg))
    if not ids:
        return svg

    def renamed(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{key}-{name}{match.group(3)}" if name in ids else match.group(0)

    patterns: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
        (re.compile(r'(\bid=")([^"]+)(")'), renamed),
        (re.compile(r"(url\(#)([^)]+)(\))"), renamed),
        (re.compile(r'(href="#)([^"]+)(")'), renamed),
    )
    for pattern, replace in patterns:
        svg = pattern.sub(replace, svg)
    return svg

"""Reports as self-contained HTML: the tables of ``ccp run`` and ``ccp eod``, and their charts.

The pages are Jinja2 templates shipped in the package (``reports/templates``):
a base layout (``base.html.j2``, its CSS inline), one page per report
(``run_report.html.j2``, ``eod_report.html.j2``) and one partial per section
(``partials/``), each reading only a view model (``RunView``, ``EndOfDayView``)
and its charts (``RunCharts``, ``EndOfDayCharts``). Every text from a case is
escaped (autoescape is on for every template), so HTML in a member's name shows
as written.

A template draws a chart by calling ``draw(chart)``: by default each chart
becomes an inline SVG drawn offline (``svg_drawer``), so the file needs no
network to be read or printed. A page served live can pass ``embed_drawer``
instead, which leaves each chart's Vega-Lite specification for the Vega
JavaScript the page serves itself (``charts.chart_javascript``), and reuse the
same templates.

Amounts are exact: each money cell shows the amount with thousands separators
and carries it as a decimal string in ``data-value`` (``"10700000.00"``), as in
the JSON results.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ccpwaterfall.domain import Money
from ccpwaterfall.reports.charts import (
    Chart,
    EndOfDayCharts,
    RunCharts,
    chart_spec,
    chart_svg,
    decimal_text,
    end_of_day_charts,
    run_charts,
)
from ccpwaterfall.reports.formatting import (
    compact_amount,
    format_amount,
    format_date,
    format_money,
    format_share,
    share_of,
)
from ccpwaterfall.reports.run_view import RunView

if TYPE_CHECKING:  # the risk views load numpy, which a waterfall's report never needs
    from ccpwaterfall.reports.eod_view import EndOfDayView

#: Draws a chart for a page: markup that the page shows as is.
Draw = Callable[[Chart], Markup]


def svg_drawer() -> Draw:
    """Draws each chart as an inline SVG, each with ids of its own."""
    numbers = itertools.count(1)

    def draw(chart: Chart) -> Markup:
        # vl-convert writes every text of the chart escaped: the SVG is safe markup.
        return Markup(chart_svg(chart, f"chart{next(numbers)}"))

    return draw


#: Draws every placeholder that ``embed_drawer`` left, once the page has run the script of
#: ``charts.chart_javascript``.
EMBED_SCRIPT = """\
document.querySelectorAll("[data-vega-lite]").forEach((element) => {
  vegaEmbed(element, JSON.parse(element.dataset.vegaLite), {actions: false, renderer: "svg"});
});
"""


def embed_drawer() -> Draw:
    """Draws each chart as a placeholder holding its Vega-Lite specification, for a page that
    serves ``chart_javascript()`` and runs ``EMBED_SCRIPT``: the charts are drawn in the
    browser, with their tooltips, and still with no network."""

    def draw(chart: Chart) -> Markup:
        spec = json.dumps(chart_spec(chart), separators=(",", ":"), ensure_ascii=False)
        # format() escapes the specification into the attribute.
        return Markup('<div class="chart-embed" data-vega-lite="{}"></div>').format(spec)

    return draw


@cache
def environment() -> Environment:
    """The templates, every one autoescaped, with the filters that write amounts."""
    env = Environment(
        loader=PackageLoader("ccpwaterfall.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = format_money
    env.filters["amount"] = format_amount
    env.filters["compact"] = compact_amount
    env.filters["decimal"] = decimal_text
    env.filters["date"] = format_date
    env.filters["consumed"] = consumed
    return env


def consumed(used: Money, available: Money) -> str:
    """The share of a tranche used, as the terminal's bar writes it; ``-`` when it had none."""
    return format_share(share_of(used, available)) if not available.is_zero() else "-"


def run_report_html(
    view: RunView, charts: RunCharts | None = None, draw: Draw | None = None
) -> str:
    """The report of a case run: its events, charts and totals, as one HTML document."""
    return (
        environment()
        .get_template("run_report.html.j2")
        .render(
            view=view,
            charts=run_charts(view) if charts is None else charts,
            draw=svg_drawer() if draw is None else draw,
        )
    )


def end_of_day_report_html(
    view: EndOfDayView, charts: EndOfDayCharts | None = None, draw: Draw | None = None
) -> str:
    """The report of an end of day: margin, stress, fund, drills and the worst default's
    run, with their charts, as one HTML document."""
    return (
        environment()
        .get_template("eod_report.html.j2")
        .render(
            view=view,
            charts=end_of_day_charts(view) if charts is None else charts,
            draw=svg_drawer() if draw is None else draw,
        )
    )

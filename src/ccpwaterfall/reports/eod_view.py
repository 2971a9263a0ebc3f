"""The end-of-day view: margin, stress, fund and drills, and the worst default in full.

``eod_view`` builds one view of each part (``margin_view``, ``stress_view``,
``fund_view``, ``run_view`` of the worst Cover-N default); ``render_end_of_day``
and ``end_of_day_to_json`` (``ccp-eod/1``) read only those views.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.lifecycle import EndOfDay
from ccpwaterfall.reports.fund_view import (
    FundView,
    contributions_table,
    fund_section,
    fund_view,
    render_drills,
    sizing_rows,
)
from ccpwaterfall.reports.margin_view import MarginView, margin_parts, margin_section, margin_view
from ccpwaterfall.reports.notes import SUMMARY_ROWS
from ccpwaterfall.reports.risk_figures import (
    ROWS_SHOWN,
    RiskHeader,
    document,
    heading,
    render_header,
    risk_header,
)
from ccpwaterfall.reports.run_view import RunView, render_run, run_to_json, run_view
from ccpwaterfall.reports.stress_view import StressView, cover_rows, stress_section, stress_view


@dataclass(frozen=True, slots=True)
class EndOfDayView:
    """Each part of the end of day as shown, and the worst Cover-N default's run."""

    header: RiskHeader
    margin: MarginView
    stress: StressView
    fund: FundView
    worst_scenario: str
    worst_groups: tuple[str, ...]
    worst_run: RunView


def eod_view(
    eod: EndOfDay, top: int | None = SUMMARY_ROWS, run_top: int | None = ROWS_SHOWN
) -> EndOfDayView:
    """The end-of-day view: the summaries show the ``top`` largest members, the worst
    default's run ``run_top`` (``None``: all of them)."""
    inputs = eod.inputs
    worst = eod.worst_drill
    return EndOfDayView(
        header=risk_header(inputs),
        margin=margin_view(inputs, eod.margin, top),
        stress=stress_view(inputs, eod.stress, eod.fund, eod.reverse),
        fund=fund_view(inputs, eod.stress, eod.fund, eod.drills, top),
        worst_scenario=worst.scenario_name,
        worst_groups=worst.groups,
        worst_run=run_view(worst.result, run_top),
    )


def end_of_day_to_json(view: EndOfDayView) -> dict[str, object]:
    """The whole end of day as JSON-ready data: margin, stress, fund with its drills, and the
    worst Cover-N default's full ``ccp-result/1`` result."""
    return document("eod", view.header) | {
        "margin": margin_section(view.margin),
        "stress": stress_section(view.stress),
        "fund": fund_section(view.fund),
        "worst_drill": {
            "scenario": view.worst_scenario,
            "groups": list(view.worst_groups),
            "result": run_to_json(view.worst_run),
        },
    }


def render_end_of_day(view: EndOfDayView) -> RenderableType:
    """The end of day: margin, stress, fund and contributions summaries, the drill table, and
    the worst Cover-N default through the waterfall in full."""
    n = view.fund.sizing.cover_n
    parts: list[RenderableType] = [render_header(view.header)]
    parts += heading("Initial margin")
    parts += margin_parts(view.margin)
    parts += heading("Stress tests")
    parts += [cover_rows(view.stress)]
    parts += heading("Default fund")
    parts += [sizing_rows(view.fund), Text(""), contributions_table(view.fund)]
    parts += heading("Default drills")
    parts += [Text(""), render_drills(view.fund.drills, view.header.currency)]
    parts += heading(f"The worst Cover-{n} default through the waterfall")
    parts += [Text(""), render_run(view.worst_run)]
    return Group(*parts)

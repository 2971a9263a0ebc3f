"""The stress view: each scenario's largest groups, Cover-1/2, EMIR Art 42(3), reverse stress.

Exposures are stress losses over margin per member group (affiliates as one).
``stress_view`` reads the groups of each scenario from the ranking the stress
run recorded (``StressRun.ranking``) and the pair totals from its Cover-2, so
the view never ranks or sums again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.domain import Money
from ccpwaterfall.lifecycle import EndOfDayInputs, FundRun, StressRun
from ccpwaterfall.reports.formatting import compact_amount
from ccpwaterfall.reports.layout import Column, FitTable, clean, pairs
from ccpwaterfall.reports.risk_figures import (
    CoverFigure,
    RiskHeader,
    amount_json,
    cover_figure,
    cover_json,
    cover_text,
    document,
    multiplier,
    number_json,
    render_header,
    risk_header,
    risk_money,
)
from ccpwaterfall.risk.params import CoverBasis
from ccpwaterfall.risk.reverse_stress import ReverseStress

_LARGEST = 2  # the groups each scenario shows


@dataclass(frozen=True, slots=True)
class GroupExposure:
    group: str
    exposure: Money
    loses: bool  # a loss over margin at all (shown), before rounding to the minor unit


@dataclass(frozen=True, slots=True)
class ScenarioReverse:
    """How far a scenario can be scaled: ``multiplier`` None when never exhausted on the grid."""

    multiplier: float | None
    text: str


@dataclass(frozen=True, slots=True)
class ScenarioStress:
    name: str
    largest: tuple[GroupExposure, ...]  # at most two, largest first
    two_largest: Money
    all_groups: Money
    sets_cover2: bool
    reverse: ScenarioReverse | None


@dataclass(frozen=True, slots=True)
class StressView:
    """The stress figures as shown; ``reverse_grid`` and ``reverse_summary``: None without a
    reverse-stress grid."""

    header: RiskHeader
    scenarios: tuple[ScenarioStress, ...]
    cover1: CoverFigure
    cover2: CoverFigure
    art42_floor: CoverFigure
    cover_n: int
    beyond_own_fund: CoverFigure
    reverse_grid: tuple[float, ...] | None
    reverse_summary: str | None


def stress_view(
    inputs: EndOfDayInputs, stress: StressRun, fund: FundRun, reverse: ReverseStress | None
) -> StressView:
    """The stress view of a stress run, with the fund's Cover-N beyond own fund and, when
    computed, the reverse-stress multipliers."""
    ccy = inputs.currency
    group_ids = inputs.portfolio.group_ids
    names = stress.scenario_names
    take = min(_LARGEST, stress.ranking.shape[0])
    scenarios = []
    # One row per scenario: formatting, not array code.
    for s, name in enumerate(names):
        largest = []
        for r in range(take):
            group = int(stress.ranking[r, s])
            exposure = float(stress.exposures[group, s])
            largest.append(GroupExposure(group_ids[group], risk_money(exposure, ccy), exposure > 0))
        scenarios.append(
            ScenarioStress(
                name=name,
                largest=tuple(largest),
                two_largest=risk_money(stress.cover2.per_scenario[s], ccy),
                all_groups=risk_money(float(stress.exposures[:, s].sum()), ccy),
                sets_cover2=s == stress.cover2.scenario,
                reverse=None if reverse is None else _scenario_reverse(reverse, s),
            )
        )
    return StressView(
        header=risk_header(inputs),
        scenarios=tuple(scenarios),
        cover1=cover_figure(stress.cover1, names, group_ids, ccy),
        cover2=cover_figure(stress.cover2, names, group_ids, ccy),
        art42_floor=cover_figure(stress.art42_floor, names, group_ids, ccy),
        cover_n=fund.sizing.params.cover,
        beyond_own_fund=cover_figure(fund.cover_beyond_own_fund, names, group_ids, ccy),
        reverse_grid=None if reverse is None else tuple(float(m) for m in reverse.multipliers),
        reverse_summary=None if reverse is None else _reverse_summary(reverse, names),
    )


def _scenario_reverse(reverse: ReverseStress, scenario: int) -> ScenarioReverse:
    return ScenarioReverse(
        number_json(float(reverse.multiplier[scenario])), _reverse_text(reverse, scenario)
    )


def _reverse_text(reverse: ReverseStress, scenario: int) -> str:
    value = float(reverse.multiplier[scenario])
    grid = reverse.multipliers
    if not math.isfinite(value):
        return f"not exhausted on the grid up to {multiplier(float(grid[-1]))}"
    if reverse.headroom[0, scenario] < 0.0 and reverse.tolerance is None:
        return f"exhausted at {multiplier(float(grid[0]))} already"
    # Rounded down: a reverse-stress multiplier is shown never above the crossing.
    shown = f"{math.floor(value * 100) / 100:.2f}x"
    if reverse.headroom[0, scenario] < 0.0:
        return f"{shown} (below the grid's {multiplier(float(grid[0]))})"
    return shown


def _reverse_summary(reverse: ReverseStress, names: tuple[str, ...]) -> str:
    worst = reverse.worst_scenario
    grid = ", ".join(multiplier(float(m)) for m in reverse.multipliers)
    if math.isfinite(reverse.min_multiplier):
        return (
            f"'{names[worst]}' exhausts the prefunded waterfall first, "
            f"at {_reverse_text(reverse, worst)} (grid {grid})"
        )
    return (
        f"no scenario exhausts the prefunded waterfall on the grid up to "
        f"{multiplier(float(reverse.multipliers[-1]))} (grid {grid})"
    )


# --------------------------------------------------------------------------- JSON


def stress_to_json(view: StressView) -> dict[str, object]:
    """Stress exposures as JSON-ready data: per scenario the two largest groups and total,
    Cover-1, Cover-2, the EMIR Art 42(3) floor, Cover-N beyond own fund, reverse stress.

    Exposures are stress loss over margin per group, decimal strings (negative when
    margin covers the loss); a reverse-stress multiplier never reached on the grid is
    ``null``.
    """
    return document("stress", view.header) | stress_section(view)


def stress_section(view: StressView) -> dict[str, object]:
    """The stress figures without the document header (also the end of day's ``stress``)."""
    return {
        "basis": CoverBasis.LOSS_OVER_MARGIN.value,
        "scenarios": [
            {
                "name": scenario.name,
                "largest": [
                    {"group": g.group, "exposure": amount_json(g.exposure)}
                    for g in scenario.largest
                ],
                "two_largest": amount_json(scenario.two_largest),
                "all_groups": amount_json(scenario.all_groups),
                "reverse_stress": None
                if scenario.reverse is None
                else {
                    "multiplier": scenario.reverse.multiplier,
                    "exhausted_on_grid": scenario.reverse.multiplier is not None,
                },
            }
            for scenario in view.scenarios
        ],
        "cover1": cover_json(view.cover1),
        "cover2": cover_json(view.cover2),
        "art42_floor": cover_json(view.art42_floor),
        "cover_beyond_own_fund": {"cover": view.cover_n, **cover_json(view.beyond_own_fund)},
        "reverse_stress_grid": None if view.reverse_grid is None else list(view.reverse_grid),
    }


# --------------------------------------------------------------------------- rendering


def render_stress(view: StressView) -> RenderableType:
    """The stress view: each scenario's two largest groups, Cover-1/2, Art 42(3), reverse stress.

    The bold pair total is the scenario that sets Cover-2.
    """
    notes = Text(
        "Cover-N: the N member groups with the largest stress loss over margin in the worst "
        "scenario (CPMI-IOSCO PQD 4.4.3 / 4.4.7). Art 42(3): the default fund alone covers the "
        "largest group, or the second and third if larger. Beyond own fund: each group's "
        "loss beyond its own contribution too (BoE 2024 SST). Reverse stress: the multiple of "
        "the scenario at which the defaulters' loss exhausts the prefunded waterfall.",
        style="dim",
    )
    return Group(
        render_header(view.header),
        Text(""),
        _stress_table(view),
        Text(""),
        cover_rows(view),
        Text(""),
        notes,
    )


def _stress_table(view: StressView) -> FitTable:
    reverse = view.reverse_grid is not None
    table = FitTable(
        (
            Column("Scenario"),
            Column("Largest"),
            Column("Second"),
            Column("Two largest", numeric=True),
            Column("All groups", numeric=True),
            *((Column("Exhausts prefunded at"),) if reverse else ()),
        ),
        title=f"Stress loss over margin by member group ({view.header.currency.code})",
    )
    for scenario in view.scenarios:
        cells: list[str | Text] = [clean(scenario.name)]
        for r in range(_LARGEST):
            cells.append(_group_cell(scenario.largest[r] if r < len(scenario.largest) else None))
        style = "bold" if scenario.sets_cover2 else ""
        cells.append(Text(compact_amount(scenario.two_largest), style=style))
        cells.append(compact_amount(scenario.all_groups))
        if scenario.reverse is not None:
            cells.append(scenario.reverse.text)
        table.add_row(*cells)
    return table


def _group_cell(group: GroupExposure | None) -> Text:
    if group is None or not group.loses:
        return Text("-", style="dim")
    cell = Text(clean(group.group))
    cell.append(f"\n{compact_amount(group.exposure)}", style="dim")
    return cell


def cover_rows(view: StressView) -> FitTable:
    """Cover-1, Cover-2, the Art 42(3) floor, Cover-N beyond own fund and reverse stress."""
    rows: list[tuple[str, str | Text]] = [
        ("Cover-1", cover_text(view.cover1)),
        ("Cover-2", cover_text(view.cover2)),
        ("EMIR Art 42(3) floor", cover_text(view.art42_floor)),
        (f"Cover-{view.cover_n} beyond own fund", cover_text(view.beyond_own_fund)),
    ]
    if view.reverse_summary is not None:
        rows.append(("Reverse stress", clean(view.reverse_summary)))
    return pairs(rows)

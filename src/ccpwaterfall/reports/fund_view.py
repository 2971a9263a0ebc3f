"""The fund view: its size, what set it, each member's exact contribution, and every drill.

``fund_view`` decides the rows and figures once: the sizing read from the
fund's recorded ``FundSizing`` (its binding constraint, its Cover-N), the
contributions largest first, and each stress scenario's Cover-N default drill
in a few exact figures. ``render_fund`` and ``fund_to_json`` (``ccp-fund/1``)
both read that view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.lifecycle import Drill, EndOfDayInputs, FundRun, StressRun
from ccpwaterfall.reports.formatting import compact_amount, format_amount, format_money
from ccpwaterfall.reports.layout import Column, FitTable, clean, pairs
from ccpwaterfall.reports.risk_figures import (
    CoverFigure,
    RiskHeader,
    amount_json,
    cover_figure,
    cover_json,
    cover_text,
    descending,
    document,
    percent,
    render_header,
    risk_header,
    risk_money,
    share,
)
from ccpwaterfall.risk.fund import SizingConstraint
from ccpwaterfall.risk.params import ContributionMethod, CoverBasis
from ccpwaterfall.waterfall.kinds import TRANCHE_KINDS, TrancheRole
from ccpwaterfall.waterfall.summary import summarise

_BASIS_NAMES = {
    CoverBasis.LOSS_OVER_MARGIN: "stress loss over margin (CPMI-IOSCO PQD 4.4.3 / 4.4.7)",
    CoverBasis.BEYOND_OWN_FUND: "stress loss beyond margin and own contribution (BoE 2024 SST)",
}


@dataclass(frozen=True, slots=True)
class FundSizingView:
    """How the fund was sized; amounts rounded at the border, ``cap`` None when uncapped."""

    size: Money
    set_by: str  # the binding constraint's name in JSON
    set_by_text: str
    basis: str
    basis_text: str
    cover_n: int
    cover: CoverFigure
    art42_floor: Money
    sitg_junior: Money
    required: Money
    buffer: float
    floor: Money
    cap: Money | None
    method: str
    method_text: str
    margin_weight: float
    minimum_contribution: Money
    static_contribution: Money
    own_contributions: Money
    shows_own_contributions: bool  # on the beyond-own-fund basis
    rounds: int
    converged: bool


@dataclass(frozen=True, slots=True)
class ContributionRow:
    member: str
    group: str
    contribution: Money
    share: str  # of the fund, as shown


@dataclass(frozen=True, slots=True)
class DrillRow:
    """One stress scenario's Cover-N default through the waterfall, in exact figures."""

    scenario: str
    groups: tuple[str, ...]
    defaulters: tuple[str, ...]
    sets_fund: bool
    loss: Money
    loss_beyond_margin: Money
    deepest_tranche: str
    ccp_capital_used: Money
    member_fund_used: Money
    assessments: Money
    vm_haircut: Money
    uncovered: Money


@dataclass(frozen=True, slots=True)
class FundView:
    """The fund as shown: ``contributions`` in the members' order, ``largest`` the table's
    rows (largest first), ``more`` the row for the rest."""

    header: RiskHeader
    fund: Money
    sizing: FundSizingView
    contributions: tuple[tuple[str, Money], ...]
    largest: tuple[ContributionRow, ...]
    more: ContributionRow | None
    members: int
    drills: tuple[DrillRow, ...]


def fund_view(
    inputs: EndOfDayInputs,
    stress: StressRun,
    fund: FundRun,
    drills: Sequence[Drill],
    top: int | None = None,
) -> FundView:
    """The fund view; its contributions table shows the ``top`` largest (all: None)."""
    ccy = inputs.currency
    portfolio = inputs.portfolio
    money = fund.contributions_money
    units = np.asarray([m.minor_units for m in money], dtype=np.float64)
    order = descending(units, portfolio.member_ids)
    shown, rest = (order, []) if top is None else (order[:top], order[top:])
    fund_units = float(fund.fund_money.minor_units)

    def row(i: int) -> ContributionRow:
        return ContributionRow(
            member=portfolio.member_ids[i],
            group=portfolio.group_ids[int(portfolio.member_group[i])],
            contribution=money[i],
            share=share(float(units[i]), fund_units),
        )

    more = None
    if rest:
        rest_total = Money.zero(ccy)
        for i in rest:
            rest_total += money[i]
        more = ContributionRow(
            member=f"... and {len(rest)} more (--all shows them)",
            group="",
            contribution=rest_total,
            share=share(float(rest_total.minor_units), fund_units),
        )
    sizing_scenario = fund.sizing.cover.scenario
    return FundView(
        header=risk_header(inputs),
        fund=fund.fund_money,
        sizing=_sizing(inputs, stress, fund),
        contributions=tuple(zip(portfolio.member_ids, money, strict=True)),
        largest=tuple(row(i) for i in shown),
        more=more,
        members=portfolio.n_members,
        drills=tuple(drill_row(d, d.scenario == sizing_scenario) for d in drills),
    )


def _sizing(inputs: EndOfDayInputs, stress: StressRun, fund: FundRun) -> FundSizingView:
    sizing = fund.sizing
    params = sizing.params
    ccy = inputs.currency
    basis = _BASIS_NAMES[params.basis]
    if params.basis is CoverBasis.BEYOND_OWN_FUND and fund.converged:
        basis += f" ({fund.rounds} sizing rounds to a fixed point)"
    elif params.basis is CoverBasis.BEYOND_OWN_FUND:
        basis += (
            f" (no fixed point in {fund.rounds} sizing rounds: the smallest fund"
            " seen that meets its own need)"
        )
    return FundSizingView(
        size=risk_money(sizing.size, ccy),
        set_by=sizing.binding.value,
        set_by_text=_set_by(fund),
        basis=params.basis.value,
        basis_text=basis,
        cover_n=params.cover,
        cover=cover_figure(sizing.cover, stress.scenario_names, inputs.portfolio.group_ids, ccy),
        art42_floor=risk_money(sizing.art42_floor, ccy),
        sitg_junior=risk_money(params.sitg_junior, ccy),
        required=risk_money(sizing.required, ccy),
        buffer=params.buffer,
        floor=risk_money(params.floor, ccy),
        cap=None if params.cap is None else risk_money(params.cap, ccy),
        method=params.method.value,
        method_text=_method_text(fund, ccy),
        margin_weight=params.margin_weight,
        minimum_contribution=risk_money(params.minimum_contribution, ccy),
        static_contribution=risk_money(params.static_contribution, ccy),
        own_contributions=risk_money(sizing.own_contributions, ccy),
        shows_own_contributions=params.basis is CoverBasis.BEYOND_OWN_FUND,
        rounds=fund.rounds,
        converged=fund.converged,
    )


def _set_by(fund: FundRun) -> str:
    params = fund.sizing.params
    buffer = f", plus a {percent(params.buffer)} buffer" if params.buffer else ""
    reasons = {
        SizingConstraint.COVER: f"Cover-{params.cover} less junior skin in the game{buffer}",
        SizingConstraint.ART42_FLOOR: f"the EMIR Art 42(3) floor{buffer}",
        SizingConstraint.FLOOR: "the minimum fund size (floor)",
        SizingConstraint.CAP: "the maximum fund size (cap)",
        SizingConstraint.MINIMUM_CONTRIBUTIONS: "the members' minimum contributions",
    }
    return reasons[fund.sizing.binding]


def _method_text(fund: FundRun, ccy: Currency) -> str:
    params = fund.sizing.params
    if params.method is ContributionMethod.MARGIN:
        text = "pro rata to initial margin"
    elif params.method is ContributionMethod.STRESS:
        text = "pro rata to worst stress loss over margin"
    else:
        text = (
            f"{percent(params.margin_weight)} pro rata to initial margin, "
            f"{percent(1.0 - params.margin_weight)} to worst stress loss over margin"
        )
    if params.minimum_contribution:
        text += f"; minimum {format_money(risk_money(params.minimum_contribution, ccy))}"
    if params.static_contribution:
        text += f"; at least the static {format_money(risk_money(params.static_contribution, ccy))}"
    return text


def drill_row(drill: Drill, sets_fund: bool) -> DrillRow:
    """A drill in a few exact figures, from its waterfall result."""
    summary = summarise(drill.result)
    event = drill.result.events[0]
    margin_used = Money.zero(drill.case.currency)
    for tranche in event.tranches:
        if TrancheRole.DEFAULTER_MARGIN in TRANCHE_KINDS[tranche.kind].roles:
            margin_used += tranche.used
    return DrillRow(
        scenario=drill.scenario_name,
        groups=drill.groups,
        defaulters=drill.defaulters,
        sets_fund=sets_fund,
        loss=drill.loss,
        loss_beyond_margin=drill.loss - margin_used,
        deepest_tranche=drill.deepest_tranche,
        ccp_capital_used=summary.ccp_capital_used,
        member_fund_used=summary.member_fund_used,
        assessments=summary.assessments,
        vm_haircut=summary.vm_haircut,
        uncovered=summary.uncovered,
    )


# --------------------------------------------------------------------------- JSON


def fund_to_json(view: FundView) -> dict[str, object]:
    """Fund sizing, contributions and drills as JSON-ready data.

    Amounts are decimal strings in the case currency's minor unit: sizing figures
    rounded at the border, ``fund``, ``contributions`` and the drills exact (the
    money that enters the waterfall); ``buffer`` and ``margin_weight`` are ratios.
    ``fund`` is the sum of ``contributions``.
    """
    return document("fund", view.header) | fund_section(view)


def fund_section(view: FundView) -> dict[str, object]:
    """The fund figures without the document header (also the end of day's ``fund``)."""
    sizing = view.sizing
    return {
        "size": amount_json(sizing.size),
        "set_by": sizing.set_by,
        "basis": sizing.basis,
        "cover": {"n": sizing.cover_n, **cover_json(sizing.cover)},
        "art42_floor": amount_json(sizing.art42_floor),
        "sitg_junior": amount_json(sizing.sitg_junior),
        "required": amount_json(sizing.required),
        "buffer": sizing.buffer,
        "floor": amount_json(sizing.floor),
        "cap": None if sizing.cap is None else amount_json(sizing.cap),
        "method": sizing.method,
        "margin_weight": sizing.margin_weight,
        "minimum_contribution": amount_json(sizing.minimum_contribution),
        "static_contribution": amount_json(sizing.static_contribution),
        "own_contributions": amount_json(sizing.own_contributions),
        "rounds": sizing.rounds,
        "converged": sizing.converged,
        "fund": amount_json(view.fund),
        "contributions": {member: amount_json(amount) for member, amount in view.contributions},
        "drills": drills_to_json(view.drills),
    }


def drills_to_json(drills: Sequence[DrillRow]) -> list[dict[str, object]]:
    """Each Cover-N drill in a few exact figures (decimal strings, case currency)."""
    return [
        {
            "scenario": drill.scenario,
            "groups": list(drill.groups),
            "defaulters": list(drill.defaulters),
            "loss": amount_json(drill.loss),
            "loss_beyond_margin": amount_json(drill.loss_beyond_margin),
            "deepest_tranche": drill.deepest_tranche,
            "ccp_capital_used": amount_json(drill.ccp_capital_used),
            "member_fund_used": amount_json(drill.member_fund_used),
            "assessments": amount_json(drill.assessments),
            "vm_haircut": amount_json(drill.vm_haircut),
            "uncovered": amount_json(drill.uncovered),
        }
        for drill in drills
    ]


# --------------------------------------------------------------------------- rendering


def render_fund(view: FundView) -> RenderableType:
    """The fund view: size, what set it, the basis, exact contributions, and every drill."""
    return Group(
        render_header(view.header),
        Text(""),
        sizing_rows(view),
        Text(""),
        contributions_table(view),
        Text(""),
        render_drills(view.drills, view.header.currency),
    )


def sizing_rows(view: FundView) -> FitTable:
    """The fund's size, what set it, the basis and every term of the sizing."""
    sizing = view.sizing
    rows: list[tuple[str, str | Text]] = [
        ("Default fund", Text(format_money(view.fund), style="bold")),
        ("Set by", sizing.set_by_text),
        ("Sizing basis", sizing.basis_text),
        (f"Cover-{sizing.cover_n}", cover_text(sizing.cover)),
        ("Junior skin in the game", format_money(sizing.sitg_junior)),
        ("EMIR Art 42(3) floor", format_money(sizing.art42_floor)),
        ("Required before buffer", format_money(sizing.required)),
        ("Buffer", percent(sizing.buffer)),
        ("Floor", format_money(sizing.floor)),
    ]
    if sizing.cap is not None:
        rows.append(("Cap", format_money(sizing.cap)))
    if sizing.shows_own_contributions:
        rows.append(("Own DF of defaulters", format_money(sizing.own_contributions)))
    rows.append(("Contributions", sizing.method_text))
    return pairs(rows)


def contributions_table(view: FundView) -> FitTable:
    """Each member's exact contribution, largest first, then the rest and the fund."""
    table = FitTable(
        (
            Column("Member"),
            Column("Group"),
            Column("Contribution", numeric=True),
            Column("Share", numeric=True),
        ),
        title=f"Default fund contributions ({view.header.currency.code}, exact)",
    )
    for row in view.largest:
        table.add_row(
            clean(row.member), clean(row.group), format_amount(row.contribution), row.share
        )
    if view.more is not None:
        table.add_row(
            Text(view.more.member, style="dim"),
            "",
            format_amount(view.more.contribution),
            view.more.share,
        )
    table.add_section()
    table.add_row(
        Text("Total = fund", style="bold"),
        Text(f"{view.members} members", style="dim"),
        Text(format_amount(view.fund), style="bold"),
        "100.0%" if view.fund.minor_units else "-",
    )
    return table


def render_drills(drills: Sequence[DrillRow], ccy: Currency) -> FitTable:
    """One row per stress scenario: its Cover-N default run through the waterfall.

    Each scenario shows its defaulting groups beneath it; the scenario that sets
    the fund is marked; assessments and an uncovered loss show in red.
    """
    table = FitTable(
        (
            Column("Scenario"),
            Column("Loss", numeric=True),
            Column("Deepest tranche"),
            Column("Fund used", numeric=True),
            Column("Assessed", numeric=True),
            Column("Uncovered", numeric=True),
        ),
        title=f"Default drills: each scenario's Cover-N groups default ({ccy.code})",
    )
    for drill in drills:
        name = Text(clean(drill.scenario))
        if drill.sets_fund:
            name.append(" (sets the fund)", style="bold")
        name.append("\n" + clean(" + ".join(drill.groups)), style="dim")
        assessments = Text(
            compact_amount(drill.assessments),
            style="" if drill.assessments.is_zero() else "red",
        )
        uncovered = Text(
            compact_amount(drill.uncovered),
            style="" if drill.uncovered.is_zero() else "bold red",
        )
        table.add_row(
            name,
            compact_amount(drill.loss),
            clean(drill.deepest_tranche),
            compact_amount(drill.member_fund_used),
            assessments,
            uncovered,
        )
    return table

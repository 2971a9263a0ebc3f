"""Risk views: margin, stress tests, fund sizing, default drills and capital of an end of day.

Risk figures (margin, exposures, Cover-N, capital) are floats; on screen and
in JSON they are rounded to the minor unit at the one border
(``lifecycle.to_money``): shown like money, and in JSON decimal strings in the
currency's minor unit (``"849987569.90"``), like every amount. Only ratios,
multipliers and counts are JSON numbers (``null`` where a figure is infinite,
such as a reverse-stress multiplier never reached). Money that enters the
waterfall (contributions, drill results) is exact.

Array inputs follow ``lifecycle``: members shape (n_members,), groups shape
(n_groups,), exposures shape (n_groups, n_scenarios), all float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.domain import Currency, Money, TrancheKind
from ccpwaterfall.io.result_json import result_to_json
from ccpwaterfall.lifecycle import (
    CapitalRun,
    Drill,
    EndOfDay,
    EndOfDayInputs,
    FundRun,
    MarginRun,
    StressRun,
    to_money,
)
from ccpwaterfall.reports.formatting import compact_amount, format_amount, format_money
from ccpwaterfall.reports.layout import Column, FitTable, Heading, clean, pairs
from ccpwaterfall.reports.run_view import MEMBERS_SHOWN, more_members_line, render_run
from ccpwaterfall.risk.fund import SizingConstraint
from ccpwaterfall.risk.params import (
    AntiProcyclicality,
    ContributionMethod,
    CoverBasis,
    MarginModel,
    VolatilityFilter,
)
from ccpwaterfall.risk.reverse_stress import ReverseStress
from ccpwaterfall.risk.stress import CoverResult
from ccpwaterfall.waterfall.summary import summarise

ROWS_SHOWN = MEMBERS_SHOWN  # member tables show the largest rows, then one line for the rest
SUMMARY_ROWS = 5  # the end-of-day summary shows fewer

_MODEL_NAMES = {
    MarginModel.ES: "expected shortfall",
    MarginModel.VAR: "historical value at risk",
    MarginModel.SPAN: "SPAN scan risk",
}
_FILTER_NAMES = {
    VolatilityFilter.NONE: "none (raw historical moves)",
    VolatilityFilter.EWMA: "EWMA volatility scaling",
    VolatilityFilter.GARCH: "GARCH(1,1) volatility scaling",
}
_BASIS_NAMES = {
    CoverBasis.LOSS_OVER_MARGIN: "stress loss over margin (CPMI-IOSCO PQD 4.4.3 / 4.4.7)",
    CoverBasis.BEYOND_OWN_FUND: "stress loss beyond margin and own contribution (BoE 2024 SST)",
}


# --------------------------------------------------------------------------- numbers


def _number(value: float) -> float | None:
    """A JSON number, or ``None`` for a figure that is not finite (JSON has no infinity)."""
    number = float(value)
    return number if math.isfinite(number) else None


def _amount_json(value: float, ccy: Currency) -> str | None:
    """A float risk amount in JSON: a decimal string in the currency's minor unit.

    Rounded at the border like every amount shown (``"849987569.90"``); ``None``
    for a figure that is not finite.
    """
    if not math.isfinite(float(value)):
        return None
    return _amount(_money(value, ccy))


def _money(value: float, ccy: Currency) -> Money:
    """A float risk figure as money for display, rounded at the border (sign kept)."""
    amount = to_money(abs(float(value)), ccy)
    return -amount if value < 0 else amount


def _short(value: float, ccy: Currency) -> str:
    """A float risk figure in the compact table form: ``107.00m``."""
    return compact_amount(_money(value, ccy))


def _full(value: float, ccy: Currency) -> str:
    """A float risk figure with its currency: ``USD 107,000,000.00``."""
    return format_money(_money(value, ccy))


def _percent(value: float) -> str:
    return f"{100.0 * value:.4g}%"


def _share(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole > 0.0 else "-"


def _multiplier(value: float) -> str:
    return f"{value:g}x"


def _heading(title: str) -> list[RenderableType]:
    return [Text(""), Heading(title)]


def _grid(rows: Sequence[tuple[str, str | Text]]) -> FitTable:
    return pairs(rows)


def _header(inputs: EndOfDayInputs) -> Text:
    return Text.assemble(
        (clean(inputs.name), "bold"), f"\n{clean(inputs.ccp_name)} · {inputs.currency.code}"
    )


def _document(kind: str, inputs: EndOfDayInputs) -> dict[str, object]:
    return {"format": f"ccp-{kind}/1", "case": inputs.name, "currency": inputs.currency.code}


# --------------------------------------------------------------------------- margin


@dataclass(frozen=True, slots=True)
class _ModelTerms:
    """The margin model and its parameters, in words and as JSON-ready data."""

    rows: tuple[tuple[str, str], ...]
    data: dict[str, object]


def _model_terms(inputs: EndOfDayInputs, margin: MarginRun) -> _ModelTerms:
    params = inputs.margin_params
    scenario = inputs.scenario_params
    n_scenarios = len(margin.scenario_names)
    supplied = inputs.scenario_pnl is not None
    if params.model is MarginModel.SPAN:
        source = "SPAN risk arrays"
    else:
        source = "supplied" if supplied else "historical"
    data: dict[str, object] = {
        "margin_model": params.model.value,
        "scenarios": n_scenarios,
        "scenario_source": source,
        "mpor_days": scenario.mpor_days,
        "lookback_days": None if supplied else scenario.lookback_days,
        "volatility_filter": None if supplied else scenario.volatility_filter.value,
        "confidence": params.confidence,
    }
    model = _MODEL_NAMES[params.model]
    if params.model is MarginModel.ES and margin.es_worst is not None:
        data["es_worst"] = margin.es_worst
        model += f": mean of the {margin.es_worst:,} worst scenario losses"
    elif params.model is MarginModel.VAR:
        model += f" at {_percent(params.confidence)}"
    else:
        model += (
            ": per combined commodity, the largest loss over 16 risk-array scenarios,"
            " plus spread charges, less spread credits, at least the short option minimum"
        )
    kind = "risk-array" if params.model is MarginModel.SPAN else source
    scenarios = f"{n_scenarios:,} {kind}, {scenario.mpor_days}-day margin period of risk"
    rows = [("Model", model), ("Scenarios", scenarios)]
    if not supplied:
        lookback = scenario.lookback_days
        rows.append(("Look-back", "whole history" if lookback is None else f"{lookback:,} days"))
        filter_name = _FILTER_NAMES[scenario.volatility_filter]
        if scenario.volatility_filter is VolatilityFilter.EWMA:
            filter_name += f", lambda {scenario.ewma_lambda:g}"
            data["ewma_lambda"] = scenario.ewma_lambda
        rows.append(("Volatility filter", filter_name))
    # The confidence sets the ES count only when es_worst does not.
    if not (params.model is MarginModel.ES and params.es_worst is not None):
        rows.append(("Confidence", _percent(params.confidence)))
    else:
        data["confidence"] = None
    apc = params.anti_procyclicality
    data["anti_procyclicality"] = apc.value
    if apc is AntiProcyclicality.BUFFER:
        data["apc_buffer"] = params.apc_buffer
        apc_text = f"{_percent(params.apc_buffer)} buffer (EMIR RTS 153/2013 Art 28(a))"
    elif apc is AntiProcyclicality.STRESSED_WEIGHT:
        data["apc_stressed_weight"] = params.apc_stressed_weight
        apc_text = (
            f"{_percent(params.apc_stressed_weight)} weight on stressed observations (Art 28(b))"
        )
    elif apc is AntiProcyclicality.TEN_YEAR_FLOOR:
        apc_text = "floor at the margin of a ten-year look-back (Art 28(c))"
    else:
        apc_text = "none"
    rows.append(("Anti-procyclicality", apc_text))
    return _ModelTerms(rows=tuple(rows), data=data)


def _descending(values: NDArray[np.float64], ids: Sequence[str]) -> list[int]:
    """Indexes by value, largest first, ties to the id that sorts first."""
    order = np.lexsort((np.asarray(ids, dtype=str), -values))
    return [int(i) for i in order]


def _margin_section(inputs: EndOfDayInputs, margin: MarginRun) -> dict[str, object]:
    portfolio = inputs.portfolio
    ccy = inputs.currency
    member_order = _descending(margin.member_margin, portfolio.member_ids)
    return {
        "model": _model_terms(inputs, margin).data,
        "total": _amount_json(margin.total, ccy),
        "members": [
            {
                "id": portfolio.member_ids[i],
                "name": portfolio.member_names[i],
                "group": portfolio.group_ids[int(portfolio.member_group[i])],
                "initial_margin": _amount_json(margin.member_margin[i], ccy),
            }
            for i in member_order
        ],
        "groups": {
            group: _amount_json(amount, ccy)
            for group, amount in zip(portfolio.group_ids, margin.group_margin, strict=True)
        },
        "accounts": {
            account: {
                "member": portfolio.member_ids[int(member)],
                "kind": "client" if client else "house",
                "initial_margin": _amount_json(amount, ccy),
            }
            for account, member, client, amount in zip(
                portfolio.account_ids,
                portfolio.account_member,
                portfolio.account_is_client,
                margin.account_margin,
                strict=True,
            )
        },
    }


def margin_to_json(inputs: EndOfDayInputs, margin: MarginRun) -> dict[str, object]:
    """Initial margin as JSON-ready data: model, total, members (largest first), accounts.

    Amounts are decimal strings in the case currency's minor unit.
    """
    return _document("margin", inputs) | _margin_section(inputs, margin)


def _member_margin_table(
    inputs: EndOfDayInputs, margin: MarginRun, top: int | None
) -> RenderableType:
    ccy = inputs.currency
    portfolio = inputs.portfolio
    order = _descending(margin.member_margin, portfolio.member_ids)
    shown, rest = (order, []) if top is None else (order[:top], order[top:])
    table = FitTable(
        (
            Column("Member"),
            Column("Name"),
            Column("Group"),
            Column("Initial margin", numeric=True),
            Column("Share", numeric=True),
        ),
        title=f"Initial margin by member ({ccy.code})",
    )
    total = margin.total
    for i in shown:
        table.add_row(
            clean(portfolio.member_ids[i]),
            clean(portfolio.member_names[i] or ""),
            clean(portfolio.group_ids[int(portfolio.member_group[i])]),
            _short(margin.member_margin[i], ccy),
            _share(float(margin.member_margin[i]), total),
        )
    if not rest:
        return table
    rest_total = float(margin.member_margin[np.asarray(rest)].sum())
    return Group(table, more_members_line(len(rest), _full(rest_total, ccy)))


def render_margin(
    inputs: EndOfDayInputs, margin: MarginRun, top: int | None = ROWS_SHOWN
) -> RenderableType:
    """The margin view: model and parameters, total, members largest first (``top`` rows)."""
    return Group(_header(inputs), Text(""), *_margin_parts(inputs, margin, top))


def _margin_parts(
    inputs: EndOfDayInputs, margin: MarginRun, top: int | None
) -> list[RenderableType]:
    terms = _model_terms(inputs, margin)
    portfolio = inputs.portfolio
    counts = (
        f"{portfolio.n_members} members, {portfolio.n_groups} groups, "
        f"{portfolio.n_accounts} accounts"
    )
    rows: list[tuple[str, str | Text]] = [
        *terms.rows,
        ("Portfolio", counts),
        ("Total initial margin", Text(_full(margin.total, inputs.currency), style="bold")),
    ]
    return [_grid(rows), Text(""), _member_margin_table(inputs, margin, top)]


# --------------------------------------------------------------------------- stress


def _cover_json(
    result: CoverResult, stress: StressRun, group_ids: Sequence[str], ccy: Currency
) -> dict[str, object]:
    return {
        "amount": _amount_json(result.amount, ccy),
        "scenario": stress.scenario_names[result.scenario],
        "groups": [group_ids[g] for g in result.groups],
    }


def _cover_text(
    result: CoverResult, stress: StressRun, group_ids: Sequence[str], ccy: Currency
) -> Text:
    """The amount, then on a second line the groups behind it and their scenario."""
    groups = clean(" + ".join(group_ids[g] for g in result.groups)) or "no group"
    text = Text(_full(result.amount, ccy), style="bold")
    text.append(f"\n{groups} in '{clean(stress.scenario_names[result.scenario])}'", style="dim")
    return text


def _two_largest(exposures: NDArray[np.float64]) -> NDArray[np.intp]:
    """The two largest groups of each scenario: shape (min(2, n_groups), n_scenarios).

    Descending exposure, ties to the lower group index (as ``cover`` picks them).
    """
    take = min(2, exposures.shape[0])
    order: NDArray[np.intp] = np.argsort(-exposures, axis=0, kind="stable")[:take, :]
    return order


def _reverse_json(reverse: ReverseStress | None, scenario: int) -> dict[str, object] | None:
    if reverse is None:
        return None
    multiplier = float(reverse.multiplier[scenario])
    return {
        "multiplier": _number(multiplier),
        "exhausted_on_grid": math.isfinite(multiplier),
    }


def _reverse_text(reverse: ReverseStress, scenario: int) -> str:
    multiplier = float(reverse.multiplier[scenario])
    grid = reverse.multipliers
    if not math.isfinite(multiplier):
        return f"not exhausted on the grid up to {_multiplier(float(grid[-1]))}"
    if reverse.headroom[0, scenario] < 0.0 and reverse.tolerance is None:
        return f"exhausted at {_multiplier(float(grid[0]))} already"
    # Rounded down: a reverse-stress multiplier is shown never above the crossing.
    shown = f"{math.floor(multiplier * 100) / 100:.2f}x"
    if reverse.headroom[0, scenario] < 0.0:
        return f"{shown} (below the grid's {_multiplier(float(grid[0]))})"
    return shown


def _stress_section(eod: EndOfDay) -> dict[str, object]:
    stress, fund, reverse = eod.stress, eod.fund, eod.reverse
    ccy = eod.inputs.currency
    group_ids = eod.inputs.portfolio.group_ids
    largest = _two_largest(stress.exposures)
    ranked = np.take_along_axis(stress.exposures, largest, axis=0)
    scenarios = []
    # One JSON object per scenario: formatting, not array code.
    for s, name in enumerate(stress.scenario_names):
        scenarios.append(
            {
                "name": name,
                "largest": [
                    {
                        "group": group_ids[int(largest[r, s])],
                        "exposure": _amount_json(ranked[r, s], ccy),
                    }
                    for r in range(largest.shape[0])
                ],
                "two_largest": _amount_json(ranked[:, s].sum(), ccy),
                "all_groups": _amount_json(stress.exposures[:, s].sum(), ccy),
                "reverse_stress": _reverse_json(reverse, s),
            }
        )
    return {
        "basis": CoverBasis.LOSS_OVER_MARGIN.value,
        "scenarios": scenarios,
        "cover1": _cover_json(stress.cover1, stress, group_ids, ccy),
        "cover2": _cover_json(stress.cover2, stress, group_ids, ccy),
        "art42_floor": _cover_json(stress.art42_floor, stress, group_ids, ccy),
        "cover_beyond_own_fund": {
            "cover": fund.sizing.params.cover,
            **_cover_json(fund.cover_beyond_own_fund, stress, group_ids, ccy),
        },
        "reverse_stress_grid": None if reverse is None else [float(m) for m in reverse.multipliers],
    }


def stress_to_json(eod: EndOfDay) -> dict[str, object]:
    """Stress exposures as JSON-ready data: per scenario the two largest groups and total,
    Cover-1, Cover-2, the EMIR Art 42(3) floor, Cover-N beyond own fund, reverse stress.

    Exposures are stress loss over margin per group, decimal strings (negative when
    margin covers the loss); a reverse-stress multiplier never reached on the grid is
    ``null``.
    """
    return _document("stress", eod.inputs) | _stress_section(eod)


def _stress_table(eod: EndOfDay) -> FitTable:
    stress, reverse = eod.stress, eod.reverse
    ccy = eod.inputs.currency
    group_ids = eod.inputs.portfolio.group_ids
    largest = _two_largest(stress.exposures)
    ranked = np.take_along_axis(stress.exposures, largest, axis=0)
    table = FitTable(
        (
            Column("Scenario"),
            Column("Largest"),
            Column("Second"),
            Column("Two largest", numeric=True),
            Column("All groups", numeric=True),
            *((Column("Exhausts prefunded at"),) if reverse is not None else ()),
        ),
        title=f"Stress loss over margin by member group ({ccy.code})",
    )
    # One row per scenario: formatting, not array code.
    for s, name in enumerate(stress.scenario_names):
        cells: list[str | Text] = [clean(name)]
        for r in range(2):
            if r < largest.shape[0] and ranked[r, s] > 0.0:
                cell = Text(clean(group_ids[int(largest[r, s])]))
                cell.append(f"\n{_short(ranked[r, s], ccy)}", style="dim")
                cells.append(cell)
            else:
                cells.append(Text("-", style="dim"))
        pair = float(ranked[:, s].sum())
        style = "bold" if s == stress.cover2.scenario else ""
        cells.append(Text(_short(pair, ccy), style=style))
        cells.append(_short(float(stress.exposures[:, s].sum()), ccy))
        if reverse is not None:
            cells.append(_reverse_text(reverse, s))
        table.add_row(*cells)
    return table


def _cover_rows(eod: EndOfDay) -> list[tuple[str, str | Text]]:
    stress, fund = eod.stress, eod.fund
    ccy = eod.inputs.currency
    group_ids = eod.inputs.portfolio.group_ids
    n = fund.sizing.params.cover
    rows: list[tuple[str, str | Text]] = [
        ("Cover-1", _cover_text(stress.cover1, stress, group_ids, ccy)),
        ("Cover-2", _cover_text(stress.cover2, stress, group_ids, ccy)),
        ("EMIR Art 42(3) floor", _cover_text(stress.art42_floor, stress, group_ids, ccy)),
        (
            f"Cover-{n} beyond own fund",
            _cover_text(fund.cover_beyond_own_fund, stress, group_ids, ccy),
        ),
    ]
    reverse = eod.reverse
    if reverse is not None:
        worst = reverse.worst_scenario
        grid = ", ".join(_multiplier(float(m)) for m in reverse.multipliers)
        if math.isfinite(reverse.min_multiplier):
            text = (
                f"'{clean(stress.scenario_names[worst])}' exhausts the prefunded waterfall first, "
                f"at {_reverse_text(reverse, worst)} (grid {grid})"
            )
        else:
            text = (
                f"no scenario exhausts the prefunded waterfall on the grid up to "
                f"{_multiplier(float(reverse.multipliers[-1]))} (grid {grid})"
            )
        rows.append(("Reverse stress", text))
    return rows


def render_stress(eod: EndOfDay) -> RenderableType:
    """The stress view: each scenario's two largest groups, Cover-1/2, Art 42(3), reverse stress.

    Exposures are stress losses over margin per member group (affiliates as one).
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
        _header(eod.inputs),
        Text(""),
        _stress_table(eod),
        Text(""),
        _grid(_cover_rows(eod)),
        Text(""),
        notes,
    )


# --------------------------------------------------------------------------- fund


def _set_by(fund: FundRun) -> str:
    params = fund.sizing.params
    buffer = f", plus a {_percent(params.buffer)} buffer" if params.buffer else ""
    reasons = {
        SizingConstraint.COVER: f"Cover-{params.cover} less junior skin in the game{buffer}",
        SizingConstraint.ART42_FLOOR: f"the EMIR Art 42(3) floor{buffer}",
        SizingConstraint.FLOOR: "the minimum fund size (floor)",
        SizingConstraint.CAP: "the maximum fund size (cap)",
        SizingConstraint.MINIMUM_CONTRIBUTIONS: "the members' minimum contributions",
    }
    return reasons[fund.sizing.binding]


def _method_text(eod: EndOfDay) -> str:
    params = eod.fund.sizing.params
    ccy = eod.inputs.currency
    if params.method is ContributionMethod.MARGIN:
        text = "pro rata to initial margin"
    elif params.method is ContributionMethod.STRESS:
        text = "pro rata to worst stress loss over margin"
    else:
        text = (
            f"{_percent(params.margin_weight)} pro rata to initial margin, "
            f"{_percent(1.0 - params.margin_weight)} to worst stress loss over margin"
        )
    if params.minimum_contribution:
        text += f"; minimum {_full(params.minimum_contribution, ccy)}"
    if params.static_contribution:
        text += f"; at least the static {_full(params.static_contribution, ccy)}"
    return text


def _sizing_section(eod: EndOfDay) -> dict[str, object]:
    fund = eod.fund
    sizing = fund.sizing
    params = sizing.params
    stress = eod.stress
    group_ids = eod.inputs.portfolio.group_ids
    ccy = eod.inputs.currency
    return {
        "size": _amount_json(sizing.size, ccy),
        "set_by": sizing.binding.value,
        "basis": params.basis.value,
        "cover": {
            "n": params.cover,
            **_cover_json(sizing.cover, stress, group_ids, ccy),
        },
        "art42_floor": _amount_json(sizing.art42_floor, ccy),
        "sitg_junior": _amount_json(params.sitg_junior, ccy),
        "required": _amount_json(sizing.required, ccy),
        "buffer": params.buffer,
        "floor": _amount_json(params.floor, ccy),
        "cap": None if params.cap is None else _amount_json(params.cap, ccy),
        "method": params.method.value,
        "margin_weight": params.margin_weight,
        "minimum_contribution": _amount_json(params.minimum_contribution, ccy),
        "static_contribution": _amount_json(params.static_contribution, ccy),
        "own_contributions": _amount_json(sizing.own_contributions, ccy),
        "rounds": fund.rounds,
        "converged": fund.converged,
    }


def _amount(money: Money) -> str:
    # Fixed-point, as in ccp-result/1: str() of a Decimal may switch to exponents.
    return format(money.amount, "f")


def _drill_json(drill: Drill) -> dict[str, object]:
    summary = summarise(drill.result)
    event = drill.result.events[0]
    margin_used = Money.zero(drill.case.currency)
    for tranche in event.tranches:
        if tranche.kind is TrancheKind.DEFAULTER_MARGIN:
            margin_used += tranche.used
    return {
        "scenario": drill.scenario_name,
        "groups": list(drill.groups),
        "defaulters": list(drill.defaulters),
        "loss": _amount(drill.loss),
        "loss_beyond_margin": _amount(drill.loss - margin_used),
        "deepest_tranche": drill.deepest_tranche,
        "ccp_capital_used": _amount(summary.ccp_capital_used),
        "member_fund_used": _amount(summary.member_fund_used),
        "assessments": _amount(summary.assessments),
        "vm_haircut": _amount(summary.vm_haircut),
        "uncovered": _amount(summary.uncovered),
    }


def drills_to_json(drills: Sequence[Drill]) -> list[dict[str, object]]:
    """Each Cover-N drill in a few exact figures (decimal strings, case currency)."""
    return [_drill_json(drill) for drill in drills]


def _fund_section(eod: EndOfDay) -> dict[str, object]:
    fund = eod.fund
    return {
        **_sizing_section(eod),
        "fund": _amount(fund.fund_money),
        "contributions": {
            member: _amount(amount)
            for member, amount in zip(
                eod.inputs.portfolio.member_ids, fund.contributions_money, strict=True
            )
        },
        "drills": drills_to_json(eod.drills),
    }


def fund_to_json(eod: EndOfDay) -> dict[str, object]:
    """Fund sizing, contributions and drills as JSON-ready data.

    Amounts are decimal strings in the case currency's minor unit: sizing figures
    rounded at the border, ``fund``, ``contributions`` and the drills exact (the
    money that enters the waterfall); ``buffer`` and ``margin_weight`` are ratios.
    ``fund`` is the sum of ``contributions``.
    """
    return _document("fund", eod.inputs) | _fund_section(eod)


def _sizing_rows(eod: EndOfDay) -> list[tuple[str, str | Text]]:
    fund = eod.fund
    sizing = fund.sizing
    params = sizing.params
    ccy = eod.inputs.currency
    group_ids = eod.inputs.portfolio.group_ids
    basis = _BASIS_NAMES[params.basis]
    if params.basis is CoverBasis.BEYOND_OWN_FUND and fund.converged:
        basis += f" ({fund.rounds} sizing rounds to a fixed point)"
    elif params.basis is CoverBasis.BEYOND_OWN_FUND:
        basis += (
            f" (no fixed point in {fund.rounds} sizing rounds: the smallest fund"
            " seen that meets its own need)"
        )
    rows: list[tuple[str, str | Text]] = [
        ("Default fund", Text(format_money(fund.fund_money), style="bold")),
        ("Set by", _set_by(fund)),
        ("Sizing basis", basis),
        (f"Cover-{params.cover}", _cover_text(sizing.cover, eod.stress, group_ids, ccy)),
        ("Junior skin in the game", _full(params.sitg_junior, ccy)),
        ("EMIR Art 42(3) floor", _full(sizing.art42_floor, ccy)),
        ("Required before buffer", _full(sizing.required, ccy)),
        ("Buffer", _percent(params.buffer)),
        ("Floor", _full(params.floor, ccy)),
    ]
    if params.cap is not None:
        rows.append(("Cap", _full(params.cap, ccy)))
    if params.basis is CoverBasis.BEYOND_OWN_FUND:
        rows.append(("Own DF of defaulters", _full(sizing.own_contributions, ccy)))
    rows.append(("Contributions", _method_text(eod)))
    return rows


def _contributions_table(eod: EndOfDay, top: int | None) -> RenderableType:
    fund = eod.fund
    ccy = eod.inputs.currency
    portfolio = eod.inputs.portfolio
    units = np.asarray([m.minor_units for m in fund.contributions_money], dtype=np.float64)
    order = _descending(units, portfolio.member_ids)
    shown, rest = (order, []) if top is None else (order[:top], order[top:])
    table = FitTable(
        (
            Column("Member"),
            Column("Group"),
            Column("Contribution", numeric=True),
            Column("Share", numeric=True),
        ),
        title=f"Default fund contributions ({ccy.code}, exact)",
    )
    fund_units = float(fund.fund_money.minor_units)
    for i in shown:
        table.add_row(
            clean(portfolio.member_ids[i]),
            clean(portfolio.group_ids[int(portfolio.member_group[i])]),
            format_amount(fund.contributions_money[i]),
            _share(float(units[i]), fund_units),
        )
    if rest:
        rest_total = Money.zero(ccy)
        for i in rest:
            rest_total += fund.contributions_money[i]
        table.add_row(
            Text(f"... and {len(rest)} more (--all shows them)", style="dim"),
            "",
            format_amount(rest_total),
            _share(float(rest_total.minor_units), fund_units),
        )
    table.add_section()
    table.add_row(
        Text("Total = fund", style="bold"),
        Text(f"{portfolio.n_members} members", style="dim"),
        Text(format_amount(fund.fund_money), style="bold"),
        "100.0%" if fund_units else "-",
    )
    return table


def render_drills(drills: Sequence[Drill], ccy: Currency, sizing_scenario: int) -> FitTable:
    """One row per stress scenario: its Cover-N default run through the waterfall.

    Each scenario shows its defaulting groups beneath it; the scenario that sets
    the fund (``sizing_scenario``) is marked; assessments and an uncovered loss
    show in red.
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
        summary = summarise(drill.result)
        name = Text(clean(drill.scenario_name))
        if drill.scenario == sizing_scenario:
            name.append(" (sets the fund)", style="bold")
        name.append("\n" + clean(" + ".join(drill.groups)), style="dim")
        assessments = Text(
            compact_amount(summary.assessments),
            style="" if summary.assessments.is_zero() else "red",
        )
        uncovered = Text(
            compact_amount(summary.uncovered),
            style="" if summary.uncovered.is_zero() else "bold red",
        )
        table.add_row(
            name,
            compact_amount(drill.loss),
            clean(drill.deepest_tranche),
            compact_amount(summary.member_fund_used),
            assessments,
            uncovered,
        )
    return table


def render_fund(eod: EndOfDay, top: int | None = None) -> RenderableType:
    """The fund view: size, what set it, the basis, exact contributions, and every drill."""
    return Group(
        _header(eod.inputs),
        Text(""),
        _grid(_sizing_rows(eod)),
        Text(""),
        _contributions_table(eod, top),
        Text(""),
        render_drills(eod.drills, eod.inputs.currency, eod.fund.sizing.cover.scenario),
    )


# --------------------------------------------------------------------------- capital


CAPITAL_EAD_NOTE = (
    "EAD stand-in: each member's worst stress loss over the stress scenarios, gross of "
    "collateral (SA-CCR needs trade-level data the engine does not hold); its margin and "
    "own contribution are netted as Basel CRE54.29 does."
)


def _capital_section(eod: EndOfDay, capital: CapitalRun) -> dict[str, object]:
    portfolio = eod.inputs.portfolio
    margin = eod.margin.member_margin
    ccy = eod.inputs.currency
    return {
        "risk_weight": capital.risk_weight,
        "capital_ratio": capital.capital_ratio,
        "ead": "worst stress loss over the stress scenarios, gross of collateral",
        "k_ccp": _amount_json(capital.k_ccp, ccy),
        "df_ccp": _amount_json(capital.df_ccp, ccy),
        "df_cm": _amount(eod.fund.fund_money),
        "members": {
            member: {
                "ead": _amount_json(capital.ead[i], ccy),
                "initial_margin": _amount_json(margin[i], ccy),
                "default_fund": _amount(eod.fund.contributions_money[i]),
                "k_cm": _amount_json(capital.k_cm[i], ccy),
                "rwa": _amount_json(capital.rwa[i], ccy),
                "crr310": _amount_json(capital.crr310[i], ccy),
            }
            for i, member in enumerate(portfolio.member_ids)
        },
    }


def capital_to_json(eod: EndOfDay, capital: CapitalRun) -> dict[str, object]:
    """Bank capital for exposures to the CCP as JSON-ready data.

    Amounts are decimal strings in the case currency's minor unit; the risk weight
    and the capital ratio are numbers.
    """
    return _document("capital", eod.inputs) | _capital_section(eod, capital)


def render_capital(eod: EndOfDay, capital: CapitalRun, top: int | None = ROWS_SHOWN) -> Group:
    """K_CCP and each member's K_CM, RWA and CRR Art 310 capital, largest K_CM first."""
    ccy = eod.inputs.currency
    portfolio = eod.inputs.portfolio
    rows: list[tuple[str, str | Text]] = [
        ("K_CCP", Text(_full(capital.k_ccp, ccy), style="bold")),
        ("DF_CCP (CCP capital ahead of the fund)", _full(capital.df_ccp, ccy)),
        ("DF_CM (members' contributions)", format_money(eod.fund.fund_money)),
        ("Risk weight", _percent(capital.risk_weight)),
        ("Capital ratio", _percent(capital.capital_ratio)),
    ]
    order = _descending(capital.k_cm, portfolio.member_ids)
    shown, rest = (order, []) if top is None else (order[:top], order[top:])
    table = FitTable(
        (
            Column("Member"),
            *(
                Column(heading, numeric=True)
                for heading in ("EAD", "IM", "DF", "K_CM", "RWA", "CRR Art 310")
            ),
        ),
        title=f"Capital of each member for its exposure to the CCP ({ccy.code})",
    )
    for i in shown:
        table.add_row(
            clean(portfolio.member_ids[i]),
            _short(capital.ead[i], ccy),
            _short(eod.margin.member_margin[i], ccy),
            compact_amount(eod.fund.contributions_money[i]),
            _short(capital.k_cm[i], ccy),
            _short(capital.rwa[i], ccy),
            _short(capital.crr310[i], ccy),
        )
    parts: list[RenderableType] = [_header(eod.inputs), Text(""), _grid(rows), Text(""), table]
    if rest:
        rest_k = float(capital.k_cm[np.asarray(rest)].sum())
        parts.append(more_members_line(len(rest), f"K_CM {_full(rest_k, ccy)}"))
    notes = Text(
        "K_CCP = sum max(EAD - IM - DF, 0) x risk weight x capital ratio (CRE54.29); "
        "K_CM = max(K_CCP x DF_i / (DF_CCP + DF_CM), 8% x 2% x DF_i) (CRE54.36); "
        "RWA = 12.5 x K_CM; CRR Art 310: 8% x min(2% x IM + 1250% x DF, 20% x IM).\n"
        + CAPITAL_EAD_NOTE,
        style="dim",
    )
    parts += [Text(""), notes]
    return Group(*parts)


# --------------------------------------------------------------------------- end of day


def end_of_day_to_json(eod: EndOfDay) -> dict[str, object]:
    """The whole end of day as JSON-ready data: margin, stress, fund with its drills, and the
    worst Cover-N default's full ``ccp-result/1`` result."""
    worst = eod.worst_drill
    return _document("eod", eod.inputs) | {
        "margin": _margin_section(eod.inputs, eod.margin),
        "stress": _stress_section(eod),
        "fund": _fund_section(eod),
        "worst_drill": {
            "scenario": worst.scenario_name,
            "groups": list(worst.groups),
            "result": result_to_json(worst.result),
        },
    }


def render_end_of_day(
    eod: EndOfDay, top: int | None = SUMMARY_ROWS, run_top: int | None = ROWS_SHOWN
) -> RenderableType:
    """The end of day: margin, stress, fund and contributions summaries, the drill table, and
    the worst Cover-N default through the waterfall in full.

    The summaries show the ``top`` largest members, the worst default's run ``run_top``
    (``None``: all of them)."""
    inputs = eod.inputs
    n = eod.fund.sizing.params.cover
    parts: list[RenderableType] = [_header(inputs)]
    parts += _heading("Initial margin")
    parts += _margin_parts(inputs, eod.margin, top)
    parts += _heading("Stress tests")
    parts += [_grid(_cover_rows(eod))]
    parts += _heading("Default fund")
    parts += [_grid(_sizing_rows(eod)), Text(""), _contributions_table(eod, top)]
    parts += _heading("Default drills")
    parts += [Text(""), render_drills(eod.drills, inputs.currency, eod.fund.sizing.cover.scenario)]
    parts += _heading(f"The worst Cover-{n} default through the waterfall")
    parts += [Text(""), render_run(eod.worst_drill.result, run_top)]
    return Group(*parts)

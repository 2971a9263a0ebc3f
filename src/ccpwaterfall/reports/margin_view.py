"""The margin view: the model and its parameters, the total, and each member's initial margin.

``margin_view`` decides every row and figure once; ``render_margin`` lays the
view out for the terminal and ``margin_to_json`` gives it as data
(``ccp-margin/1``), amounts as decimal strings in the case currency's minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.domain import Money
from ccpwaterfall.lifecycle import EndOfDayInputs, MarginRun
from ccpwaterfall.reports.formatting import compact_amount, format_money
from ccpwaterfall.reports.layout import Column, FitTable, clean, pairs
from ccpwaterfall.reports.risk_figures import (
    ROWS_SHOWN,
    RiskHeader,
    amount_json,
    descending,
    document,
    percent,
    render_header,
    risk_header,
    risk_money,
    share,
)
from ccpwaterfall.reports.run_view import MoreMembers, more_members_line
from ccpwaterfall.risk.params import AntiProcyclicality, MarginModel, VolatilityFilter

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


@dataclass(frozen=True, slots=True)
class MarginModelTerms:
    """The margin model's parameters as data; ``None`` in the last four: not given."""

    margin_model: str
    scenarios: int
    scenario_source: str
    mpor_days: int
    lookback_days: int | None
    volatility_filter: str | None
    confidence: float | None  # None: the ES count was given, not derived from it
    anti_procyclicality: str
    es_worst: int | None = None
    ewma_lambda: float | None = None
    apc_buffer: float | None = None
    apc_stressed_weight: float | None = None


@dataclass(frozen=True, slots=True)
class MemberMargin:
    id: str
    name: str | None
    group: str
    initial_margin: Money
    share: str  # of the total, as shown


@dataclass(frozen=True, slots=True)
class AccountMargin:
    id: str
    member: str
    kind: str  # house | client
    initial_margin: Money


@dataclass(frozen=True, slots=True)
class MarginView:
    """Initial margin as shown: members largest first, the table's first ``shown`` of them."""

    header: RiskHeader
    terms: tuple[tuple[str, str], ...]  # the model and its parameters, in words
    model: MarginModelTerms
    portfolio: str  # counts of members, groups and accounts, in words
    total: Money
    members: tuple[MemberMargin, ...]
    shown: int
    more: MoreMembers | None
    groups: tuple[tuple[str, Money], ...]
    accounts: tuple[AccountMargin, ...]


def margin_view(
    inputs: EndOfDayInputs, margin: MarginRun, top: int | None = ROWS_SHOWN
) -> MarginView:
    """The margin view of ``margin``; its member table shows the ``top`` largest (all: None)."""
    portfolio = inputs.portfolio
    ccy = inputs.currency
    total = margin.total
    order = descending(margin.member_margin, portfolio.member_ids)
    shown = len(order) if top is None else min(top, len(order))
    rest = order[shown:]
    more = None
    if rest:
        rest_total = float(margin.member_margin[np.asarray(rest)].sum())
        more = MoreMembers(len(rest), risk_money(rest_total, ccy))
    terms, model = _model_terms(inputs, margin)
    return MarginView(
        header=risk_header(inputs),
        terms=terms,
        model=model,
        portfolio=(
            f"{portfolio.n_members} members, {portfolio.n_groups} groups, "
            f"{portfolio.n_accounts} accounts"
        ),
        total=risk_money(total, ccy),
        members=tuple(
            MemberMargin(
                id=portfolio.member_ids[i],
                name=portfolio.member_names[i],
                group=portfolio.group_ids[int(portfolio.member_group[i])],
                initial_margin=risk_money(margin.member_margin[i], ccy),
                share=share(float(margin.member_margin[i]), total),
            )
            for i in order
        ),
        shown=shown,
        more=more,
        groups=tuple(
            (group, risk_money(amount, ccy))
            for group, amount in zip(portfolio.group_ids, margin.group_margin, strict=True)
        ),
        accounts=tuple(
            AccountMargin(
                id=account,
                member=portfolio.member_ids[int(member)],
                kind="client" if client else "house",
                initial_margin=risk_money(amount, ccy),
            )
            for account, member, client, amount in zip(
                portfolio.account_ids,
                portfolio.account_member,
                portfolio.account_is_client,
                margin.account_margin,
                strict=True,
            )
        ),
    )


def _model_terms(
    inputs: EndOfDayInputs, margin: MarginRun
) -> tuple[tuple[tuple[str, str], ...], MarginModelTerms]:
    """The margin model and its parameters, in words and as data."""
    params = inputs.margin_params
    scenario = inputs.scenario_params
    n_scenarios = len(margin.scenario_names)
    supplied = inputs.scenario_pnl is not None
    if params.model is MarginModel.SPAN:
        source = "SPAN risk arrays"
    else:
        source = "supplied" if supplied else "historical"
    es_worst = ewma_lambda = apc_buffer = apc_stressed_weight = None
    model = _MODEL_NAMES[params.model]
    if params.model is MarginModel.ES and margin.es_worst is not None:
        es_worst = margin.es_worst
        model += f": mean of the {margin.es_worst:,} worst scenario losses"
    elif params.model is MarginModel.VAR:
        model += f" at {percent(params.confidence)}"
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
            ewma_lambda = scenario.ewma_lambda
        rows.append(("Volatility filter", filter_name))
    # The confidence sets the ES count only when es_worst does not.
    confidence: float | None = params.confidence
    if not (params.model is MarginModel.ES and params.es_worst is not None):
        rows.append(("Confidence", percent(params.confidence)))
    else:
        confidence = None
    apc = params.anti_procyclicality
    if apc is AntiProcyclicality.BUFFER:
        apc_buffer = params.apc_buffer
        apc_text = f"{percent(params.apc_buffer)} buffer (EMIR RTS 153/2013 Art 28(a))"
    elif apc is AntiProcyclicality.STRESSED_WEIGHT:
        apc_stressed_weight = params.apc_stressed_weight
        apc_text = (
            f"{percent(params.apc_stressed_weight)} weight on stressed observations (Art 28(b))"
        )
    elif apc is AntiProcyclicality.TEN_YEAR_FLOOR:
        apc_text = "floor at the margin of a ten-year look-back (Art 28(c))"
    else:
        apc_text = "none"
    rows.append(("Anti-procyclicality", apc_text))
    terms = MarginModelTerms(
        margin_model=params.model.value,
        scenarios=n_scenarios,
        scenario_source=source,
        mpor_days=scenario.mpor_days,
        lookback_days=None if supplied else scenario.lookback_days,
        volatility_filter=None if supplied else scenario.volatility_filter.value,
        confidence=confidence,
        anti_procyclicality=apc.value,
        es_worst=es_worst,
        ewma_lambda=ewma_lambda,
        apc_buffer=apc_buffer,
        apc_stressed_weight=apc_stressed_weight,
    )
    return tuple(rows), terms


# --------------------------------------------------------------------------- JSON


def margin_to_json(view: MarginView) -> dict[str, object]:
    """Initial margin as JSON-ready data: model, total, members (largest first), accounts.

    Amounts are decimal strings in the case currency's minor unit.
    """
    return document("margin", view.header) | margin_section(view)


def margin_section(view: MarginView) -> dict[str, object]:
    """The margin figures without the document header (also the end of day's ``margin``)."""
    return {
        "model": _model_json(view.model),
        "total": amount_json(view.total),
        "members": [
            {
                "id": member.id,
                "name": member.name,
                "group": member.group,
                "initial_margin": amount_json(member.initial_margin),
            }
            for member in view.members
        ],
        "groups": {group: amount_json(amount) for group, amount in view.groups},
        "accounts": {
            account.id: {
                "member": account.member,
                "kind": account.kind,
                "initial_margin": amount_json(account.initial_margin),
            }
            for account in view.accounts
        },
    }


def _model_json(terms: MarginModelTerms) -> dict[str, object]:
    data: dict[str, object] = {
        "margin_model": terms.margin_model,
        "scenarios": terms.scenarios,
        "scenario_source": terms.scenario_source,
        "mpor_days": terms.mpor_days,
        "lookback_days": terms.lookback_days,
        "volatility_filter": terms.volatility_filter,
        "confidence": terms.confidence,
    }
    # Optional terms appear only where the model has them.
    optional = (
        ("es_worst", terms.es_worst),
        ("ewma_lambda", terms.ewma_lambda),
        ("anti_procyclicality", terms.anti_procyclicality),
        ("apc_buffer", terms.apc_buffer),
        ("apc_stressed_weight", terms.apc_stressed_weight),
    )
    data |= {key: value for key, value in optional if value is not None}
    return data


# --------------------------------------------------------------------------- rendering


def render_margin(view: MarginView) -> RenderableType:
    """The margin view: model and parameters, total, members largest first."""
    return Group(render_header(view.header), Text(""), *margin_parts(view))


def margin_parts(view: MarginView) -> list[RenderableType]:
    """The margin view without its header (also the end of day's margin section)."""
    rows: list[tuple[str, str | Text]] = [
        *view.terms,
        ("Portfolio", view.portfolio),
        ("Total initial margin", Text(format_money(view.total), style="bold")),
    ]
    return [pairs(rows), Text(""), _member_table(view)]


def _member_table(view: MarginView) -> RenderableType:
    table = FitTable(
        (
            Column("Member"),
            Column("Name"),
            Column("Group"),
            Column("Initial margin", numeric=True),
            Column("Share", numeric=True),
        ),
        title=f"Initial margin by member ({view.header.currency.code})",
    )
    for member in view.members[: view.shown]:
        table.add_row(
            clean(member.id),
            clean(member.name or ""),
            clean(member.group),
            compact_amount(member.initial_margin),
            member.share,
        )
    if view.more is None:
        return table
    return Group(table, more_members_line(view.more.count, format_money(view.more.total)))

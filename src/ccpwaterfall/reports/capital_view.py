"""The capital view: K_CCP and each member's K_CM, RWA and CRR Art 310 capital.

``capital_view`` decides the rows once (members largest K_CM first for the
table, in the members' order for JSON); ``render_capital`` and
``capital_to_json`` (``ccp-capital/1``) both read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.domain import Money
from ccpwaterfall.lifecycle import CapitalRun, EndOfDayInputs, FundRun, MarginRun
from ccpwaterfall.reports.formatting import compact_amount, format_money
from ccpwaterfall.reports.layout import Column, FitTable, clean, pairs
from ccpwaterfall.reports.notes import CAPITAL_EAD_NOTE
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
)
from ccpwaterfall.reports.run_view import MoreMembers, more_members_line


@dataclass(frozen=True, slots=True)
class MemberCapital:
    id: str
    ead: Money
    initial_margin: Money
    default_fund: Money  # exact, as contributed
    k_cm: Money
    rwa: Money
    crr310: Money


@dataclass(frozen=True, slots=True)
class CapitalView:
    """Capital as shown: ``members`` in the members' order, ``largest`` the table's rows
    (largest K_CM first), ``more`` the rest's count and K_CM."""

    header: RiskHeader
    risk_weight: float
    capital_ratio: float
    k_ccp: Money
    df_ccp: Money
    df_cm: Money  # the members' fund, exact
    members: tuple[MemberCapital, ...]
    largest: tuple[MemberCapital, ...]
    more: MoreMembers | None


def capital_view(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    fund: FundRun,
    capital: CapitalRun,
    top: int | None = ROWS_SHOWN,
) -> CapitalView:
    """The capital view; its member table shows the ``top`` largest K_CM (all: None)."""
    ccy = inputs.currency
    portfolio = inputs.portfolio
    members = tuple(
        MemberCapital(
            id=member,
            ead=risk_money(capital.ead[i], ccy),
            initial_margin=risk_money(margin.member_margin[i], ccy),
            default_fund=fund.contributions_money[i],
            k_cm=risk_money(capital.k_cm[i], ccy),
            rwa=risk_money(capital.rwa[i], ccy),
            crr310=risk_money(capital.crr310[i], ccy),
        )
        for i, member in enumerate(portfolio.member_ids)
    )
    order = descending(capital.k_cm, portfolio.member_ids)
    shown, rest = (order, []) if top is None else (order[:top], order[top:])
    more = None
    if rest:
        rest_k = float(capital.k_cm[np.asarray(rest)].sum())
        more = MoreMembers(len(rest), risk_money(rest_k, ccy))
    return CapitalView(
        header=risk_header(inputs),
        risk_weight=capital.risk_weight,
        capital_ratio=capital.capital_ratio,
        k_ccp=risk_money(capital.k_ccp, ccy),
        df_ccp=risk_money(capital.df_ccp, ccy),
        df_cm=fund.fund_money,
        members=members,
        largest=tuple(members[i] for i in shown),
        more=more,
    )


def capital_to_json(view: CapitalView) -> dict[str, object]:
    """Bank capital for exposures to the CCP as JSON-ready data.

    Amounts are decimal strings in the case currency's minor unit; the risk weight
    and the capital ratio are numbers.
    """
    return document("capital", view.header) | {
        "risk_weight": view.risk_weight,
        "capital_ratio": view.capital_ratio,
        "ead": "worst stress loss over the stress scenarios, gross of collateral",
        "k_ccp": amount_json(view.k_ccp),
        "df_ccp": amount_json(view.df_ccp),
        "df_cm": amount_json(view.df_cm),
        "members": {
            member.id: {
                "ead": amount_json(member.ead),
                "initial_margin": amount_json(member.initial_margin),
                "default_fund": amount_json(member.default_fund),
                "k_cm": amount_json(member.k_cm),
                "rwa": amount_json(member.rwa),
                "crr310": amount_json(member.crr310),
            }
            for member in view.members
        },
    }


def render_capital(view: CapitalView) -> RenderableType:
    """K_CCP and each member's K_CM, RWA and CRR Art 310 capital, largest K_CM first."""
    rows: list[tuple[str, str | Text]] = [
        ("K_CCP", Text(format_money(view.k_ccp), style="bold")),
        ("DF_CCP (CCP capital ahead of the fund)", format_money(view.df_ccp)),
        ("DF_CM (members' contributions)", format_money(view.df_cm)),
        ("Risk weight", percent(view.risk_weight)),
        ("Capital ratio", percent(view.capital_ratio)),
    ]
    table = FitTable(
        (
            Column("Member"),
            *(
                Column(heading, numeric=True)
                for heading in ("EAD", "IM", "DF", "K_CM", "RWA", "CRR Art 310")
            ),
        ),
        title=f"Capital of each member for its exposure to the CCP ({view.header.currency.code})",
    )
    for member in view.largest:
        table.add_row(
            clean(member.id),
            *(
                compact_amount(amount)
                for amount in (
                    member.ead,
                    member.initial_margin,
                    member.default_fund,
                    member.k_cm,
                    member.rwa,
                    member.crr310,
                )
            ),
        )
    parts: list[RenderableType] = [
        render_header(view.header),
        Text(""),
        pairs(rows),
        Text(""),
        table,
    ]
    if view.more is not None:
        parts.append(more_members_line(view.more.count, f"K_CM {format_money(view.more.total)}"))
    notes = Text(
        "K_CCP = sum max(EAD - IM - DF, 0) x risk weight x capital ratio (CRE54.29); "
        "K_CM = max(K_CCP x DF_i / (DF_CCP + DF_CM), 8% x 2% x DF_i) (CRE54.36); "
        "RWA = 12.5 x K_CM; CRR Art 310: 8% x min(2% x IM + 1250% x DF, 20% x IM).\n"
        + CAPITAL_EAD_NOTE,
        style="dim",
    )
    parts += [Text(""), notes]
    return Group(*parts)

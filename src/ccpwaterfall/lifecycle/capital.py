"""Bank capital for exposures to the CCP (Basel CRE54; CRR Art 310), from an end of day.

The exposure at default of each member is its worst stress loss over the
stress scenarios, gross of collateral, as a stand-in for SA-CCR (which needs
trade-level data the engine does not hold); margin and the member's own
contribution are then netted as CRE54.29 does. The CCP's prefunded own
resources junior or pari passu to the members' fund (DF_CCP) are the
rulebook's CCP capital tranches ahead of the members' fund.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.lifecycle.fund import FundRun, junior_capital
from ccpwaterfall.lifecycle.inputs import EndOfDayInputs
from ccpwaterfall.lifecycle.margin import MarginRun
from ccpwaterfall.lifecycle.stress import StressRun
from ccpwaterfall.risk.capital import crr310_simple, k_ccp, k_cm, risk_weighted_assets


@dataclass(frozen=True, slots=True, eq=False)
class CapitalRun:
    """K_CCP and each member's capital for its default fund exposure.

    Arrays have shape (n_members,), float64, in the case currency.
    """

    risk_weight: float
    capital_ratio: float
    ead: NDArray[np.float64]
    k_ccp: float
    df_ccp: float
    k_cm: NDArray[np.float64]
    rwa: NDArray[np.float64]
    crr310: NDArray[np.float64]


def compute_capital(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    stress: StressRun,
    fund: FundRun,
    risk_weight: float = 0.2,
    capital_ratio: float = 0.08,
) -> CapitalRun:
    """Basel K_CCP, K_CM per member (with its floor) and the CRR Art 310 simple method.

    For Art 310 the trade exposure is the member's initial margin posted to the
    CCP (collateral that is not bankruptcy-remote is a trade exposure).
    """
    portfolio = inputs.portfolio
    loss = np.maximum(-stress.account_pnl, 0.0)
    member_loss = np.zeros((portfolio.n_members, loss.shape[1]))
    np.add.at(member_loss, portfolio.account_member, loss)
    ead = member_loss.max(axis=1) if loss.shape[1] else np.zeros(portfolio.n_members)
    capital = k_ccp(ead, margin.member_margin, fund.contributions, risk_weight, capital_ratio)
    df_ccp = junior_capital(inputs.rulebook, inputs.currency)
    member_capital = k_cm(capital, fund.contributions, df_ccp, capital_ratio=capital_ratio)
    return CapitalRun(
        risk_weight=risk_weight,
        capital_ratio=capital_ratio,
        ead=ead,
        k_ccp=capital,
        df_ccp=df_ccp,
        k_cm=member_capital,
        rwa=risk_weighted_assets(member_capital),
        crr310=crr310_simple(margin.member_margin, fund.contributions),
    )

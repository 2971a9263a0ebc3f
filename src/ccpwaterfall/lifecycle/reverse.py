"""End of day, step 5: how far each stress scenario can be scaled before the waterfall runs out."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.lifecycle.fund import FundRun, junior_capital
from ccpwaterfall.lifecycle.inputs import (
    EndOfDayInputs,
    Progress,
    quiet,
    revalue,
)
from ccpwaterfall.lifecycle.margin import MarginRun
from ccpwaterfall.lifecycle.stress import stress_scenario_set
from ccpwaterfall.risk.aggregate import account_pnl
from ccpwaterfall.risk.reverse_stress import ReverseStress, reverse_stress
from ccpwaterfall.risk.scenarios import (
    ScenarioSet,
    scale_each,
    scale_scenarios,
)
from ccpwaterfall.risk.stress import (
    account_shortfall,
    group_exposures,
)


def reverse_stress_grid(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    fund: FundRun,
    progress: Progress = quiet,
) -> ReverseStress:
    """The multiplier of each stress scenario at which the prefunded waterfall runs out.

    Each scenario is scaled by every multiplier of the case's grid and fully
    revalued (options too); between the last grid point with headroom and the
    first without, the crossing is found by bisection, fully revaluing every
    scenario at each step, to ``REVERSE_STRESS_TOLERANCE`` and never above it.
    """
    progress("reverse stress")
    base = stress_scenario_set(inputs)
    multipliers = tuple(sorted(inputs.stress_multipliers))
    portfolio = inputs.portfolio

    def exposures(scenarios: ScenarioSet) -> NDArray[np.float64]:
        pnl = account_pnl(portfolio.positions, revalue(inputs, scenarios), inputs.threads)
        shortfall = account_shortfall(pnl, margin.account_margin)
        members = group_exposures(shortfall, portfolio.account_member, portfolio.n_members)
        groups = group_exposures(members, portfolio.member_group, portfolio.n_groups)
        return np.asarray(groups, dtype=np.float64)

    # Columns are scenario-major (every multiplier of scenario 0, then 1, ...).
    cube = exposures(scale_scenarios(base, multipliers)).reshape(
        portfolio.n_groups, -1, len(multipliers)
    )
    exposure_grid = np.transpose(cube, (2, 0, 1))
    # Summed as reverse_stress sums group_fund, so it never falls below that sum by an ulp.
    prefunded = float(fund.group_fund.sum()) + junior_capital(inputs.rulebook, inputs.currency)
    return reverse_stress(
        exposure_grid,
        np.asarray(multipliers),
        fund.group_fund,
        prefunded=prefunded,
        n_defaulters=fund.sizing.params.cover,
        basis=fund.sizing.params.basis,
        revalue=lambda each: exposures(scale_each(base, each)),
    )

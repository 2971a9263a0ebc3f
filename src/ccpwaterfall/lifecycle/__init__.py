"""Default management: from a CCP's positions and prices to who pays what in a default.

Ties the risk layer (floats) to the waterfall (exact money) at one border,
``border.to_money``.
"""

from ccpwaterfall.lifecycle.border import amounts_to_money, to_money
from ccpwaterfall.lifecycle.capital import CapitalRun, compute_capital
from ccpwaterfall.lifecycle.end_of_day import (
    Drill,
    EndOfDay,
    EndOfDayInputs,
    FundRun,
    MarginRun,
    StressRun,
    compute_margin,
    compute_stress,
    default_case,
    drill_defaults,
    end_of_day,
    junior_capital,
    reverse_stress_grid,
    size_fund,
)

__all__ = [
    "CapitalRun",
    "Drill",
    "EndOfDay",
    "EndOfDayInputs",
    "FundRun",
    "MarginRun",
    "StressRun",
    "amounts_to_money",
    "compute_capital",
    "compute_margin",
    "compute_stress",
    "default_case",
    "drill_defaults",
    "end_of_day",
    "junior_capital",
    "reverse_stress_grid",
    "size_fund",
    "to_money",
]

"""Default management: from a CCP's positions and prices to who pays what in a default.

Ties the risk layer (floats) to the waterfall (exact money) at one border,
``border.to_money``.
"""

from ccpwaterfall.lifecycle.border import to_float, to_money
from ccpwaterfall.lifecycle.capital import CapitalRun, compute_capital
from ccpwaterfall.lifecycle.drills import Drill, default_case, drill_defaults
from ccpwaterfall.lifecycle.end_of_day import EndOfDay, end_of_day
from ccpwaterfall.lifecycle.fund import FundRun, junior_capital, size_fund
from ccpwaterfall.lifecycle.inputs import EndOfDayInputs, Progress
from ccpwaterfall.lifecycle.margin import (
    MarginRun,
    compute_margin,
    span_risk_arrays,
    stressed_scenarios,
    ten_year_scenarios,
)
from ccpwaterfall.lifecycle.reverse import reverse_stress_grid
from ccpwaterfall.lifecycle.stress import StressRun, compute_stress, stress_scenario_set

__all__ = [
    "CapitalRun",
    "Drill",
    "EndOfDay",
    "EndOfDayInputs",
    "FundRun",
    "MarginRun",
    "Progress",
    "StressRun",
    "compute_capital",
    "compute_margin",
    "compute_stress",
    "default_case",
    "drill_defaults",
    "end_of_day",
    "junior_capital",
    "reverse_stress_grid",
    "size_fund",
    "span_risk_arrays",
    "stress_scenario_set",
    "stressed_scenarios",
    "ten_year_scenarios",
    "to_float",
    "to_money",
]

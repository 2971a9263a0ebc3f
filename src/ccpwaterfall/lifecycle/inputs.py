"""What an end of day reads, and the helpers its steps share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.domain import (
    Currency,
    Rulebook,
)
from ccpwaterfall.risk.aggregate import sum_by_index
from ccpwaterfall.risk.instruments import Instruments
from ccpwaterfall.risk.params import (
    FundParams,
    MarginParams,
    ScenarioParams,
)
from ccpwaterfall.risk.portfolio import Portfolio
from ccpwaterfall.risk.pricing import PnlDtype, instrument_pnl
from ccpwaterfall.risk.scenarios import (
    PriceHistory,
    ScenarioPnl,
    ScenarioSet,
    StressDefinition,
)

Progress = Callable[[str], None]


def quiet(_step: str) -> None:
    """A progress callback that reports nothing."""


@dataclass(frozen=True, slots=True, eq=False)
class EndOfDayInputs:
    """Everything an end of day needs, as risk-layer values (no files).

    ``history`` may be None only when ``scenario_pnl`` is supplied and there are
    no stress scenarios. ``dtype``: the float type of the margin and stress scenario
    P&L, per instrument (pricing) and per account (aggregation); margins, exposures
    and everything after them are float64 whatever it is.
    """

    name: str
    currency: Currency
    ccp_name: str
    rulebook: Rulebook
    portfolio: Portfolio
    instruments: Instruments
    history: PriceHistory | None
    scenario_pnl: ScenarioPnl | None
    scenario_params: ScenarioParams
    margin_params: MarginParams
    fund_params: FundParams
    stress: tuple[StressDefinition, ...]
    stress_multipliers: tuple[float, ...]
    discount_rate: float = 0.0  # discounts option values
    description: str | None = None
    dtype: PnlDtype = PnlDtype.FLOAT64
    # Threads for the account-by-account kernels (aggregation, margin): a setting of
    # the machine, not of the case; results are the same bits on any number.
    threads: int = 1

    @property
    def spot(self) -> NDArray[np.float64]:
        """Today's factor levels: the last day of the history, shape (n_factors,)."""
        if self.history is None:
            raise ValueError("there is no price history to revalue instruments on")
        today: NDArray[np.float64] = self.history.levels[-1]
        return today


def read_only(array: NDArray[Any]) -> NDArray[Any]:
    array.flags.writeable = False
    return array


def by_index(values: NDArray[np.float64], index: NDArray[np.intp], n_out: int) -> Any:
    """Sums of a vector over an index (accounts to members, members to groups)."""
    return sum_by_index(np.asarray(values, dtype=np.float64), index, n_out)


def revalue(
    inputs: EndOfDayInputs, scenarios: ScenarioSet, dtype: PnlDtype = PnlDtype.FLOAT64
) -> NDArray[np.floating[Any]]:
    """Per-unit P&L of the case's instruments in ``scenarios``, in ``dtype``: shape
    (n_instruments, n_scenarios)."""
    return instrument_pnl(
        inputs.instruments,
        inputs.spot,
        scenarios,
        inputs.scenario_params.mpor_days,
        inputs.discount_rate,
        dtype,
    )

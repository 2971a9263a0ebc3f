"""A CCP's end of day: margin, stress tests, Cover-N fund sizing, and default drills.

The steps, each a pure function of the step before:

1. ``compute_margin``: scenario P&L of every instrument (historical MPOR-day
   moves of the real price history, optionally volatility-filtered, or a
   supplied P&L), aggregated to accounts, initial margin per account, summed
   per member.
2. ``compute_stress``: the hypothetical stress scenarios revalued, each
   account's stress loss over its own margin (client collateral never offsets
   house losses), summed per member group (affiliates count as one): the
   exposures behind Cover-1, Cover-2 and the EMIR Art 42(3) floor.
3. ``size_fund``: the default fund sized to Cover-N and split among members.
4. ``drill_defaults``: for every stress scenario, its Cover-N groups default
   and the loss runs through the rulebook's waterfall, exactly, in ``Money``.
5. ``reverse_stress_grid``: how far each stress scenario can be scaled before
   the prefunded waterfall is exhausted.

Floats become money only in ``border.to_money``, when a drill writes its case.

With a ``dask.distributed`` client, steps 1 and 2 aggregate the positions to
accounts and measure margin on the cluster, block by block of accounts
(``risk.distributed``); pricing, the sums by member and group, and steps 3 to 5
run here. The results are the same bits as without a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccpwaterfall.lifecycle.drills import Drill, drill_defaults
from ccpwaterfall.lifecycle.fund import FundRun, size_fund
from ccpwaterfall.lifecycle.inputs import (
    EndOfDayInputs,
    Progress,
    quiet,
)
from ccpwaterfall.lifecycle.margin import MarginRun, compute_margin
from ccpwaterfall.lifecycle.reverse import reverse_stress_grid
from ccpwaterfall.lifecycle.stress import StressRun, compute_stress
from ccpwaterfall.risk import distributed
from ccpwaterfall.risk.chunked import DEFAULT_CHUNK_ACCOUNTS
from ccpwaterfall.risk.distributed import AccountBlocks
from ccpwaterfall.risk.reverse_stress import ReverseStress


@dataclass(frozen=True, slots=True, eq=False)
class EndOfDay:
    """The whole end of day: margin, stress, fund, drills and reverse stress."""

    inputs: EndOfDayInputs
    margin: MarginRun
    stress: StressRun
    fund: FundRun
    drills: tuple[Drill, ...]
    reverse: ReverseStress | None

    @property
    def worst_drill(self) -> Drill:
        """The drill of the scenario that sets Cover-N: the worst Cover-N default."""
        scenario = self.fund.sizing.cover.scenario
        return next(d for d in self.drills if d.scenario == scenario)


def scatter_accounts(
    inputs: EndOfDayInputs, client: Any, chunk_accounts: int = DEFAULT_CHUNK_ACCOUNTS
) -> AccountBlocks:
    """The case's positions on ``client``'s cluster, in blocks of ``chunk_accounts``
    accounts, for ``compute_margin`` and ``compute_stress``."""
    return distributed.scatter_accounts(client, inputs.portfolio.positions, chunk_accounts)


def end_of_day(
    inputs: EndOfDayInputs, progress: Progress = quiet, client: Any | None = None
) -> EndOfDay:
    """Margin, stress, fund sizing, every Cover-N drill and the reverse-stress grid.

    ``client``: a ``dask.distributed.Client`` to aggregate and measure margin on
    (never SPAN margin, which runs in process: ValueError), or None to run in process.
    """
    cluster = None
    if client is not None:
        progress("positions to the cluster")
        cluster = scatter_accounts(inputs, client)
    margin = compute_margin(inputs, progress, cluster)
    stress = compute_stress(inputs, margin, progress, cluster)
    fund = size_fund(inputs, margin, stress, progress)
    drills = drill_defaults(inputs, margin, stress, fund, progress)
    reverse = (
        reverse_stress_grid(inputs, margin, fund, progress) if inputs.stress_multipliers else None
    )
    return EndOfDay(inputs, margin, stress, fund, drills, reverse)

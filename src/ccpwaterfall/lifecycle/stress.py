"""End of day, step 2: stress losses over margin, Cover-1, Cover-2 and the Art 42(3) floor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.lifecycle.inputs import (
    EndOfDayInputs,
    Progress,
    quiet,
    read_only,
    revalue,
)
from ccpwaterfall.lifecycle.margin import MarginRun
from ccpwaterfall.risk import distributed
from ccpwaterfall.risk.aggregate import account_pnl
from ccpwaterfall.risk.distributed import AccountBlocks
from ccpwaterfall.risk.scenarios import (
    ScenarioSet,
    stress_set,
)
from ccpwaterfall.risk.stress import (
    CoverResult,
    account_shortfall,
    cover,
    emir_art42_floor,
    group_exposures,
    rank_groups,
)


@dataclass(frozen=True, slots=True, eq=False)
class StressRun:
    """Stress losses over margin, by account, member and group.

    ``account_pnl``: shape (n_accounts, n_scenarios), gains positive.
    ``member_exposures``: shape (n_members, n_scenarios); ``exposures``:
    shape (n_groups, n_scenarios): stress loss over margin, >= 0.
    ``ranking``: shape (n_groups, n_scenarios), intp: each scenario's groups by
    descending exposure, ties to the lower group index (``rank_groups``, the
    ranking behind Cover-N), recorded so reports read it instead of sorting again.
    """

    scenario_names: tuple[str, ...]
    account_pnl: NDArray[np.float64]
    member_exposures: NDArray[np.float64]
    exposures: NDArray[np.float64]
    ranking: NDArray[np.intp]
    cover1: CoverResult
    cover2: CoverResult
    art42_floor: CoverResult


def stress_scenario_set(inputs: EndOfDayInputs) -> ScenarioSet:
    """The hypothetical stress scenarios of the case, on the history's factors."""
    if inputs.history is None:
        raise ValueError("stress scenarios need a price history to revalue on")
    if not inputs.stress:
        raise ValueError("the case has no stress scenarios ([[risk.stress]])")
    return stress_set(inputs.stress, inputs.history.factor_ids)


def compute_stress(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    progress: Progress = quiet,
    cluster: AccountBlocks | None = None,
) -> StressRun:
    """Stress loss over margin per account, member and group, with Cover-1/2 and Art 42(3).

    The stress P&L is priced and aggregated to accounts in ``inputs.dtype``, then
    float64 from the shortfalls on. With ``cluster`` the aggregation runs there, block
    by block of accounts, and every account's stress P&L comes back (the drills read it
    account by account); the sums by member and group are then made here, in account
    order, as without a cluster: the same bits.
    """
    scenarios = stress_scenario_set(inputs)
    progress("stress revaluation")
    instrument = revalue(inputs, scenarios, inputs.dtype)
    if cluster is None:
        by_account = account_pnl(inputs.portfolio.positions, instrument, inputs.threads)
    else:
        progress("stress aggregation on the cluster")
        by_account = distributed.account_pnl(cluster, instrument)
    pnl = by_account.astype(np.float64)
    progress("stress exposures")
    shortfall = account_shortfall(pnl, margin.account_margin).astype(np.float64)
    portfolio = inputs.portfolio
    members = group_exposures(shortfall, portfolio.account_member, portfolio.n_members)
    groups = group_exposures(members, portfolio.member_group, portfolio.n_groups)
    return StressRun(
        scenario_names=scenarios.names,
        account_pnl=read_only(pnl),
        member_exposures=read_only(np.asarray(members, dtype=np.float64)),
        exposures=read_only(np.asarray(groups, dtype=np.float64)),
        ranking=read_only(rank_groups(groups, portfolio.n_groups)),
        cover1=cover(groups, 1),
        cover2=cover(groups, 2),
        art42_floor=emir_art42_floor(groups),
    )

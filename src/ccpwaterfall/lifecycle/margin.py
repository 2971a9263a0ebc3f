"""End of day, step 1: initial margin per account, member and group."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.lifecycle.inputs import (
    EndOfDayInputs,
    Progress,
    by_index,
    quiet,
    read_only,
    revalue,
)
from ccpwaterfall.risk import distributed
from ccpwaterfall.risk.chunked import DEFAULT_CHUNK_ACCOUNTS, account_chunks, block_margin
from ccpwaterfall.risk.distributed import AccountBlocks
from ccpwaterfall.risk.margin import k_for_confidence
from ccpwaterfall.risk.params import (
    AntiProcyclicality,
    MarginModel,
    VolatilityFilter,
)
from ccpwaterfall.risk.pricing import risk_array_pnl, unit_deltas
from ccpwaterfall.risk.scenarios import (
    ScenarioSet,
    historical_scenarios,
)
from ccpwaterfall.risk.span import SpanMargin, span_margin

# A stressed period is one year of business days, as in Prisma's 250 stress-period dates.
STRESSED_PERIOD_DAYS = 250
# The Art 28(c) floor looks back ten years of business days.
TEN_YEARS_DAYS = 2520


_UNFILTERED = VolatilityFilter.NONE


@dataclass(frozen=True, slots=True, eq=False)
class MarginRun:
    """Initial margin of every account and member.

    ``account_margin``: shape (n_accounts,); ``member_margin``: shape
    (n_members,); ``group_margin``: shape (n_groups,); float64 in the case
    currency, read-only.
    """

    model: MarginModel
    scenario_names: tuple[str, ...]
    account_margin: NDArray[np.float64]
    member_margin: NDArray[np.float64]
    group_margin: NDArray[np.float64]
    es_worst: int | None = None  # ES: the count of worst scenarios averaged
    span: SpanMargin | None = None  # SPAN: the parts of each account's margin

    @property
    def total(self) -> float:
        return float(self.account_margin.sum())


def _stressed_period(scenarios: ScenarioSet, days: int) -> ScenarioSet:
    """The ``days`` consecutive scenarios with the largest mean absolute move.

    The stressed observations of EMIR RTS 153/2013 Art 28(b), found with a
    rolling sum (no loop over days).
    """
    size = np.abs(scenarios.factor_returns).sum(axis=1)
    window = min(days, size.shape[0])
    rolling = np.convolve(size, np.ones(window), mode="valid")
    start = int(np.argmax(rolling))
    chosen = slice(start, start + window)
    return ScenarioSet(
        names=scenarios.names[chosen],
        factor_ids=scenarios.factor_ids,
        factor_returns=scenarios.factor_returns[chosen],
        vol_shifts=scenarios.vol_shifts[chosen],
        kind=scenarios.kind,
    )


def stressed_scenarios(inputs: EndOfDayInputs) -> ScenarioSet:
    """The stressed observations of EMIR RTS 153/2013 Art 28(1)(b), as they happened.

    The stressed period is chosen on, and its scenarios taken from, the raw
    history: a volatility filter would rescale the crisis to today's calm and
    so remove the stress the option exists to add.
    """
    if inputs.history is None:
        raise ValueError("stressed observations need a price history")
    raw = replace(inputs.scenario_params, lookback_days=None, volatility_filter=_UNFILTERED)
    return _stressed_period(historical_scenarios(inputs.history, raw), STRESSED_PERIOD_DAYS)


def ten_year_scenarios(inputs: EndOfDayInputs) -> ScenarioSet:
    """The ten-year look-back of EMIR RTS 153/2013 Art 28(1)(c), unfiltered.

    Art 28(1)(c) floors margin at that of volatility estimated over ten years:
    the long-run volatility of the raw returns, deliberately not rescaled to
    today's (which is what the margin it floors already uses).
    """
    if inputs.history is None:
        raise ValueError("the ten-year floor needs a price history")
    raw = replace(
        inputs.scenario_params, lookback_days=TEN_YEARS_DAYS, volatility_filter=_UNFILTERED
    )
    return historical_scenarios(inputs.history, raw)


def span_risk_arrays(inputs: EndOfDayInputs, history_scenarios: ScenarioSet) -> NDArray[np.float64]:
    """16-scenario risk arrays with each factor's price scan range set from history.

    The scan range is the factor's move at the margin confidence over the MPOR
    (a quantile of the absolute historical MPOR-day log returns), as a CCP
    calibrates it, and options are revalued at the end of that same MPOR.
    """
    spot = inputs.spot
    span = inputs.margin_params.span
    move = np.quantile(
        np.abs(history_scenarios.factor_returns), inputs.margin_params.confidence, axis=0
    )
    # Keep the extreme down move above zero, whatever the history did.
    scan = np.minimum(spot * (1.0 - np.exp(-move)), 0.45 * spot / span.extreme_multiple)
    return risk_array_pnl(
        inputs.instruments,
        spot,
        scan,
        np.full(spot.shape, span.vol_scan),
        extreme_multiple=span.extreme_multiple,
        cover_fraction=span.extreme_cover,
        horizon_days=inputs.scenario_params.mpor_days,
        rate=inputs.discount_rate,
    )


def _span(inputs: EndOfDayInputs, risk_arrays: NDArray[np.float64]) -> SpanMargin:
    """SPAN margin per account and commodity from the instruments' risk arrays."""
    params = inputs.margin_params.span
    instruments = inputs.instruments
    if inputs.history is not None:
        spot = inputs.spot
        deltas = unit_deltas(instruments, spot, inputs.discount_rate)
    elif params.intra_spread_charge or params.inter_spreads:
        raise ValueError("SPAN spread charges and credits need a price history for deltas")
    else:
        spot = np.ones(len(instruments.factor_ids))
        deltas = np.zeros(len(instruments.ids))
    return span_margin(risk_arrays, deltas, spot, instruments, inputs.portfolio.positions, params)


def compute_margin(
    inputs: EndOfDayInputs, progress: Progress = quiet, cluster: AccountBlocks | None = None
) -> MarginRun:
    """Initial margin per account from historical (or supplied) scenario P&L, or SPAN.

    The scenario P&L is priced and aggregated to accounts in ``inputs.dtype``, a block of
    accounts at a time; the margins are float64. With ``cluster`` (the positions
    scattered on a Dask cluster, ``lifecycle.scatter_accounts``) the blocks' aggregation
    and margin run there and only the margins come back: the same bits as in process,
    since both are row by row (``risk.chunked.block_margin``). SPAN margin is by
    commodity and runs in process only: with ``cluster`` it is a ValueError.
    """
    params = inputs.margin_params
    positions = inputs.portfolio.positions
    dtype = inputs.dtype
    stressed: NDArray[np.floating[Any]] | None = None
    long_history: NDArray[np.floating[Any]] | None = None
    span: SpanMargin | None = None
    es_worst: int | None = None
    option = params.anti_procyclicality
    needs_history = option in (
        AntiProcyclicality.STRESSED_WEIGHT,
        AntiProcyclicality.TEN_YEAR_FLOOR,
    )
    if params.model is MarginModel.SPAN and needs_history:
        raise ValueError(
            f"anti-procyclicality {option.value} needs historical scenarios; SPAN risk "
            "arrays have none to weight or floor (use the buffer)"
        )
    if params.model is MarginModel.SPAN and cluster is not None:
        raise ValueError("SPAN margin runs in process, not on a cluster")
    pnl: NDArray[np.floating[Any]]
    if inputs.scenario_pnl is not None:
        progress("scenario P&L (supplied)")
        names = inputs.scenario_pnl.scenario_names
        pnl = inputs.scenario_pnl.pnl
        if params.model is not MarginModel.SPAN:  # SPAN's 16 columns stay float64
            pnl = pnl.astype(np.dtype(dtype.value), copy=False)
        if needs_history:
            raise ValueError(
                f"anti-procyclicality {option.value} needs a price "
                "history, not a supplied scenario P&L"
            )
    else:
        if inputs.history is None:
            raise ValueError("margin needs a price history or a supplied scenario P&L")
        progress("historical scenarios")
        scenarios = historical_scenarios(inputs.history, inputs.scenario_params)
        names = scenarios.names
        progress("instrument revaluation")
        if params.model is MarginModel.SPAN:
            # 16 scenarios: float64 always, there is no memory to save.
            pnl = span_risk_arrays(inputs, scenarios)
            names = tuple(f"SPAN {i}" for i in range(1, 17))
        else:
            pnl = revalue(inputs, scenarios, dtype)
        if option is AntiProcyclicality.STRESSED_WEIGHT:
            stressed = revalue(inputs, stressed_scenarios(inputs), dtype)
        elif option is AntiProcyclicality.TEN_YEAR_FLOOR:
            long_history = revalue(inputs, ten_year_scenarios(inputs), dtype)
    if params.model is MarginModel.SPAN:
        progress("SPAN by combined commodity")
        span = _span(inputs, np.asarray(pnl, dtype=np.float64))
        margin = np.array(span.total, dtype=np.float64)
        if option is AntiProcyclicality.BUFFER:
            margin *= 1.0 + params.apc_buffer
    else:
        if cluster is None:
            progress("initial margin")
            # Block by block: the accounts' P&L over thousands of scenarios is never held
            # whole (50,000 accounts x 2,500 scenarios would be 1 GB), and each block stays
            # in cache; the margins are the same bits, computed row by row.
            chunks = account_chunks(positions.shape[0], DEFAULT_CHUNK_ACCOUNTS)
            blocks = [
                block_margin(positions[rows], pnl, params, stressed, long_history, inputs.threads)
                for rows in chunks
            ]
            margin = np.concatenate(blocks) if blocks else np.zeros(0)
        else:
            progress("initial margin on the cluster")
            margin = distributed.account_margin(cluster, pnl, params, stressed, long_history)
        if params.model is MarginModel.ES:
            es_worst = params.es_worst or k_for_confidence(len(names), params.confidence)
    portfolio = inputs.portfolio
    member = by_index(margin, portfolio.account_member, portfolio.n_members)
    group = by_index(member, portfolio.member_group, portfolio.n_groups)
    return MarginRun(
        model=params.model,
        scenario_names=names,
        account_margin=read_only(margin),
        member_margin=read_only(member),
        group_margin=read_only(group),
        es_worst=es_worst,
        span=span,
    )

"""SPAN margin: scan risk per combined commodity, spread charges and credits, short option minimum.

CME SPAN (the Standard Portfolio Analysis of Risk; CME Group, "SPAN
Methodology Overview", docs/references.md [CME-SPAN]) margins a portfolio one
*combined commodity* at a time. Here a combined commodity is a risk factor:
every instrument written on the same price. For each account and commodity:

1. **Scan risk**: the largest loss over the 16 risk-array scenarios of the
   commodity's positions together, floored at 0. Moves of different
   commodities are never netted: a long equity future and a short oil future
   each keep their own scan risk.
2. **Intra-commodity (calendar) spread charge**: scan risk moves every contract
   month of a commodity together, so a spread between months looks riskless.
   The delta of each tier (a contract month, or a group of them) is summed;
   the spread delta is ``min(sum of positive tier deltas, -(sum of negative
   ones))`` and the charge is ``rate x spread delta``. Deltas are in currency
   per price point (quantity x option delta x multiplier), so the rate is in
   price points: a one-lot calendar spread of contracts with multiplier M
   costs ``rate x M``.
3. **Inter-commodity spread credit**: for each configured pair of commodities,
   in the order given (SPAN's priority order), positions of opposite direction
   form spreads of equal notional delta (delta x price): ``spreads =
   min(|N_a|, |N_b|)`` of what is left of each leg's net notional. Each leg is
   credited ``credit x spreads / |N| x scan risk`` (SPAN's weighted futures
   price risk times the spread delta; scan risk stands in for the price risk,
   the part of it due to volatility and time not being split off). Only pairs
   a case names give a credit.
4. **Short option minimum**: ``rate x max(short calls, short puts)``, in
   currency per short option contract (one unit of quantity).

The commodity's risk is ``max(scan + intra charge - inter credit, short option
minimum)``; the account's margin is the sum over commodities.

Shapes: risk arrays (n_instruments, 16); positions sparse (n_accounts,
n_instruments); results (n_accounts, n_commodities) and (n_accounts,), float64.
No Python loop over accounts, instruments or scenarios; the loop over
configured inter-commodity pairs is over configuration. NaN policy: a NaN or
infinite input raises ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ccpwaterfall.risk.aggregate import float_array
from ccpwaterfall.risk.instruments import InstrumentKind, Instruments, kind_code
from ccpwaterfall.risk.params import SpanParams

SPAN_SCENARIOS = 16  # columns of a classic SPAN risk array


# eq=False: the result holds arrays, which have no single truth value.
@dataclass(frozen=True, slots=True, eq=False)
class SpanMargin:
    """The parts of every account's SPAN margin, per combined commodity.

    Arrays of shape (n_accounts, n_commodities), float64, >= 0, read-only;
    ``commodity_ids`` names the columns (the risk factors). ``total``: shape
    (n_accounts,), the margin per account.
    """

    commodity_ids: tuple[str, ...]
    scan_risk: NDArray[np.float64]
    intra_spread_charge: NDArray[np.float64]
    inter_spread_credit: NDArray[np.float64]
    short_option_minimum: NDArray[np.float64]
    commodity_risk: NDArray[np.float64]
    total: NDArray[np.float64]


def _by_column(
    positions: Any, values: NDArray[np.float64], column: NDArray[np.intp], n_columns: int
) -> NDArray[np.float64]:
    """``positions @ M`` where M has ``values[i]`` at (i, column[i]): shape (n_accounts, n_columns).

    ``values``: shape (n_instruments,) or (n_instruments, k); with k columns per
    instrument, instrument i fills columns ``column[i] * k`` to ``column[i] * k + k - 1``.
    """
    n_instruments = values.shape[0]
    width = 1 if values.ndim == 1 else values.shape[1]
    rows = np.repeat(np.arange(n_instruments), width)
    cols = (column[:, None] * width + np.arange(width)[None, :]).ravel()
    spread = sp.csr_matrix(
        (values.reshape(-1), (rows, cols)), shape=(n_instruments, n_columns * width)
    )
    product = sp.csr_matrix(positions, dtype=np.float64) @ spread
    dense: NDArray[np.float64] = np.asarray(product.toarray(), dtype=np.float64)
    return dense


def _rates(
    pairs: tuple[tuple[str, float], ...], commodity_ids: tuple[str, ...], what: str
) -> NDArray[np.float64]:
    index = {c: i for i, c in enumerate(commodity_ids)}
    rates = np.zeros(len(commodity_ids))
    for commodity, rate in pairs:
        if commodity not in index:
            raise ValueError(f"{what}: unknown commodity {commodity!r}")
        rates[index[commodity]] = rate
    return rates


def _tiers(instruments: Instruments, params: SpanParams) -> tuple[NDArray[np.intp], int]:
    """Each instrument's tier index; instruments no tier names share tier 0."""
    labels = dict(params.tiers)
    unknown = sorted(set(labels) - set(instruments.ids))
    if unknown:
        raise ValueError(f"SPAN tiers name unknown instruments: {', '.join(unknown)}")
    names = sorted(set(labels.values()))
    code = {name: i + 1 for i, name in enumerate(names)}
    tiers = np.asarray([code.get(labels.get(i, ""), 0) for i in instruments.ids], dtype=np.intp)
    return tiers, len(names) + 1


def span_margin(
    risk_arrays: ArrayLike,
    deltas: ArrayLike,
    spot: ArrayLike,
    instruments: Instruments,
    positions: Any,
    params: SpanParams,
) -> SpanMargin:
    """SPAN margin of every account (see the module docstring for the rules).

    ``risk_arrays``: shape (n_instruments, 16), P&L of one unit in each
    risk-array scenario, gains positive. ``deltas``: shape (n_instruments,),
    delta of one unit in currency per price point (option delta x multiplier;
    the multiplier for futures). ``spot``: shape (n_factors,), today's price of
    each commodity. ``positions``: scipy sparse, shape (n_accounts,
    n_instruments), short negative. NaN or inf, wrong shapes, unknown
    commodities or instruments in ``params`` -> ValueError.
    """
    arrays = float_array("risk_arrays", risk_arrays, 2).astype(np.float64)
    n_instruments = len(instruments.ids)
    if arrays.shape != (n_instruments, SPAN_SCENARIOS):
        raise ValueError(
            f"risk_arrays must have shape ({n_instruments}, {SPAN_SCENARIOS}), got {arrays.shape}"
        )
    delta = float_array("deltas", deltas, 1).astype(np.float64)
    if delta.shape != (n_instruments,):
        raise ValueError(f"deltas must have shape ({n_instruments},), got {delta.shape}")
    prices = float_array("spot", spot, 1).astype(np.float64)
    commodity_ids = instruments.factor_ids
    n_commodities = len(commodity_ids)
    if prices.shape != (n_commodities,):
        raise ValueError(f"spot must have shape ({n_commodities},), got {prices.shape}")
    if positions.shape[1] != n_instruments:
        raise ValueError(f"positions must have {n_instruments} columns, got {positions.shape[1]}")
    n_accounts = positions.shape[0]
    commodity = np.asarray(instruments.underlying, dtype=np.intp)

    # 1. Scan risk per commodity: the commodity's own 16 scenarios, never another's.
    by_commodity = _by_column(positions, arrays, commodity, n_commodities)
    pnl = by_commodity.reshape(n_accounts, n_commodities, SPAN_SCENARIOS)
    scan = np.maximum(-pnl.min(axis=2), 0.0)

    # 2. Intra-commodity spread charge from tier deltas.
    tiers, n_tiers = _tiers(instruments, params)
    tier_delta = _by_column(positions, delta, commodity * n_tiers + tiers, n_commodities * n_tiers)
    tier_delta = tier_delta.reshape(n_accounts, n_commodities, n_tiers)
    longs = np.where(tier_delta > 0.0, tier_delta, 0.0).sum(axis=2)
    shorts = np.where(tier_delta < 0.0, -tier_delta, 0.0).sum(axis=2)
    intra_rate = _rates(params.intra_spread_charge, commodity_ids, "intra_spread_charge")
    intra = np.minimum(longs, shorts) * intra_rate[None, :]

    # 3. Inter-commodity credits, pair by pair in priority order.
    notional = tier_delta.sum(axis=2) * prices[None, :]
    left = np.abs(notional)
    credit = np.zeros_like(scan)
    index = {c: i for i, c in enumerate(commodity_ids)}
    for pair in params.inter_spreads:
        missing = [leg for leg in pair.legs if leg not in index]
        if missing:
            raise ValueError(f"inter-commodity spread: unknown commodity {missing[0]!r}")
        a, b = (index[leg] for leg in pair.legs)
        opposite = notional[:, a] * notional[:, b] < 0.0
        spreads = np.where(opposite, np.minimum(left[:, a], left[:, b]), 0.0)
        for leg in (a, b):
            gross = np.abs(notional[:, leg])
            share = np.divide(spreads, gross, out=np.zeros_like(spreads), where=gross > 0.0)
            credit[:, leg] += pair.credit * share * scan[:, leg]
            left[:, leg] -= spreads
    credit = np.minimum(credit, scan)

    # 4. Short option minimum.
    kinds = instruments.kind
    short = sp.csr_matrix(positions, dtype=np.float64).minimum(0.0)
    calls = (kinds == kind_code(InstrumentKind.CALL)).astype(np.float64)
    puts = (kinds == kind_code(InstrumentKind.PUT)).astype(np.float64)
    short_calls = -_by_column(short, calls, commodity, n_commodities)
    short_puts = -_by_column(short, puts, commodity, n_commodities)
    som_rate = _rates(params.short_option_minimum, commodity_ids, "short_option_minimum")
    som = np.maximum(short_calls, short_puts) * som_rate[None, :]

    risk = np.maximum(scan + intra - credit, som)
    total = risk.sum(axis=1)
    parts = (scan, intra, credit, som, risk, total)
    for part in parts:
        part.flags.writeable = False
    return SpanMargin(commodity_ids, *parts)

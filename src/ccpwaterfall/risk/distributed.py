"""Margin and stress exposures on a Dask cluster, chunked by accounts.

For data that outgrows one machine. The caller brings a ``dask.distributed.Client``
(a ``LocalCluster`` or a real cluster); this module never creates one and imports no
Dask code itself, so importing it costs nothing.

The instrument P&L arrays are scattered once to every worker (``broadcast=True``); the
positions are cut into row blocks of accounts and scattered across the workers; one
task per block runs ``block_margin_and_exposures`` and sends back only the block's
margins (n_block,) and group exposures (n_groups, n_stress_scen). Margins are joined and
exposures summed in account order, exactly as the in-process
``ccpwaterfall.risk.chunked.margin_and_exposures`` does, so both agree to the last bit
for the same ``chunk_accounts``.

The end of day (``ccp eod --scheduler``) uses the finer steps below: the positions
are scattered once (``scatter_accounts``) as ``AccountBlocks``; ``account_margin``
then computes each block's account P&L and initial margin on the workers and brings
back the margins alone, and ``account_pnl`` brings back each block's account P&L over
a few stress scenarios (which the default drills read account by account). Both are
row by row, so joined in account order they are the same bits as the whole-array run
in process; sums over accounts are then made in process, in account order, exactly
as without a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from ccpwaterfall.risk import aggregate
from ccpwaterfall.risk.chunked import (
    DEFAULT_CHUNK_ACCOUNTS,
    account_chunks,
    block_margin,
    block_margin_and_exposures,
    check_pipeline_inputs,
    sum_in_order,
)
from ccpwaterfall.risk.params import MarginModel, MarginParams


def margin_and_exposures(
    positions: Any,
    margin_pnl: NDArray[np.floating[Any]],
    stress_pnl: NDArray[np.floating[Any]],
    account_group: NDArray[np.intp],
    n_groups: int,
    params: MarginParams,
    *,
    client: Any,
    chunk_accounts: int = DEFAULT_CHUNK_ACCOUNTS,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``chunked.margin_and_exposures`` with one Dask task per block of accounts.

    client: a ``dask.distributed.Client``; its workers need ``ccpwaterfall`` importable.
    Other arguments, shapes and results as in ``ccpwaterfall.risk.chunked`` (the call is
    the same plus ``client=``):
    margin shape (n_accounts,), exposures shape (n_groups, n_stress_scen) float64.
    Errors raised in a task are raised here.
    """
    csr = check_pipeline_inputs(positions, margin_pnl, stress_pnl, account_group, n_groups, params)
    chunks = account_chunks(csr.shape[0], chunk_accounts)
    shape = (n_groups, stress_pnl.shape[1])
    if not chunks:
        return np.zeros(0), sum_in_order((), shape)
    # hash=False: no need to hash hundreds of megabytes just to name them.
    margin_future, stress_future = client.scatter(
        [margin_pnl, stress_pnl], broadcast=True, hash=False
    )
    blocks = client.scatter([csr[rows] for rows in chunks], hash=False)
    futures = client.map(
        block_margin_and_exposures,
        blocks,
        [margin_future] * len(chunks),
        [stress_future] * len(chunks),
        [account_group[rows] for rows in chunks],
        n_groups=n_groups,
        params=params,
        pure=False,
    )
    parts: list[tuple[NDArray[np.float64], NDArray[np.floating[Any]]]]
    parts = client.gather(futures)
    margin = np.concatenate([block_margin for block_margin, _ in parts])
    return margin, sum_in_order((block_exposures for _, block_exposures in parts), shape)


@dataclass(frozen=True, slots=True, eq=False)
class AccountBlocks:
    """A portfolio's positions held on a cluster's workers, in row blocks of accounts.

    ``chunks``: the account ranges, in order, covering every account once;
    ``blocks``: one Dask future per range, each a CSR block of shape
    (rows in the range, n_instruments); dropping this value releases them.
    """

    client: Any
    chunks: tuple[slice, ...]
    blocks: tuple[Any, ...]
    n_accounts: int
    n_instruments: int


def scatter_accounts(
    client: Any, positions: Any, chunk_accounts: int = DEFAULT_CHUNK_ACCOUNTS
) -> AccountBlocks:
    """The positions (scipy.sparse, shape (n_accounts, n_instruments)) cut into blocks of
    at most ``chunk_accounts`` accounts and scattered across ``client``'s workers once,
    for every later step of the day."""
    if not sparse.issparse(positions) or positions.ndim != 2:
        raise ValueError("positions must be a 2-d scipy.sparse matrix or array")
    csr = positions.tocsr()
    chunks = account_chunks(csr.shape[0], chunk_accounts)
    blocks = client.scatter([csr[rows] for rows in chunks], hash=False) if chunks else []
    return AccountBlocks(client, chunks, tuple(blocks), csr.shape[0], csr.shape[1])


def _instrument_pnl(
    accounts: AccountBlocks, name: str, pnl: NDArray[np.floating[Any]]
) -> NDArray[np.floating[Any]]:
    """``pnl`` checked to hold one row per instrument of the scattered positions."""
    if pnl.ndim != 2 or pnl.shape[0] != accounts.n_instruments:
        raise ValueError(f"{name} must have shape ({accounts.n_instruments}, n_scenarios)")
    return pnl


def account_margin(
    accounts: AccountBlocks,
    margin_pnl: NDArray[np.floating[Any]],
    params: MarginParams,
    stressed_pnl: NDArray[np.floating[Any]] | None = None,
    long_history_pnl: NDArray[np.floating[Any]] | None = None,
) -> NDArray[np.float64]:
    """Initial margin of every account, one task per block (``chunked.block_margin``).

    margin_pnl, stressed_pnl, long_history_pnl: per-unit instrument P&L, shapes
    (n_instruments, n_scenarios), as ``chunked.block_margin`` takes them; each is sent
    once to every worker. Returns shape (n_accounts,), float64, the same bits as
    ``block_margin`` on every account at once. SPAN is not computed here (its margin
    is by commodity, not a measure of one P&L row): ValueError. Errors raised in a
    task are raised here.
    """
    if params.model is MarginModel.SPAN:
        raise ValueError("SPAN margin is computed in process, not on a cluster")
    sets = {
        "margin_pnl": margin_pnl,
        "stressed_pnl": stressed_pnl,
        "long_history_pnl": long_history_pnl,
    }
    given = {k: _instrument_pnl(accounts, k, v) for k, v in sets.items() if v is not None}
    if not accounts.chunks:
        return np.zeros(0)
    client = accounts.client
    # hash=False: no need to hash hundreds of megabytes just to name them.
    scattered = client.scatter(list(given.values()), broadcast=True, hash=False)
    futures = dict(zip(given, scattered, strict=True))
    n = len(accounts.chunks)
    parts: list[NDArray[np.float64]] = client.gather(
        client.map(
            block_margin,
            accounts.blocks,
            [futures["margin_pnl"]] * n,
            [params] * n,
            [futures.get("stressed_pnl")] * n,
            [futures.get("long_history_pnl")] * n,
            pure=False,
        )
    )
    return np.concatenate(parts)


def account_pnl(
    accounts: AccountBlocks, instrument_pnl: NDArray[np.floating[Any]]
) -> NDArray[np.floating[Any]]:
    """Scenario P&L of every account, one task per block (``aggregate.account_pnl``).

    instrument_pnl: shape (n_instruments, n_scenarios), float32 or float64, sent once
    to every worker. Returns shape (n_accounts, n_scenarios) in its dtype, the same
    bits as the whole product in process. Every account's row comes back: meant for
    few scenarios (stress), not the thousands of the margin scenarios.
    """
    pnl = _instrument_pnl(accounts, "instrument_pnl", instrument_pnl)
    if not accounts.chunks:
        return np.zeros((0, pnl.shape[1]), dtype=pnl.dtype)
    client = accounts.client
    (future,) = client.scatter([pnl], broadcast=True, hash=False)
    parts: list[NDArray[np.floating[Any]]] = client.gather(
        client.map(
            aggregate.account_pnl,
            accounts.blocks,
            [future] * len(accounts.chunks),
            pure=False,
        )
    )
    return np.concatenate(parts)

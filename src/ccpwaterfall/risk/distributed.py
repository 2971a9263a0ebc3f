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
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.risk.chunked import (
    DEFAULT_CHUNK_ACCOUNTS,
    account_chunks,
    block_margin_and_exposures,
    check_pipeline_inputs,
    sum_in_order,
)
from ccpwaterfall.risk.params import MarginParams


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

"""Margin and stress exposures computed over blocks of accounts.

The account P&L arrays, shape (n_accounts, n_scenarios), are the largest arrays of a
clearing day (50,000 accounts x 2,750 scenarios is 1.1 GB in float64). This pipeline
never holds them whole: it takes a block of accounts (a row block of the CSR positions),
computes that block's scenario P&L, its initial margin and its stress shortfall, sums the
shortfall by member group and drops the block before the next one. Peak memory is about
``chunk_accounts x (n_margin_scenarios + n_stress_scenarios)`` floats plus the inputs.

The same per-block step (``block_margin_and_exposures``) and the same in-order sum
(``sum_in_order``) serve the in-process run here and the Dask run in
``ccpwaterfall.risk.distributed``, so both give bit-identical results for the same
``chunk_accounts``.

``block_margin`` is the margin step alone, for any margin model but SPAN, the
anti-procyclicality options that read a second P&L set included. Every step of it is
row by row (one account's P&L is its own row of the CSR product, its margin a measure
of that row), so the margin of an account is the same bits whether it is computed in
a block of accounts or with all of them: the end of day calls it block by block, in
process or on a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from ccpwaterfall.risk.aggregate import account_pnl
from ccpwaterfall.risk.margin import initial_margin
from ccpwaterfall.risk.params import AntiProcyclicality, MarginParams
from ccpwaterfall.risk.stress import account_shortfall, group_exposures

#: Accounts per block: 2,048 x 3,250 scenarios x 8 bytes is about 53 MB of P&L per block.
DEFAULT_CHUNK_ACCOUNTS = 2_048

# Margin options computed from a second P&L set (stressed or 10-year history).
_NEEDS_SECOND_PNL = (AntiProcyclicality.STRESSED_WEIGHT, AntiProcyclicality.TEN_YEAR_FLOOR)


def account_chunks(n_accounts: int, chunk_accounts: int) -> tuple[slice, ...]:
    """Consecutive account ranges ``[start, stop)`` of at most ``chunk_accounts`` rows,
    covering ``0 .. n_accounts`` in order (empty when there are no accounts)."""
    if chunk_accounts < 1:
        raise ValueError("chunk_accounts must be at least 1")
    return tuple(
        slice(start, min(start + chunk_accounts, n_accounts))
        for start in range(0, n_accounts, chunk_accounts)
    )


def block_margin_and_exposures(
    positions: Any,
    margin_pnl: NDArray[np.floating[Any]],
    stress_pnl: NDArray[np.floating[Any]],
    account_group: NDArray[np.intp],
    n_groups: int,
    params: MarginParams,
    threads: int = 1,
) -> tuple[NDArray[np.float64], NDArray[np.floating[Any]]]:
    """Initial margin and group stress exposures of one block of accounts.

    positions: scipy.sparse CSR, shape (n_block, n_instruments).
    margin_pnl, stress_pnl: per-unit instrument P&L, shapes (n_instruments, n_margin_scen)
        and (n_instruments, n_stress_scen).
    account_group: shape (n_block,), intp, group of each account of the block.
    Returns (margin shape (n_block,) float64, exposures shape (n_groups, n_stress_scen) in
    the P&L dtype): the block's share of each group's stress loss beyond margin.
    """
    # The margin P&L is freed before the stress P&L is built: one block array at a time.
    margin = initial_margin(account_pnl(positions, margin_pnl, threads), params, threads=threads)
    shortfall = account_shortfall(account_pnl(positions, stress_pnl, threads), margin)
    return margin, group_exposures(shortfall, account_group, n_groups)


def block_margin(
    positions: Any,
    margin_pnl: NDArray[np.floating[Any]],
    params: MarginParams,
    stressed_pnl: NDArray[np.floating[Any]] | None = None,
    long_history_pnl: NDArray[np.floating[Any]] | None = None,
    threads: int = 1,
) -> NDArray[np.float64]:
    """Initial margin of a block of accounts (or of all of them) from per-unit P&L.

    positions: scipy.sparse CSR, shape (n_block, n_instruments).
    margin_pnl: per-unit instrument P&L over the margin scenarios, shape
        (n_instruments, n_scenarios), float32 or float64 (the accounts' P&L is
        aggregated in that dtype).
    stressed_pnl, long_history_pnl: the same over the stressed observations and the
        ten-year look-back, for the anti-procyclicality options that read them (None
        otherwise; ``initial_margin`` says which needs which).
    Returns shape (n_block,), float64, >= 0: ``initial_margin`` of the block's account
    P&L, each account's margin from its own row alone.
    """

    def by_account(pnl: NDArray[np.floating[Any]] | None) -> NDArray[np.floating[Any]] | None:
        return None if pnl is None else account_pnl(positions, pnl, threads)

    margin = initial_margin(
        account_pnl(positions, margin_pnl, threads),
        params,
        by_account(stressed_pnl),
        by_account(long_history_pnl),
        threads=threads,
    )
    return margin.astype(np.float64, copy=False)


def sum_in_order(
    parts: Iterable[NDArray[np.floating[Any]]], shape: tuple[int, int]
) -> NDArray[np.float64]:
    """Sum of ``parts`` (each of ``shape``) added one after the other in the given order,
    in float64; zeros of ``shape`` when there are none.

    A fixed order of additions makes the in-process and the distributed runs agree to
    the last bit.
    """
    total = np.zeros(shape, dtype=np.float64)
    for part in parts:
        total += part
    return total


def check_pipeline_inputs(
    positions: Any,
    margin_pnl: NDArray[np.floating[Any]],
    stress_pnl: NDArray[np.floating[Any]],
    account_group: NDArray[np.intp],
    n_groups: int,
    params: MarginParams,
) -> Any:
    """Positions as CSR after checking that the pipeline's inputs fit together.

    Mismatched shapes, out-of-range groups or a margin option that needs P&L the
    pipeline does not carry are programmer errors: ``ValueError``.
    """
    if params.anti_procyclicality in _NEEDS_SECOND_PNL:
        raise ValueError(
            f"anti-procyclicality option {params.anti_procyclicality.value!r} needs a second "
            "P&L set, which the chunked pipeline does not take"
        )
    if not sparse.issparse(positions) or positions.ndim != 2:
        raise ValueError("positions must be a 2-d scipy.sparse matrix or array")
    n_accounts, n_instruments = positions.shape
    for name, pnl in (("margin_pnl", margin_pnl), ("stress_pnl", stress_pnl)):
        if pnl.ndim != 2 or pnl.shape[0] != n_instruments:
            raise ValueError(f"{name} must have shape ({n_instruments}, n_scenarios)")
    if account_group.shape != (n_accounts,):
        raise ValueError(f"account_group must have shape ({n_accounts},)")
    if not np.issubdtype(account_group.dtype, np.integer):
        raise ValueError("account_group must hold integer group indices")
    if n_groups < 1:
        raise ValueError("n_groups must be at least 1")
    if n_accounts and (account_group.min() < 0 or account_group.max() >= n_groups):
        raise ValueError(f"account_group values must lie in [0, {n_groups})")
    return positions.tocsr()


def margin_and_exposures(
    positions: Any,
    margin_pnl: NDArray[np.floating[Any]],
    stress_pnl: NDArray[np.floating[Any]],
    account_group: NDArray[np.intp],
    n_groups: int,
    params: MarginParams,
    chunk_accounts: int = DEFAULT_CHUNK_ACCOUNTS,
    threads: int = 1,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Initial margin of every account and stress exposures of every group, block by block.

    positions: scipy.sparse, shape (n_accounts, n_instruments), signed units (CSR is
        used as is; other formats are converted once).
    margin_pnl: per-unit instrument P&L over the margin scenarios, shape
        (n_instruments, n_margin_scen), float64 or float32, gains positive, no NaN.
    stress_pnl: the same over the stress scenarios, shape (n_instruments, n_stress_scen).
    account_group: shape (n_accounts,), integer group index in ``[0, n_groups)``.
    params: the margin model applied to each account.
    chunk_accounts: accounts per block; bounds the P&L held at once.
    threads: each block's products and margins run in row blocks on that many threads.

    Returns ``(margin, exposures)``: margin shape (n_accounts,), float64, and exposures
    shape (n_groups, n_stress_scen), float64, each group's summed account stress loss
    beyond margin, equal (to rounding) to computing the whole arrays at once.

    Anti-procyclicality options that need a second P&L set (stressed weight, ten-year
    floor) are not supported here: ValueError.
    """
    csr = check_pipeline_inputs(positions, margin_pnl, stress_pnl, account_group, n_groups, params)
    chunks = account_chunks(csr.shape[0], chunk_accounts)
    margins: list[NDArray[np.float64]] = []

    def exposure_parts() -> Iterable[NDArray[np.floating[Any]]]:
        for rows in chunks:
            margin, exposures = block_margin_and_exposures(
                csr[rows],
                margin_pnl,
                stress_pnl,
                account_group[rows],
                n_groups,
                params=params,
                threads=threads,
            )
            margins.append(margin)
            yield exposures

    exposures = sum_in_order(exposure_parts(), (n_groups, stress_pnl.shape[1]))
    margin = np.concatenate(margins) if margins else np.zeros(0)
    return margin, exposures

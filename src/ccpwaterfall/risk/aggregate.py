"""Aggregation kernels: positions times scenario P&L, and group sums.

Every risk figure starts from one object, the account x scenario P&L matrix
(positions, sparse, times per-unit instrument P&L, dense), and most end in sums
over accounts by member or member group. Both kernels are one sparse-dense
product each; they are the hot path of a day's run.

This module also holds the input checks shared by the risk functions: arrays
are float32 or float64 (float32 passes through without a copy; anything else
becomes float64) and every entry must be finite.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import _sparsetools

_F = TypeVar("_F", np.float32, np.float64)

# Locations quoted in an error message about non-finite entries.
_SHOWN = 5


def float_array(
    name: str, values: ArrayLike, ndim: int, finite: bool = True
) -> NDArray[np.floating[Any]]:
    """``values`` as a float32 or float64 array with ``ndim`` axes, every entry finite.

    float32 and float64 arrays are returned as they are (no copy); anything
    else is converted to float64. Raises ValueError, naming ``name``, when the
    number of axes is wrong or an entry is NaN or infinite (``finite`` False:
    the caller tests the entries itself, as ``require_finite`` does).
    """
    array = np.asarray(values)
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if finite:
        require_finite(name, array)
    return array


def require_finite(name: str, array: NDArray[np.floating[Any]]) -> None:
    """Raise ValueError, naming ``name`` and the first bad positions, on a NaN or inf entry.

    One reduction decides the usual case (a finite sum means every entry is
    finite); only a non-finite sum pays for an element-wise mask, which also
    clears the rare finite-but-overflowing sum.
    """
    if array.size == 0 or np.isfinite(np.sum(array)):
        return
    bad = np.argwhere(~np.isfinite(array))
    if bad.shape[0] == 0:
        return
    shown = ", ".join(str(tuple(int(i) for i in row)) for row in bad[:_SHOWN])
    more = f" (and {bad.shape[0] - _SHOWN} more)" if bad.shape[0] > _SHOWN else ""
    raise ValueError(f"{name} has NaN or infinite entries at {shown}{more}")


def require_non_negative(name: str, array: NDArray[np.floating[Any]]) -> None:
    """Raise ValueError, naming ``name``, when an entry is negative."""
    if array.size and float(array.min()) < 0.0:
        raise ValueError(f"{name} must be non-negative; its smallest entry is {array.min()}")


# Fewer rows than this per block cost more in thread hand-off than they gain.
MIN_ROWS_PER_BLOCK = 256


def row_blocks(n_rows: int, threads: int, indptr: ArrayLike | None = None) -> tuple[slice, ...]:
    """``n_rows`` split into at most ``threads`` contiguous blocks of near-equal work.

    Without ``indptr`` the work of a row is one; with a CSR ``indptr`` (shape
    (n_rows + 1,)) it is the row's stored entries, so a few large accounts do
    not leave one thread with most of the product.
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    count = max(1, min(threads, n_rows // MIN_ROWS_PER_BLOCK))
    if indptr is None:
        edges = np.linspace(0, n_rows, count + 1).astype(int)
    else:
        offsets = np.asarray(indptr)
        targets = np.linspace(0, int(offsets[-1]), count + 1)
        edges = np.searchsorted(offsets, targets, side="left")
        edges[0], edges[-1] = 0, n_rows
        edges = np.maximum.accumulate(np.minimum(edges, n_rows))
    bounds = itertools.pairwise(edges.tolist())
    return tuple(slice(int(a), int(b)) for a, b in bounds if b > a)


def in_row_blocks(
    work: Callable[[slice], None], n_rows: int, threads: int, indptr: ArrayLike | None = None
) -> None:
    """Run ``work(block)`` for every row block, on ``threads`` threads.

    For kernels that release the GIL (scipy's sparse product, numpy's
    partition and sort): each thread writes its own rows of a shared output,
    so results are identical to one thread, bit for bit.
    """
    blocks = row_blocks(n_rows, threads, indptr)
    if len(blocks) == 1:
        work(blocks[0])
        return
    with ThreadPoolExecutor(max_workers=len(blocks)) as pool:
        for done in [pool.submit(work, block) for block in blocks]:
            done.result()


# scipy's CSR times dense kernel (what ``@`` calls); None where a scipy moved it.
CSR_KERNEL: Callable[..., None] | None = getattr(_sparsetools, "csr_matvecs", None)


def threaded_product(
    held: Any, pnl: NDArray[_F], threads: int, kernel: Callable[..., None] | None = CSR_KERNEL
) -> NDArray[_F]:
    """``held @ pnl`` by row blocks on ``threads`` threads, written in place.

    Each block goes through scipy's own CSR kernel (``csr_matvecs``, the one
    ``@`` calls, which releases the GIL) straight into its rows of one output,
    so no block result is copied; where that kernel is not found (a scipy that
    moved it) each block's product is copied into place instead.
    """
    n_rows, n_cols = held.shape
    out = np.zeros((n_rows, pnl.shape[1]), dtype=pnl.dtype)
    flat = pnl.reshape(-1)

    def block(rows: slice) -> None:
        sub = held[rows]
        if kernel is None:
            out[rows] = sub @ pnl
            return
        target = out[rows].reshape(-1)  # a view: the rows of a C-contiguous array
        kernel(sub.shape[0], n_cols, pnl.shape[1], sub.indptr, sub.indices, sub.data, flat, target)

    in_row_blocks(block, n_rows, threads, held.indptr)
    return out


def account_pnl(positions: Any, instrument_pnl: NDArray[_F], threads: int = 1) -> NDArray[_F]:
    """Scenario P&L of every account: positions times per-unit instrument P&L.

    ``positions``: scipy sparse matrix or array, shape (n_accounts,
    n_instruments), units held (short positions negative); CSR is used as is,
    other formats are converted. ``instrument_pnl``: shape (n_instruments,
    n_scenarios), float32 or float64, P&L of one unit per scenario, gains
    positive. Returns shape (n_accounts, n_scenarios) in the dtype of
    ``instrument_pnl`` (other dtypes are computed in float64), gains positive.

    The work is one CSR x dense product; its output is returned as is, never
    copied. Positions are cast to the P&L dtype first (a copy of the non-zeros
    only), so float32 P&L stays float32 end to end and halves the memory of the
    output. With ``threads`` > 1 the rows are computed in blocks on that many
    threads (the product releases the GIL), into one preallocated output; each
    row's sum is the same as on one thread. NaN policy: a NaN or inf in a held
    instrument's P&L or in a position raises ValueError; the check runs on the
    output (one reduction), so P&L of instruments nobody holds is not inspected.
    """
    pnl = np.asarray(instrument_pnl)
    if pnl.dtype not in (np.float32, np.float64):
        pnl = pnl.astype(np.float64)
    if pnl.ndim != 2:
        raise ValueError(f"instrument_pnl must have 2 axes, got shape {pnl.shape}")
    if not sp.issparse(positions) or positions.ndim != 2:
        raise ValueError("positions must be a 2-D scipy sparse matrix (accounts x instruments)")
    if positions.shape[1] != pnl.shape[0]:
        raise ValueError(
            f"positions has {positions.shape[1]} instruments but instrument_pnl has "
            f"{pnl.shape[0]} rows"
        )
    held = positions.tocsr().astype(pnl.dtype, copy=False)
    out: NDArray[_F]
    if threads == 1 or held.shape[0] < 2 * MIN_ROWS_PER_BLOCK:
        out = np.asarray(held @ pnl)
    else:
        out = threaded_product(held, np.ascontiguousarray(pnl), threads)
    if out.size and not np.isfinite(np.sum(out)):
        require_finite("positions", held.data)
        require_finite("instrument_pnl", pnl)
        require_finite("account P&L", out)
    return out


def indicator_matrix(index: ArrayLike, n_out: int, dtype: type[_F]) -> Any:
    """CSR matrix of shape (n_out, n_rows) with a one at (index[r], r) for every row r.

    ``index``: integer array, shape (n_rows,), values in [0, n_out). Raises
    ValueError on a value out of range. Multiplying it into a (n_rows, k)
    matrix sums rows by index.
    """
    idx = np.asarray(index)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError("index must be a 1-D integer array")
    if n_out < 0:
        raise ValueError("n_out must be non-negative")
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n_out):
        raise ValueError(f"index values must lie in [0, {n_out}); got {idx.min()}..{idx.max()}")
    n_rows = idx.shape[0]
    # CSC by construction: column r holds one entry, in row index[r].
    matrix = sp.csc_array(
        (np.ones(n_rows, dtype=dtype), idx.astype(np.intp), np.arange(n_rows + 1)),
        shape=(n_out, n_rows),
    )
    return matrix.tocsr()


def sum_by_index(values: NDArray[_F], index: ArrayLike, n_out: int) -> NDArray[_F]:
    """Group sums: ``out[g] = sum of values[r] over rows r with index[r] == g``.

    ``values``: shape (n_rows, n_scenarios) or (n_rows,), float32 or float64
    (other dtypes are computed in float64); ``index``: integer array, shape
    (n_rows,), values in [0, n_out) (accounts -> members, members -> groups).
    Returns shape (n_out, n_scenarios) or (n_out,) in the dtype of ``values``;
    groups with no rows are zero. Sums accumulate in that dtype, in row order.
    This is the one group-sum kernel of the project.

    Implemented as one sparse indicator product, which measured about eight
    times faster than ``np.add.at`` and faster than sort + ``np.add.reduceat``
    at 50,000 x 2,750 -> 150 groups. NaN policy: NaN or inf in ``values``
    raises ValueError (checked on the output, one reduction).
    """
    array = np.asarray(values)
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    if array.ndim not in (1, 2):
        raise ValueError(f"values must have 1 or 2 axes, got shape {array.shape}")
    idx = np.asarray(index)
    if idx.shape != (array.shape[0],):
        raise ValueError(f"index must have shape ({array.shape[0]},), got {idx.shape}")
    out: NDArray[_F] = np.asarray(indicator_matrix(idx, n_out, array.dtype.type) @ array)
    if out.size and not np.isfinite(np.sum(out)):
        require_finite("values", array)
        require_finite("group sums", out)
    return out

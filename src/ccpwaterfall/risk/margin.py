"""Initial margin per account: historical VaR, expected shortfall, SPAN scan risk.

All measures read an account x scenario P&L matrix, shape (n_accounts,
n_scenarios), gains positive, and return the margin per account as a positive
loss, shape (n_accounts,), float64, floored at zero (an account whose worst
scenarios are gains needs no margin, never a negative one).

Order statistics (the project's convention): with losses l = -pnl sorted
descending, l_(1) >= l_(2) >= ..., VaR at confidence alpha is l_(k) with
k = ceil(n (1 - alpha)), and ES with k worst is the mean of l_(1)..l_(k).
Both use ``np.partition`` (linear time per row), never a full sort.

NaN policy for every function here: a NaN or infinite entry in any input
raises ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ccpwaterfall.risk.aggregate import account_pnl, float_array, in_row_blocks, require_finite
from ccpwaterfall.risk.params import AntiProcyclicality, MarginModel, MarginParams

SPAN_SCENARIOS = 16  # columns of a classic SPAN risk array


def k_for_confidence(n_scenarios: int, confidence: float) -> int:
    """Rank of the VaR order statistic: ``ceil(n (1 - confidence))``, between 1 and n.

    The product is rounded to 9 decimals before the ceiling, so that
    2,500 x (1 - 0.99), which is 25.000000000000025 in binary floating point,
    gives 25 and not 26.
    """
    if n_scenarios < 1:
        raise ValueError("n_scenarios must be at least 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be strictly between 0 and 1")
    k = math.ceil(round(n_scenarios * (1.0 - confidence), 9))
    return min(max(k, 1), n_scenarios)


#: Rows partitioned at a time by ``_worst_pnl``: 64 x 2,750 float64 scenarios is 1.4 MB.
PARTITION_ROWS = 64


def _worst_pnl(pnl: NDArray[np.floating[Any]], k: int) -> NDArray[np.floating[Any]]:
    """The k lowest P&L values of each row, sorted ascending: shape (n_accounts, k).

    Sorting the k values (k is small) and summing them in that order makes the
    result independent of the order of the scenario columns, to the last bit.
    """
    lowest = np.empty((pnl.shape[0], k), dtype=pnl.dtype)
    # Rows a few at a time: each partition copies its rows, and a small copy stays in
    # the cache where one of the whole matrix would go through memory twice.
    for start in range(0, pnl.shape[0], PARTITION_ROWS):
        rows = slice(start, start + PARTITION_ROWS)
        lowest[rows] = np.partition(pnl[rows], k - 1, axis=1)[:, :k]
    return np.sort(lowest, axis=1)


def _scenario_matrix(name: str, pnl: ArrayLike) -> NDArray[np.floating[Any]]:
    array = _scenario_shape(name, pnl)
    require_finite(name, array)
    return array


def _scenario_shape(name: str, pnl: ArrayLike) -> NDArray[np.floating[Any]]:
    """``pnl`` as a float matrix with scenarios; its entries are not tested yet."""
    array = float_array(name, pnl, 2, finite=False)
    if array.shape[1] == 0:
        raise ValueError(f"{name} has no scenarios")
    return array


def value_at_risk(pnl: ArrayLike, confidence: float) -> NDArray[np.float64]:
    """Historical VaR per account as a positive loss, floored at 0.

    ``pnl``: shape (n_accounts, n_scenarios), float32 or float64, gains
    positive. Returns shape (n_accounts,), float64: the k-th largest loss with
    ``k = k_for_confidence(n_scenarios, confidence)``. NaN or inf -> ValueError.
    """
    array = _scenario_matrix("pnl", pnl)
    return _var_kernel(array, k_for_confidence(array.shape[1], confidence))


def expected_shortfall(pnl: ArrayLike, k: int) -> NDArray[np.float64]:
    """Expected shortfall per account: the mean of its k worst scenario losses, floored at 0.

    ``pnl``: shape (n_accounts, n_scenarios), float32 or float64, gains
    positive; ``k``: 1 <= k <= n_scenarios (LCH PAIRS: the 6 worst of 2,500).
    Returns shape (n_accounts,), float64. NaN or inf -> ValueError.
    """
    array = _scenario_matrix("pnl", pnl)
    if not 1 <= k <= array.shape[1]:
        raise ValueError(f"k must be between 1 and {array.shape[1]} (the scenarios), got {k}")
    return _es_kernel(array, k)


# The kernels below take a checked matrix: each public function checks its input
# once (a full pass over a large array), never again inside a model.


def _var_kernel(array: NDArray[np.floating[Any]], k: int) -> NDArray[np.float64]:
    kth = np.partition(array, k - 1, axis=1)[:, k - 1]
    return np.maximum(-kth.astype(np.float64), 0.0)


def _es_kernel(array: NDArray[np.floating[Any]], k: int) -> NDArray[np.float64]:
    worst = _worst_pnl(array, k)
    # A running sum adds in one fixed order; np.mean's SIMD partial sums can vary with
    # the memory alignment of the buffer and so change the last bit between calls.
    total: NDArray[np.float64] = np.cumsum(worst, axis=1, dtype=np.float64)[:, -1]
    return np.maximum(-total / k, 0.0)


def _scan_kernel(array: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    worst: NDArray[np.float64] = array.min(axis=1).astype(np.float64)
    return np.maximum(-worst, 0.0)


def scan_risk(pnl: ArrayLike) -> NDArray[np.float64]:
    """SPAN scan risk per account: the largest loss over the 16 risk-array scenarios, floored at 0.

    ``pnl``: shape (n_accounts, 16), the accounts' risk-array P&L (gains
    positive). Returns shape (n_accounts,), float64. NaN or inf -> ValueError.
    """
    return _scan_kernel(_span_matrix("pnl", pnl))


def _span_matrix(name: str, pnl: ArrayLike) -> NDArray[np.floating[Any]]:
    array = float_array(name, pnl, 2)
    if array.shape[1] != SPAN_SCENARIOS:
        raise ValueError(
            f"{name} must have {SPAN_SCENARIOS} risk-array scenarios, got {array.shape[1]}"
        )
    return array


def _span_pnl(risk_array_pnl: ArrayLike, positions: Any) -> NDArray[np.floating[Any]]:
    arrays = _span_matrix("risk_array_pnl", risk_array_pnl)
    return account_pnl(positions, arrays)


def span_scan_risk(risk_array_pnl: ArrayLike, positions: Any) -> NDArray[np.float64]:
    """SPAN scan risk of every account from per-contract risk arrays.

    ``risk_array_pnl``: shape (n_instruments, 16), P&L of one long contract in
    each risk-array scenario, gains positive (scenario s+1 of the CME table is
    column s). ``positions``: scipy sparse, shape (n_accounts, n_instruments),
    contracts held (short negative). Returns shape (n_accounts,), float64: the
    largest portfolio loss over the 16 scenarios, floored at 0. NaN or inf ->
    ValueError.
    """
    return scan_risk(_span_pnl(risk_array_pnl, positions))


def scan_risk_scenario(risk_array_pnl: ArrayLike, positions: Any) -> NDArray[np.intp]:
    """The risk-array scenario that sets each account's scan risk, counted from 0.

    Same inputs as ``span_scan_risk``. Returns shape (n_accounts,), intp: the
    column of the largest loss (add 1 for the CME scenario number); among equal
    losses the lower column.
    """
    scenario: NDArray[np.intp] = np.argmin(_span_pnl(risk_array_pnl, positions), axis=1)
    return scenario


def _es_margin(array: NDArray[np.floating[Any]], params: MarginParams) -> NDArray[np.float64]:
    k = params.es_worst
    if k is None:
        k = k_for_confidence(array.shape[1], params.confidence)
    if k > array.shape[1]:
        raise ValueError(f"es_worst {k} exceeds the {array.shape[1]} scenarios")
    return _es_kernel(array, k)


def _var_margin(array: NDArray[np.floating[Any]], params: MarginParams) -> NDArray[np.float64]:
    return _var_kernel(array, k_for_confidence(array.shape[1], params.confidence))


def _span_margin(array: NDArray[np.floating[Any]], params: MarginParams) -> NDArray[np.float64]:
    if array.shape[1] != SPAN_SCENARIOS:
        raise ValueError(
            f"pnl must have {SPAN_SCENARIOS} risk-array scenarios, got {array.shape[1]}"
        )
    return _scan_kernel(array)


# The margin models, keyed by their configuration name; each takes a checked matrix.
MARGIN_MEASURES: dict[
    MarginModel, Callable[[NDArray[np.floating[Any]], MarginParams], NDArray[np.float64]]
] = {
    MarginModel.VAR: _var_margin,
    MarginModel.ES: _es_margin,
    MarginModel.SPAN: _span_margin,
}


def _same_accounts(
    name: str, other: ArrayLike | None, n_accounts: int, option: str
) -> NDArray[np.floating[Any]]:
    if other is None:
        raise ValueError(f"anti-procyclicality option {option!r} needs {name}")
    array = _scenario_shape(name, other)
    if array.shape[0] != n_accounts:
        raise ValueError(
            f"{name} must have {n_accounts} rows (one per account), got {array.shape[0]}"
        )
    return array


def initial_margin(
    pnl: ArrayLike,
    params: MarginParams,
    stressed_pnl: ArrayLike | None = None,
    long_history_pnl: ArrayLike | None = None,
    threads: int = 1,
) -> NDArray[np.float64]:
    """Initial margin per account: the model's measure, then EMIR anti-procyclicality.

    ``pnl``: shape (n_accounts, n_scenarios), gains positive (for SPAN the 16
    risk-array columns). The measure M is VaR at ``params.confidence``, ES of
    the ``params.es_worst`` worst scenarios (or ``k_for_confidence`` when
    unset), or SPAN scan risk. RTS 153/2013 Art 28 then gives:

    - BUFFER (a): ``M x (1 + apc_buffer)``, a margin of 100 with the 25%
      buffer is 125 (Art 28(1)(a), docs/references.md [EMIR-RTS-153]);
    - STRESSED_WEIGHT (b): ``(1 - w) M(pnl) + w M(stressed_pnl)`` with
      ``w = apc_stressed_weight``; ``stressed_pnl``, shape (n_accounts,
      n_stressed), is required;
    - TEN_YEAR_FLOOR (c): ``max(M(pnl), M(long_history_pnl))``;
      ``long_history_pnl``, shape (n_accounts, n_long), the 10-year look-back,
      is required.

    With ``threads`` > 1 the accounts are measured in row blocks on that many
    threads (partition and sort release the GIL); every account's margin is
    the same as on one thread. An input the chosen option does not use is
    ignored. Returns shape
    (n_accounts,), float64, >= 0. A missing required input, a row count that
    does not match, or a NaN or inf entry raises ValueError.
    """
    model = MARGIN_MEASURES[params.model]

    def measure(
        name: str, array: NDArray[np.floating[Any]], params: MarginParams
    ) -> NDArray[np.float64]:
        if threads == 1:
            require_finite(name, array)
            return model(array, params)
        out = np.empty(array.shape[0], dtype=np.float64)
        finite: list[bool] = []

        def block(rows: slice) -> None:
            part = array[rows]
            # Each block tests its own rows: the test is a full pass over the matrix,
            # as long as a tenth of the measure, and would otherwise run on one core.
            finite.append(part.size == 0 or bool(np.isfinite(np.sum(part))))
            out[rows] = model(part, params)

        in_row_blocks(block, array.shape[0], threads)
        if not all(finite):
            require_finite(name, array)  # names every bad entry, as on one thread
        return out

    current = _scenario_shape("pnl", pnl)
    margin = measure("pnl", current, params)
    option = params.anti_procyclicality
    n_accounts = current.shape[0]
    if option is AntiProcyclicality.BUFFER:
        return margin * (1.0 + params.apc_buffer)
    if option is AntiProcyclicality.STRESSED_WEIGHT:
        stressed = _same_accounts("stressed_pnl", stressed_pnl, n_accounts, option.value)
        weight = params.apc_stressed_weight
        return (1.0 - weight) * margin + weight * measure("stressed_pnl", stressed, params)
    if option is AntiProcyclicality.TEN_YEAR_FLOOR:
        long_history = _same_accounts(
            "long_history_pnl", long_history_pnl, n_accounts, option.value
        )
        return np.maximum(margin, measure("long_history_pnl", long_history, params))
    return margin


def margin_breaches(pnl_realised: ArrayLike, margin: ArrayLike) -> NDArray[np.intp]:
    """Backtest: per account, how many days the realised loss exceeded the margin.

    ``pnl_realised`` and ``margin``: the same shape, (n_accounts,) for one day
    or (n_accounts, n_days); P&L gains positive, margin >= 0. Returns shape
    (n_accounts,), intp: the count of days with ``-pnl > margin``. NaN or inf
    -> ValueError.
    """
    realised = np.asarray(pnl_realised)
    ndim = realised.ndim
    if ndim not in (1, 2):
        raise ValueError(f"pnl_realised must have 1 or 2 axes, got shape {realised.shape}")
    loss = -float_array("pnl_realised", realised, ndim)
    held = float_array("margin", margin, ndim)
    if held.shape != loss.shape:
        raise ValueError(f"margin has shape {held.shape}, pnl_realised {loss.shape}")
    breached = (loss > held).reshape(loss.shape[0], -1)
    counts: NDArray[np.intp] = np.count_nonzero(breached, axis=1).astype(np.intp)
    return counts

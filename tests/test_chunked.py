"""The account-chunked margin and stress pipeline: same answers as whole arrays, less memory."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import sparse

from ccpwaterfall.risk.aggregate import account_pnl
from ccpwaterfall.risk.chunked import account_chunks, block_margin, margin_and_exposures
from ccpwaterfall.risk.margin import initial_margin
from ccpwaterfall.risk.params import AntiProcyclicality, MarginModel, MarginParams
from ccpwaterfall.risk.stress import account_shortfall, group_exposures
from ccpwaterfall.samples.synthetic import SMALL_CCP_DAY, CcpDay, DayShape, generate_day

ES_997 = MarginParams(model=MarginModel.ES, confidence=0.997)


@pytest.fixture(scope="module")
def day() -> CcpDay:
    return generate_day(SMALL_CCP_DAY, seed=11)


def whole_arrays(
    day: CcpDay, params: MarginParams
) -> tuple[NDArray[np.float64], NDArray[np.floating[Any]]]:
    """The pipeline without chunks: every account's P&L held at once."""
    margin = initial_margin(account_pnl(day.positions, day.margin_pnl), params)
    shortfall = account_shortfall(account_pnl(day.positions, day.stress_pnl), margin)
    return margin, group_exposures(shortfall, day.account_group, day.n_groups)


def run_chunked(
    day: CcpDay, params: MarginParams, chunk_accounts: int
) -> tuple[NDArray[np.floating[Any]], NDArray[np.float64]]:
    return margin_and_exposures(
        day.positions,
        day.margin_pnl,
        day.stress_pnl,
        day.account_group,
        day.n_groups,
        params=params,
        chunk_accounts=chunk_accounts,
    )


def test_account_chunks_cover_every_account_once_in_order() -> None:
    chunks = account_chunks(10, 4)
    assert chunks == (slice(0, 4), slice(4, 8), slice(8, 10))
    assert account_chunks(0, 4) == ()
    assert account_chunks(3, 10) == (slice(0, 3),)


def test_hand_computed_margin_and_group_exposures() -> None:
    # Three accounts, two instruments; ES of the single worst loss (k = 1).
    positions = sparse.csr_array(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, -1.0]]))
    margin_pnl = np.array([[-10.0, 5.0, 0.0, 2.0], [3.0, -4.0, 1.0, 0.0]])
    # Account P&L over the margin scenarios: [-10, 5, 0, 2], [6, -8, 2, 0], [-13, 9, -1, 2].
    stress_pnl = np.array([[-30.0, 10.0], [5.0, -20.0]])
    # Stress P&L: [-30, 10], [10, -40], [-35, 30]; less margins 10, 8, 13 -> shortfalls
    # [20, 0], [0, 32], [22, 0]; accounts 0 and 2 are in group 0, account 1 in group 1.
    group = np.array([0, 1, 0], dtype=np.intp)
    params = MarginParams(model=MarginModel.ES, es_worst=1)
    for chunk in (1, 2, 3):
        margin, exposures = margin_and_exposures(
            positions, margin_pnl, stress_pnl, group, 2, params=params, chunk_accounts=chunk
        )
        np.testing.assert_array_equal(margin, [10.0, 8.0, 13.0])
        np.testing.assert_array_equal(exposures, [[42.0, 0.0], [0.0, 32.0]])


@pytest.mark.parametrize("chunk_accounts", [1, 7, 64, 299, 300, 1_000])
def test_chunked_equals_whole_arrays(day: CcpDay, chunk_accounts: int) -> None:
    margin, exposures = run_chunked(day, ES_997, chunk_accounts)
    whole_margin, whole_exposures = whole_arrays(day, ES_997)
    # Each account's margin comes from its own row alone: the same bits in any block.
    np.testing.assert_array_equal(margin, whole_margin)
    # Group sums are only re-associated across blocks.
    np.testing.assert_allclose(exposures, whole_exposures, rtol=1e-12, atol=0.0)
    assert exposures.shape == (day.n_groups, day.stress_pnl.shape[1])
    assert exposures.dtype == np.float64
    assert np.count_nonzero(exposures) > 0  # the day has real stress losses


@pytest.mark.parametrize(
    "params",
    [
        MarginParams(model=MarginModel.VAR, confidence=0.99),
        MarginParams(model=MarginModel.ES, confidence=0.99),
        MarginParams(anti_procyclicality=AntiProcyclicality.BUFFER, apc_buffer=0.25),
    ],
)
def test_chunked_follows_the_margin_params(day: CcpDay, params: MarginParams) -> None:
    margin, exposures = run_chunked(day, params, 50)
    whole_margin, whole_exposures = whole_arrays(day, params)
    np.testing.assert_array_equal(margin, whole_margin)
    np.testing.assert_allclose(exposures, whole_exposures, rtol=1e-12, atol=0.0)


def test_float32_pnl_stays_consistent() -> None:
    single = generate_day(SMALL_CCP_DAY, seed=11, dtype=np.float32)
    margin, exposures = run_chunked(single, ES_997, 40)
    whole_margin, whole_exposures = whole_arrays(single, ES_997)
    np.testing.assert_array_equal(margin, whole_margin)
    np.testing.assert_allclose(exposures, whole_exposures, rtol=1e-5)
    assert exposures.dtype == np.float64


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_accounts=st.integers(1, 40),
    chunk_accounts=st.integers(1, 45),
)
def test_any_chunking_gives_the_whole_array_answer(
    seed: int, n_accounts: int, chunk_accounts: int
) -> None:
    rng = np.random.default_rng(seed)
    n_instruments, n_groups = 6, 3
    dense = rng.normal(size=(n_accounts, n_instruments))
    dense[rng.random(dense.shape) < 0.5] = 0.0
    positions = sparse.csr_array(dense)
    margin_pnl = rng.standard_t(3.0, size=(n_instruments, 30))
    stress_pnl = 3.0 * rng.standard_t(3.0, size=(n_instruments, 8))
    group = rng.integers(0, n_groups, n_accounts).astype(np.intp)
    params = MarginParams(es_worst=3)
    margin, exposures = margin_and_exposures(
        positions,
        margin_pnl,
        stress_pnl,
        group,
        n_groups,
        params=params,
        chunk_accounts=chunk_accounts,
    )
    whole_margin = initial_margin(account_pnl(positions, margin_pnl), params)
    shortfall = account_shortfall(account_pnl(positions, stress_pnl), whole_margin)
    np.testing.assert_array_equal(margin, whole_margin)
    np.testing.assert_allclose(
        exposures, group_exposures(shortfall, group, n_groups), rtol=1e-12, atol=1e-9
    )


def test_no_accounts_gives_empty_margin_and_zero_exposures() -> None:
    positions = sparse.csr_array((0, 4))
    margin, exposures = margin_and_exposures(
        positions, np.ones((4, 10)), np.ones((4, 3)), np.zeros(0, np.intp), 2, params=ES_997
    )
    assert margin.shape == (0,)
    np.testing.assert_array_equal(exposures, np.zeros((2, 3)))


def test_small_chunks_never_hold_the_whole_pnl() -> None:
    shape = DayShape(
        n_members=10,
        n_groups=5,
        n_accounts=3_000,
        n_instruments=100,
        n_positions=30_000,
        n_margin_scenarios=400,
        n_stress_scenarios=50,
        n_factors=4,
    )
    day = generate_day(shape, seed=3)
    whole_pnl_bytes = shape.n_accounts * shape.n_margin_scenarios * 8

    def peak_bytes(chunk_accounts: int) -> int:
        tracemalloc.start()
        try:
            run_chunked(day, ES_997, chunk_accounts)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # The measure sees the account P&L when it is built whole ...
    assert peak_bytes(shape.n_accounts) >= whole_pnl_bytes
    # ... and blocks of 100 accounts stay far below it.
    assert peak_bytes(100) < whole_pnl_bytes / 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"positions": np.ones((3, 2))}, "positions must be"),
        ({"margin_pnl": np.ones((5, 4))}, "margin_pnl must have shape"),
        ({"stress_pnl": np.ones(2)}, "stress_pnl must have shape"),
        ({"account_group": np.zeros(2, np.intp)}, "account_group must have shape"),
        ({"account_group": np.array([0.0, 1.0, 0.0])}, "integer group indices"),
        ({"account_group": np.array([0, 2, 0], np.intp)}, r"lie in \[0, 2\)"),
        ({"account_group": np.array([0, -1, 0], np.intp)}, r"lie in \[0, 2\)"),
        ({"n_groups": 0}, "n_groups must be at least 1"),
        ({"chunk_accounts": 0}, "chunk_accounts must be at least 1"),
        (
            {"params": MarginParams(anti_procyclicality=AntiProcyclicality.TEN_YEAR_FLOOR)},
            "needs a second P&L set",
        ),
        (
            {"params": MarginParams(anti_procyclicality=AntiProcyclicality.STRESSED_WEIGHT)},
            "needs a second P&L set",
        ),
    ],
)
def test_mismatched_inputs_are_rejected(change: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "positions": sparse.csr_array(np.eye(3, 2)),
        "margin_pnl": np.ones((2, 4)),
        "stress_pnl": np.ones((2, 3)),
        "account_group": np.array([0, 1, 0], np.intp),
        "n_groups": 2,
        "params": ES_997,
        "chunk_accounts": 2,
    }
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        margin_and_exposures(**arguments)


def test_nan_in_held_instrument_pnl_is_reported(day: CcpDay) -> None:
    broken = day.stress_pnl.copy()
    held = int(day.positions.indices[0])
    broken[held, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        margin_and_exposures(
            day.positions, day.margin_pnl, broken, day.account_group, day.n_groups, params=ES_997
        )


@pytest.mark.parametrize(
    "params",
    [
        ES_997,
        MarginParams(model=MarginModel.VAR, confidence=0.99),
        MarginParams(anti_procyclicality=AntiProcyclicality.BUFFER, apc_buffer=0.25),
        MarginParams(es_worst=4, anti_procyclicality=AntiProcyclicality.STRESSED_WEIGHT),
        MarginParams(es_worst=4, anti_procyclicality=AntiProcyclicality.TEN_YEAR_FLOOR),
    ],
    ids=["es", "var", "buffer", "stressed_weight", "ten_year_floor"],
)
def test_block_margin_of_any_rows_is_their_whole_array_margin(
    day: CcpDay, params: MarginParams
) -> None:
    # Two more P&L sets on the same instruments stand in for the stressed and 10-year ones.
    stressed, long_history = day.stress_pnl, day.margin_pnl[:, ::2]
    whole = initial_margin(
        account_pnl(day.positions, day.margin_pnl),
        params,
        account_pnl(day.positions, stressed),
        account_pnl(day.positions, long_history),
    )
    assert whole.dtype == np.float64
    blocks = [
        block_margin(day.positions[rows], day.margin_pnl, params, stressed, long_history)
        for rows in account_chunks(day.positions.shape[0], 37)
    ]
    # Each account's margin is a measure of its own rows: the same bits in any block.
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    np.testing.assert_array_equal(
        block_margin(day.positions, day.margin_pnl, params, stressed, long_history, threads=2),
        whole,
    )


def test_the_end_of_day_margin_goes_block_by_block_with_the_whole_array_bits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pathlib import Path

    from ccpwaterfall.io.risk_case import load_risk_case
    from ccpwaterfall.lifecycle import compute_margin, margin

    case = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp" / "case.toml"
    inputs = load_risk_case(case).inputs
    whole = compute_margin(inputs)  # the demo's 400 accounts fit one block

    def peak_bytes() -> tuple[NDArray[np.float64], int]:
        tracemalloc.start()
        try:
            run = compute_margin(inputs)
            return run.account_margin, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    _, whole_peak = peak_bytes()
    monkeypatch.setattr(margin, "DEFAULT_CHUNK_ACCOUNTS", 25)
    blocked, blocked_peak = peak_bytes()
    np.testing.assert_array_equal(blocked, whole.account_margin)
    # 16 blocks of 25 accounts: the 400 accounts' P&L over 2,500 scenarios (8 MB) is never
    # held at once. (The peak of the blocked run is then set elsewhere, hence a quarter.)
    matrix = 400 * len(whole.scenario_names) * 8
    assert whole_peak > matrix
    assert whole_peak - blocked_peak > matrix / 4

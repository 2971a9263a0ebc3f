"""Row blocks on several threads give the same numbers as one thread, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ccpwaterfall.risk.aggregate import MIN_ROWS_PER_BLOCK, account_pnl, row_blocks
from ccpwaterfall.risk.margin import initial_margin
from ccpwaterfall.risk.params import AntiProcyclicality, MarginModel, MarginParams


def test_row_blocks_cover_every_row_once() -> None:
    blocks = row_blocks(10 * MIN_ROWS_PER_BLOCK + 7, 3)
    assert len(blocks) == 3
    rows = np.concatenate([np.arange(b.start, b.stop) for b in blocks])
    assert rows.tolist() == list(range(10 * MIN_ROWS_PER_BLOCK + 7))
    # Too few rows to be worth a thread each: one block.
    assert row_blocks(MIN_ROWS_PER_BLOCK, 2) == (slice(0, MIN_ROWS_PER_BLOCK),)
    with pytest.raises(ValueError, match="at least 1"):
        row_blocks(10, 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_threaded_aggregation_and_margin_equal_one_thread(dtype: type[np.floating]) -> None:
    rng = np.random.default_rng(7)
    n_accounts, n_instruments, n_scenarios = 3 * MIN_ROWS_PER_BLOCK + 11, 300, 250
    positions = (
        sp.random(n_accounts, n_instruments, density=0.05, format="csr", random_state=7) * 100.0
    )
    pnl = rng.standard_normal((n_instruments, n_scenarios)).astype(dtype)
    one = account_pnl(positions, pnl)
    two = account_pnl(positions, pnl, threads=2)
    assert two.dtype == one.dtype
    np.testing.assert_array_equal(one, two)
    stressed = account_pnl(positions, pnl[:, :40])
    for params in (
        MarginParams(model=MarginModel.ES, es_worst=6),
        MarginParams(model=MarginModel.VAR),
        MarginParams(
            anti_procyclicality=AntiProcyclicality.STRESSED_WEIGHT, apc_stressed_weight=0.25
        ),
    ):
        np.testing.assert_array_equal(
            initial_margin(one, params, stressed),
            initial_margin(one, params, stressed, threads=3),
        )


def test_the_commands_run_on_the_threads_asked_for_with_the_same_result(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json
    from pathlib import Path

    from ccpwaterfall.app import risk
    from ccpwaterfall.cli.main import run_cli

    demo = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp" / "case.toml"
    outcome = risk.margin(demo, threads=3)
    assert outcome.value is not None
    assert outcome.value.inputs.threads == 3
    outputs = []
    for threads in ("1", "2"):
        assert run_cli(["margin", str(demo), "--json", "--threads", threads]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]


def test_row_blocks_balance_stored_entries_not_rows() -> None:
    # 1,000 rows: the first 100 hold 9 entries each, the other 900 one each (1,800 in
    # all). Two blocks of equal work split at row 100, not at row 500.
    counts = np.array([9] * 100 + [1] * 900)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    first, second = row_blocks(1_000, 2, indptr)
    assert (first, second) == (slice(0, 100), slice(100, 1_000))
    assert row_blocks(1_000, 2) == (slice(0, 500), slice(500, 1_000))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_threaded_product_in_place_and_by_copy_equal_the_plain_product(
    dtype: type[np.floating],
) -> None:
    from ccpwaterfall.risk.aggregate import threaded_product

    rng = np.random.default_rng(3)
    held = (
        sp.random(4 * MIN_ROWS_PER_BLOCK, 200, density=0.05, format="csr", random_state=3) * 10.0
    ).astype(dtype)
    pnl = rng.standard_normal((200, 64)).astype(dtype)
    plain = np.asarray(held @ pnl)
    np.testing.assert_array_equal(threaded_product(held, pnl, 3), plain)
    np.testing.assert_array_equal(threaded_product(held, pnl, 3, kernel=None), plain)

"""The margin and stress pipeline on a local Dask cluster equals the in-process run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ccpwaterfall.risk import chunked, distributed
from ccpwaterfall.risk.aggregate import account_pnl
from ccpwaterfall.risk.margin import initial_margin
from ccpwaterfall.risk.params import AntiProcyclicality, MarginModel, MarginParams
from ccpwaterfall.risk.stress import account_shortfall, group_exposures
from ccpwaterfall.samples.synthetic import SMALL_CCP_DAY, CcpDay, generate_day

ES_997 = MarginParams(model=MarginModel.ES, confidence=0.997)


@pytest.fixture(scope="module")
def day() -> CcpDay:
    return generate_day(SMALL_CCP_DAY, seed=5)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    # ":0": any free port; None would still bind the scheduler's HTTP routes to 8787.
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as dask_client,  # type: ignore[no-untyped-call]
    ):
        yield dask_client


def run_both(
    client: Any, day: CcpDay, params: MarginParams, chunk_accounts: int
) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    inputs = (day.positions, day.margin_pnl, day.stress_pnl, day.account_group, day.n_groups)
    on_cluster = distributed.margin_and_exposures(
        *inputs, params=params, client=client, chunk_accounts=chunk_accounts
    )
    in_process = chunked.margin_and_exposures(*inputs, params=params, chunk_accounts=chunk_accounts)
    return on_cluster, in_process


@pytest.mark.parametrize("chunk_accounts", [1, 45, 128, 300, 10_000])
def test_cluster_equals_in_process_run(client: Any, day: CcpDay, chunk_accounts: int) -> None:
    (margin, exposures), (local_margin, local_exposures) = run_both(
        client, day, ES_997, chunk_accounts
    )
    # Same blocks, same additions in the same order: the same bits.
    np.testing.assert_array_equal(margin, local_margin)
    np.testing.assert_array_equal(exposures, local_exposures)
    assert np.count_nonzero(exposures) > 0


def test_cluster_equals_whole_array_run(client: Any, day: CcpDay) -> None:
    margin, exposures = distributed.margin_and_exposures(
        day.positions,
        day.margin_pnl,
        day.stress_pnl,
        day.account_group,
        day.n_groups,
        params=ES_997,
        client=client,
        chunk_accounts=64,
    )
    whole_margin = initial_margin(account_pnl(day.positions, day.margin_pnl), ES_997)
    shortfall = account_shortfall(account_pnl(day.positions, day.stress_pnl), whole_margin)
    whole_exposures = group_exposures(shortfall, day.account_group, day.n_groups)
    np.testing.assert_allclose(margin, whole_margin, rtol=1e-12, atol=0.0)
    np.testing.assert_allclose(exposures, whole_exposures, rtol=1e-12, atol=0.0)


def test_margin_model_reaches_the_workers(client: Any, day: CcpDay) -> None:
    params = MarginParams(model=MarginModel.VAR, confidence=0.99)
    (margin, exposures), (local_margin, local_exposures) = run_both(client, day, params, 100)
    np.testing.assert_array_equal(margin, local_margin)
    np.testing.assert_array_equal(exposures, local_exposures)
    # VaR at 99% is below ES at 99.7%: a different model really ran.
    es_margin, _ = chunked.margin_and_exposures(
        day.positions,
        day.margin_pnl,
        day.stress_pnl,
        day.account_group,
        day.n_groups,
        params=ES_997,
    )
    assert np.all(margin <= es_margin)
    assert np.any(margin < es_margin)


def test_input_errors_are_raised_before_any_task(client: Any, day: CcpDay) -> None:
    with pytest.raises(ValueError, match="margin_pnl must have shape"):
        distributed.margin_and_exposures(
            day.positions,
            day.margin_pnl[:-1],
            day.stress_pnl,
            day.account_group,
            day.n_groups,
            params=ES_997,
            client=client,
        )


def test_errors_inside_a_task_reach_the_caller(client: Any, day: CcpDay) -> None:
    broken = day.margin_pnl.copy()
    broken[int(day.positions.indices[-1]), 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        distributed.margin_and_exposures(
            day.positions,
            broken,
            day.stress_pnl,
            day.account_group,
            day.n_groups,
            params=ES_997,
            client=client,
        )


def test_no_accounts_needs_no_tasks(client: Any) -> None:
    from scipy import sparse

    margin, exposures = distributed.margin_and_exposures(
        sparse.csr_array((0, 3)),
        np.ones((3, 5)),
        np.ones((3, 2)),
        np.zeros(0, np.intp),
        4,
        params=ES_997,
        client=client,
    )
    assert margin.shape == (0,)
    np.testing.assert_array_equal(exposures, np.zeros((4, 2)))


def test_worker_processes_give_the_same_bits(day: CcpDay) -> None:
    # Separate processes: every input and the margin parameters travel pickled.
    from distributed import Client, LocalCluster

    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as process_client,  # type: ignore[no-untyped-call]
    ):
        (margin, exposures), (local_margin, local_exposures) = run_both(
            process_client, day, ES_997, 70
        )
    np.testing.assert_array_equal(margin, local_margin)
    np.testing.assert_array_equal(exposures, local_exposures)


# ------------------------------------------------- the end of day's steps on a cluster

STRESSED = MarginParams(
    model=MarginModel.ES, es_worst=5, anti_procyclicality=AntiProcyclicality.STRESSED_WEIGHT
)
FLOORED = MarginParams(model=MarginModel.VAR, anti_procyclicality=AntiProcyclicality.TEN_YEAR_FLOOR)


@pytest.mark.parametrize("chunk_accounts", [1, 45, 299, 10_000])
@pytest.mark.parametrize("params", [ES_997, STRESSED, FLOORED], ids=["es", "stressed", "floor"])
def test_margin_on_scattered_blocks_is_the_whole_array_margin(
    client: Any, day: CcpDay, chunk_accounts: int, params: MarginParams
) -> None:
    accounts = distributed.scatter_accounts(client, day.positions, chunk_accounts)
    # The stress P&L stands in for the second P&L sets: any scenarios of the same instruments.
    second = (day.stress_pnl, day.stress_pnl[:, ::-1])
    margin = distributed.account_margin(accounts, day.margin_pnl, params, *second)
    whole = chunked.block_margin(day.positions, day.margin_pnl, params, *second)
    np.testing.assert_array_equal(margin, whole)
    assert margin.dtype == np.float64
    assert margin.shape == (day.positions.shape[0],)


@pytest.mark.parametrize("chunk_accounts", [1, 64, 10_000])
def test_account_pnl_on_scattered_blocks_is_the_whole_product(
    client: Any, day: CcpDay, chunk_accounts: int
) -> None:
    accounts = distributed.scatter_accounts(client, day.positions, chunk_accounts)
    pnl = distributed.account_pnl(accounts, day.stress_pnl)
    np.testing.assert_array_equal(pnl, account_pnl(day.positions, day.stress_pnl))
    single = day.stress_pnl.astype(np.float32)
    assert distributed.account_pnl(accounts, single).dtype == np.float32


def test_span_and_mismatched_pnl_are_refused_before_any_task(client: Any, day: CcpDay) -> None:
    accounts = distributed.scatter_accounts(client, day.positions, 100)
    with pytest.raises(ValueError, match="SPAN"):
        distributed.account_margin(accounts, day.margin_pnl, MarginParams(model=MarginModel.SPAN))
    with pytest.raises(ValueError, match="stressed_pnl must have shape"):
        distributed.account_margin(accounts, day.margin_pnl, STRESSED, day.stress_pnl[1:])
    with pytest.raises(ValueError, match="instrument_pnl must have shape"):
        distributed.account_pnl(accounts, day.stress_pnl[:, 0])


def test_no_accounts_scatter_nothing(client: Any) -> None:
    from scipy import sparse

    accounts = distributed.scatter_accounts(client, sparse.csr_array((0, 3)))
    assert accounts.blocks == ()
    assert distributed.account_margin(accounts, np.ones((3, 5)), ES_997).shape == (0,)
    assert distributed.account_pnl(accounts, np.ones((3, 2))).shape == (0, 2)


def test_the_demo_end_of_day_on_small_blocks_is_the_in_process_one(client: Any) -> None:
    from pathlib import Path

    from ccpwaterfall.io.risk_case import load_risk_case
    from ccpwaterfall.lifecycle import compute_margin, compute_stress
    from ccpwaterfall.lifecycle.end_of_day import end_of_day, scatter_accounts

    case = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp" / "case.toml"
    inputs = load_risk_case(case).inputs
    # 400 accounts in 11 blocks, the last one short.
    cluster = scatter_accounts(inputs, client, chunk_accounts=37)
    margin = compute_margin(inputs, cluster=cluster)
    stress = compute_stress(inputs, margin, cluster=cluster)
    local = end_of_day(inputs)
    np.testing.assert_array_equal(margin.account_margin, local.margin.account_margin)
    np.testing.assert_array_equal(margin.member_margin, local.margin.member_margin)
    np.testing.assert_array_equal(stress.account_pnl, local.stress.account_pnl)
    np.testing.assert_array_equal(stress.member_exposures, local.stress.member_exposures)
    np.testing.assert_array_equal(stress.exposures, local.stress.exposures)

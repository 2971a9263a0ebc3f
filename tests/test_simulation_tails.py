"""Exact tails in bounded memory: passes over the same chunks give the single pass's figures."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from ccpwaterfall.domain import Money, Rulebook, Tranche, currency
from ccpwaterfall.reports.simulation_view import simulation_to_json, simulation_view
from ccpwaterfall.simulation.book import Book
from ccpwaterfall.simulation.defaults import DefaultModel
from ccpwaterfall.simulation.engine import (
    Market,
    SimulationSettings,
    SitgVariant,
    simulate,
)
from ccpwaterfall.simulation.tails import (
    Kept,
    Pieces,
    Plan,
    Stream,
    Window,
    edges_of,
    first_plan,
    merge_pieces,
    narrow,
    piece_of,
    pieces_of,
)

EUR = currency("EUR")
#: Every tail within it: one pass.
WHOLE = 10**9


def _book(members: int = 6, scenarios: int = 3) -> Book:
    """Members in pairs of groups, few scenarios: many paths share a value (ties)."""
    rng = np.random.default_rng(5)
    contribution = rng.integers(100, 400, members).astype(np.int64) * 100
    base = rng.integers(700, 2_000, members).astype(np.int64) * 100
    loss = np.stack([base * (s + 1) for s in range(scenarios)])
    return Book(
        name="tails",
        ccp_name="Tails CCP",
        currency=EUR,
        rulebook=Rulebook(
            (
                Tranche("defaulter_margin"),
                Tranche("defaulter_default_fund"),
                Tranche("ccp_capital", amount=Money.of("250", EUR)),
                Tranche("member_default_fund"),
                Tranche("assessments", cap_multiple=Decimal("1")),
                Tranche("vm_gains_haircut", max_fraction=Decimal("0.5")),
            )
        ),
        member_ids=tuple(f"M{i:03d}" for i in range(members)),
        member_names=(None,) * members,
        group_ids=tuple(f"G{g:03d}" for g in range(members // 2 + members % 2)),
        member_group=(np.arange(members) // 2).astype(np.intp),
        contribution=contribution,
        margin=np.full(members, 40_000, np.int64),
        scenario_names=tuple(f"S{s}" for s in range(scenarios)),
        loss=loss,
        usable_margin=np.minimum(loss, 40_000),
        gains=np.full((scenarios, members), 30_000, np.int64),
    )


def _market(members: int = 6, capital: bool = False) -> Market:
    book = _book(members)
    groups = book.n_groups
    return Market(
        book,
        DefaultModel(np.linspace(0.04, 0.12, groups), 0.3),
        capital=np.full(members, 60_000, np.int64) if capital else None,
    )


def _document(market: Market, settings: SimulationSettings) -> tuple[dict[str, object], int]:
    run = simulate(market, settings)
    return simulation_to_json(simulation_view(run)), run.passes


@pytest.mark.parametrize(
    ("paths", "seed", "chunk", "budget"),
    [(6_000, 1, 1_000, 3), (9_000, 2, 700, 7), (12_001, 3, 2_500, 20), (800, 4, 300, 1)],
)
def test_bounded_passes_give_the_single_pass_document(
    paths: int, seed: int, chunk: int, budget: int
) -> None:
    base = SimulationSettings(
        paths=paths,
        seed=seed,
        chunk_paths=chunk,
        exact_worst=10,
        exact_random=10,
        sitg=(SitgVariant(0, "before"), SitgVariant(30_000, "after")),
        contagion_share=Decimal("0.5"),
    )
    market = _market(capital=True)
    single, one = _document(market, replace(base, tail_budget=WHOLE))
    bounded, more = _document(market, replace(base, tail_budget=budget))
    assert one == 1
    assert more > 1
    assert bounded == single


def test_the_single_pass_is_chosen_when_the_tail_fits_the_budget() -> None:
    fits = SimulationSettings(paths=1_000_000, seed=0, chunk_paths=20_000)
    assert fits.tail == 10_000
    assert fits.budget == 10_000  # half a chunk
    assert fits.single_pass
    beyond = SimulationSettings(paths=1_000_100, seed=0, chunk_paths=20_000)
    assert not beyond.single_pass
    market = _market()
    small = SimulationSettings(paths=2_000, seed=1, chunk_paths=1_000, tail_budget=20)
    assert simulate(market, small).passes == 1
    large = SimulationSettings(paths=4_200, seed=1, chunk_paths=1_000, tail_budget=20)
    assert simulate(market, large).passes > 1


def _brute(values: np.ndarray, parts: np.ndarray, k: int) -> tuple[list[int], list[list[int]]]:
    """Each column's VaR and parts on its k largest values, the earlier path first among equals."""
    var, sums = [], []
    paths = np.arange(values.shape[0])
    for c in range(values.shape[1]):
        positive = np.flatnonzero(values[:, c] > 0)
        order = positive[np.lexsort((paths[positive], -values[positive, c]))][:k]
        var.append(int(values[order[-1], c]) if order.size == k else 0)
        sums.append([int(v) for v in parts[order, c].sum(axis=0).tolist()])
    return var, sums


def _passes(
    values: np.ndarray,
    parts: np.ndarray | None,
    k: int,
    budget: int,
    chunk: int,
    running_edges: bool = False,
) -> tuple[Plan, int]:
    """Passes over the chunks; ``running_edges``: merged in order, each chunk given the edges."""
    n, columns = values.shape
    d = 1 if parts is None else parts.shape[2]
    plan = first_plan({"f": (columns, d)}, k, budget)
    flags = {"f": parts is None}
    passes = 0
    while not plan.resolved:
        pieces: list[Pieces] = []
        for start in range(0, n, chunk):
            rows = slice(start, start + chunk)
            chunk_parts = None if parts is None else parts[rows]

            def part(column: int, at: np.ndarray, p: np.ndarray | None = chunk_parts) -> np.ndarray:
                assert p is not None
                result: np.ndarray = p[at, column]
                return result

            stream = Stream(
                values[rows],
                np.arange(start, min(start + chunk, n)),
                None if parts is None else part,
            )
            if running_edges and pieces:
                piece = pieces_of({"f": stream}, plan, edges_of(pieces[0]))
                pieces = [merge_pieces([pieces[0], piece], plan)]
            else:
                pieces.append(pieces_of({"f": stream}, plan))
        plan = narrow(plan, merge_pieces(pieces, plan), flags)
        passes += 1
    return plan, passes


@pytest.mark.parametrize("running_edges", [False, True])
@pytest.mark.parametrize("budget", [1, 4, 1_000])
def test_ties_zeros_and_short_tails_match_a_full_ranking(budget: int, running_edges: bool) -> None:
    rng = np.random.default_rng(budget)
    n, k = 3_000, 60
    values = np.zeros((n, 5), np.int64)
    values[:, 0] = rng.choice([0, 7, 9, 2**40], n, p=[0.9, 0.05, 0.03, 0.02])  # ties at VaR
    values[:, 2] = rng.integers(0, 10**12, n) * (rng.random(n) < 0.3)  # spread out
    values[rng.choice(n, 20, replace=False), 3] = 5  # fewer than k above 0
    values[:, 4] = 2**46 * (rng.random(n) < 0.5)  # one large value, many times
    # Parts that differ among tied values: the tie rule decides their sums.
    first = (values * rng.random((n, 5))).astype(np.int64)
    parts = np.stack([first, values - first], axis=2)
    plan, _ = _passes(values, parts, k, budget, chunk=400, running_edges=running_edges)
    var, sums = plan.results("f")
    want_var, want_sums = _brute(values, parts, k)
    assert var.tolist() == want_var
    assert sums == want_sums
    assert var[1] == 0  # all zero
    assert sums[1] == [0, 0]
    assert var[3] == 0  # 20 values above 0, fewer than k
    assert sum(sums[3]) == 100
    plain, _ = _passes(values, None, k, budget, chunk=400, running_edges=running_edges)
    plain_var, plain_sums = plain.results("f")
    assert plain_var.tolist() == want_var
    assert [s[0] for s in plain_sums] == [sum(s) for s in want_sums]


def test_peak_memory_stays_flat_as_paths_grow_with_the_same_chunk() -> None:
    market = _market(members=40)

    def peak(paths: int) -> int:
        settings = SimulationSettings(
            paths=paths, seed=3, chunk_paths=500, exact_worst=0, exact_random=0, tail_budget=25
        )
        tracemalloc.start()
        try:
            simulate(market, settings)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # The tails of 100 and 400 values, beyond the chunk's budget of 25: kept whole, the
    # peak grew by two thirds here.
    small, large = peak(10_000), peak(40_000)
    assert large < 1.35 * small


def test_an_edge_passes_only_values_inside_the_window_that_rank_above_it() -> None:
    window = Window(need=2, low=10, high=50, above=3, sums=(0,), bounds=None)
    values = np.asarray([[5], [10], [20], [20], [60], [50], [20]], np.int64)
    stream = Stream(values, np.arange(100, 107))
    # Kept so far: two values from earlier chunks, the least 20 on path 103.
    piece = piece_of(stream, window, 0, edge=(20, 103))
    assert isinstance(piece, Kept)
    # 60 lies above the window (already counted); 20 on paths 103 and 106 ranks below the edge.
    assert sorted(zip(piece.paths.tolist(), piece.values.tolist(), strict=True)) == [
        (102, 20),
        (105, 50),
    ]
    assert isinstance(piece_of(stream, window, 0), Kept)

"""The array waterfall agrees with the exact engine to the minor unit, path by path."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from numpy.typing import NDArray

from ccpwaterfall.domain import Money, Rulebook, Tranche, allocate_pro_rata_capped, currency
from ccpwaterfall.simulation.allocate import allocate_rows_capped
from ccpwaterfall.simulation.book import Book
from ccpwaterfall.simulation.exact_int import muldiv, product_at_least
from ccpwaterfall.simulation.paths import PathResults, run_paths
from ccpwaterfall.waterfall import run_case

EUR = currency("EUR")


def _book(rng: np.random.Generator, waterfall: tuple[Tranche, ...], scale: int) -> Book:
    m, s = 12, 4
    loss = rng.integers(0, 10 * scale, (s, m)).astype(np.int64)
    return Book(
        name="test",
        ccp_name="Test CCP",
        currency=EUR,
        rulebook=Rulebook(waterfall),
        member_ids=tuple(f"M{i:02d}" for i in range(m)),
        member_names=(None,) * m,
        group_ids=tuple(f"G{i}" for i in range(8)),
        member_group=np.arange(m, dtype=np.intp) % 8,
        contribution=rng.integers(0, scale, m).astype(np.int64),
        margin=rng.integers(0, scale, m).astype(np.int64),
        scenario_names=tuple(f"S{i}" for i in range(s)),
        loss=loss,
        usable_margin=np.minimum(loss, rng.integers(0, 2 * scale, (s, m))).astype(np.int64),
        gains=rng.integers(0, scale, (s, m)).astype(np.int64),
    )


def _money(units: str) -> Money:
    return Money.of(units, EUR)


RULEBOOKS = {
    "every kind": (
        Tranche("defaulter_margin"),
        Tranche("defaulter_default_fund"),
        Tranche("ccp_capital", amount=_money("1000")),
        Tranche("ccp_capital_pro_rata", amount=_money("3000"), shared_with="member_default_fund"),
        Tranche("member_default_fund"),
        Tranche("assessments", cap_multiple=Decimal("0.37")),
        Tranche("assessments", cap_multiple=Decimal("1.5")),
        Tranche("vm_gains_haircut", max_fraction=Decimal("0.3")),
    ),
    "capital shared with assessments": (
        Tranche("defaulter_margin"),
        Tranche("defaulter_default_fund"),
        Tranche("member_default_fund"),
        Tranche("ccp_capital_pro_rata", amount=_money("5000"), shared_with="assessments"),
        Tranche("assessments", cap_multiple=Decimal("2.75")),
        Tranche("vm_gains_haircut"),
    ),
    "auction tiers": (
        Tranche("defaulter_margin"),
        Tranche("defaulter_default_fund"),
        Tranche("ccp_capital_pro_rata", amount=_money("2000"), shared_with="member_default_fund"),
        Tranche("member_default_fund", allocation="auction_tiers"),
        Tranche("assessments", cap_multiple=Decimal("1.25"), allocation="auction_tiers"),
        Tranche("vm_gains_haircut"),
    ),
    "defaulter tranches after pooled ones": (
        Tranche("ccp_capital", amount=_money("2500")),
        Tranche("defaulter_default_fund"),
        Tranche("vm_gains_haircut", max_fraction=Decimal("0.5")),
        Tranche("defaulter_margin"),
        Tranche("member_default_fund"),
    ),
}


def _assert_agrees(book: Book, scenario: NDArray[np.intp], defaulted: NDArray[np.bool_]) -> int:
    paths: PathResults = run_paths(book, scenario, defaulted)
    fund, assessment, haircut = paths.dense()
    checked = 0
    for p in np.flatnonzero(defaulted.any(axis=1)).tolist():
        event = run_case(book.case(int(scenario[p]), defaulted[p])).events[0]
        assert [t.used.minor_units for t in event.tranches] == paths.used[p].tolist()
        # A tranche no loss reaches is not computed: its available shows 0.
        for tranche, available in zip(event.tranches, paths.available[p].tolist(), strict=True):
            assert available in (0, tranche.available.minor_units)
            if not tranche.used.is_zero():
                assert available == tranche.available.minor_units
        assert event.uncovered.minor_units == paths.uncovered[p]
        assert event.loss.minor_units == paths.loss[p]
        charges = {c.member: c for c in event.members}
        for i, member in enumerate(book.member_ids):
            charge = charges.get(member)
            got = (fund[p, i], assessment[p, i], haircut[p, i])
            want = (
                (0, 0, 0)
                if charge is None
                else (
                    charge.default_fund.minor_units,
                    charge.assessment.minor_units,
                    charge.vm_haircut.minor_units,
                )
            )
            assert tuple(int(x) for x in got) == want
        checked += 1
    return checked


@pytest.mark.parametrize("rulebook", sorted(RULEBOOKS))
@pytest.mark.parametrize("scale", [10**6, 10**13])
def test_array_waterfall_agrees_with_the_exact_engine(rulebook: str, scale: int) -> None:
    rng = np.random.default_rng([sorted(RULEBOOKS).index(rulebook), scale % 997])
    checked = 0
    for _ in range(4):
        book = _book(rng, RULEBOOKS[rulebook], scale)
        if rulebook == "auction tiers":
            book = replace(book, auction_tiers=((3, 1), (7,), (0, 5, 9)))
        scenario = rng.integers(0, book.n_scenarios, 40).astype(np.intp)
        defaulted = rng.random((40, book.n_members)) < 0.25
        checked += _assert_agrees(book, scenario, defaulted)
    assert checked > 100


def test_paths_without_a_default_give_nothing() -> None:
    book = _book(np.random.default_rng(0), RULEBOOKS["every kind"], 10**6)
    paths = run_paths(book, np.zeros(3, np.intp), np.zeros((3, book.n_members), dtype=bool))
    assert not paths.used.any()
    assert not paths.paid.any()


def test_muldiv_is_exact_beyond_64_bits() -> None:
    rng = np.random.default_rng(2)
    a = rng.integers(0, 2**52, 2000)
    b = rng.integers(0, 2**52, 2000)
    c = rng.integers(1, 2**52, 2000)
    b = np.minimum(b, c)  # a share: the quotient stays below a
    q, r = muldiv(a, b, c)
    for x, y, z, qq, rr in zip(
        a.tolist(), b.tolist(), c.tolist(), q.tolist(), r.tolist(), strict=True
    ):
        assert divmod(x * y, z) == (qq, rr)
    ge = product_at_least(a, b, c, b)
    assert ge.tolist() == [
        x * y >= z * y for x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), strict=True)
    ]


def test_capped_split_rounds_as_the_exact_split() -> None:
    rng = np.random.default_rng(4)
    rows, keys = 300, 7
    weights = rng.integers(0, 10**12, (rows, keys)).astype(np.int64)
    weights[rng.random((rows, keys)) < 0.2] = 0
    caps = (weights * rng.random((rows, keys))).astype(np.int64)
    caps[:, 0] = weights[:, 0] // 3  # equal ratios on part of the rows: ties
    caps[:, 1] = weights[:, 1] // 3
    capacity = np.where(weights > 0, caps, 0).sum(axis=1)
    total = (capacity * rng.random(rows)).astype(np.int64)
    rank = np.arange(keys, dtype=np.intp)
    got = allocate_rows_capped(total, weights, caps, rank)
    ids = [f"k{i}" for i in range(keys)]
    for row in range(rows):
        want = allocate_pro_rata_capped(
            int(total[row]),
            dict(zip(ids, weights[row].tolist(), strict=True)),
            dict(zip(ids, caps[row].tolist(), strict=True)),
        )
        assert got[row].tolist() == [want[k] for k in ids]


def test_auction_tiers_draw_the_most_junior_tier_first() -> None:
    # Member A defaults with 150.00 of loss, 100.00 of it covered by its own fund;
    # the other 50.00 falls on the survivors' fund, 100.00 each.
    book = Book(
        name="tiers",
        ccp_name="Test CCP",
        currency=EUR,
        rulebook=Rulebook(
            (
                Tranche("defaulter_default_fund"),
                Tranche("member_default_fund", allocation="auction_tiers"),
            )
        ),
        member_ids=("A", "B", "C", "D"),
        member_names=(None,) * 4,
        group_ids=("A", "B", "C", "D"),
        member_group=np.arange(4, dtype=np.intp),
        contribution=np.full(4, 10_000, np.int64),
        margin=np.zeros(4, np.int64),
        scenario_names=("S",),
        loss=np.array([[15_000, 0, 0, 0]], np.int64),
        usable_margin=np.zeros((1, 4), np.int64),
        gains=np.zeros((1, 4), np.int64),
    )
    defaulted = np.array([[True, False, False, False]])
    scenario = np.zeros(1, np.intp)
    pro_rata, _, _ = run_paths(book, scenario, defaulted).dense()
    assert pro_rata[0].tolist() == [0, 1_667, 1_667, 1_666]
    tiered = replace(book, auction_tiers=((2,),))
    by_tier, _, _ = run_paths(tiered, scenario, defaulted).dense()
    assert by_tier[0].tolist() == [0, 0, 5_000, 0]
    assert _assert_agrees(tiered, scenario, defaulted) == 1

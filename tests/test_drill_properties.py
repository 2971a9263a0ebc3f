"""Properties of the drill on generated plans: the loss identity, bid rank, replay.

- The crystallised loss is exactly its parts (market move, hedges' P&L, auction
  discount, costs, against the mark at default), and what the waterfall uses
  plus what it leaves uncovered is exactly the loss it was given.
- Under juniorisation, a member that bids at the winning price never pays more
  than one with the same contribution that did not bid.
- Replaying the stored events (through JSON) gives the same record.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

from hypothesis import assume, given
from hypothesis import strategies as st

from ccpwaterfall.domain import Case, Member, Money, Rulebook, Tranche, currency
from ccpwaterfall.io import case_to_toml, validate_case
from ccpwaterfall.lifecycle.drill import DrillEvent, drill_problems, replay, run_drill
from ccpwaterfall.lifecycle.drill_plan import (
    Account,
    AccountKind,
    AuctionPlan,
    Bid,
    BiddingModel,
    DrillPlan,
    Hedge,
    HedgeStage,
    Hedging,
    Instrument,
    Lot,
    MarginCall,
    Position,
    Product,
    Round,
)
from ccpwaterfall.waterfall import run_case

ROOT = Path(__file__).resolve().parents[1]
EUR = currency("EUR")
T0 = dt.datetime(2024, 3, 4, 8, tzinfo=dt.UTC)
PRODUCTS = ("P1", "P2")


def _at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def _eur(units: int) -> Money:
    return Money.from_minor_units(units, EUR)


def _plan(
    contributions: dict[str, int],
    bids: list[Bid],
    *,
    loss_units: int = 0,
    deltas: tuple[int, int] = (0, 0),
    moves: tuple[str, str] = ("0", "0"),
    hedge_stage: HedgeStage | None = None,
    reserve: Decimal | None = None,
    modelled: bool = False,
    second_lot: bool = True,
) -> DrillPlan:
    members = (
        *(Member(m, _eur(c), _eur(10_000), Money.zero(EUR)) for m, c in contributions.items()),
        Member("DEF", _eur(500), _eur(1_000), Money.zero(EUR)),
    )
    rulebook = Rulebook(
        (
            Tranche("defaulter_margin"),
            Tranche("defaulter_default_fund"),
            Tranche("member_default_fund", allocation="auction_tiers"),
            Tranche("assessments", cap_multiple=Decimal(1), allocation="auction_tiers"),
        ),
        business_days_to_replenish=2,
    )
    ccp = Case("drill", EUR, "CCP", rulebook, members, ())
    survivors = tuple((m, 1) for m in contributions)
    products = tuple(
        Product(
            p, (Decimal(moves[i]),), Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), survivors
        )
        for i, p in enumerate(PRODUCTS)
    )
    positions = tuple(
        Position("DEF-H", p, _eur(-loss_units if i == 0 else 0), _eur(deltas[i]))
        for i, p in enumerate(PRODUCTS)
        if i == 0 or second_lot
    )
    hedging = None
    if hedge_stage is not None:
        at = _at(30) if hedge_stage is HedgeStage.BEFORE_AUCTION else _at(28.5)
        day = 0 if hedge_stage is HedgeStage.BEFORE_AUCTION else 1
        hedging = Hedging(
            at, hedge_stage, day, tuple(Hedge(p, f"{p}-F", Decimal("0.5")) for p in PRODUCTS)
        )
    return DrillPlan(
        name="generated",
        ccp=ccp,
        defaulter="DEF",
        margin_call=MarginCall(_eur(100), _at(0), _at(1), dt.timedelta(minutes=30), _at(2)),
        porting_window=dt.timedelta(hours=4),
        accounts=(Account("DEF-H", AccountKind.HOUSE, _eur(1_000)),),
        products=products,
        positions=positions,
        instruments=tuple(Instrument(f"{p}-F", p) for p in PRODUCTS),
        hedging=hedging,
        auction=AuctionPlan(
            (Lot("L1", ("P1",)), Lot("L2", ("P2",))),
            (Round(_at(26), _at(28), 1), Round(_at(31), _at(33), 1)),
            reserve_multiple=reserve,
        ),
        bids=tuple(bids),
        bidding=BiddingModel(Decimal("0.5")) if modelled else None,
    )


members = st.lists(st.integers(0, 5_000), min_size=2, max_size=5).map(
    lambda cs: {f"M{i}": c for i, c in enumerate(cs)}
)


@st.composite
def plans(draw: st.DrawFn) -> DrillPlan:
    contributions = draw(members)
    ids = sorted(contributions)
    bids = []
    for hour in (26.5, 27.0, 27.5, 31.5, 32.0):
        if draw(st.booleans()):
            bids.append(
                Bid(
                    draw(st.sampled_from(ids)),
                    draw(st.sampled_from(("L1", "L2"))),
                    _eur(draw(st.integers(-20_000, 2_000))),
                    _at(hour),
                )
            )
    return _plan(
        contributions,
        bids,
        loss_units=draw(st.integers(0, 30_000)),
        deltas=(draw(st.integers(-50_000, 50_000)), draw(st.integers(-50_000, 50_000))),
        moves=(
            str(draw(st.decimals("-0.2", "0.2", places=3))),
            str(draw(st.decimals("-0.2", "0.2", places=3))),
        ),
        hedge_stage=draw(st.none() | st.sampled_from(HedgeStage)),
        reserve=draw(st.none() | st.sampled_from((Decimal(0), Decimal("0.5")))),
        modelled=draw(st.booleans()),
    )


def _valid(plan: DrillPlan) -> bool:
    return not drill_problems(plan)


@given(plans())
def test_the_crystallised_loss_is_its_parts_and_the_waterfall_accounts_for_all_of_it(
    plan: DrillPlan,
) -> None:
    assume(_valid(plan))  # about half the generated bids are refused: that plan cannot run
    state = run_drill(plan)
    crystallised = next(e for e in state.events if e.kind == "loss_crystallised").payload
    parts = ("market_move", "hedge_pnl", "auction_discount", "hedging_costs")
    moved = sum((Decimal(str(crystallised[p])) for p in parts[:2]), Decimal(0))
    kept = sum((Decimal(str(crystallised[p])) for p in parts[2:]), Decimal(0))
    assert Decimal(str(crystallised["loss"])) == kept - moved
    assert Decimal(str(crystallised["loss"])) == (
        Decimal(str(crystallised["mark_at_default"]))
        - Decimal(str(crystallised["proceeds"]))
        + Decimal(str(crystallised["hedging_costs"]))
    )
    assert state.outcome is not None
    event = state.outcome.result.events[0]
    used = sum((t.used for t in event.tranches), Money.zero(EUR))
    assert used + event.uncovered == state.outcome.loss.max(Money.zero(EUR))


@given(plans())
def test_replaying_the_stored_events_gives_the_same_record(plan: DrillPlan) -> None:
    assume(_valid(plan))  # about half the generated bids are refused: that plan cannot run
    state = run_drill(plan)
    stored = [DrillEvent.from_json(json.loads(json.dumps(e.to_json()))) for e in state.events]
    assert replay(plan, stored).record() == state.record()


@given(
    contribution=st.integers(1, 5_000),
    others=st.lists(st.integers(0, 5_000), min_size=0, max_size=3),
    winner=st.integers(0, 5_000),
    loss=st.integers(0, 40_000),
    price=st.integers(-20_000, 0),
)
def test_bidding_at_the_winning_price_never_costs_more_than_not_bidding(
    contribution: int, others: list[int], winner: int, loss: int, price: int
) -> None:
    contributions = {"AT": contribution, "NONE": contribution, "WIN": winner}
    contributions |= {f"O{i}": c for i, c in enumerate(others)}
    bids = [
        Bid("WIN", "L1", _eur(price), _at(26.5)),
        Bid("AT", "L1", _eur(price), _at(27)),  # the same price, later: the tie goes to WIN
    ]
    bids += [Bid(f"O{i}", "L1", _eur(price - 1), _at(27.5)) for i in range(len(others))]
    # One lot, so that the bids on it alone rank the members.
    state = run_drill(_plan(contributions, bids, loss_units=loss, second_lot=False))
    assert state.outcome is not None
    event = state.outcome.result.events[0]
    paid = {c.member: c.total for c in event.members}
    zero = Money.zero(EUR)
    assert not paid.get("NONE", zero) < paid.get("AT", zero)


def test_the_drill_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    figures = tmp_path / "drill.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_drill", "--quick", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(figures.read_text(encoding="utf-8"))
    assert report["demo_process_s"] > 0
    large = report["large"]
    assert large["positions"] == 10_000
    assert len(large["steps"]) == 3
    assert all(math.isfinite(s) and s > 0 for s in large["steps"].values())
    assert math.isfinite(large["close_over_run_case"])
    assert math.isfinite(large["waterfall_step_over_run_case"])


@given(plans())
def test_the_case_the_drill_writes_runs_to_the_same_allocation(plan: DrillPlan) -> None:
    assume(_valid(plan))
    state = run_drill(plan)
    assert state.outcome is not None
    written, issues = validate_case(tomllib.loads(case_to_toml(state.outcome.case)), "case.toml")
    assert issues == []
    assert written is not None
    again = run_case(written).events[0]
    drilled = state.outcome.result.events[0]
    assert again.members == drilled.members
    assert again.tranches == drilled.tranches


def test_assessments_called_are_what_the_assessments_tranche_used() -> None:
    plan = _plan(
        {"A": 100, "B": 200},
        [Bid("A", "L1", _eur(-5_000), _at(27))],  # the CCP pays 50.00 for a lot marked -20.00
        loss_units=2_000,
        second_lot=False,
    )
    state = run_drill(plan)
    assert state.outcome is not None
    event = state.outcome.result.events[0]
    used = next(t.used for t in event.tranches if t.kind == "assessments")
    called = [e.payload for e in state.events if e.kind == "assessment_called"]
    assert not used.is_zero()
    assert sum((Money.of(str(c["amount"]), EUR) for c in called), Money.zero(EUR)) == used

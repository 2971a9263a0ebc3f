"""The summary of a case run: the figures ``ccp compare`` sets side by side."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ccpwaterfall.domain import (
    Case,
    Default,
    Money,
    Rulebook,
    Tranche,
    TrancheKind,
)
from ccpwaterfall.waterfall import run_case
from ccpwaterfall.waterfall.summary import summarise
from waterfall_cases import EUR, every_kind, make_case
from waterfall_cases import member as _member
from waterfall_cases import money as _eur


def _every_layer_case(loss: int | str) -> Case:
    """All six kinds; D defaults. Capacity: 20 + 5 + 10 + 40 + 40 + 4 = 119."""
    return make_case(
        (_member("D", 5, 20), _member("A", 30, vm_gains=4), _member("B", 10)),
        (Default("D", _eur(loss)),),
        every_kind(10, "1", "1"),
        name="Every layer",
    )


def test_summary_of_a_loss_beyond_every_layer() -> None:
    summary = summarise(run_case(_every_layer_case(126)))
    assert summary.case == "Every layer"
    assert summary.ccp == "Test CCP"
    assert summary.currency == EUR
    assert summary.events == 1
    assert summary.loss == _eur(126)
    assert summary.defaulter_resources_used == _eur(25)  # margin 20 + contribution 5
    assert summary.ccp_capital_used == _eur(10)
    assert summary.member_fund_before == _eur(40)  # A 30 + B 10; D's 5 is the defaulter's
    assert summary.member_fund_used == _eur(40)
    assert summary.member_fund_share_used == Decimal(1)
    assert summary.assessments == _eur(40)
    assert summary.vm_haircut == _eur(4)
    assert summary.uncovered == _eur(7)


def test_summary_sums_every_capital_tranche_over_every_event() -> None:
    # Junior 10 and senior 5 around the fund; never replenished. Event 1: D1 loses 19:
    # junior 10, fund 9 (D2 2, A 7). Event 2: D2 loses 100: fund 63 (what A has left),
    # senior 5, uncovered 32.
    case = Case(
        name="Two events",
        currency=EUR,
        ccp_name="Test CCP",
        rulebook=Rulebook(
            (
                Tranche(TrancheKind.DEFAULTER_MARGIN),
                Tranche(TrancheKind.CCP_CAPITAL, name="junior", amount=_eur(10)),
                Tranche(TrancheKind.MEMBER_DEFAULT_FUND),
                Tranche(TrancheKind.CCP_CAPITAL, name="senior", amount=_eur(5)),
            )
        ),
        members=(_member("D1", 10), _member("D2", 20), _member("A", 70)),
        defaults=(
            Default("D1", _eur(19), dt.date(2024, 1, 8)),
            Default("D2", _eur(100), dt.date(2024, 1, 9)),
        ),
    )
    summary = summarise(run_case(case))
    assert summary.events == 2
    assert summary.loss == _eur(119)
    assert summary.defaulter_resources_used == _eur(0)
    assert summary.ccp_capital_used == _eur(15)
    assert summary.member_fund_before == _eur(90)  # D2 and A were survivors in event 1
    assert summary.member_fund_used == _eur(72)
    assert summary.member_fund_share_used == Decimal("0.8")
    assert summary.uncovered == _eur(32)


def test_share_used_is_undefined_without_a_fund() -> None:
    case = Case(
        name="No fund",
        currency=EUR,
        ccp_name="Test CCP",
        rulebook=Rulebook(
            (
                Tranche(TrancheKind.DEFAULTER_MARGIN),
                Tranche(TrancheKind.CCP_CAPITAL, amount=_eur(50)),
            )
        ),
        members=(_member("D", 0, 10), _member("A", 0)),
        defaults=(Default("D", _eur(30)),),
    )
    summary = summarise(run_case(case))
    assert summary.member_fund_before == _eur(0)
    assert summary.member_fund_share_used is None
    assert summary.ccp_capital_used == _eur(20)


@settings(max_examples=60)
@given(st.integers(min_value=0, max_value=200_00))
def test_the_layers_and_the_uncovered_loss_add_up_to_the_loss(cents: int) -> None:
    summary = summarise(run_case(_every_layer_case(str(Money.from_minor_units(cents, EUR).amount))))
    parts = (
        summary.defaulter_resources_used,
        summary.ccp_capital_used,
        summary.member_fund_used,
        summary.assessments,
        summary.vm_haircut,
        summary.uncovered,
    )
    assert sum(p.minor_units for p in parts) == summary.loss.minor_units == cents

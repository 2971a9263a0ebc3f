"""A member's liability: its maximum loss under the rulebook, and what it pays in the case.

Members must know their full liability in advance (the lesson of the Korea
Exchange default of 2013).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ccpwaterfall.domain import (
    Case,
    CoolingOff,
    Default,
    Rulebook,
    Tranche,
    TrancheKind,
)
from ccpwaterfall.waterfall import run_case
from ccpwaterfall.waterfall.liability import Liability, MemberRole, member_liability
from waterfall_cases import EUR, assessments, every_kind, make_case
from waterfall_cases import member as _member
from waterfall_cases import money as _eur


def _liability(case: Case, member_id: str) -> Liability:
    return member_liability(case, member_id, run_case(case))


def _full_rulebook_case(loss: int) -> Case:
    return make_case(
        (_member("M", "1000.01", 50, "333.33"), _member("A", 2000), _member("D", 100, 500)),
        (Default("D", _eur(loss)),),
        every_kind(10, "2.75", "0.5", assessments_name="Cash calls"),
        name="Full rulebook",
    )


def test_maximum_loss_adds_contribution_rounded_down_cap_and_haircut() -> None:
    liability = _liability(_full_rulebook_case(550), "M")
    assert liability.default_fund_at_risk == _eur("1000.01")
    (cap,) = liability.assessment_caps
    assert cap.tranche == "Cash calls"
    assert cap.cap_multiple == Decimal("2.75")
    assert cap.cap == _eur("2750.02")  # 2,750.0275 rounded down
    assert liability.vm_gains_at_risk == _eur("166.66")  # 166.665 rounded down
    assert liability.max_total == _eur("3916.69")
    assert liability.cooling_off is None
    assert liability.default is None
    assert liability.case == "Full rulebook"
    assert liability.ccp == "Test CCP"


def test_a_survivor_whose_loss_the_defaulter_covers_pays_nothing() -> None:
    liability = _liability(_full_rulebook_case(550), "M")
    (event,) = liability.events
    assert event.role is MemberRole.SURVIVOR
    assert event.charge.total.is_zero()
    assert event.own_resources_used.is_zero()
    assert liability.paid.total.is_zero()


def test_a_defaulter_is_told_its_own_margin_and_fund_go_first() -> None:
    # Loss 550: its margin 500, then 50 of its contribution of 100.
    liability = _liability(_full_rulebook_case(550), "D")
    assert liability.default == Default("D", _eur(550))
    assert liability.own_resources_at_risk == _eur(600)
    (event,) = liability.events
    assert event.role is MemberRole.DEFAULTER
    assert event.own_resources_used == _eur(550)
    assert event.charge.total.is_zero()


def test_layers_missing_from_the_rulebook_put_nothing_at_risk() -> None:
    case = Case(
        name="Assessments only",
        currency=EUR,
        ccp_name="Test CCP",
        rulebook=Rulebook(
            (
                Tranche(TrancheKind.ASSESSMENTS, name="first", cap_multiple=Decimal("0.5")),
                Tranche(TrancheKind.ASSESSMENTS, name="second", cap_multiple=Decimal(1)),
            )
        ),
        members=(_member("A", "100.01", 7, 40), _member("D", 10, 5)),
        defaults=(Default("D", _eur(1)),),
    )
    liability = _liability(case, "A")
    assert liability.default_fund_at_risk.is_zero()
    assert liability.vm_gains_at_risk.is_zero()
    assert liability.own_resources_at_risk.is_zero()
    assert [c.cap for c in liability.assessment_caps] == [_eur("50.00"), _eur("100.01")]


@pytest.mark.parametrize("multiples", [("0.5", "1"), ("1", "0.5")])
def test_assessments_tranches_share_one_cap_the_largest(multiples: tuple[str, str]) -> None:
    # A loss far beyond every cap: what the member pays is its stated maximum.
    case = Case(
        name="Two assessments tranches",
        currency=EUR,
        ccp_name="Test CCP",
        rulebook=Rulebook(
            tuple(Tranche(TrancheKind.ASSESSMENTS, cap_multiple=Decimal(m)) for m in multiples)
        ),
        members=(_member("A", "100.01"), _member("D", 10)),
        defaults=(Default("D", _eur(1000)),),
    )
    liability = _liability(case, "A")
    assert liability.assessment_cap == _eur("100.01")
    assert liability.max_total == _eur("100.01")
    assert liability.paid.total == liability.max_total


def _cooling_off_case() -> Case:
    # Event 1 (X, 540): the fund 450 (A 100, B 300, Y 50), then assessments 90 (A 20,
    # B 60, Y 10). Event 2 (Y, 400), inside the period: what is left of the caps, A 80
    # and B 240; 80 uncovered.
    return make_case(
        (_member("A", 100), _member("B", 300), _member("X", 50), _member("Y", 50)),
        (
            Default("X", _eur(540), dt.date(2024, 3, 4)),
            Default("Y", _eur(400), dt.date(2024, 3, 11)),
        ),
        (Tranche(TrancheKind.MEMBER_DEFAULT_FUND), assessments("1")),
        cooling_off=CoolingOff(20, 20, 63),
        name="Cooling-off",
    )


def test_the_cap_counts_once_over_a_cooling_off_period() -> None:
    liability = _liability(_cooling_off_case(), "A")
    assert liability.cooling_off == CoolingOff(20, 20, 63)
    assert liability.max_total == _eur(200)
    first, second = liability.events
    assert (first.charge.default_fund, first.charge.assessment) == (_eur(100), _eur(20))
    assert (second.charge.default_fund, second.charge.assessment) == (_eur(0), _eur(80))
    assert liability.paid.total == liability.max_total
    assert [e.date for e in liability.events] == [dt.date(2024, 3, 4), dt.date(2024, 3, 11)]


def test_roles_change_when_a_survivor_defaults_later() -> None:
    case = _cooling_off_case()
    y = _liability(case, "Y")
    assert [e.role for e in y.events] == [MemberRole.SURVIVOR, MemberRole.DEFAULTER]
    assert y.events[0].charge.total == _eur(60)
    assert y.events[1].own_resources_used.is_zero()  # no defaulter tranche in this rulebook
    assert y.default is not None
    x = _liability(case, "X")
    assert [e.role for e in x.events] == [MemberRole.DEFAULTER, MemberRole.DEFAULTED_BEFORE]
    assert x.paid.total.is_zero()


def test_an_unknown_member_is_a_value_error_naming_it() -> None:
    case = _full_rulebook_case(550)
    with pytest.raises(ValueError, match="'NOPE'"):
        member_liability(case, "NOPE", run_case(case))

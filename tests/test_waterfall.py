"""The waterfall engine, rule by rule, on small cases computed by hand, and the precedents."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest

from ccpwaterfall.domain import (
    CoolingOff,
    Currency,
    Money,
    TrancheKind,
    add_business_days,
    currency,
)
from ccpwaterfall.domain.money import sum_money
from ccpwaterfall.ledger import InvariantError, Posting, balances
from ccpwaterfall.waterfall import (
    TRANCHE_KINDS,
    CaseResult,
    EventContext,
    ResolvedTranche,
    TrancheOutcome,
    TrancheRule,
    WaterfallState,
    resolve_case,
    run_case,
    run_waterfall,
)
from ccpwaterfall.waterfall.accounts import MemberPart, member_account
from waterfall_cases import (
    DEFAULTER_FUND,
    EUR,
    MARGIN,
    MEMBER_FUND,
    assessments,
    capital,
    charges,
    default,
    haircut,
    make_case,
    member,
    money,
    tranche,
    tranche_entry,
    used,
)

D0 = dt.date(2024, 1, 8)  # a Monday
# Eurex [EUREX-ASSESSMENTS] (docs/references.md): 20 business days, +20 per further default, at most
# 3 months, about 63 business days.
EUREX_COOLING_OFF = CoolingOff(business_days=20, extend_per_default=20, max_business_days=63)


def bd(days: int) -> dt.date:
    """D0 plus ``days`` business days."""
    return add_business_days(D0, days)


def zero(ccy: Currency = EUR) -> Money:
    return Money.zero(ccy)


# defaulter_margin


def test_defaulter_margin_covers_only_its_own_loss() -> None:
    case = make_case(
        [member("A", initial_margin=100), member("B", initial_margin=10), member("S", 50)],
        [default("A", 30), default("B", 50)],
        [MARGIN, MEMBER_FUND],
    )
    result = run_case(case)
    event = result.events[0]
    margin = tranche(event, TrancheKind.DEFAULTER_MARGIN)
    # A's margin covers its 30 and no more; B's 10 leaves 40 of B's loss to the fund.
    assert (margin.available, margin.used, margin.remaining) == (money(110), money(40), money(70))
    assert event.defaulter_surplus == (("A", money(70)), ("B", money(0)))
    assert charges(event) == {"S": (money(40), zero(), zero())}
    returned = [e for e in result.journal if e.rule == "surplus_return"]
    assert [p for e in returned for p in e.postings] == [
        Posting("external:member:A", money(70)),
        Posting("member:A:initial_margin", money(-70)),
    ]


def test_without_a_margin_tranche_the_whole_margin_is_surplus() -> None:
    case = make_case(
        [member("A", initial_margin=100), member("S", 50)], [default("A", 30)], [MEMBER_FUND]
    )
    event = run_case(case).events[0]
    assert event.defaulter_surplus == (("A", money(100)),)
    assert charges(event) == {"S": (money(30), zero(), zero())}


# defaulter_default_fund


def test_defaulter_funds_cover_their_own_loss_then_each_other() -> None:
    case = make_case(
        [member("A", 100), member("B", 10), member("C", 20)],
        [default("A", 30), default("B", 50), default("C", 70)],
        [DEFAULTER_FUND],
    )
    result = run_case(case)
    event = result.events[0]
    fund = tranche(event, TrancheKind.DEFAULTER_DEFAULT_FUND)
    # Own cover: A 30, B 10, C 20. A has 70 left; B still owes 40 and C 50, so the
    # 70 is applied 40:50: B 31.111.. -> 31.11, C 38.888.. -> 38.88 plus the
    # cent left (largest remainder) = 38.89.
    assert (fund.available, fund.used) == (money(130), money(130))
    assert ("shared_cover", money(70)) in fund.inputs
    final = balances(result.journal)
    assert final["loss:A"] == zero()
    assert final["loss:B"] == money("-8.89")
    assert final["loss:C"] == money("-11.11")
    assert final["member:A:default_fund"] == zero()
    assert event.uncovered == money(20)
    assert event.members == ()  # defaulters' contributions are not survivors' charges


def test_defaulter_fund_left_over_does_not_cover_a_later_event() -> None:
    case = make_case(
        [member("A", 100), member("B", 0)],
        [default("A", 30, D0), default("B", 50, bd(1))],
        [DEFAULTER_FUND],
    )
    result = run_case(case)
    assert used(result.events[0]) == {0: money(30)}
    assert used(result.events[1]) == {0: zero()}
    assert result.events[1].uncovered == money(50)


# ccp_capital and replenishment


def test_capital_is_used_across_events_until_replenished() -> None:
    case = make_case(
        [member("D1"), member("D2"), member("D3")],
        # Replenishment day after the event of Tue 9 Jan is Thu 11 Jan.
        [default("D1", 60, D0), default("D2", 60, bd(1)), default("D3", 30, bd(5))],
        [capital(100, "Junior")],
        business_days_to_replenish=2,
    )
    result = run_case(case)
    junior = [tranche(e, TrancheKind.CCP_CAPITAL) for e in result.events]
    assert [(t.available, t.used) for t in junior] == [
        (money(100), money(60)),
        (money(40), money(40)),
        (money(100), money(30)),
    ]
    assert [e.uncovered for e in result.events] == [zero(), money(20), zero()]
    assert [e.replenished_before for e in result.events] == [False, False, True]
    assert junior[0].name == "Junior"
    (topped_up,) = [e for e in result.journal if e.rule == "replenishment"]
    assert topped_up.event == 2
    assert topped_up.postings == (
        Posting("ccp:capital:0", money(100)),
        Posting("external:ccp", money(-100)),
    )


@pytest.mark.parametrize(
    ("second", "replenished", "second_charge"),
    [
        # Thu 11 Jan + 2 business days = Mon 15 Jan: still as the first event left it.
        (dt.date(2024, 1, 15), False, money(40)),
        (dt.date(2024, 1, 16), True, money(60)),
    ],
)
def test_replenishment_comes_after_day_r_not_on_it(
    second: dt.date, replenished: bool, second_charge: Money
) -> None:
    case = make_case(
        [member("D1"), member("D2"), member("S", 100)],
        [default("D1", 60, dt.date(2024, 1, 11)), default("D2", 60, second)],
        [MEMBER_FUND],
        business_days_to_replenish=2,
    )
    result = run_case(case)
    assert result.events[1].replenished_before is replenished
    assert charges(result.events[1]) == {"S": (second_charge, zero(), zero())}


def test_each_event_restarts_the_replenishment_count() -> None:
    dates = [dt.date(2024, 1, 11), dt.date(2024, 1, 15), dt.date(2024, 1, 17), dt.date(2024, 1, 22)]
    case = make_case(
        [member(f"D{i}") for i in range(4)] + [member("S", 100)],
        [default(f"D{i}", 10, day) for i, day in enumerate(dates)],
        [MEMBER_FUND],
        business_days_to_replenish=2,
    )
    result = run_case(case)
    # Counted from the first event alone, 17 Jan would be after Mon 15 Jan; each
    # event moves day R on (to Wed 17, then Fri 19), so only 22 Jan sees it.
    assert [e.replenished_before for e in result.events] == [False, False, False, True]
    assert all(e.cooling_off_end is None for e in result.events)


def test_without_the_key_the_fund_is_never_replenished() -> None:
    case = make_case(
        [member("D1"), member("D2"), member("S", 100)],
        [default("D1", 60, D0), default("D2", 60, dt.date(2025, 1, 8))],
        [MEMBER_FUND],
    )
    result = run_case(case)
    assert not result.events[1].replenished_before
    assert charges(result.events[1]) == {"S": (money(40), zero(), zero())}
    assert not [e for e in result.journal if e.rule == "replenishment"]


def test_the_replenishment_call_restores_what_each_event_used_by_day_r() -> None:
    case = make_case(
        [member("D1"), member("D2"), member("S", 100), member("T", 300)],
        [default("D1", 60, D0), default("D2", 60, bd(1))],
        [capital(20, "Junior"), MEMBER_FUND],
        business_days_to_replenish=2,
    )
    first, second = run_case(case).events
    assert first.replenishment is not None
    assert second.replenishment is not None
    # 60 less 20 of capital leaves 40 to the fund: S gives 10, T 30, due two business days on.
    assert first.replenishment.due == bd(2)
    assert first.replenishment.members == (("S", money(10)), ("T", money(30)))
    assert first.replenishment.ccp_capital == (("Junior", money(20)),)
    # The second event comes before day R: its call counts both events' use since.
    assert second.replenishment.due == bd(3)
    assert second.replenishment.members == (("S", money(25)), ("T", money(75)))
    assert second.replenishment.members_total(EUR) == money(100)


def test_a_cooling_off_call_is_due_at_the_end_of_the_period() -> None:
    case = make_case(
        [member("D1"), member("S", 100)],
        [default("D1", 40, D0)],
        [MEMBER_FUND],
        cooling_off=EUREX_COOLING_OFF,
    )
    (event,) = run_case(case).events
    assert event.replenishment is not None
    assert event.replenishment.due == event.cooling_off_end == bd(20)
    assert event.replenishment.members == (("S", money(40)),)


def test_without_a_replenishment_rule_there_is_no_call() -> None:
    case = make_case([member("D1"), member("S", 100)], [default("D1", 40, D0)], [MEMBER_FUND])
    (event,) = run_case(case).events
    assert event.replenishment is None


def test_a_member_defaulting_later_is_replenished_first_and_an_earlier_defaulter_never() -> None:
    case = make_case(
        [member("D0", 40), member("S1", 100), member("S2", 100)],
        [default("D0", 100, D0), default("S2", 300, bd(5))],
        [DEFAULTER_FUND, MEMBER_FUND],
        business_days_to_replenish=1,
    )
    result = run_case(case)
    first, second = result.events
    # Event 0: D0's 40, then the survivors 30 each.
    assert charges(first) == {"S1": (money(30), zero(), zero()), "S2": (money(30), zero(), zero())}
    # Before event 1 both survivors are back to 100: S2's own 100 covers its loss
    # first, then S1 (the only survivor) gives 100; 100 is uncovered.
    assert used(second) == {0: money(100), 1: money(100)}
    assert charges(second) == {"S1": (money(100), zero(), zero())}
    assert second.uncovered == money(100)
    (topped_up,) = [e for e in result.journal if e.rule == "replenishment"]
    assert {p.account for p in topped_up.postings} == {
        "member:S1:default_fund",
        "external:member:S1",
        "member:S2:default_fund",
        "external:member:S2",
    }
    assert ("survivors", 1) in tranche(second, TrancheKind.MEMBER_DEFAULT_FUND).inputs


# cooling-off


def test_cooling_off_extends_per_default_up_to_its_maximum() -> None:
    offsets = [0, 15, 30, 45, 64]
    case = make_case(
        [member(f"D{i}") for i in range(5)] + [member("S", 100)],
        [default(f"D{i}", 10, bd(o)) for i, o in enumerate(offsets)],
        [MEMBER_FUND],
        cooling_off=EUREX_COOLING_OFF,
        business_days_to_replenish=1,  # not used with a cooling-off period
    )
    result = run_case(case)
    # Ends: D0+20; D0+15+20 = D0+35; D0+30+20 = D0+50; D0+45+20 = D0+65, over the
    # maximum D0+63; then D0+64 is after the period: a new one, D0+64+20.
    assert [e.cooling_off_end for e in result.events] == [bd(20), bd(35), bd(50), bd(63), bd(84)]
    assert [e.replenished_before for e in result.events] == [False, False, False, False, True]


def test_an_event_on_the_last_day_of_the_period_is_inside_it() -> None:
    case = make_case(
        [member(f"D{i}") for i in range(3)] + [member("S", 100)],
        [default("D0", 10, D0), default("D1", 10, bd(20)), default("D2", 10, bd(21))],
        [MEMBER_FUND],
        cooling_off=CoolingOff(business_days=20),
    )
    result = run_case(case)
    assert [e.cooling_off_end for e in result.events] == [bd(20), bd(20), bd(41)]
    assert [e.replenished_before for e in result.events] == [False, False, True]
    assert [charges(e)["S"][0] for e in result.events] == [money(10), money(10), money(10)]
    # Replenished before the third event: S's 20 given in the period comes back.
    (topped_up,) = [e for e in result.journal if e.rule == "replenishment"]
    assert Posting("member:S:default_fund", money(20)) in topped_up.postings


def test_an_undated_case_is_one_event_without_a_period_end() -> None:
    case = make_case(
        [member("D1"), member("D2"), member("S", 100)],
        [default("D1", 10), default("D2", 20)],
        [MEMBER_FUND, assessments("1")],
        cooling_off=EUREX_COOLING_OFF,
    )
    (event,) = run_case(case).events
    assert (event.date, event.cooling_off_end, event.replenished_before) == (None, None, False)
    assert event.defaulters == ("D1", "D2")


def eurex_case(cooling_off: CoolingOff | None) -> CaseResult:
    """Eurex, "Assessments and replenishment" [EUREX-ASSESSMENTS], worked example: a member's
    contribution of 100, defaults at D0 and D0+10 business days, assessments of at
    most 2x the contribution within the capped period."""
    return run_case(
        make_case(
            [member("M", 100), member("X"), member("Y")],
            [default("X", 250, D0), default("Y", 1000, bd(10))],
            [MEMBER_FUND, assessments("2")],
            cooling_off=cooling_off,
        )
    )


def test_eurex_assessment_cap_is_counted_over_the_period() -> None:
    result = eurex_case(EUREX_COOLING_OFF)
    first, second = result.events
    # Event 0: the whole contribution and 150 of the 200 cap; event 1 only the 50 left.
    assert charges(first) == {"M": (money(100), money(150), zero())}
    assert charges(second) == {"M": (zero(), money(50), zero())}
    # [EUREX-ASSESSMENTS]: cap over the period 200, total liability 300 = 3x the contribution.
    (total,) = result.totals
    assert total.assessment == money(200)
    assert total.total == money(300)
    # [EUREX-ASSESSMENTS]: the capped period ends at D0+30 business days, (D0+10)+20.
    assert second.cooling_off_end == bd(30)
    calls = tranche(second, TrancheKind.ASSESSMENTS)
    assert ("assessed_in_period_before", money(150)) in calls.inputs
    assert ("cap_multiple", Decimal(2)) in calls.inputs
    assert ("cooling_off_end", bd(30)) in calls.inputs


def test_without_cooling_off_the_assessment_cap_applies_per_event() -> None:
    result = eurex_case(None)
    assert charges(result.events[1]) == {"M": (zero(), money(200), zero())}
    assert result.totals[0].total == money(450)
    calls = tranche(result.events[1], TrancheKind.ASSESSMENTS)
    assert ("assessed_in_period_before", zero()) in calls.inputs


def test_a_new_period_counts_assessments_afresh() -> None:
    case = make_case(
        [member("M", 100), member("X"), member("Y")],
        [default("X", 300, D0), default("Y", 300, bd(25))],
        [MEMBER_FUND, assessments("2")],
        cooling_off=CoolingOff(business_days=20),
    )
    result = run_case(case)
    assert [charges(e)["M"] for e in result.events] == [
        (money(100), money(200), zero()),
        (money(100), money(200), zero()),
    ]


# member_default_fund


def test_water_filling_when_a_survivor_ran_out_in_an_earlier_event() -> None:
    jpy = currency("JPY")
    case = make_case(
        [member(i, 1, ccy=jpy) for i in ("A", "B", "C")]
        + [member(d, 0, ccy=jpy) for d in ("D1", "D2")],
        [default("D1", 1, D0, ccy=jpy), default("D2", 3, bd(1), ccy=jpy)],
        [MEMBER_FUND],
        ccy=jpy,
    )
    result = run_case(case)
    first, second = result.events
    # 1 yen over three equal contributions: the tie goes to A, which sorts first.
    assert {m: c[0].amount for m, c in charges(first).items()} == {"A": 1}
    # A has nothing left: it gives all it has (0) and the others share the rest.
    fund = tranche(second, TrancheKind.MEMBER_DEFAULT_FUND)
    assert (fund.available.minor_units, fund.used.minor_units) == (2, 2)
    assert {m: c[0].amount for m, c in charges(second).items()} == {"B": 1, "C": 1}
    assert second.uncovered.amount == 1


def test_member_fund_is_pro_rata_to_contribution_before_the_first_event() -> None:
    jpy = currency("JPY")
    case = make_case(
        [
            member("A", 1, ccy=jpy),
            member("B", 2, ccy=jpy),
            member("D1", ccy=jpy),
            member("D2", ccy=jpy),
        ],
        [default("D1", 1, D0, ccy=jpy), default("D2", 1, bd(1), ccy=jpy)],
        [MEMBER_FUND],
        ccy=jpy,
    )
    result = run_case(case)
    # Event 0: 1 yen at 1:2 goes to B (remainder 2/3 over 1/3); both have 1 left.
    assert {m: c[0].amount for m, c in charges(result.events[0]).items()} == {"B": 1}
    # Event 1 still weighs 1:2, so B gives again; weighing what is left (1:1)
    # would tie and give it to A.
    assert {m: c[0].amount for m, c in charges(result.events[1]).items()} == {"B": 1}


# pooled tranches over several defaulters


def test_pooled_cover_is_shared_by_defaulters_pro_rata_to_remaining_loss() -> None:
    case = make_case(
        [member("A"), member("B")], [default("A", 100), default("B", 200)], [capital(90)]
    )
    result = run_case(case)
    final = balances(result.journal)
    assert (final["loss:A"], final["loss:B"]) == (money(-70), money(-140))
    assert result.uncovered == money(210)


def test_two_capital_tranches_keep_their_own_state() -> None:
    case = make_case(
        [member("S", 5), member("D1"), member("D2")],
        [default("D1", 12, D0), default("D2", 30, bd(1))],
        [capital(10, "Junior"), MEMBER_FUND, capital(20, "Senior")],
    )
    result = run_case(case)
    assert used(result.events[0]) == {0: money(10), 1: money(2), 2: zero()}
    assert used(result.events[1]) == {0: zero(), 1: money(3), 2: money(20)}
    assert result.events[1].uncovered == money(7)
    assert [t.name for t in result.events[0].tranches] == [
        "Junior",
        "Members' default fund",
        "Senior",
    ]
    opening = result.journal[0]
    assert Posting("ccp:capital:0", money(10)) in opening.postings
    assert Posting("ccp:capital:2", money(20)) in opening.postings
    assert "Junior (ccp:capital:0)" in opening.narration


# assessments


def test_defaulters_are_never_assessed() -> None:
    # CME Financial Safeguards, 30 Sep 2023 footnote: the assessment total "would be
    # reduced by the defaulted clearing members' assessment obligations"
    # ([CME-SAFEGUARDS-2023]).
    case = make_case([member("A", 100), member("B", 300)], [default("B", 1000)], [assessments("1")])
    event = run_case(case).events[0]
    calls = tranche(event, TrancheKind.ASSESSMENTS)
    assert (calls.available, calls.used) == (money(100), money(100))
    assert charges(event) == {"A": (zero(), money(100), zero())}


def test_several_assessment_tranches_share_the_count() -> None:
    case = make_case(
        [member("S", 100), member("D")], [default("D", 500)], [assessments("1"), assessments("2")]
    )
    event = run_case(case).events[0]
    # The second tranche's cap of 200 less the 100 already assessed.
    assert used(event) == {0: money(100), 1: money(100)}
    assert event.uncovered == money(300)


def test_assessment_caps_are_rounded_down() -> None:
    case = make_case(
        [member("S", "1000.01"), member("D")], [default("D", 10_000)], [assessments("2.75")]
    )
    event = run_case(case).events[0]
    # 1,000.01 x 2.75 = 2,750.0275 -> 2,750.02.
    assert charges(event)["S"][1] == money("2750.02")


# vm_gains_haircut


@pytest.mark.parametrize(
    ("loss", "cuts", "uncovered"),
    [
        # 60 over gains 100.01 : 50 = 40.0013.. and 19.9986..; in cents 4000 and
        # 1999 floors, the cent left to the larger remainder (S2).
        (60, ("40.00", "20.00"), "0"),
        # Caps: floor(0.5 x 100.01) = 50.00 and 25.00; 80 is over both.
        (80, ("50.00", "25.00"), "5"),
    ],
)
def test_vm_haircut_is_pro_rata_to_gains_within_max_fraction(
    loss: int, cuts: tuple[str, str], uncovered: str
) -> None:
    case = make_case(
        [member("S1", vm_gains="100.01"), member("S2", vm_gains=50), member("D")],
        [default("D", loss)],
        [haircut("0.5")],
    )
    event = run_case(case).events[0]
    assert charges(event) == {
        "S1": (zero(), zero(), money(cuts[0])),
        "S2": (zero(), zero(), money(cuts[1])),
    }
    assert event.uncovered == money(uncovered)
    assert ("max_fraction", Decimal("0.5")) in tranche(event, TrancheKind.VM_GAINS_HAIRCUT).inputs


def test_vm_haircut_capacity_is_never_restored() -> None:
    case = make_case(
        [member("S", vm_gains=100), member("D1"), member("D2")],
        [default("D1", 70, D0), default("D2", 70, bd(5))],
        [haircut()],
        business_days_to_replenish=1,
    )
    result = run_case(case)
    assert result.events[1].replenished_before
    assert [charges(e)["S"][2] for e in result.events] == [money(70), money(30)]
    assert result.events[1].uncovered == money(40)


# uncovered


def test_uncovered_loss_is_reported_and_stays_on_the_loss_account() -> None:
    case = make_case(
        [member("D", initial_margin=10), member("S", 100, vm_gains=200)],
        [default("D", 1000)],
        [MARGIN, capital(50), MEMBER_FUND, assessments("1"), haircut("0.5")],
    )
    result = run_case(case)
    event = result.events[0]
    # 10 + 50 + 100 + 100 + 100 = 360 of 1,000.
    assert sum_money((t.used for t in event.tranches), EUR) == money(360)
    assert event.uncovered == money(640)
    assert result.uncovered == money(640)
    assert balances(result.journal)["loss:D"] == money(-640)


# published precedents


def nasdaq_members() -> list[tuple[str, Money]]:
    """214 survivors sharing the commodities fund of EUR 166m (contributions illustrative)."""
    each = money("775700.93")
    rest = money(166_000_000) - sum_money([each] * 213, EUR)
    return [(f"M{i:03}", each) for i in range(213)] + [("M213", rest)]


def test_nasdaq_2018_junior_capital_then_two_thirds_of_the_fund() -> None:
    # Nasdaq Clearing statement, 13 Sep 2018 ([NASDAQ-2018]; fund [GLOBALCAPITAL-2018]): the
    # loss beyond the defaulter's margin and contribution was EUR 114m: EUR 7m of
    # junior capital and EUR 107m of the EUR 166m members' fund, 59m left, no
    # assessments. The defaulter's margin (50m) and contribution (1.2m) are illustrative.
    survivors = nasdaq_members()
    case = make_case(
        [member("AAS", "1200000", "50000000")] + [member(m, str(df.amount)) for m, df in survivors],
        [default("AAS", "165200000", dt.date(2018, 9, 11))],
        [
            MARGIN,
            DEFAULTER_FUND,
            capital("7000000", "Nasdaq junior capital"),
            MEMBER_FUND,
            assessments("2"),
        ],
        business_days_to_replenish=2,
    )
    event = run_case(case).events[0]
    junior = tranche(event, TrancheKind.CCP_CAPITAL)
    fund = tranche(event, TrancheKind.MEMBER_DEFAULT_FUND)
    assert junior.used == money(7_000_000)
    assert (fund.available, fund.used, fund.remaining) == (
        money(166_000_000),
        money(107_000_000),
        money(59_000_000),
    )
    assert tranche(event, TrancheKind.ASSESSMENTS).used == zero()
    assert event.uncovered == zero()
    assert ("survivors", 214) in fund.inputs
    assert fund.rule == (
        "Survivors' contributions, pro rata to contribution before the first event, capped at "
        "what is left of each"
    )
    # Each member's loss is 107 x DF_i / 166, to the cent.
    charged = charges(event)
    for member_id, contribution in survivors:
        exact = Fraction(107_000_000_00 * contribution.minor_units, 166_000_000_00)
        share = charged[member_id][0].minor_units
        assert abs(share - exact) < 1


@pytest.mark.parametrize(
    ("sitg", "draw"),
    [
        (None, 57_000_000_000),  # KRX in 2013: no CCP capital before the members' fund
        (10_000_000_000, 47_000_000_000),  # today's junior tranche S: draw = 57.0bn - S
        (60_000_000_000, 0),
    ],
)
def test_krx_2013_hanmag_draw_on_the_joint_fund(sitg: int | None, draw: int) -> None:
    # Korea Times 13 and 17 Dec 2013 ([KOREA-TIMES-2013]; order [KRX-SETTLEMENT]): HanMag
    # owed KRW 58.4bn and paid 1.4bn; ~57.0bn was drawn on the members' joint fund
    # of KRW 200bn (60 members). The split of the fund over members is illustrative.
    krw = currency("KRW")
    each = 200_000_000_000 // 59
    survivors = [member(f"K{i:02}", each, ccy=krw) for i in range(58)]
    survivors.append(member("K58", 200_000_000_000 - 58 * each, ccy=krw))
    waterfall = [MARGIN, DEFAULTER_FUND]
    if sitg is not None:
        waterfall.append(capital(sitg, "KRX settlement reserve, junior", ccy=krw))
    waterfall.append(MEMBER_FUND)
    case = make_case(
        [member("HANMAG", 0, 1_400_000_000, ccy=krw), *survivors],
        [default("HANMAG", 58_400_000_000, dt.date(2013, 12, 12), ccy=krw)],
        waterfall,
        ccy=krw,
    )
    event = run_case(case).events[0]
    assert tranche(event, TrancheKind.MEMBER_DEFAULT_FUND).used == Money.of(draw, krw)
    assert event.uncovered == Money.zero(krw)


def test_seed_table_3_pro_rata_allocation_of_500m() -> None:
    # A hypothetical major CCP, [GREEKS-LIVE-PRECEDENT] Tables 2 and 3 (illustrative
    # figures): defaulter contribution $500m,
    # CCP capital $1bn, members' fund $15bn; a loss $2bn beyond margin leaves $500m
    # to the members: A (1.5bn) $50m, B (1.2bn) $40m, C (0.9bn) $30m, all others
    # (11.4bn) $380m. The defaulter's margin (300m) is illustrative.
    usd = currency("USD")
    case = make_case(
        [
            member("D", 500_000_000, 300_000_000, ccy=usd),
            member("A", 1_500_000_000, ccy=usd),
            member("B", 1_200_000_000, ccy=usd),
            member("C", 900_000_000, ccy=usd),
            member("OTHERS", 11_400_000_000, ccy=usd),
        ],
        [default("D", 2_300_000_000, ccy=usd)],
        [MARGIN, DEFAULTER_FUND, capital(1_000_000_000, ccy=usd), MEMBER_FUND, assessments("1")],
        ccy=usd,
    )
    event = run_case(case).events[0]
    assert {m: c[0].amount for m, c in charges(event).items()} == {
        "A": 50_000_000,
        "B": 40_000_000,
        "C": 30_000_000,
        "OTHERS": 380_000_000,
    }
    assert tranche(event, TrancheKind.ASSESSMENTS).used == Money.zero(usd)


def test_cme_base_assessment_power_excludes_the_defaulter() -> None:
    # CME Financial Safeguards, 30 Sep 2023 ([CME-SAFEGUARDS-2023]): Base
    # guaranty fund 6,154,113,094, assessments 275%: 16,923,811,008.50 (published
    # rounded to 16,923,811,009); CME contribution 100m. One survivor holds the
    # whole fund here (illustrative); the defaulter's share is not assessed.
    usd = currency("USD")
    case = make_case(
        [member("BASE", 6_154_113_094, ccy=usd), member("D", 1_000_000, ccy=usd)],
        [default("D", 40_000_000_000, ccy=usd)],
        [capital(100_000_000, "CME contribution", ccy=usd), MEMBER_FUND, assessments("2.75")],
        ccy=usd,
    )
    event = run_case(case).events[0]
    calls = tranche(event, TrancheKind.ASSESSMENTS)
    assert calls.available == Money.of("16923811008.50", usd)
    assert charges(event)["BASE"][1] == Money.of("16923811008.50", usd)


# journal


def full_case() -> CaseResult:
    """Every tranche kind, three events, a cooling-off period and a replenishment."""
    members = [
        member("A", 300, 50, 40),
        member("B", 200, 30, 0),
        member("C", 100, 20, 25),
        member("D", 50, 500, 10),
        member("E", 150, 10, 5),
        member("F", 75, 0, 60),
    ]
    defaults = [
        default("D", 900, D0),
        default("E", 700, D0),
        default("F", 1000, bd(10)),
        default("C", 10, bd(40)),
        default("B", 600, bd(40)),
    ]
    waterfall = [
        MARGIN,
        DEFAULTER_FUND,
        capital(60, "Junior"),
        MEMBER_FUND,
        capital(40, "Senior"),
        assessments("1.5"),
        haircut("0.9"),
    ]
    return run_case(make_case(members, defaults, waterfall, cooling_off=CoolingOff(20, 20, 63)))


def test_journal_entries_balance_and_are_numbered() -> None:
    result = full_case()
    assert [e.seq for e in result.journal] == list(range(len(result.journal)))
    assert result.journal[0].event is None
    for entry in result.journal:
        assert sum(p.amount.minor_units for p in entry.postings) == 0
    assert {e.rule for e in result.journal} >= {
        "opening",
        "close_out",
        "replenishment",
        "surplus_return",
        *(str(tranche.kind) for tranche in result.case.rulebook.waterfall),
    }


def test_journal_rebuilds_member_charges_and_tranche_use() -> None:
    result = full_case()
    kinds = {kind.value for kind in TrancheKind}
    for event in result.events:
        moved = balances(e for e in result.journal if e.event == event.index and e.rule in kinds)
        for charge in event.members:
            assert charge.default_fund == -moved.get(
                member_account(charge.member, MemberPart.DEFAULT_FUND), zero()
            )
            assert charge.assessment == -moved.get(
                member_account(charge.member, MemberPart.ASSESSMENT), zero()
            )
            assert charge.vm_haircut == -moved.get(
                member_account(charge.member, MemberPart.VM_GAINS), zero()
            )
        for result_tranche in event.tranches:
            entry = tranche_entry(result.journal, event.index, result_tranche.index)
            covered = (
                []
                if entry is None
                else [p.amount for p in entry.postings if p.account.startswith("loss:")]
            )
            assert sum_money(covered, EUR) == result_tranche.used
            if entry is not None:
                assert entry.rule == result_tranche.kind
                assert ("tranche", result_tranche.name) in entry.meta


def test_journal_closes_each_defaulter_at_its_uncovered_loss() -> None:
    result = full_case()
    final = balances(result.journal)
    for event in result.events:
        remaining = [final.get(f"loss:{d}", zero()) for d in event.defaulters]
        assert -sum_money(remaining, EUR) == event.uncovered
        for defaulter in event.defaulters:
            assert final.get(f"member:{defaulter}:initial_margin", zero()) == zero()
    assert [e.replenished_before for e in result.events] == [False, False, True]
    assert result.events[1].cooling_off_end == bd(30)


# results


def test_events_group_defaults_by_date_and_list_defaulters_in_id_order() -> None:
    case = make_case(
        [member("Z"), member("A"), member("S", 10)],
        [default("Z", 5, D0), default("A", 3, D0)],
        [MEMBER_FUND],
    )
    (event,) = run_case(case).events
    assert event.defaulters == ("A", "Z")
    assert event.losses == (("A", money(3)), ("Z", money(5)))
    assert event.loss == money(8)
    assert event.date == D0
    assert event.defaulter_surplus == (("A", zero()), ("Z", zero()))


def test_run_case_is_resolve_then_run() -> None:
    case = eurex_case(EUREX_COOLING_OFF).case
    assert run_waterfall(resolve_case(case)) == run_case(case)


# programmer errors and invariants


def test_resolving_reports_every_inconsistent_amount() -> None:
    jpy = currency("JPY")
    negative = replace(member("N"), default_fund=money(-1))
    case = make_case(
        [member("J", 1, ccy=jpy), negative, member("D")], [default("D", 10)], [MEMBER_FUND]
    )
    with pytest.raises(
        ValueError, match=r"'J' default_fund is in JPY.*'N' default_fund is negative"
    ):
        resolve_case(case)


def test_dated_and_undated_defaults_cannot_be_mixed() -> None:
    case = make_case(
        [member("D1"), member("D2")], [default("D1", 1, D0), default("D2", 1)], [MEMBER_FUND]
    )
    with pytest.raises(ValueError, match="mixed"):
        resolve_case(case)


def overdrawing_rule(
    state: WaterfallState, tranche_: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """Takes 1 more than the first survivor has: a defect the engine must catch."""
    survivor = context.event.survivors[0]
    account = member_account(survivor, MemberPart.DEFAULT_FUND)
    take = state.balance(account) + money(1)
    defaulter = context.event.defaulters[0]
    postings = (Posting(account, -take), Posting(f"loss:{defaulter}", take))
    return TrancheOutcome(take, take, postings, "overdraws")


def miscounting_rule(
    state: WaterfallState, tranche_: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """Reports a use its postings do not show."""
    return TrancheOutcome(money(5), money(5), (), "miscounts")


def over_assessing_rule(
    state: WaterfallState, tranche_: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """Assesses the first survivor beyond any cap."""
    survivor = context.event.survivors[0]
    account = member_account(survivor, MemberPart.ASSESSMENT)
    defaulter = context.event.defaulters[0]
    take = money(1)
    postings = (Posting(account, -take), Posting(f"loss:{defaulter}", take))
    return TrancheOutcome(take, take, postings, "over-assesses")


def over_cutting_rule(
    state: WaterfallState, tranche_: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """Cuts a survivor's VM gains with no haircut tranche in the rulebook: beyond its cap."""
    survivor = context.event.survivors[0]
    account = member_account(survivor, MemberPart.VM_GAINS)
    defaulter = context.event.defaulters[0]
    take = money(1)
    postings = (Posting(account, -take), Posting(f"loss:{defaulter}", take))
    return TrancheOutcome(take, take, postings, "over-cuts")


def over_filling_rule(
    state: WaterfallState, tranche_: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """Adds to a survivor's contribution beyond what it put up: a defect the engine must catch."""
    survivor = context.event.survivors[0]
    account = member_account(survivor, MemberPart.DEFAULT_FUND)
    extra = money(1)
    postings = (Posting(account, extra), Posting(f"member:{survivor}:initial_margin", -extra))
    return TrancheOutcome(money(0), money(0), postings, "over-fills")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (overdrawing_rule, "overdrawn"),
        (miscounting_rule, "cover"),
        (over_assessing_rule, "assessed"),
        (over_cutting_rule, "VM gains haircut"),
        (over_filling_rule, "above the"),
    ],
)
def test_the_engine_catches_a_rule_that_breaks_an_invariant(
    rule: TrancheRule, message: str
) -> None:
    spec = TRANCHE_KINDS[TrancheKind.MEMBER_DEFAULT_FUND]
    kinds = {**TRANCHE_KINDS, spec.kind: replace(spec, rule=rule)}
    case = make_case(
        [member("S", 10, initial_margin=3, vm_gains=4), member("D")],
        [default("D", 5)],
        [MEMBER_FUND],
    )
    with pytest.raises(InvariantError, match=message):
        run_case(case, kinds)


def test_every_built_in_tranche_kind_has_a_spec() -> None:
    assert set(TRANCHE_KINDS) == set(TrancheKind)
    for kind, spec in TRANCHE_KINDS.items():
        assert spec.kind == kind
        assert spec.title
        assert spec.description
        assert spec.roles


def test_member_accounts_are_read_from_their_names_and_only_the_cases() -> None:
    case = make_case([member("A:1", 10), member("B", 5)], [default("B", 1)], [MEMBER_FUND])
    accounts = resolve_case(case).member_accounts
    fund = member_account("A:1", MemberPart.DEFAULT_FUND)
    assert accounts[fund] == ("A:1", MemberPart.DEFAULT_FUND)
    assert accounts.get(member_account("C", MemberPart.DEFAULT_FUND)) is None
    assert "loss:B" not in accounts
    assert "member:B:nothing" not in accounts
    assert len(accounts) == 2 * len(MemberPart) == len(set(accounts))
    assert all(accounts[name][0] in {"A:1", "B"} for name in accounts)

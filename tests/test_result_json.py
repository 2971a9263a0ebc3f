"""The JSON form of results (ccp-result/1): the shape of the case format, exact amounts."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from ccpwaterfall.domain import (
    Case,
    Default,
    Member,
    Money,
    Rulebook,
    Tranche,
    TrancheKind,
    currency,
)
from ccpwaterfall.io import dumps_result, result_to_json
from ccpwaterfall.waterfall import (
    CaseResult,
    EventResult,
    MemberCharge,
    ReplenishmentCall,
    TrancheResult,
    run_case,
)
from waterfall_cases import EUR, MARGIN, MEMBER_FUND, capital, make_case, member, money

KRW = currency("KRW")


def two_event_result() -> CaseResult:
    """A hand-built result: two dated events, two survivors sharing the second loss."""
    case = make_case(
        (member("X", "5"), member("B", "30"), member("A", "10"), member("Y", "5")),
        (
            Default("X", money("100"), dt.date(2024, 3, 1)),
            Default("Y", money("48.01"), dt.date(2024, 3, 4)),
        ),
        (MARGIN, capital("10", "Junior"), MEMBER_FUND),
        name="Two events",
        ccp_name="CCP",
    )
    zero = Money.zero(EUR)
    first = EventResult(
        index=0,
        date=dt.date(2024, 3, 1),
        defaulters=("X",),
        loss=money("100"),
        losses=(("X", money("100")),),
        tranches=(
            TrancheResult(
                0,
                TrancheKind.DEFAULTER_MARGIN,
                "Defaulter initial margin",
                money("120"),
                money("100"),
                money("20"),
                "own margin covers own loss",
            ),
            TrancheResult(
                1, TrancheKind.CCP_CAPITAL, "Junior", money("10"), zero, money("10"), "capital"
            ),
            TrancheResult(
                2,
                TrancheKind.MEMBER_DEFAULT_FUND,
                "Members' default fund",
                money("40"),
                zero,
                money("40"),
                "pro rata",
            ),
        ),
        members=(),
        defaulter_surplus=(("X", money("20")),),
        uncovered=zero,
        replenished_before=False,
        cooling_off_end=None,
    )
    second = EventResult(
        index=1,
        date=dt.date(2024, 3, 4),
        defaulters=("Y",),
        loss=money("48.01"),
        losses=(("Y", money("48.01")),),
        tranches=(
            TrancheResult(
                0,
                TrancheKind.DEFAULTER_MARGIN,
                "Defaulter initial margin",
                zero,
                zero,
                zero,
                "own margin covers own loss",
            ),
            TrancheResult(
                1, TrancheKind.CCP_CAPITAL, "Junior", money("10"), money("10"), zero, "capital"
            ),
            TrancheResult(
                2,
                TrancheKind.MEMBER_DEFAULT_FUND,
                "Members' default fund",
                money("40"),
                money("38.01"),
                money("1.99"),
                "pro rata",
            ),
        ),
        # Listed out of order: the JSON sorts by id.
        members=(
            MemberCharge("B", money("28.51"), zero, zero),
            MemberCharge("A", money("9.50"), money("0.25"), money("1.00")),
        ),
        defaulter_surplus=(("Y", zero),),
        uncovered=zero,
        replenished_before=False,
        cooling_off_end=None,
        replenishment=ReplenishmentCall(
            dt.date(2024, 3, 6),
            (("A", money("9.50")), ("B", money("28.51"))),
            (("Junior", money("10")),),
        ),
    )
    return CaseResult(case=case, events=(first, second), journal=())


def test_result_json_has_the_shape_of_the_case_format() -> None:
    assert result_to_json(two_event_result()) == {
        "format": "ccp-result/1",
        "case": "Two events",
        "currency": "EUR",
        "events": [
            {
                "date": "2024-03-01",
                "defaulters": ["X"],
                "loss": "100.00",
                "tranches": [
                    {
                        "kind": "defaulter_margin",
                        "name": "Defaulter initial margin",
                        "available": "120.00",
                        "used": "100.00",
                        "remaining": "20.00",
                        "rule": "own margin covers own loss",
                    },
                    {
                        "kind": "ccp_capital",
                        "name": "Junior",
                        "available": "10.00",
                        "used": "0.00",
                        "remaining": "10.00",
                        "rule": "capital",
                    },
                    {
                        "kind": "member_default_fund",
                        "name": "Members' default fund",
                        "available": "40.00",
                        "used": "0.00",
                        "remaining": "40.00",
                        "rule": "pro rata",
                    },
                ],
                "members": {},
                "defaulter_surplus": {"X": "20.00"},
                "uncovered": "0.00",
                "losses": {"X": "100.00"},
                "replenishment": None,
            },
            {
                "date": "2024-03-04",
                "defaulters": ["Y"],
                "loss": "48.01",
                "tranches": [
                    {
                        "kind": "defaulter_margin",
                        "name": "Defaulter initial margin",
                        "available": "0.00",
                        "used": "0.00",
                        "remaining": "0.00",
                        "rule": "own margin covers own loss",
                    },
                    {
                        "kind": "ccp_capital",
                        "name": "Junior",
                        "available": "10.00",
                        "used": "10.00",
                        "remaining": "0.00",
                        "rule": "capital",
                    },
                    {
                        "kind": "member_default_fund",
                        "name": "Members' default fund",
                        "available": "40.00",
                        "used": "38.01",
                        "remaining": "1.99",
                        "rule": "pro rata",
                    },
                ],
                "members": {
                    "A": {
                        "default_fund": "9.50",
                        "assessment": "0.25",
                        "vm_haircut": "1.00",
                        "total": "10.75",
                    },
                    "B": {
                        "default_fund": "28.51",
                        "assessment": "0.00",
                        "vm_haircut": "0.00",
                        "total": "28.51",
                    },
                },
                "defaulter_surplus": {"Y": "0.00"},
                "uncovered": "0.00",
                "losses": {"Y": "48.01"},
                "replenishment": {
                    "due": "2024-03-06",
                    "members": {"A": "9.50", "B": "28.51"},
                    "ccp_capital": {"Junior": "10.00"},
                },
            },
        ],
        "totals": {"members": {"A": "10.75", "B": "28.51"}, "uncovered": "0.00"},
    }


def test_keys_come_in_the_order_of_the_specification() -> None:
    data = result_to_json(two_event_result())
    assert list(data) == ["format", "case", "currency", "events", "totals"]
    events = data["events"]
    assert isinstance(events, list)
    event = events[1]
    assert list(event)[:7] == [
        "date",
        "defaulters",
        "loss",
        "tranches",
        "members",
        "defaulter_surplus",
        "uncovered",
    ]
    assert list(event["tranches"][0])[:5] == ["kind", "name", "available", "used", "remaining"]
    assert list(event["members"]) == ["A", "B"]
    assert list(event["members"]["A"]) == ["default_fund", "assessment", "vm_haircut", "total"]
    totals = data["totals"]
    assert isinstance(totals, dict)
    assert list(totals) == ["members", "uncovered"]


def test_dumps_result_is_indented_json_in_spec_order_with_a_final_newline() -> None:
    result = two_event_result()
    text = dumps_result(result)
    assert text.endswith("}\n")
    assert text.startswith('{\n  "format": "ccp-result/1",\n  "case": "Two events",\n')
    assert json.loads(text) == result_to_json(result)
    positions = [text.index(f'"{key}"') for key in ("format", "case", "currency", "events")]
    assert positions == sorted(positions)
    assert text.rindex('"totals"') > text.rindex('"events"')


def test_dumps_result_keeps_non_ascii_names_readable() -> None:
    result = two_event_result()
    renamed = CaseResult(
        case=Case(
            name="Zürich Föhn",
            currency=EUR,
            ccp_name="CCP",
            rulebook=result.case.rulebook,
            members=result.case.members,
            defaults=result.case.defaults,
        ),
        events=result.events,
        journal=(),
    )
    assert '"case": "Zürich Föhn"' in dumps_result(renamed)


def test_undated_event_has_a_null_date_and_amounts_use_the_currency_exponent() -> None:
    zero = Money.zero(KRW)
    case = Case(
        name="KRW",
        currency=KRW,
        ccp_name="KRX",
        rulebook=Rulebook((Tranche(TrancheKind.DEFAULTER_MARGIN),)),
        members=(member("HMC", "0", ccy=KRW),),
        defaults=(Default("HMC", money("57000000000", KRW)),),
    )
    event = EventResult(
        index=0,
        date=None,
        defaulters=("HMC",),
        loss=money("57000000000", KRW),
        losses=(("HMC", money("57000000000", KRW)),),
        tranches=(
            TrancheResult(
                0, TrancheKind.DEFAULTER_MARGIN, "Margin", zero, zero, zero, "own margin"
            ),
        ),
        members=(),
        defaulter_surplus=(("HMC", zero),),
        uncovered=money("57000000000", KRW),
        replenished_before=False,
        cooling_off_end=None,
    )
    data = result_to_json(CaseResult(case=case, events=(event,), journal=()))
    events = data["events"]
    assert isinstance(events, list)
    (event_json,) = events
    assert event_json["date"] is None
    assert event_json["loss"] == "57000000000"
    assert event_json["uncovered"] == "57000000000"
    assert event_json["defaulter_surplus"] == {"HMC": "0"}
    assert data["totals"] == {"members": {}, "uncovered": "57000000000"}
    assert '"date": null' in dumps_result(CaseResult(case=case, events=(event,), journal=()))


def test_small_amounts_are_written_in_fixed_point() -> None:
    clf = currency("CLF")  # four decimals: Decimal's str() would turn 0.0001 into 1E-4
    tiny = Money.of("0.0001", clf)
    case = Case(
        name="CLF",
        currency=clf,
        ccp_name="CCP",
        rulebook=Rulebook((Tranche(TrancheKind.DEFAULTER_MARGIN),)),
        members=(member("M", "0", ccy=clf),),
        defaults=(Default("M", tiny),),
    )
    event = EventResult(0, None, ("M",), tiny, (("M", tiny),), (), (), (), tiny, False, None)
    data = result_to_json(CaseResult(case=case, events=(event,), journal=()))
    assert data["events"][0]["loss"] == "0.0001"  # type: ignore[index]
    assert data["totals"] == {"members": {}, "uncovered": "0.0001"}


def test_end_to_end_nasdaq_2018_published_split() -> None:
    """EUR 114m beyond the defaulter's own resources: EUR 7m SITG, then EUR 107m of 166m.

    Source: Nasdaq Clearing statement, 13 Sep 2018 ([NASDAQ-2018]); fund of
    166m: [GLOBALCAPITAL-2018] (SITG used 7, member DF used 107, residual
    member DF 59, assessments 0).
    """
    case = Case(
        name="Nasdaq 2018",
        currency=EUR,
        ccp_name="Nasdaq Clearing AB",
        rulebook=Rulebook(
            (
                Tranche(TrancheKind.DEFAULTER_MARGIN),
                Tranche(TrancheKind.DEFAULTER_DEFAULT_FUND),
                Tranche(TrancheKind.CCP_CAPITAL, name="Junior", amount=money("7000000")),
                Tranche(TrancheKind.MEMBER_DEFAULT_FUND),
            )
        ),
        members=(
            Member("AAS", money("1200000"), money("50000000"), money("0")),
            member("CM1", "100000000"),
            member("CM2", "66000000"),
        ),
        # Loss = 50m margin + 1.2m own contribution + 114m beyond them.
        defaults=(Default("AAS", money("165200000"), dt.date(2018, 9, 11)),),
    )
    data = json.loads(dumps_result(run_case(case)))
    (event,) = data["events"]
    used = {tranche["kind"]: tranche["used"] for tranche in event["tranches"]}
    assert used == {
        "defaulter_margin": "50000000.00",
        "defaulter_default_fund": "1200000.00",
        "ccp_capital": "7000000.00",
        "member_default_fund": "107000000.00",
    }
    assert event["tranches"][3]["remaining"] == "59000000.00"
    assert event["uncovered"] == "0.00"
    assert set(event["members"]) == {"CM1", "CM2"}
    assert all(charge["assessment"] == "0.00" for charge in event["members"].values())
    total = sum(Decimal(amount) for amount in data["totals"]["members"].values())
    assert total == Decimal("107000000.00")
    assert data["totals"]["uncovered"] == "0.00"

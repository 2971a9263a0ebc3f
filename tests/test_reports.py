"""Reports: amounts, bars, and the views of runs, journals, liabilities, comparisons and risk."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from rich.console import Console, RenderableType

from case_samples import EXAMPLES
from ccpwaterfall.domain import Case, CoolingOff, Money, currency
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.lifecycle import EndOfDay, end_of_day
from ccpwaterfall.reports.compare_view import compare_to_json, compare_view, render_compare
from ccpwaterfall.reports.explain_view import explain_view, render_explain
from ccpwaterfall.reports.formatting import compact_amount, format_money, format_share, usage_bar
from ccpwaterfall.reports.fund_view import fund_to_json, fund_view, render_fund
from ccpwaterfall.reports.liability_view import (
    describe_cooling_off,
    liability_to_json,
    liability_view,
    render_liability,
)
from ccpwaterfall.reports.margin_view import margin_view
from ccpwaterfall.reports.run_view import render_run, run_view
from ccpwaterfall.reports.stress_view import stress_view
from ccpwaterfall.waterfall import CaseResult, run_case
from ccpwaterfall.waterfall.liability import member_liability
from ccpwaterfall.waterfall.summary import summarise
from waterfall_cases import (
    DEFAULTER_FUND,
    EUR,
    MARGIN,
    MEMBER_FUND,
    assessments,
    default,
    make_case,
    member,
)
from waterfall_cases import capital as capital_tranche
from waterfall_cases import money as _money

KRW = currency("KRW")


def _text(renderable: RenderableType, width: int = 120) -> str:
    """What a person sees: rendered by a default console, without colour."""
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def _flat(text: str) -> str:
    """Text with every run of white space as one space: wrapping aside."""
    return " ".join(text.split())


def _case(
    loss: int,
    *,
    survivors: int = 2,
    capital: int = 10,
    fund: int = 30,
    cooling_off: CoolingOff | None = None,
    name: str = "Test case",
    prefix: str = "S",
) -> Case:
    """D defaults; ``survivors`` members S00.. with contributions ``fund``, ``fund + 1``..."""
    members = [member("D", 5, 20)]
    members += [member(f"{prefix}{i:02d}", fund + i) for i in range(survivors)]
    return make_case(
        members,
        (default("D", loss, dt.date(2024, 5, 6)),),
        (
            MARGIN,
            DEFAULTER_FUND,
            capital_tranche(capital, "Junior capital"),
            MEMBER_FUND,
            assessments("1"),
        ),
        cooling_off=cooling_off,
        name=name,
    )


# --- amounts --------------------------------------------------------------------------


def test_exact_amounts_carry_separators_and_the_currency_code() -> None:
    assert format_money(_money("107000000")) == "EUR 107,000,000.00"
    assert format_money(_money("57000000000", "KRW")) == "KRW 57,000,000,000"
    assert format_money(_money("2750.02", "USD")) == "USD 2,750.02"


@pytest.mark.parametrize(
    ("amount", "ccy", "shown"),
    [
        ("107000000", "EUR", "107.00m"),
        ("1500000000", "USD", "1.50bn"),
        ("57000000000", "KRW", "57.00bn"),
        ("999999.99", "EUR", "999,999.99"),
        ("1234567", "EUR", "1.23m"),
        ("1235000", "EUR", "1.24m"),
        ("0", "EUR", "0.00"),
    ],
)
def test_compact_amounts_for_tables(amount: str, ccy: str, shown: str) -> None:
    assert compact_amount(_money(amount, ccy)) == shown


def test_shares_are_percentages_with_one_decimal() -> None:
    assert format_share(Decimal(107) / Decimal(166)) == "64.5%"
    assert format_share(Decimal("0.285")) == "28.5%"
    assert format_share(None) == "n/a"


@pytest.mark.parametrize(
    ("used", "available", "bar"),
    [
        ("107000000", "166000000", "██████░░░░ 64.5%"),
        ("7", "7", "██████████ 100.0%"),
        ("0", "600", "░░░░░░░░░░ 0.0%"),
        ("0.01", "100000", "█░░░░░░░░░ <0.1%"),
        ("99999.99", "100000", "█████████░ >99.9%"),
        ("0", "0", "-"),
    ],
)
def test_usage_bar_shows_how_much_of_a_tranche_is_consumed(
    used: str, available: str, bar: str
) -> None:
    assert usage_bar(_money(used), _money(available)) == bar


# --- run view -------------------------------------------------------------------------


def test_run_view_shows_each_tranche_with_its_use() -> None:
    # Loss 40: margin 20, contribution 5, capital 10, fund 5 of 61.
    text = _text(render_run(run_view(run_case(_case(40)))))
    assert "Test case" in text
    assert "2024-05-06" in text
    assert "EUR 40.00" in text
    for name in ("Defaulter initial margin", "Junior capital", "Members' default fund"):
        assert name in text
    assert "ccp_capital" in text
    assert "██████████ 100.0%" in text  # the capital is used up
    assert "█░░░░░░░░░ 8.2%" in text  # 5 of the fund's 61
    assert "UNCOVERED" not in text


def test_run_view_shows_an_uncovered_loss_in_plain_sight() -> None:
    # Capacity 20 + 5 + 10 + 61 + 61 = 157; a loss of 200 leaves 43.
    text = _text(render_run(run_view(run_case(_case(200)))))
    assert "UNCOVERED LOSS: EUR 43.00 beyond the waterfall: recovery or resolution" in text


def test_long_member_lists_show_the_largest_20_and_the_rest_in_one_line() -> None:
    # 25 survivors contribute 30..54; the fund covers a loss of 21 pro rata.
    result = run_case(_case(56, survivors=25))
    text = _text(render_run(run_view(result)))
    charges = sorted(result.events[0].members, key=lambda c: (-c.total.minor_units, c.member))
    assert len(charges) == 25
    rest = sum(c.total.minor_units for c in charges[20:])
    assert f"... and 5 more members: total {format_money(Money.from_minor_units(rest, EUR))}" in (
        text
    )
    shown = [c.member for c in charges[:20]]
    assert all(member in text for member in shown)
    assert all(c.member not in text for c in charges[20:])
    # Largest first.
    assert text.index(shown[0]) < text.index(shown[1]) < text.index(shown[19])


def test_views_print_names_and_ids_literally() -> None:
    # Names and ids are data: never rich markup, never emoji codes.
    name, prefix = "Test [bold]case[/bold] :smile:", ":smile:"
    case = _case(40, name=name, prefix=prefix)
    result = run_case(case)
    liability = member_liability(case, f"{prefix}00", result)
    for renderable in (
        render_run(run_view(result)),
        render_explain(explain_view(result)),
        render_liability(liability_view(liability)),
        render_compare(compare_view([summarise(result)])),
    ):
        text = _text(renderable, width=200)
        assert name in text
    assert f"{prefix}00" in _text(render_run(run_view(result)))
    assert f"member:{prefix}00:default_fund" in _text(
        render_explain(explain_view(result)), width=200
    )


# --- explain view ---------------------------------------------------------------------


def test_explain_view_lists_every_entry_and_posting_by_event() -> None:
    result = run_case(_case(40))
    text = _text(render_explain(explain_view(result)))
    for entry in result.journal:
        assert f"#{entry.seq} " in text
        for posting in entry.postings:
            assert posting.account in text  # literally: no emoji for ":D:" and the like
    assert "member:D:initial_margin" in text
    assert text.index("Opening balances") < text.index("Event 1 ")
    for tranche in result.events[0].tranches:
        assert _flat(tranche.rule) in _flat(text)


# --- liability view -------------------------------------------------------------------


def test_liability_view_states_the_maximum_and_the_period() -> None:
    case = _case(40, cooling_off=CoolingOff(20, 20, 63))
    result = run_case(case)
    text = _text(render_liability(liability_view(member_liability(case, "S01", result))))
    assert "Liability of S01" in text
    assert "Maximum loss per cooling-off period" in text
    assert "62.00" in text  # contribution 31 + assessment cap 31
    assert describe_cooling_off(CoolingOff(20, 20, 63)) in _flat(text)
    defaulter = _text(render_liability(liability_view(member_liability(case, "D", result))))
    assert "D defaults in this case" in defaulter


def test_cooling_off_in_words() -> None:
    assert describe_cooling_off(None) == "each event on its own (no cooling-off period)"
    assert describe_cooling_off(CoolingOff(15)) == (
        "a cooling-off period of 15 business days from a default"
    )
    assert "at most 63 business days" in describe_cooling_off(CoolingOff(20, 20, 63))


def test_liability_json_has_exact_amounts() -> None:
    case = _case(40)
    result = run_case(case)
    data = liability_to_json(liability_view(member_liability(case, "S00", result)))
    assert data["format"] == "ccp-liability/1"
    assert data["member"] == "S00"
    assert data["default_fund_at_risk"] == "30.00"
    assert data["assessment_cap"] == "30.00"
    assert data["max_total"] == "60.00"
    assert data["per"] == "event"
    assert data["default"] is None
    json.dumps(data)  # JSON-ready as it is


# --- compare view ---------------------------------------------------------------------


def _krw_case() -> CaseResult:
    case = make_case(
        (member("H", 0, 1_400_000_000, ccy=KRW), member("M", 200_000_000_000, ccy=KRW)),
        (default("H", 58_400_000_000, ccy=KRW),),
        (MARGIN, MEMBER_FUND),
        ccy=KRW,
        name="Won case",
        ccp_name="Won CCP",
    )
    return run_case(case)


def test_compare_view_sets_cases_side_by_side_each_in_its_currency() -> None:
    summaries = [summarise(run_case(_case(40))), summarise(_krw_case())]
    text = _text(render_compare(compare_view(summaries)), width=140)
    assert "Test case" in text
    assert "Won case" in text
    assert "KRW 57.00bn" in text
    assert "28.5%" in text
    assert "EUR 10.00" in text  # the capital used in the euro case
    for label in ("Loss", "CCP capital used", "Members' fund used", "Uncovered"):
        assert label in text


def test_compare_json_has_one_entry_per_case() -> None:
    data = compare_to_json(compare_view([summarise(run_case(_case(40))), summarise(_krw_case())]))
    assert data["format"] == "ccp-compare/1"
    cases = data["cases"]
    assert isinstance(cases, list)
    euro, won = cases
    assert euro["currency"] == "EUR"
    assert euro["ccp_capital_used"] == "10.00"
    assert won["member_fund_used"] == "57000000000"
    assert won["member_fund_share_used"] == "0.285000"


# --------------------------------------------------------------------------- risk views


@pytest.fixture(scope="module")
def demo_eod() -> EndOfDay:
    return end_of_day(load_risk_case(EXAMPLES / "demo-ccp" / "case.toml").inputs)


def test_the_stress_run_records_each_scenarios_ranking_of_groups(demo_eod: EndOfDay) -> None:
    stress = demo_eod.stress
    ranking = stress.ranking
    assert ranking.shape == stress.exposures.shape
    # Each column orders every group once, by descending exposure.
    assert (np.sort(ranking, axis=0) == np.arange(ranking.shape[0])[:, None]).all()
    ranked = np.take_along_axis(stress.exposures, ranking, axis=0)
    assert (np.diff(ranked, axis=0) <= 0).all()
    # Cover-2's groups are the first two of its scenario.
    cover2 = stress.cover2
    assert tuple(int(g) for g in ranking[:2, cover2.scenario]) == cover2.groups


def test_the_stress_view_reads_the_recorded_ranking(demo_eod: EndOfDay) -> None:
    stress = demo_eod.stress
    # A ranking that swaps the two largest groups of every scenario: the view follows it.
    swapped = stress.ranking[[1, 0, *range(2, stress.ranking.shape[0])]]
    view = stress_view(demo_eod.inputs, replace(stress, ranking=swapped), demo_eod.fund, None)
    group_ids = demo_eod.inputs.portfolio.group_ids
    for s, scenario in enumerate(view.scenarios):
        assert [g.group for g in scenario.largest] == [
            group_ids[int(swapped[0, s])],
            group_ids[int(swapped[1, s])],
        ]


def test_text_and_json_read_one_view(demo_eod: EndOfDay) -> None:
    inputs = demo_eod.inputs
    view = fund_view(inputs, demo_eod.stress, demo_eod.fund, demo_eod.drills)
    # A figure changed in the view alone reaches both outputs.
    marked = replace(view, fund=Money(Decimal("123456789.01"), inputs.currency))
    assert fund_to_json(marked)["fund"] == "123456789.01"
    assert "USD 123,456,789.01" in _text(render_fund(marked), width=200)
    margin = margin_view(inputs, demo_eod.margin, top=3)
    assert len(margin.members) == inputs.portfolio.n_members
    assert margin.shown == 3
    assert margin.more is not None
    assert margin.more.count == inputs.portfolio.n_members - 3

"""The example folders are the regression suite.

Every ``examples/<name>/`` holds ``case.toml``, ``expected.json`` (the output
of ``ccp run case.toml --json``) and a README citing the source of each
number. One parametrised test runs them all and compares the JSON exactly.
The published numbers are asserted on their own below, each with its source,
so the expected files are not the only truth.

``examples/demo-ccp`` is a risk case: its ``expected.json`` is the output of
``ccp eod case.toml --json``, compared field by field (see
``test_demo_ccp_end_of_day_matches_its_expected_json``).

To regenerate the expected files after a deliberate change of behaviour, run
``CCP_UPDATE_EXPECTED=1 .venv/bin/pytest tests/test_examples.py`` and review
every changed number against the example's README before committing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Iterator
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccpwaterfall.cli.main import create_app
from ccpwaterfall.domain import Case, Money, TrancheKind, add_business_days
from ccpwaterfall.io import dumps_result, load_case
from ccpwaterfall.waterfall import CaseResult, EventResult, TrancheResult, run_case
from ccpwaterfall.waterfall.liability import member_liability
from ccpwaterfall.waterfall.summary import summarise

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = (
    "beyond-the-waterfall",
    "cme-base-style",
    "eurex-style",
    "krx-2013",
    "krx-2013-with-sitg",
    "major-ccp",
    "nasdaq-2018",
)
UPDATE = os.environ.get("CCP_UPDATE_EXPECTED") == "1"


DEMO_CCP = EXAMPLES / "demo-ccp"


def _case(name: str) -> Case:
    return load_case(EXAMPLES / name / "case.toml")


def _run(name: str) -> CaseResult:
    return run_case(_case(name))


def _tranche(event: EventResult, kind: TrancheKind, nth: int = 0) -> TrancheResult:
    return [t for t in event.tranches if t.kind == kind][nth]


def _m(amount: str, result: CaseResult) -> Money:
    return Money.of(amount, result.case.currency)


def test_every_waterfall_example_is_complete_and_every_expected_file_is_tested() -> None:
    for name in NAMES:
        for part in ("case.toml", "expected.json", "README.md"):
            assert (EXAMPLES / name / part).is_file(), f"{name}/{part} is missing"
    # An expected file that no test compares goes stale: each belongs to a listed example.
    with_expected = sorted(
        p.parent.name
        for p in EXAMPLES.glob("*/expected.json")
        if not p.parent.name.startswith("drill-")  # drill examples: tests/test_drill.py
    )
    assert with_expected == sorted((*NAMES, DEMO_CCP.name))


@pytest.mark.parametrize("name", NAMES)
def test_example_matches_its_expected_json(name: str) -> None:
    actual = dumps_result(_run(name))
    expected = EXAMPLES / name / "expected.json"
    if UPDATE:
        expected.write_text(actual, encoding="utf-8")
    assert expected.read_text(encoding="utf-8") == actual


# --- nasdaq-2018 ----------------------------------------------------------------------
# Source: Nasdaq Clearing, "Statement from Nasdaq Clearing", 13 Sep 2018 [NASDAQ-2018]
# (EUR 107m of the fund in addition to EUR 7m of junior capital; EUR 114m beyond the
# defaulter's own resources); fund of EUR 166m [GLOBALCAPITAL-2018], 64.5% used ("two
# thirds": [RISKNET-2019], [BIS-QR-2018]). Keys: docs/references.md.


def test_nasdaq_2018_uses_7m_capital_then_107m_of_the_166m_fund() -> None:
    result = _run("nasdaq-2018")
    (event,) = result.events
    capital = _tranche(event, TrancheKind.CCP_CAPITAL)
    fund = _tranche(event, TrancheKind.MEMBER_DEFAULT_FUND)
    assert capital.used == _m("7000000", result)
    assert fund.available == _m("166000000", result)
    assert fund.used == _m("107000000", result)
    assert fund.remaining == _m("59000000", result)
    assert _tranche(event, TrancheKind.DEFAULTER_MARGIN).remaining.is_zero()
    assert _tranche(event, TrancheKind.DEFAULTER_DEFAULT_FUND).remaining.is_zero()
    assert event.uncovered.is_zero()
    summary = summarise(result)
    assert summary.loss - summary.defaulter_resources_used == _m("114000000", result)
    assert summary.member_fund_share_used is not None
    assert round(summary.member_fund_share_used * 100, 1) == Decimal("64.5")


def test_nasdaq_2018_members_replenish_107m_within_two_business_days() -> None:
    # Reuters, 14 Sep 2018 [REUTERS-2018]: members asked to pay EUR 107m into the fund
    # within two business days: a call of 107 pro rata, due T+2 business days
    # (default declared Tue 11 Sep 2018, so due Thu 13 Sep).
    result = _run("nasdaq-2018")
    (event,) = result.events
    call = event.replenishment
    assert call is not None
    assert call.due == dt.date(2018, 9, 13)
    assert call.members_total(result.case.currency) == _m("107000000", result)
    assert dict(call.members) == {c.member: c.default_fund for c in event.members}
    assert [amount for _, amount in call.ccp_capital] == [_m("7000000", result)]


def test_nasdaq_2018_each_member_bears_107_166ths_of_its_contribution() -> None:
    # [NASDAQ-2018] pro rata: each member's loss = 107 x (DF_i / 166).
    result = _run("nasdaq-2018")
    charges = {c.member: c for c in result.events[0].members}
    survivors = [m for m in result.case.members if m.id != "AAS"]
    assert set(charges) == {m.id for m in survivors}
    for member in survivors:
        exact = Fraction(member.default_fund.minor_units * 107, 166)
        assert charges[member.id].default_fund.minor_units == exact
        assert charges[member.id].assessment.is_zero()


# --- krx-2013 and krx-2013-with-sitg --------------------------------------------------
# Source: Korea Times, 13 and 17 Dec 2013 [KOREA-TIMES-2013] (HanMag owed KRW 58.4bn, paid
# KRW 1.4bn, about KRW 57bn drawn on the members' KRW 200bn fund); Risk.net, "Korea trading
# error prompts global clearing house review" [RISKNET-KRX-2014] (no KRX capital before the
# members' fund); today's order with a junior KRX tranche: [KRX-SETTLEMENT].


def test_krx_2013_draws_57bn_on_the_fund_with_no_krx_capital_first() -> None:
    result = _run("krx-2013")
    (event,) = result.events
    assert not [t for t in event.tranches if t.kind == TrancheKind.CCP_CAPITAL]
    assert summarise(result).ccp_capital_used.is_zero()
    assert event.loss == _m("58400000000", result)
    assert _tranche(event, TrancheKind.DEFAULTER_MARGIN).used == _m("1400000000", result)
    fund = _tranche(event, TrancheKind.MEMBER_DEFAULT_FUND)
    assert fund.available == _m("200000000000", result)
    assert fund.used == _m("57000000000", result)
    assert event.uncovered.is_zero()


def test_krx_2013_with_a_junior_tranche_draws_57bn_less_the_tranche() -> None:
    # [KRX-SETTLEMENT] order: with a junior SITG S before the fund, the draw is max(0, 57.0bn - S).
    result = _run("krx-2013-with-sitg")
    (event,) = result.events
    (tranche,) = [t for t in result.case.rulebook.waterfall if t.kind == TrancheKind.CCP_CAPITAL]
    assert tranche.amount is not None
    junior = tranche.amount
    shortfall = _m("57000000000", result)
    assert _tranche(event, TrancheKind.CCP_CAPITAL).used == junior.min(shortfall)
    expected_draw = (shortfall - junior).max(Money.zero(result.case.currency))
    assert _tranche(event, TrancheKind.MEMBER_DEFAULT_FUND).used == expected_draw


# --- major-ccp ------------------------------------------------------------------------
# A hypothetical major CCP; illustrative figures of [GREEKS-LIVE-PRECEDENT], Table 2
# (defaulter DF $500m, SITG $1bn, fund $15bn, assessments up to $15bn) and Table 3 (a $2bn
# loss beyond margin leaves $500m to the fund: A $50m, B $40m, C $30m, the others $380m).


def test_major_ccp_splits_500m_as_table_3() -> None:
    result = _run("major-ccp")
    (event,) = result.events
    assert _tranche(event, TrancheKind.DEFAULTER_DEFAULT_FUND).used == _m("500000000", result)
    assert _tranche(event, TrancheKind.CCP_CAPITAL).used == _m("1000000000", result)
    fund = _tranche(event, TrancheKind.MEMBER_DEFAULT_FUND)
    assert fund.available == _m("15000000000", result)
    assert fund.used == _m("500000000", result)
    assessments = _tranche(event, TrancheKind.ASSESSMENTS)
    assert assessments.available == _m("15000000000", result)
    assert assessments.used.is_zero()
    margin = _tranche(event, TrancheKind.DEFAULTER_MARGIN)
    assert event.loss - margin.used == _m("2000000000", result)
    paid = {c.member: c.total for c in event.members}
    assert paid.pop("A") == _m("50000000", result)
    assert paid.pop("B") == _m("40000000", result)
    assert paid.pop("C") == _m("30000000", result)
    others = Money.zero(result.case.currency)
    for amount in paid.values():
        others += amount
    assert others == _m("380000000", result)


# --- cme-base-style -------------------------------------------------------------------
# Source: CME Group, "CME Clearing's Financial Safeguards", 30 Sep 2023
# [CME-SAFEGUARDS-2023]: Base guaranty fund USD 6,154,113,094, assessment powers 275% of it
# (USD 16,923,811,009 published, 16,923,811,008.50 exact), CME contribution USD 100m; the
# footnote excludes the defaulters' own assessment obligations.


def test_cme_base_contributions_add_up_to_the_published_fund_and_power() -> None:
    case = _case("cme-base-style")
    total = Money.zero(case.currency)
    for member in case.members:
        total += member.default_fund
    assert total == Money.of("6154113094", case.currency)
    assert total.amount * Decimal("2.75") == Decimal("16923811008.50")


def test_cme_base_assessment_caps_are_rounded_down_and_exclude_the_defaulter() -> None:
    result = _run("cme-base-style")
    (event,) = result.events
    assert _tranche(event, TrancheKind.CCP_CAPITAL).used == _m("100000000", result)
    survivors = [m for m in result.case.members if m.id not in event.defaulters]
    caps = [
        (m.default_fund.amount * Decimal("2.75")).quantize(Decimal("0.01"), ROUND_FLOOR)
        for m in survivors
    ]
    assessments = _tranche(event, TrancheKind.ASSESSMENTS)
    assert assessments.available.amount == sum(caps)
    assert not assessments.used.is_zero()
    assert "X" not in {c.member for c in event.members if not c.assessment.is_zero()}
    # 1,000.01 x 2.75 = 2,750.0275: the cap is 2,750.02.
    assert member_liability(result.case, "M10", result).assessment_cap == _m("2750.02", result)


def test_cme_base_assessments_are_within_a_cent_of_the_exact_pro_rata_share() -> None:
    result = _run("cme-base-style")
    (event,) = result.events
    used = _tranche(event, TrancheKind.ASSESSMENTS).used.minor_units
    weights = {m.id: m.default_fund.minor_units for m in result.case.members if m.id != "X"}
    charges = {c.member: c.assessment.minor_units for c in event.members}
    assert sum(charges.values()) == used
    for member, weight in weights.items():
        exact = Fraction(used * weight, sum(weights.values()))
        assert abs(charges[member] - exact) < 1


# --- eurex-style ----------------------------------------------------------------------
# Source: Eurex Clearing, "Contribution of Eurex Clearing" [EUREX-WATERFALL] and
# "Assessments and replenishment" [EUREX-ASSESSMENTS]: SITG EUR 143m, assessments up to 2x
# the contribution within a capped period of 20 business days, extended by 20 per further
# default, at most 3 months. Worked example: contribution 100, defaults at D0 and D0+10:
# cap 200 over the period, total liability 300, the period ends at D0+30.


def test_eurex_style_period_is_extended_by_the_second_default() -> None:
    result = _run("eurex-style")
    first, second, third = result.events
    d0 = first.date
    assert d0 is not None
    assert second.date == add_business_days(d0, 10)
    assert first.cooling_off_end == add_business_days(d0, 20)
    assert second.cooling_off_end == add_business_days(d0, 30)
    assert third.date is not None
    assert third.date > add_business_days(d0, 30)
    assert third.replenished_before
    assert not second.replenished_before


def test_eurex_style_member_a_pays_at_most_three_times_its_contribution_in_the_period() -> None:
    result = _run("eurex-style")
    a = result.case.member("A")
    assert a.default_fund == _m("100000000", result)
    in_period = result.events[:2]
    charges = [c for e in in_period for c in e.members if c.member == "A"]
    assessed = sum(c.assessment.minor_units for c in charges)
    from_fund = sum(c.default_fund.minor_units for c in charges)
    assert assessed == 2 * a.default_fund.minor_units  # the cap over the period: 200
    assert assessed + from_fund == 3 * a.default_fund.minor_units  # total liability: 300


def test_eurex_style_sitg_is_143m_and_restored_after_the_period() -> None:
    result = _run("eurex-style")
    first, second, third = result.events
    sitg = _m("143000000", result)
    assert _tranche(first, TrancheKind.CCP_CAPITAL).available == sitg
    assert _tranche(second, TrancheKind.CCP_CAPITAL).available.is_zero()
    assert _tranche(third, TrancheKind.CCP_CAPITAL).available == sitg
    # A new period counts assessments afresh: twice the survivors' contributions.
    survivors = [m for m in result.case.members if m.id in {"A", "B", "C", "D"}]
    fresh = sum(2 * m.default_fund.minor_units for m in survivors)
    assert _tranche(third, TrancheKind.ASSESSMENTS).available.minor_units == fresh


def test_eurex_style_second_sitg_and_dedicated_amount_share_pro_rata() -> None:
    # [EUREX-WATERFALL]: a second SITG of EUR 57m used with the non-defaulters' fund, a
    # Further Dedicated Amount of up to EUR 300m used with the assessments.
    result = _run("eurex-style")
    first, _, third = result.events
    shared = [t for t in first.tranches if t.kind == TrancheKind.CCP_CAPITAL_PRO_RATA]
    assert [t.available for t in shared] == [_m("57000000", result), _m("300000000", result)]
    # First event: 650 left after the fund, shared 300 : 1,000 contributions -> 150 + 500.
    assert shared[1].used == _m("150000000", result)
    assert _tranche(first, TrancheKind.ASSESSMENTS).used == _m("500000000", result)
    # Third event: 478.5 left after the SITG, shared 57 : 900 -> 28.5 + 450.
    second_sitg = _tranche(third, TrancheKind.CCP_CAPITAL_PRO_RATA)
    assert second_sitg.used == _m("28500000", result)
    assert _tranche(third, TrancheKind.MEMBER_DEFAULT_FUND).used == _m("450000000", result)


# --- beyond-the-waterfall -------------------------------------------------------------
# Every number of this example is illustrative: the assertions are structural.


def test_beyond_the_waterfall_exhausts_every_layer_and_reports_the_rest() -> None:
    result = _run("beyond-the-waterfall")
    case = result.case
    (event,) = result.events
    for tranche in event.tranches:
        assert tranche.remaining.is_zero(), tranche.name
        assert not tranche.used.is_zero(), tranche.name
    (defaulter,) = [m for m in case.members if m.id in event.defaulters]
    survivors = [m for m in case.members if m.id != defaulter.id]
    (capital,) = [t.amount for t in case.rulebook.waterfall if t.amount is not None]
    (cap_multiple,) = [t.cap_multiple for t in case.rulebook.waterfall if t.cap_multiple]
    assert capital is not None
    capacity = (
        defaulter.initial_margin.minor_units
        + defaulter.default_fund.minor_units
        + capital.minor_units
        + sum(m.default_fund.minor_units for m in survivors)
        + sum(m.default_fund.times_floor(cap_multiple).minor_units for m in survivors)
        + sum(m.vm_gains.minor_units for m in survivors)
    )
    assert event.uncovered.minor_units == event.loss.minor_units - capacity > 0
    assert result.uncovered == event.uncovered


# --- demo-ccp: the end of day ---------------------------------------------------------
# The demo's figures come from float risk arrays, so its golden is compared field by
# field, each with the tolerance its computation allows:
#
# | field                                        | compared                         |
# |----------------------------------------------|----------------------------------|
# | keys, list lengths, names, ids, choices      | exactly                          |
# | counts (integers) and booleans, nulls        | exactly                          |
# | money under "worst_drill.result" (the worst  | exactly: the drill's case runs   |
# |   drill through the waterfall, ccp-result/1) |   in exact Decimal               |
# | other money strings (margin, stress, fund,   | within 3 cents: floats rounded   |
# |   contributions, drill summaries)            |   to the cent at the border      |
# | float ratios and multipliers                 | relative 1e-9                    |

FLOAT_RELATIVE = 1e-9
FLOAT_ABSOLUTE = 1e-12  # for ratios at or near zero
MONEY_FROM_FLOATS = Decimal("0.03")
EXACT_MONEY_UNDER = "worst_drill.result"
_MONEY = re.compile(r"-?[0-9]+\.[0-9]{2}")  # USD, the demo's currency: two decimals


def _differences(expected: object, actual: object, path: str = "") -> Iterator[str]:
    """Each place where ``actual`` departs from ``expected`` beyond its tolerance."""
    where = path or "(top)"
    if isinstance(expected, dict) and isinstance(actual, dict):
        if list(expected) != list(actual):
            yield f"{where}: keys {list(expected)} != {list(actual)}"
            return
        for key, value in expected.items():
            yield from _differences(value, actual[key], f"{path}.{key}" if path else key)
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            yield f"{where}: {len(expected)} items != {len(actual)}"
            return
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            yield from _differences(want, got, f"{path}[{index}]")
    elif isinstance(expected, float) and isinstance(actual, float):
        if not math.isclose(expected, actual, rel_tol=FLOAT_RELATIVE, abs_tol=FLOAT_ABSOLUTE):
            yield f"{where}: {expected!r} != {actual!r} (relative {FLOAT_RELATIVE:g})"
    elif (
        isinstance(expected, str)
        and isinstance(actual, str)
        and _MONEY.fullmatch(expected)
        and _MONEY.fullmatch(actual)
        and not path.startswith(EXACT_MONEY_UNDER)
    ):
        if abs(Decimal(expected) - Decimal(actual)) > MONEY_FROM_FLOATS:
            yield f"{where}: {expected} != {actual} (within {MONEY_FROM_FLOATS})"
    elif type(expected) is not type(actual) or expected != actual:
        yield f"{where}: {expected!r} != {actual!r}"


@pytest.fixture(scope="module")
def demo_eod() -> str:
    """``ccp eod examples/demo-ccp/case.toml --json``, run once for the module."""
    result = CliRunner().invoke(create_app(), ["eod", str(DEMO_CCP / "case.toml"), "--json"])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_demo_ccp_end_of_day_matches_its_expected_json(demo_eod: str) -> None:
    expected = DEMO_CCP / "expected.json"
    if UPDATE:
        expected.write_text(demo_eod, encoding="utf-8")
    golden = json.loads(expected.read_text(encoding="utf-8"))
    assert golden["format"] == "ccp-eod/1"
    assert list(_differences(golden, json.loads(demo_eod))) == []


def test_the_demo_golden_comparison_holds_each_field_to_its_tolerance() -> None:
    golden = {
        "ratio": 1.5,
        "fund": {"size": "584521978.87", "cover": 2},
        "worst_drill": {"result": {"used": "377663114.90"}},
    }
    assert list(_differences(golden, golden)) == []
    within = {
        "ratio": 1.5 * (1 + 1e-12),
        "fund": {"size": "584521978.89", "cover": 2},
        "worst_drill": {"result": {"used": "377663114.90"}},
    }
    assert list(_differences(golden, within)) == []
    beyond = {
        "ratio": 1.5 * (1 + 1e-6),
        "fund": {"size": "584521978.91", "cover": 3},
        "worst_drill": {"result": {"used": "377663114.91"}},
    }
    assert [line.split(":")[0] for line in _differences(golden, beyond)] == [
        "ratio",
        "fund.size",
        "fund.cover",
        "worst_drill.result.used",
    ]
    assert list(_differences({"a": 1}, {"a": 1, "b": 2})) == ["(top): keys ['a'] != ['a', 'b']"]

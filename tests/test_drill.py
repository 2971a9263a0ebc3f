"""The default management drill: the tiers example's numbers, the command, bad input.

The tiers example's figures are those of the juniorisation rule stated on its
own: contributions A 100 (no bid), B 200 (bid below the winner), C 300 (the
winner), D 400 (bid equal to the winner); the loss reaching the fund is drawn
from the most junior tier first, and pro rata within a tier by the case
format's rounding rule (floor, then the largest remainders).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tomllib
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from ccpwaterfall.cli.main import create_app
from ccpwaterfall.domain import Money
from ccpwaterfall.io import load_case
from ccpwaterfall.io.drill_file import load_drill
from ccpwaterfall.lifecycle.drill import (
    BidRefused,
    DrillEvent,
    DrillReplayError,
    close_auction,
    open_drill,
    replay,
    run_drill,
    submit_bid,
)
from ccpwaterfall.waterfall import run_case

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TIERS = EXAMPLES / "drill-swapclear-tiers"
UPDATE = os.environ.get("CCP_UPDATE_EXPECTED") == "1"
GOLDEN = (
    ("drill-swapclear-tiers", "drill.toml", "expected.json"),
    ("drill-swapclear-tiers", "drill-500.toml", "expected-500.json"),
    ("drill-nasdaq-2018-style", "drill.toml", "expected.json"),
    ("drill-demo-ccp", "drill.toml", "expected.json"),
)
NASDAQ = EXAMPLES / "drill-nasdaq-2018-style" / "drill.toml"
runner = CliRunner()


def _fund_draws(path: Path) -> dict[str, Decimal]:
    state = run_drill(load_drill(path))
    assert state.outcome is not None
    event = state.outcome.result.events[0]
    return {c.member: c.default_fund.amount for c in event.members}


def _spec_rounding(total: Fraction, weights: dict[str, int]) -> dict[str, Decimal]:
    """The case format's rule, in cents: floors, then a cent each to the largest remainders."""
    cents = total * 100
    whole = sum(weights.values())
    exact = {k: cents * w / whole for k, w in weights.items()}
    floors = {k: v.numerator // v.denominator for k, v in exact.items()}
    left = int(cents) - sum(floors.values())
    for key in sorted(exact, key=lambda k: (-(exact[k] - floors[k]), k))[:left]:
        floors[key] += 1
    return {k: Decimal(v) / 100 for k, v in floors.items()}


def test_tiers_example_a_loss_of_250_takes_the_no_bid_tier_then_the_low_bidder() -> None:
    draws = _fund_draws(TIERS / "drill.toml")
    assert draws == {"A": Decimal(100), "B": Decimal(150)}


def test_tiers_example_a_loss_of_500_reaches_the_winners_pro_rata() -> None:
    draws = _fund_draws(TIERS / "drill-500.toml")
    rest = _spec_rounding(Fraction(200), {"C": 300, "D": 400})
    assert rest == {"C": Decimal("85.71"), "D": Decimal("114.29")}  # 600/7 and 800/7
    assert draws == {"A": Decimal(100), "B": Decimal(200), **rest}


def test_a_bid_equal_to_the_winner_ranks_with_the_winner_and_the_earlier_bid_wins() -> None:
    state = run_drill(load_drill(TIERS / "drill.toml"))
    allocated = [e for e in state.events if e.kind == "lot_allocated"]
    assert [e.payload["to"] for e in allocated] == ["C"]
    assert state.outcome is not None
    assert state.outcome.tiers == (("A",), ("B",), ("C", "D"))


# The demo drill's money comes from float margins and prices, at the border: another
# machine's floating point may move a figure by a cent or two. Everything else is exact.
FROM_FLOATS = {"drill-demo-ccp"}
_MONEY = re.compile(r"-?[0-9]+\.[0-9]{2}")
CENTS = Decimal("0.03")


def _money_differences(expected: str, actual: str) -> list[str]:
    """Where two documents differ beyond a few cents in any amount, line by line."""
    differences = []
    for number, (want, got) in enumerate(
        zip(expected.splitlines(), actual.splitlines(), strict=True), 1
    ):
        if _MONEY.sub("#", want) != _MONEY.sub("#", got):
            differences.append(f"line {number}: {want!r} != {got!r}")
            continue
        for a, b in zip(_MONEY.findall(want), _MONEY.findall(got), strict=True):
            if abs(Decimal(a) - Decimal(b)) > CENTS:
                differences.append(f"line {number}: {a} != {b}")
    return differences


@pytest.mark.parametrize(("folder", "drill", "expected"), GOLDEN)
def test_drill_example_matches_its_expected_json(folder: str, drill: str, expected: str) -> None:
    result = runner.invoke(create_app(), ["drill", str(EXAMPLES / folder / drill), "--json"])
    assert result.exit_code == 0, result.output
    golden = EXAMPLES / folder / expected
    if UPDATE:
        golden.write_text(result.stdout, encoding="utf-8")
    want = golden.read_text(encoding="utf-8")
    if folder in FROM_FLOATS:
        assert len(want.splitlines()) == len(result.stdout.splitlines())
        assert _money_differences(want, result.stdout) == []
    else:
        assert want == result.stdout


def test_the_demo_comparison_allows_cents_and_nothing_else() -> None:
    assert _money_differences('"a": "10.00"', '"a": "10.02"') == []
    assert _money_differences('"a": "10.00"', '"a": "10.05"') == ["line 1: 10.00 != 10.05"]
    assert _money_differences('"to": "CM01"', '"to": "CM02"') != []


@pytest.mark.parametrize("drill", ["drill.toml", "drill-500.toml"])
def test_the_written_case_runs_to_the_drills_allocation(tmp_path: Path, drill: str) -> None:
    target = tmp_path / "case.toml"
    result = runner.invoke(create_app(), ["drill", str(TIERS / drill), "--write-case", str(target)])
    assert result.exit_code == 0, result.output
    state = run_drill(load_drill(TIERS / drill))
    assert state.outcome is not None
    written = load_case(target)
    assert written.auctions == state.outcome.case.auctions
    assert run_case(written).events[0].members == state.outcome.result.events[0].members


def test_drill_timeline_is_shown_as_text() -> None:
    result = runner.invoke(create_app(), ["drill", str(TIERS / "drill.toml")])
    assert result.exit_code == 0, result.output
    for words in ("Timeline (UTC)", "default declared", "[A] < [B] < [C, D]", "Statements"):
        assert words in result.stdout


def test_drill_check_accepts_a_valid_file() -> None:
    result = runner.invoke(create_app(), ["drill", "--check", str(TIERS / "drill.toml")])
    assert result.exit_code == 0, result.output
    assert "valid drill" in result.stdout


BAD_DRILL = """
[[bids]]
member = "Z"
lot = "GBP-IRS"
price = "-1"
at = 2024-03-05T10:00:00Z

[[bids]]
member = "C"
lot = "NO-SUCH-LOT"
price = "-1"
at = 2024-03-05T10:00:00Z

[[bids]]
member = "E"
lot = "GBP-IRS"
price = "-1"
at = 2024-03-05T10:00:00Z

[[accounts]]
id = "E-client"
kind = "client"
collateral = 5
port_to = "E"

[hedging]
at = 2024-03-04T12:00:00Z
stage = "before_auction"
hedges = [{ product = "GBP-IRS", instrument = "NO-SUCH-SWAP", ratio = "1" }]
"""


def _bad_drill(tmp_path: Path) -> Path:
    text = (TIERS / "drill.toml").read_text(encoding="utf-8")
    head = text[: text.index("[[bids]]")]
    head = head.replace("day = 1 }", "day = 3 }")  # the path has one day of moves
    path = tmp_path / "bad.toml"
    path.write_text(head + BAD_DRILL, encoding="utf-8")
    return path


def test_every_problem_of_a_bad_drill_is_reported_at_once_with_its_field(
    tmp_path: Path,
) -> None:
    path = _bad_drill(tmp_path)
    target = tmp_path / "out.toml"
    result = runner.invoke(create_app(), ["drill", str(path), "--write-case", str(target)])
    assert result.exit_code == 2
    expected = (
        ("bids[0].member", "unknown member 'Z'"),
        ("bids[1].lot", "unknown lot 'NO-SUCH-LOT'"),
        ("bids[2].member", "'E' is the defaulter"),
        ("auction.rounds[0].day", "beyond the market path of GBP-IRS"),
        ("accounts[1].port_to", "'E' is the defaulter"),
        ("hedging.hedges[0].instrument", "unknown instrument 'NO-SUCH-SWAP'"),
    )
    for field, message in expected:
        assert f"{path}: {field}: " in result.stderr, field
        line = next(x for x in result.stderr.splitlines() if f": {field}: " in x)
        assert message in line
    assert f"6 problems in {path}" in result.stderr
    assert not target.exists()
    check = runner.invoke(create_app(), ["drill", "--check", str(path)])
    assert check.exit_code == 2
    assert check.stderr == result.stderr
    # ccp check takes drill files too, and refuses the same problems.
    plain_check = runner.invoke(create_app(), ["check", str(path)])
    assert plain_check.exit_code == 2
    assert plain_check.stderr == result.stderr


def test_ccp_check_accepts_each_drill_example_and_says_what_it_holds() -> None:
    for path in sorted(EXAMPLES.glob("drill-*/drill*.toml")):
        result = runner.invoke(create_app(), ["check", str(path), "--json"])
        assert result.exit_code == 0, result.stderr
        verdict = json.loads(result.stdout)
        plan = load_drill(path)
        assert verdict["kind"] == "drill"
        assert verdict["valid"] is True
        assert verdict["members"] == len(plan.ccp.members)
        assert verdict["positions"] == len(plan.positions)
        assert verdict["bids"] == len(plan.bids)
        text = runner.invoke(create_app(), ["check", str(path)])
        assert text.stdout.startswith(f"{path}: valid drill ({len(plan.ccp.members)} members")


def test_a_bid_after_the_deadline_is_a_problem_of_the_file(tmp_path: Path) -> None:
    text = (TIERS / "drill.toml").read_text(encoding="utf-8")
    path = tmp_path / "late.toml"
    path.write_text(text.replace("at = 2024-03-05T11:00:00Z", "at = 2024-03-05T13:00:00Z"))
    result = runner.invoke(create_app(), ["drill", "--check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: bids[2]: after the deadline" in result.stderr


def test_submit_bid_refuses_what_the_auction_does_not_take() -> None:
    plan = load_drill(TIERS / "drill.toml")
    state = open_drill(plan)
    gbp = plan.ccp.currency
    price = Money.of("-1", gbp)
    during = dt.datetime(2024, 3, 5, 10, tzinfo=dt.UTC)
    refusals = {
        "the defaulter": ("E", "GBP-IRS", during),
        "unknown member": ("Z", "GBP-IRS", during),
        "no lot": ("C", "X", during),
        "after the deadline": ("C", "GBP-IRS", during + dt.timedelta(hours=3)),
    }
    for reason, (member, lot, at) in refusals.items():
        with pytest.raises(BidRefused, match=reason):
            submit_bid(state, member, lot, price, at)
    closed = close_auction(state, during + dt.timedelta(hours=2))
    with pytest.raises(BidRefused, match="closed"):
        submit_bid(closed, "C", "GBP-IRS", price, during + dt.timedelta(hours=2))


def test_events_round_trip_through_json_and_replay_gives_the_same_record() -> None:
    plan = load_drill(TIERS / "drill-500.toml")
    state = run_drill(plan)
    stored = [DrillEvent.from_json(json.loads(json.dumps(e.to_json()))) for e in state.events]
    assert stored == list(state.events)
    assert replay(plan, stored).record() == state.record()


def test_replay_refuses_events_the_plan_does_not_give() -> None:
    plan = load_drill(TIERS / "drill.toml")
    events = list(run_drill(plan).events)
    waterfall = next(i for i, e in enumerate(events) if e.kind == "waterfall")
    tampered = events[waterfall]
    events[waterfall] = DrillEvent(
        tampered.sequence, tampered.kind, tampered.at, {**tampered.payload, "loss": "1.00"}
    )
    with pytest.raises(DrillReplayError, match="waterfall"):
        replay(plan, events)


def test_replay_refuses_a_stored_bid_the_auction_would_refuse() -> None:
    plan = load_drill(TIERS / "drill.toml")
    events = list(run_drill(plan).events)
    first_bid = next(i for i, e in enumerate(events) if e.kind == "bid")
    bid = events[first_bid]
    events[first_bid] = DrillEvent(bid.sequence, "bid", bid.at, {**bid.payload, "member": "E"})
    with pytest.raises(DrillReplayError, match="defaulter"):
        replay(plan, events)


def test_nasdaq_style_first_round_fails_unhedged_and_the_second_clears_after_hedging() -> None:
    state = run_drill(load_drill(NASDAQ))
    kinds = [e.kind for e in state.events]
    first_close = kinds.index("auction_round_closed")
    hedged = kinds.index("hedged")
    second_close = kinds.index("auction_round_closed", first_close + 1)
    assert first_close < hedged < second_close
    lots = state.events[first_close].payload["lots"]
    assert isinstance(lots, list)
    assert [lot["winner"] for lot in lots] == [None]
    won = state.events[second_close].payload["lots"]
    assert isinstance(won, list)
    assert [lot["winner"] for lot in won] == ["CM01"]


def test_nasdaq_style_uses_the_published_7m_of_capital_and_107m_of_the_fund() -> None:
    state = run_drill(load_drill(NASDAQ))
    assert state.outcome is not None
    event = state.outcome.result.events[0]
    used = {t.kind: t.used.amount for t in event.tranches}
    # [NASDAQ-2018]: EUR 107m of the fund in addition to EUR 7m of junior capital.
    assert used["ccp_capital"] == Decimal("7000000")
    assert used["member_default_fund"] == Decimal("107000000")
    replayed = run_case(load_case(EXAMPLES / "nasdaq-2018" / "case.toml")).events[0]
    assert event.members == replayed.members


def test_every_drill_example_has_its_readme_and_golden() -> None:
    folders = sorted(p.name for p in EXAMPLES.glob("drill-*") if p.is_dir())
    assert folders == sorted({folder for folder, _, _ in GOLDEN})
    for folder, drill, expected in GOLDEN:
        for part in (drill, expected, "README.md"):
            assert (EXAMPLES / folder / part).is_file(), f"{folder}/{part}"


DEMO = EXAMPLES / "drill-demo-ccp" / "drill.toml"


def test_demo_drill_ports_clients_hedges_and_auctions_by_asset_class() -> None:
    state = run_drill(load_drill(DEMO))
    kinds = [e.kind for e in state.events]
    closed = next(e for e in state.events if e.kind == "closed_out")
    refused = {"CM34-C006", "CM34-C010", "CM34-C020"}
    ported = {str(e.payload["account"]) for e in state.events if e.kind == "ported"}
    assert kinds.count("ported") == 66
    assert not ported & refused
    accounts = closed.payload["accounts"]
    assert isinstance(accounts, list)
    assert set(accounts) == {"CM34-H", *refused}
    opened = next(e for e in state.events if e.kind == "auction_opened")
    lots = opened.payload["lots"]
    assert isinstance(lots, list)
    assert [lot["lot"] for lot in lots] == ["equity-index", "energy"]
    assert kinds.index("hedged") < kinds.index("auction_opened")
    assert state.outcome is not None
    event = state.outcome.result.events[0]
    used = sum((t.used for t in event.tranches), Money.zero(state.currency))
    assert used + event.uncovered == state.outcome.loss


def test_a_risk_drill_path_outside_the_history_is_a_problem_of_the_file(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8").replace("../demo-ccp/", f"{EXAMPLES}/demo-ccp/")
    path = tmp_path / "drill.toml"
    path.write_text(
        text.replace("path_start = 2008-10-03", "path_start = 1990-01-02").replace(
            'refused = ["CM34-C006"', 'refused = ["CM01-C001"'
        ),
        encoding="utf-8",
    )
    result = runner.invoke(create_app(), ["drill", "--check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: market.path_start: a path of 5 days from 1990-01-02 is outside" in (
        result.stderr
    )


def test_a_member_obliged_to_bid_that_did_not_is_named_when_the_round_closes() -> None:
    state = run_drill(load_drill(TIERS / "drill.toml"))
    closed = next(e for e in state.events if e.kind == "auction_round_closed")
    lots = closed.payload["lots"]
    assert isinstance(lots, list)
    assert [lot["missed_obligation"] for lot in lots] == [["A"]]


def test_every_event_names_the_currency_of_its_amounts() -> None:
    state = run_drill(load_drill(TIERS / "drill.toml"))
    assert {e.payload["currency"] for e in state.events} == {"GBP"}
    notices = [e.payload for e in state.events if e.kind == "notice"]
    assert [n["to"] for n in notices] == ["E", "Bank of England", "all members"]
    assert "GBP 60.00" in str(notices[0]["text"])


def test_every_problem_of_a_bad_risk_drill_is_reported_at_once(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8").replace("../demo-ccp/", f"{EXAMPLES}/demo-ccp/")
    text = text.replace('member = "largest"', 'member = "CM34"')
    text = text.replace('port_to = "CM02"', 'port_to = "CM34"')
    text = text.replace('instrument = "NQ-F1"', 'instrument = "NQ-F9"')
    text += '\n[[bids]]\nmember = "CM99"\nlot = "copper"\nprice = "1"\nat = 2019-01-04T09:00:00Z\n'
    path = tmp_path / "drill.toml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(create_app(), ["drill", "--check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: porting.port_to: 'CM34' is the defaulter" in result.stderr
    fixed = text.replace('port_to = "CM34"', 'port_to = "CM02"')
    path.write_text(fixed, encoding="utf-8")
    result = runner.invoke(create_app(), ["drill", "--check", str(path)])
    assert result.exit_code == 2
    for field, message in (
        ("hedging.hedges[1].instrument", "unknown instrument 'NQ-F9'"),
        ("bids[0].member", "unknown member 'CM99'"),
        ("bids[0].lot", "unknown lot 'copper'"),
    ):
        line = next(x for x in result.stderr.splitlines() if f"{path}: {field}: " in x)
        assert message in line


def _as_json(value: object) -> object:
    """A TOML document as JSON holds it: dates and times as ISO strings."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def test_every_example_drill_is_valid_under_the_printed_schema() -> None:
    result = runner.invoke(create_app(), ["drill", "--schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    for folder, drill, _ in GOLDEN:
        document = tomllib.loads((EXAMPLES / folder / drill).read_text(encoding="utf-8"))
        errors = [e.message for e in validator.iter_errors(_as_json(document))]
        assert errors == [], f"{folder}/{drill}: {errors}"
    bad = tomllib.loads((TIERS / "drill.toml").read_text(encoding="utf-8"))
    bad["auction"]["rundos"] = []
    assert list(validator.iter_errors(_as_json(bad)))


def test_drill_check_json_lists_every_problem_as_data(tmp_path: Path) -> None:
    path = _bad_drill(tmp_path)
    result = runner.invoke(create_app(), ["drill", "--check", "--json", str(path)])
    assert result.exit_code == 2
    verdict = json.loads(result.stdout)
    assert verdict["valid"] is False
    assert len(verdict["problems"]) == 6
    assert {p["file"] for p in verdict["problems"]} == {str(path)}
    good = runner.invoke(create_app(), ["drill", "--check", "--json", str(TIERS / "drill.toml")])
    assert good.exit_code == 0
    assert json.loads(good.stdout)["valid"] is True


def test_steps_out_of_order_in_time_are_problems_of_the_file(tmp_path: Path) -> None:
    text = (EXAMPLES / "drill-demo-ccp" / "drill.toml").read_text(encoding="utf-8")
    text = text.replace("../demo-ccp/", f"{EXAMPLES}/demo-ccp/")
    # The hedge before the close-out, the auction before the hedge.
    text = text.replace("at = 2019-01-03T12:00:00Z", "at = 2019-01-03T10:00:00Z")
    text = text.replace("opens_at = 2019-01-04T08:00:00Z", "opens_at = 2019-01-03T09:00:00Z")
    path = tmp_path / "drill.toml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(create_app(), ["drill", "--check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: hedging.at: before the close-out" in result.stderr
    assert f"{path}: auction.rounds[0].opens_at: opens before" in result.stderr


def test_a_risk_drill_can_spread_a_named_stress_scenario_over_the_close_out(
    tmp_path: Path,
) -> None:
    text = DEMO.read_text(encoding="utf-8").replace("../demo-ccp/", f"{EXAMPLES}/demo-ccp/")
    text = text.replace("path_start = 2008-10-03", 'scenario = "2008-style equity crash"')
    path = tmp_path / "drill.toml"
    path.write_text(text, encoding="utf-8")
    plan = load_drill(path)
    risk = tomllib.loads((EXAMPLES / "demo-ccp" / "case.toml").read_text(encoding="utf-8"))
    crash = next(s for s in risk["risk"]["stress"] if s["name"] == "2008-style equity crash")
    shock = Decimal(crash["shocks"]["sp500"])
    moves = plan.product("sp500").moves
    assert len(moves) == 5
    assert len(set(moves)) == 1  # equal daily steps
    compounded = (1 + moves[0]) ** 5
    assert abs(compounded - shock.exp()) < Decimal("1e-8")
    wrong = text.replace('"2008-style equity crash"', '"2008 equity crash"')
    path.write_text(wrong, encoding="utf-8")
    result = runner.invoke(create_app(), ["drill", "--check", str(path)])
    assert result.exit_code == 2
    assert "market.scenario: no stress scenario '2008 equity crash'" in result.stderr
    assert "did you mean '2008-style equity crash'?" in result.stderr

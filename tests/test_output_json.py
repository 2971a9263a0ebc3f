"""JSON output: money is a decimal string in the currency's minor unit in every document.

Floats remain only for ratios, multipliers, weights and probabilities, named
here one by one; any other number in the risk documents is a defect.
"""

from __future__ import annotations

import functools
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from case_samples import EXAMPLES
from ccpwaterfall.app import Loaders, done
from ccpwaterfall.cli.context import value_of
from ccpwaterfall.cli.main import create_app
from ccpwaterfall.cli.output import print_json
from ccpwaterfall.domain import currency
from ccpwaterfall.io.issues import InputWarning
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.lifecycle import EndOfDay, end_of_day, to_money

DEMO = EXAMPLES / "demo-ccp" / "case.toml"

# Numbers that are not money: ratios, multipliers, parameters and counts.
NOT_MONEY = frozenset(
    {
        "confidence",
        "ewma_lambda",
        "apc_buffer",
        "apc_stressed_weight",
        "buffer",
        "margin_weight",
        "risk_weight",
        "capital_ratio",
        "multiplier",
        "reverse_stress_grid",
    }
)


@pytest.fixture(scope="module")
def demo_eod() -> EndOfDay:
    return end_of_day(load_risk_case(DEMO).inputs)


# The demo case is read from its files once; every command runs on it in full.
DEMO_LOADERS = Loaders(risk_case=functools.cache(load_risk_case))


@pytest.fixture
def demo() -> Path:
    return DEMO


def _json(*args: str | Path) -> Any:
    result = CliRunner().invoke(create_app(DEMO_LOADERS), [*(str(a) for a in args), "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _floats(data: Any, path: str = "") -> list[str]:
    """The paths of every float in ``data`` outside the ``NOT_MONEY`` keys."""
    if isinstance(data, dict):
        return [
            found
            for key, value in data.items()
            if key not in NOT_MONEY
            for found in _floats(value, f"{path}.{key}")
        ]
    if isinstance(data, list):
        return [found for i, value in enumerate(data) for found in _floats(value, f"{path}[{i}]")]
    return [path] if isinstance(data, float) else []


@pytest.mark.parametrize("command", ["margin", "stress", "size-fund", "capital", "eod"])
def test_risk_json_has_no_float_money(demo: Path, command: str) -> None:
    assert _floats(_json(command, demo)) == []


def test_margin_amounts_are_cents_rounded_at_the_border(demo: Path, demo_eod: EndOfDay) -> None:
    data = _json("margin", demo)
    usd = currency("USD")
    assert data["total"] == format(to_money(demo_eod.margin.total, usd).amount, "f")
    for member in data["members"]:
        assert re.fullmatch(r"\d+\.\d\d", member["initial_margin"])


def test_fund_sizing_amounts_are_decimal_strings(demo: Path) -> None:
    data = _json("size-fund", demo)
    for key in ("size", "art42_floor", "sitg_junior", "required", "floor"):
        assert re.fullmatch(r"\d+\.\d\d", data[key]), key
    assert isinstance(data["buffer"], float)
    assert abs(Decimal(data["size"]) - Decimal(data["fund"])) < Decimal("0.01")


# --------------------------------------------------------------------------- ccp check --json

NASDAQ = EXAMPLES / "nasdaq-2018" / "case.toml"

BAD_CASE = """\
format = "ccp-case/1"
name = "Bad"
currency = "EUR"

[ccp]
name = "Test CCP"

[rulebook]
[[rulebook.waterfall]]
kind = "defaulter_margin"

[[members]]
id = "A"
default_fund = 1.5
initial_margin = "10m"

[[defaults]]
member = "Z"
loss = "5m"
"""


def _run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(create_app(DEMO_LOADERS), [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_check_json_of_a_valid_case() -> None:
    code, out, _ = _run("check", NASDAQ, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "ccp-check/1"
    assert data["file"] == str(NASDAQ)
    assert data["valid"] is True
    assert data["kind"] == "case"
    assert data["problems"] == []
    _, text, _ = _run("check", NASDAQ)
    assert f"({data['members']} members, {data['events']} event" in text


def test_check_json_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CASE, encoding="utf-8")
    code, out, err = _run("check", bad, "--json")
    assert code == 2
    assert err == ""
    data = json.loads(out)
    assert data["valid"] is False
    assert data["members"] is None
    problems = data["problems"]
    assert {p["field"] for p in problems} >= {"members[0].default_fund", "defaults[0].member"}
    # The same problems as the text form lists, each with its file and field.
    _, _, text = _run("check", bad)
    for problem in problems:
        field = f"{problem['field']}: " if problem["field"] else ""
        assert f"{problem['file']}: {field}{problem['message']}" in text


def test_check_json_of_a_risk_case(demo: Path) -> None:
    code, out, _ = _run("check", DEMO, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "risk-case"
    assert data["valid"] is True
    assert data["members"] == 40
    assert data["accounts"] == 400
    assert isinstance(data["instruments"], int)
    assert isinstance(data["stress_scenarios"], int)


# --------------------------------------------------------------------------- ccp explain --json


def test_explain_json_is_the_journal_entry_by_entry() -> None:
    code, out, _ = _run("explain", NASDAQ, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "ccp-explain/1"
    result = _json("run", NASDAQ)
    entries = data["opening"] + [e for event in data["events"] for e in event["entries"]]
    # Every entry of the journal, once, in sequence.
    first = entries[0]["seq"]
    assert [e["seq"] for e in entries] == list(range(first, first + len(entries)))
    for entry in entries:
        assert sum(Decimal(p["amount"]) for p in entry["postings"]) == 0
    for event, expected in zip(data["events"], result["events"], strict=True):
        assert event["loss"] == expected["loss"]
        for tranche, shown in zip(event["tranches"], expected["tranches"], strict=True):
            assert (tranche["available"], tranche["used"]) == (shown["available"], shown["used"])
            # A tranche's entry debits the loss accounts by what the tranche used.
            (entry,) = [e for e in event["entries"] if e.get("tranche") == tranche["index"]]
            covered = sum(
                Decimal(p["amount"]) for p in entry["postings"] if p["account"].startswith("loss:")
            )
            assert covered == Decimal(tranche["used"])


def test_explain_json_inputs_are_typed() -> None:
    data = _json("explain", NASDAQ)
    tranches = {t["kind"]: t for t in data["events"][0]["tranches"]}
    capital = tranches["ccp_capital"]["inputs"]
    # Nasdaq 2018: EUR 7m of junior capital, replenished two business days later.
    assert capital["amount"] == {"amount": "7000000.00", "currency": "EUR"}
    assert capital["replenished_before"] is False
    assert capital["replenish_after"] == "2018-09-13"
    assert tranches["defaulter_margin"]["inputs"]["defaulters"] == ["AAS"]
    assert isinstance(tranches["member_default_fund"]["inputs"]["survivors"], int)


# --------------------------------------------------------------------------- warnings


def test_warnings_come_last_in_json_and_only_when_there_are_some(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_json({"format": "ccp-result/1"})
    assert json.loads(capsys.readouterr().out) == {"format": "ccp-result/1"}
    warning = InputWarning("case.toml", "members[2].name", "repeats the name of members[0]")
    print_json({"format": "ccp-result/1"}, [warning])
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["format", "warnings"]
    assert data["warnings"] == [
        {"file": "case.toml", "field": "members[2].name", "message": warning.message}
    ]


def test_warnings_go_to_stderr_and_keep_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    warning = InputWarning("case.toml", "members[2].name", "repeats the name of members[0]")
    assert value_of(done(7, [warning])) == 7
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"{warning}\n"
    assert captured.err.endswith("(warning)\n")

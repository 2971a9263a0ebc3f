"""Risk cases that ccp check accepts run every command; what cannot run is refused at its field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccpwaterfall.cli.main import run_cli

HISTORY = (
    "date,eq,oil\n2020-01-02,100,50\n2020-01-03,101,49\n2020-01-06,99,51\n2020-01-07,98,52\n"
    "2020-01-08,97,50\n2020-01-09,102,53\n2020-01-10,101,49\n2020-01-13,100,50\n"
    "2020-01-14,103,52\n2020-01-15,99,51\n"
)
DATA = {
    "members.csv": "id,name,group\nA,Bank A,G\nB,Bank B,\n",
    "accounts.csv": "id,member,kind\nA-H,A,house\nB-H,B,house\nB-C1,B,client\n",
    "instruments.csv": (
        "id,kind,underlying,multiplier,strike,expiry_years,volatility\n"
        "EQF,future,eq,50,,,\nEQP,put,eq,50,90,0.25,0.3\nOILF,future,oil,1000,,,\n"
        "EQ1,future,eq,1,,,\n"
    ),
    "positions.csv": (
        "account,instrument,quantity\nA-H,EQF,10\nA-H,EQP,-20\nB-H,OILF,5\nB-C1,EQF,-3\n"
    ),
    "prices.csv": HISTORY,
}
CASE = """\
format = "ccp-risk-case/1"
name = "Small risk case"
currency = "USD"

[ccp]
name = "Test CCP"

[rulebook]
[[rulebook.waterfall]]
kind = "defaulter_margin"
[[rulebook.waterfall]]
kind = "member_default_fund"

[portfolio]
members = "members.csv"
accounts = "accounts.csv"
instruments = "instruments.csv"
positions = "positions.csv"
history = "prices.csv"

[risk]
mpor_days = 1
{risk}

[[risk.stress]]
name = "Crash"
shocks = {{ eq = "{shock}", oil = "-0.3" }}

[fund]
{fund}
"""
COMMANDS = ("margin", "stress", "size-fund", "capital", "eod")


def risk_case(
    directory: Path,
    *,
    risk: str = "",
    shock: str = "-0.2",
    fund: str = "",
    positions: str | None = None,
) -> Path:
    for name, text in DATA.items():
        (directory / name).write_text(text)
    if positions is not None:
        (directory / "positions.csv").write_text(positions)
    path = directory / "case.toml"
    path.write_text(CASE.format(risk=risk, shock=shock, fund=fund))
    return path


def ccp(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    status = run_cli(args)
    out, err = capsys.readouterr()
    return status, out, err


def refused(path: Path, where: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The message at ``where`` (``FILE: FIELD``) of ``ccp check``; every command exits 2 too."""
    status, _, err = ccp(["check", str(path)], capsys)
    assert status == 2, err
    assert "internal error" not in err
    lines = [line for line in err.splitlines() if line.startswith(f"{where}: ")]
    assert lines, err
    for command in COMMANDS:
        assert ccp([command, str(path)], capsys)[0] == 2
    return lines[0]


def warned(path: Path, field: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The warning at ``field``: on stderr and in the JSON of every command, exit status 0."""
    status, _, err = ccp(["check", str(path)], capsys)
    assert status == 0, err
    lines = [line for line in err.splitlines() if f": {field}: " in line]
    assert lines, err
    assert lines[0].endswith(" (warning)")
    for command in COMMANDS:
        status, out, err = ccp([command, str(path), "--json"], capsys)
        assert status == 0, (command, err)
        assert field in err
        fields = [w["field"] for w in json.loads(out)["warnings"]]
        assert field in fields, command
    return lines[0]


def test_the_small_case_runs_every_command_without_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = risk_case(tmp_path)
    for command in ("check", *COMMANDS):
        status, _, err = ccp([command, str(path)], capsys)
        assert status == 0, (command, err)
        assert "(warning)" not in err
    status, out, _ = ccp(["margin", str(path), "--json"], capsys)
    assert "warnings" not in json.loads(out)


def test_an_mpor_longer_than_the_history_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = risk_case(tmp_path, risk="mpor_days = 50")
    path.write_text(path.read_text().replace("mpor_days = 1\n", ""))
    message = refused(path, f"{path}: risk.mpor_days", capsys)
    assert "10 dates" in message


def test_es_worst_above_the_number_of_scenarios_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = risk_case(tmp_path, risk="es_worst = 50")
    assert "9 historical scenarios" in refused(path, f"{path}: risk.es_worst", capsys)


@pytest.mark.parametrize("shock", ["1000", "-1000", "25"])
def test_a_shock_that_moves_prices_past_any_number_is_refused(
    tmp_path: Path, shock: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = risk_case(tmp_path, shock=shock)
    refused(path, f"{path}: risk.stress[0].shocks.eq", capsys)


def test_a_shock_scaled_by_the_reverse_stress_grid_is_bounded_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = risk_case(tmp_path, shock="-5", risk="stress_multipliers = [1, 5]")
    assert "(5)" in refused(path, f"{path}: risk.stress[0].shocks.eq", capsys)


def test_a_quantity_of_1e300_is_refused_at_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    positions = "account,instrument,quantity\nA-H,EQF,10\nB-C1,EQF,1e300\n"
    path = risk_case(tmp_path, positions=positions)
    refused(path, f"{tmp_path / 'positions.csv'}: row 2, column quantity", capsys)


def test_positions_that_could_lose_more_than_money_can_hold_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    positions = "account,instrument,quantity\nA-H,EQF,10\nB-C1,EQF,1e15\n"
    path = risk_case(tmp_path, positions=positions)
    assert "'B-C1'" in refused(path, str(tmp_path / "positions.csv"), capsys)


def test_amounts_past_float_precision_are_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    positions = "account,instrument,quantity\nA-H,EQF,10\nB-C1,EQ1,1e15\n"
    path = risk_case(tmp_path, positions=positions)
    status, _, err = ccp(["check", str(path)], capsys)
    assert status == 0, err
    assert f"{tmp_path / 'positions.csv'}: amounts of up to about" in err
    assert "past float precision" in err
    status, out, _ = ccp(["size-fund", str(path), "--json"], capsys)
    assert status == 0
    assert "float precision" in json.loads(out)["warnings"][0]["message"]


@pytest.mark.parametrize("weight", ["inf", "nan", "12.6", "-1"])
def test_a_risk_weight_that_is_not_a_finite_weight_is_a_bad_option(
    tmp_path: Path, weight: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = ccp(["capital", str(risk_case(tmp_path)), "--risk-weight", weight], capsys)
    assert status == 2
    assert "--risk-weight" in err
    assert "internal error" not in err


@pytest.mark.parametrize("option", ["stressed_weight", "ten_year_floor"])
def test_span_with_a_historical_anti_procyclicality_option_is_refused(
    tmp_path: Path, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    risk = f'margin_model = "span"\nanti_procyclicality = "{option}"'
    path = risk_case(tmp_path, risk=risk)
    message = refused(path, f"{path}: risk.anti_procyclicality", capsys)
    assert "no historical window" in message


def test_span_with_the_buffer_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = risk_case(tmp_path, risk='margin_model = "span"\nanti_procyclicality = "buffer"')
    for command in ("check", *COMMANDS):
        status, _, err = ccp([command, str(path)], capsys)
        assert status == 0, (command, err)


def test_a_look_back_longer_than_the_history_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = risk_case(tmp_path, risk="lookback_days = 500")
    message = warned(path, "risk.lookback_days", capsys)
    assert "9 scenarios" in message
    assert "ES is the mean of the 1 worst" in message


def test_the_ten_year_floor_on_a_short_history_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = risk_case(tmp_path, risk='anti_procyclicality = "ten_year_floor"')
    assert "gives only 9" in warned(path, "risk.anti_procyclicality", capsys)


def test_cover_above_the_number_of_groups_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = risk_case(tmp_path, fund="cover = 5")
    assert "2 member groups" in warned(path, "fund.cover", capsys)

"""Input that is not a regular file, unclear data-file messages, and warnings on plain cases."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pandas as pd
import pytest

from case_samples import MINIMAL_CASE, write_case
from ccpwaterfall.cli.main import run_cli
from ccpwaterfall.io.market_data import read_history
from ccpwaterfall.io.portfolio import read_portfolio
from test_validation_risk import DATA, risk_case

FACTORS = ("eq", "oil")


def ccp(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    status = run_cli(args)
    out, err = capsys.readouterr()
    return status, out, err


def ccp_in_time(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``ccp`` on a thread with a deadline: reading a FIFO would block for ever."""
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run_cli(args)), daemon=True)
    capsys.readouterr()
    thread.start()
    thread.join(timeout=20)
    assert result, "the command blocked"
    out, err = capsys.readouterr()
    return result[0], out, err


@pytest.mark.parametrize("command", ["check", "run", "margin"])
def test_a_fifo_as_the_case_file_is_refused_without_blocking(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "case.toml"
    os.mkfifo(fifo)
    status, _, err = ccp_in_time([command, str(fifo)], capsys)
    assert status == 2
    assert f"{fifo}: is a named pipe (FIFO), not a case file" in err


@pytest.mark.parametrize("name", ["positions.csv", "prices.csv"])
def test_a_fifo_as_a_data_file_is_refused_without_blocking(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = risk_case(tmp_path)
    (tmp_path / name).unlink()
    os.mkfifo(tmp_path / name)
    status, _, err = ccp_in_time(["check", str(path)], capsys)
    assert status == 2
    assert f"{tmp_path / name}: is a named pipe (FIFO)" in err


def test_a_directory_as_the_history_says_it_is_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = risk_case(tmp_path)
    path.write_text(path.read_text().replace('"prices.csv"', '"hist.d"'))
    (tmp_path / "hist.d").mkdir()
    status, _, err = ccp(["check", str(path)], capsys)
    assert status == 2
    assert f"{tmp_path / 'hist.d'}: is a directory, not a file of prices" in err
    assert "unsupported file type" not in err


def _portfolio(directory: Path, members: str) -> list[str]:
    for name, text in DATA.items():
        (directory / name).write_text(text)
    (directory / "members.csv").write_text(members)
    files = [directory / f"{n}.csv" for n in ("members", "accounts", "instruments", "positions")]
    _, issues = read_portfolio(*files, factor_ids=FACTORS)
    return [str(issue) for issue in issues]


def test_a_missing_column_says_which_columns_the_file_has_and_stops_there(
    tmp_path: Path,
) -> None:
    messages = _portfolio(tmp_path, "ident,name,group\nA,Bank A,G\nB,Bank B,\n")
    assert messages == [
        f"{tmp_path / 'members.csv'}: columns: missing column 'id': the file has the columns "
        "ident, name, group; expected id (and optionally name, group, pd, rating, capital)"
    ]


def test_a_semicolon_separated_file_gets_a_hint_at_the_separator(tmp_path: Path) -> None:
    messages = _portfolio(tmp_path, "id;name;group\nA;Bank A;G\nB;Bank B;\n")
    assert len(messages) == 1
    assert "separate its columns with semicolons" in messages[0]


def _history_parquet(path: Path, dates: pd.Series) -> Path:
    pd.DataFrame({"date": dates, "eq": range(100, 100 + len(dates))}).to_parquet(path)
    return path


def test_parquet_dates_stored_as_midnight_timestamps_are_dates(tmp_path: Path) -> None:
    dates = pd.Series(pd.date_range("2020-01-01", periods=25, freq="D"))
    history, issues = read_history(_history_parquet(tmp_path / "p.parquet", dates))
    assert issues == []
    assert history is not None
    assert str(history.dates[0]) == "2020-01-01"


def test_parquet_timestamps_with_a_time_of_day_are_refused_once(tmp_path: Path) -> None:
    dates = pd.Series(pd.date_range("2020-01-01 10:30", periods=25, freq="D"))
    _, issues = read_history(_history_parquet(tmp_path / "p.parquet", dates))
    assert len(issues) == 1
    assert issues[0].field == "column date"
    assert "time of day" in issues[0].message


def test_minus_zero_is_not_called_negative(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(tmp_path, MINIMAL_CASE.replace("default_fund = 1", 'default_fund = "-0"'))
    status, _, err = ccp(["check", str(path)], capsys)
    assert status == 2
    assert "members[0].default_fund: '-0' has a minus sign" in err
    assert "negative" not in err


PLAIN = """\
format = "ccp-case/1"
name = "Warnings"
currency = "EUR"

[ccp]
name = "CCP"

[rulebook]
{rules}
{waterfall}

[[members]]
id = "{member}"
default_fund = 1
initial_margin = 2

[[members]]
id = "B"
default_fund = 5
initial_margin = 2

[[defaults]]
member = "{member}"
loss = 30
date = 2020-01-02
"""
ORDERED = ("defaulter_margin", "defaulter_default_fund", "member_default_fund")


def _plain(
    directory: Path,
    *,
    rules: str = "",
    kinds: tuple[str, ...] = ORDERED,
    member: str = "A",
) -> Path:
    waterfall = "\n".join(f'[[rulebook.waterfall]]\nkind = "{kind}"' for kind in kinds)
    return write_case(directory, PLAIN.format(rules=rules, waterfall=waterfall, member=member))


def _warnings(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The warnings of ``ccp check``; every command runs with exit 0 and lists them in JSON."""
    status, _, err = ccp(["check", str(path)], capsys)
    assert status == 0, err
    found = [line for line in err.splitlines() if line.endswith(" (warning)")]
    for args in (["run", "--json"], ["liability", "--member", "B", "--json"]):
        status, out, _ = ccp([args[0], str(path), *args[1:]], capsys)
        assert status == 0
        assert len(json.loads(out).get("warnings", [])) == len(found)
    for command in ("run", "explain"):
        status, _, err = ccp([command, str(path)], capsys)
        assert status == 0
        assert [line for line in err.splitlines() if line.endswith(" (warning)")] == found
    return found


def test_a_plain_case_without_doubtful_input_has_no_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _warnings(_plain(tmp_path), capsys) == []


def test_a_member_id_with_spaces_around_it_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (line,) = _warnings(_plain(tmp_path, member=" A"), capsys)
    assert line.startswith(f"{tmp_path / 'case.toml'}: members[0].id: id ' A' has spaces")


def test_defaulter_margin_listed_twice_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (line,) = _warnings(_plain(tmp_path, kinds=("defaulter_margin", *ORDERED)), capsys)
    assert ": rulebook.waterfall[1].kind: defaulter_margin is already at" in line


def test_the_members_fund_before_the_defaulters_resources_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kinds = ("member_default_fund", "defaulter_margin", "defaulter_default_fund")
    (line,) = _warnings(_plain(tmp_path, kinds=kinds), capsys)
    assert ": rulebook.waterfall[0].kind: the members' default fund comes before" in line


def test_cooling_off_with_days_to_replenish_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = "business_days_to_replenish = 2\ncooling_off = { business_days = 20 }"
    (line,) = _warnings(_plain(tmp_path, rules=rules), capsys)
    assert ": rulebook.business_days_to_replenish: not used: with cooling_off" in line

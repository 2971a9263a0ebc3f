"""Case files that ccp check accepts run every command: dates, day counts and caps at any size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from case_samples import write_case
from ccpwaterfall.cli.main import run_cli

CASE = """\
format = "ccp-case/1"
name = "Bounds"
currency = "EUR"

[ccp]
name = "CCP"

[rulebook]
{rules}
[[rulebook.waterfall]]
kind = "defaulter_margin"
[[rulebook.waterfall]]
kind = "member_default_fund"
[[rulebook.waterfall]]
kind = "assessments"
cap_multiple = "{cap_multiple}"
[[rulebook.waterfall]]
kind = "vm_gains_haircut"
max_fraction = "{max_fraction}"

[[members]]
id = "A"
default_fund = 1
initial_margin = 2

[[members]]
id = "B"
default_fund = "{contribution}"
initial_margin = 2
vm_gains = "3.00"

[[defaults]]
member = "A"
loss = "{loss}"
date = {date}
"""

COMMANDS = (["run"], ["run", "--json"], ["explain"], ["liability", "--member", "B", "--json"])


def case(
    directory: Path,
    *,
    rules: str = "business_days_to_replenish = 2",
    cap_multiple: str = "2",
    max_fraction: str = "1",
    contribution: str = "3.00",
    loss: str = "30",
    date: str = "2020-01-02",
) -> Path:
    text = CASE.format(
        rules=rules,
        cap_multiple=cap_multiple,
        max_fraction=max_fraction,
        contribution=contribution,
        loss=loss,
        date=date,
    )
    return write_case(directory, text)


def ccp(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    status = run_cli(args)
    out, err = capsys.readouterr()
    return status, out, err


def refused(path: Path, field: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The message ``ccp check`` gives at ``field``; it must exit 2, as every command must."""
    status, _, err = ccp(["check", str(path)], capsys)
    assert status == 2, err
    lines = [line for line in err.splitlines() if line.startswith(f"{path}: {field}: ")]
    assert lines, err
    for command in COMMANDS:
        assert ccp([command[0], str(path), *command[1:]], capsys)[0] == 2
    return lines[0]


def runs(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``ccp check`` accepts the case and every command runs it."""
    assert ccp(["check", str(path)], capsys)[0] == 0
    for command in COMMANDS:
        status, _, err = ccp([command[0], str(path), *command[1:]], capsys)
        assert status == 0, (command, err)


@pytest.mark.parametrize(
    "rules", ["business_days_to_replenish = 2", "cooling_off = { business_days = 20 }"]
)
def test_a_default_dated_9999_12_31_is_refused_at_its_date(
    tmp_path: Path, rules: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = case(tmp_path, rules=rules, date="9999-12-31")
    assert "2200-12-31" in refused(path, "defaults[0].date", capsys)


def test_the_latest_date_and_the_longest_periods_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = (
        "cooling_off = { business_days = 2600, extend_per_default = 2600, "
        "max_business_days = 2600 }"
    )
    runs(case(tmp_path, rules=rules, date="2200-12-31"), capsys)
    runs(case(tmp_path, rules="business_days_to_replenish = 2600", date="2200-12-31"), capsys)


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ("business_days_to_replenish = 1000000000", "rulebook.business_days_to_replenish"),
        ("cooling_off = { business_days = 2601 }", "rulebook.cooling_off.business_days"),
        (
            "cooling_off = { business_days = 20, extend_per_default = 1000000000 }",
            "rulebook.cooling_off.extend_per_default",
        ),
        (
            "cooling_off = { business_days = 20, max_business_days = 1000000000 }",
            "rulebook.cooling_off.max_business_days",
        ),
    ],
)
def test_counts_of_business_days_past_ten_years_are_refused(
    tmp_path: Path, rules: str, field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "at most 2,600 business days" in refused(case(tmp_path, rules=rules), field, capsys)


def _liability(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    status, out, err = ccp(["liability", str(path), "--member", "B", "--json"], capsys)
    assert status == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def test_a_cap_multiple_of_28_digits_is_not_rounded_before_the_floor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = case(tmp_path, cap_multiple="0.9999999999999999999999999999")
    assert _liability(path, capsys)["assessment_cap"] == "2.99"
    status, out, _ = ccp(["run", str(path), "--json"], capsys)
    assert status == 0
    assert json.loads(out)["events"][0]["members"]["B"]["assessment"] == "2.99"


def test_a_max_fraction_of_28_digits_haircuts_no_more_than_the_fraction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = case(tmp_path, max_fraction="0.9999999999999999999999999999")
    assert _liability(path, capsys)["vm_gains_at_risk"] == "2.99"
    status, out, _ = ccp(["run", str(path), "--json"], capsys)
    assert status == 0
    assert json.loads(out)["events"][0]["members"]["B"]["vm_haircut"] == "2.99"


def test_a_cap_of_a_billion_times_the_largest_contribution_is_exact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = case(
        tmp_path,
        cap_multiple="1000000000",
        contribution="99999999999999999999",
        loss="99999999999999999999",
    )
    runs(path, capsys)
    assert _liability(path, capsys)["assessment_cap"] == "99999999999999999999000000000.00"


def test_a_cap_multiple_past_a_billion_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = case(tmp_path, cap_multiple="1000000000.01")
    assert "at most 1,000,000,000" in refused(path, "rulebook.waterfall[2].cap_multiple", capsys)

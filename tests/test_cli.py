"""The ``ccp`` command: outputs and exit statuses (0 success, 1 internal error, 2 bad input)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import jsonschema
import pytest
from typer.testing import CliRunner

from case_samples import EXAMPLES, ROOT, write_case
from ccpwaterfall import __version__
from ccpwaterfall.app import Loaders
from ccpwaterfall.cli.main import COMMAND_MODULES, create_app, run_cli
from ccpwaterfall.io import load_case

NASDAQ = EXAMPLES / "nasdaq-2018" / "case.toml"
KRX = EXAMPLES / "krx-2013" / "case.toml"
KRX_SITG = EXAMPLES / "krx-2013-with-sitg" / "case.toml"

# A case with three problems: a float amount, a misspelt key and a default of nobody.
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

[[members]]
id = "B"
defualt_fund = "1m"
default_fund = "1m"
initial_margin = "10m"

[[defaults]]
member = "Z"
loss = "5m"
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def bad_case(tmp_path: Path) -> Path:
    return write_case(tmp_path, BAD_CASE, "bad.toml")


def _invoke(runner: CliRunner, *args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(create_app(), [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_every_command_with_one_line(runner: CliRunner) -> None:
    code, out, _ = _invoke(runner, "--help")
    assert code == 0
    for command in ("check", "run", "explain", "liability", "compare", "schema"):
        assert f" {command} " in out
    assert "Validate a case file" in out


def test_version(runner: CliRunner) -> None:
    code, out, _ = _invoke(runner, "--version")
    assert code == 0
    assert out.strip() == f"ccp {__version__}"


def test_command_groups_are_registered_from_their_modules() -> None:
    assert "ccpwaterfall.cli.case_commands" in COMMAND_MODULES
    names = {c.name for c in create_app().registered_commands}
    assert {"check", "run", "explain", "liability", "compare", "schema"} <= names


def test_check_a_valid_case(runner: CliRunner) -> None:
    code, out, err = _invoke(runner, "check", NASDAQ)
    assert code == 0
    assert out == f"{NASDAQ}: valid (26 members, 1 event)\n"
    assert err == ""


def test_check_lists_every_problem_and_exits_2(runner: CliRunner, bad_case: Path) -> None:
    code, out, err = _invoke(runner, "check", bad_case)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert any(line.startswith(f"{bad_case}: members[0].default_fund: ") for line in lines)
    assert any(line.startswith(f"{bad_case}: members[1].defualt_fund: ") for line in lines)
    assert any(line.startswith(f"{bad_case}: defaults[0].member: ") for line in lines)
    assert lines[-1] == f"3 problems in {bad_case}"
    assert len(lines) == 4


def test_check_a_valid_risk_case_with_its_data_files(runner: CliRunner) -> None:
    demo = EXAMPLES / "demo-ccp" / "case.toml"
    code, out, err = _invoke(runner, "check", demo)
    assert code == 0
    assert out == (
        f"{demo}: valid risk case (40 members, 400 accounts, 139 instruments, 7 stress scenarios)\n"
    )
    assert err == ""


def test_check_lists_every_problem_of_a_risk_case(runner: CliRunner, tmp_path: Path) -> None:
    risk_case = write_case(
        tmp_path,
        'format = "ccp-case/1"\nname = "R"\ncurrency = "USD"\n[ccp]\nname = "C"\n'
        '[rulebook]\nwaterfall = [{ kind = "defaulter_margin" }]\n'
        '[portfolio]\nmembers = "members.csv"\n[risk]\nmargin_model = "vaR"\n',
        "risk.toml",
    )
    code, out, err = _invoke(runner, "check", risk_case)
    assert code == 2
    assert out == ""
    fields = [line.split(": ")[1] for line in err.splitlines()[:-1]]
    assert "risk.margin_model" in fields
    assert "portfolio.positions" in fields
    assert err.splitlines()[-1] == f"{len(fields)} problems in {risk_case}"


def test_a_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    code, out, err = _invoke(runner, "run", missing)
    assert code == 2
    assert out == ""
    assert err.splitlines() == [f"{missing}: file not found", f"1 problem in {missing}"]


def test_run_shows_the_waterfall(runner: CliRunner) -> None:
    code, out, _ = _invoke(runner, "run", NASDAQ)
    assert code == 0
    assert "Nasdaq junior capital" in out
    assert "64.5%" in out
    assert "EUR 107,000,000.00" in out


def test_run_json_is_exactly_the_expected_result(runner: CliRunner) -> None:
    code, out, err = _invoke(runner, "run", NASDAQ, "--json")
    assert code == 0
    assert err == ""
    assert out == (EXAMPLES / "nasdaq-2018" / "expected.json").read_text(encoding="utf-8")
    assert json.loads(out)["format"] == "ccp-result/1"


def test_run_json_with_the_journal_adds_every_entry_as_explain_gives_it(
    runner: CliRunner,
) -> None:
    eurex = EXAMPLES / "eurex-style" / "case.toml"  # three events
    code, out, err = _invoke(runner, "run", eurex, "--json", "--journal")
    assert code == 0, err
    data = json.loads(out)
    journal = data.pop("journal")
    # The rest is the ccp-result/1 document unchanged.
    assert data == json.loads((eurex.parent / "expected.json").read_text(encoding="utf-8"))
    _, explained, _ = _invoke(runner, "explain", eurex, "--json")
    explain = json.loads(explained)
    grouped = [(None, e) for e in explain["opening"]] + [
        (event["index"], e) for event in explain["events"] for e in event["entries"]
    ]
    assert journal == [{"seq": e["seq"], "event": index, **e} for index, e in grouped]
    assert {entry["event"] for entry in journal} == {None, 0, 1, 2}


def test_the_journal_is_added_to_the_json_only(runner: CliRunner) -> None:
    code, out, err = _invoke(runner, "run", NASDAQ, "--journal")
    assert code == 2
    assert out == ""
    assert "--json" in err


def test_commands_read_through_the_loaders_the_app_is_given(runner: CliRunner) -> None:
    nasdaq = load_case(NASDAQ)
    app = create_app(Loaders(case=lambda _path: nasdaq))
    result = runner.invoke(app, ["run", "no-such-case.toml", "--json"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (EXAMPLES / "nasdaq-2018" / "expected.json").read_text(encoding="utf-8")


def test_run_shows_an_uncovered_loss(runner: CliRunner) -> None:
    code, out, _ = _invoke(runner, "run", EXAMPLES / "beyond-the-waterfall" / "case.toml")
    assert code == 0
    assert "UNCOVERED LOSS: GBP 80,000,000.00" in out


def test_explain_shows_the_journal(runner: CliRunner) -> None:
    code, out, _ = _invoke(runner, "explain", NASDAQ)
    assert code == 0
    assert "close_out" in out
    assert "member:CM01:default_fund" in out
    assert "ccp:capital:2" in out


def test_liability_of_a_member(runner: CliRunner) -> None:
    code, out, _ = _invoke(runner, "liability", NASDAQ, "--member", "CM01")
    assert code == 0
    assert "Liability of CM01" in out
    assert "16,600,000.00" in out


def test_liability_json(runner: CliRunner) -> None:
    cme = EXAMPLES / "cme-base-style" / "case.toml"
    code, out, _ = _invoke(runner, "liability", cme, "--member", "M10", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["member"] == "M10"
    assert data["assessment_cap"] == "2750.02"  # 2.75 x 1,000.01, rounded down


def test_an_unknown_member_exits_2_naming_the_option_and_the_members(runner: CliRunner) -> None:
    code, out, err = _invoke(runner, "liability", NASDAQ, "--member", "NOPE")
    assert code == 2
    assert out == ""
    (problem, count) = err.splitlines()
    assert problem.startswith(f"{NASDAQ}: --member: 'NOPE' is not a member of this case")
    assert "AAS, CM01, CM02" in problem
    assert count == f"1 problem in {NASDAQ}"


def test_liability_needs_the_member_option(runner: CliRunner) -> None:
    code, _, _ = _invoke(runner, "liability", NASDAQ)
    assert code == 2


def test_compare_sets_cases_side_by_side(runner: CliRunner) -> None:
    code, out, _ = _invoke(runner, "compare", NASDAQ, KRX, KRX_SITG)
    assert code == 0
    assert "EUR 107.00m" in out
    assert "KRW 57.00bn" in out
    assert "KRW 47.00bn" in out
    assert "64.5%" in out


def test_compare_json(runner: CliRunner) -> None:
    code, out, _ = _invoke(runner, "compare", NASDAQ, KRX, "--json")
    assert code == 0
    cases = json.loads(out)["cases"]
    assert [c["member_fund_used"] for c in cases] == ["107000000.00", "57000000000"]


def test_compare_reports_the_problems_of_every_bad_file(
    runner: CliRunner, bad_case: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.toml"
    code, out, err = _invoke(runner, "compare", NASDAQ, bad_case, missing)
    assert code == 2
    assert out == ""
    assert f"problems in {bad_case}" in err
    assert f"1 problem in {missing}" in err


def test_schema_is_a_json_schema(runner: CliRunner) -> None:
    code, out, _ = _invoke(runner, "schema")
    assert code == 0
    jsonschema.Draft202012Validator.check_schema(json.loads(out))


def test_a_bad_option_is_a_usage_error(runner: CliRunner) -> None:
    code, _, _ = _invoke(runner, "run", NASDAQ, "--no-such-option")
    assert code == 2


def _boom(*_args: object) -> NoReturn:
    raise RuntimeError("boom")


BOOM = Loaders(case=_boom)


def test_an_internal_error_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["run", str(NASDAQ)], loaders=BOOM) == 1
    captured = capsys.readouterr()
    assert captured.err == "ccp: internal error: boom\n"
    assert captured.out == ""


def test_an_internal_error_shows_the_traceback_when_debugging(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli(["run", str(NASDAQ)], debug=True, loaders=BOOM) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.endswith("ccp: internal error: boom\n")


def test_run_cli_returns_the_status_of_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["check", str(NASDAQ)]) == 0
    assert run_cli(["check", str(EXAMPLES / "nowhere.toml")]) == 2
    assert run_cli(["no-such-command"]) == 2
    assert "file not found" in capsys.readouterr().err


# --- the real command, in its own process ---------------------------------------------


def _ccp(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccpwaterfall.cli", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_process_run_json_prints_only_the_result() -> None:
    done = _ccp("run", "examples/nasdaq-2018/case.toml", "--json")
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout == (EXAMPLES / "nasdaq-2018" / "expected.json").read_text(encoding="utf-8")
    json.loads(done.stdout)


def test_process_bad_input_exits_2(bad_case: Path) -> None:
    done = _ccp("check", bad_case)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines()[-1].endswith(f"problems in {bad_case}")


def test_process_internal_error_exits_1_without_a_traceback() -> None:
    script = (
        "import sys\n"
        "from ccpwaterfall.app import Loaders\n"
        "from ccpwaterfall.cli.main import run_cli\n"
        "def boom(*args): raise RuntimeError('boom')\n"
        "sys.exit(run_cli(sys.argv[1:], loaders=Loaders(case=boom)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "run", "examples/nasdaq-2018/case.toml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "CCP_DEBUG"},
    )
    assert done.returncode == 1
    assert done.stderr == "ccp: internal error: boom\n"
    assert done.stdout == ""

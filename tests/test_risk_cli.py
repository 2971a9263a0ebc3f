"""The risk commands of ``ccp`` on the demo CCP: margin, stress, size-fund, capital and eod.

Outputs are checked against each other and against the rules they apply (the
fund is the sum of its contributions, Cover-2 is the largest pair, K_CCP is
linear in the risk weight...), not against figures copied from a run.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ccpwaterfall.app import Loaders
from ccpwaterfall.cli.main import COMMAND_MODULES, create_app
from ccpwaterfall.io.risk_case import RiskCase, load_risk_case

DEMO_DIR = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp"
DEMO = DEMO_DIR / "case.toml"
DATA_FILES = ("members.csv", "accounts.csv", "instruments.csv", "positions.parquet")
SCENARIOS = 7  # [[risk.stress]] tables in examples/demo-ccp/case.toml


def _demo_text() -> str:
    """The demo case with its data files named by absolute path, to copy elsewhere."""
    text = DEMO.read_text(encoding="utf-8")
    for name in DATA_FILES:
        text = text.replace(f'"{name}"', f'"{(DEMO_DIR / name).as_posix()}"')
    return text


@pytest.fixture(scope="module")
def ccp() -> typer.Typer:
    """The ``ccp`` application, reading the demo case from its files once for the module."""
    loaded = load_risk_case(DEMO)

    def load(source: Path) -> RiskCase:
        return loaded if source == DEMO else load_risk_case(source)

    return create_app(Loaders(risk_case=load))


@pytest.fixture
def demo() -> Path:
    return DEMO


def _invoke(ccp: typer.Typer, *args: str | Path, width: int = 80) -> tuple[int, str, str]:
    result = CliRunner().invoke(ccp, [str(a) for a in args], env={"COLUMNS": str(width)})
    return result.exit_code, result.stdout, result.stderr


def _json(ccp: typer.Typer, *args: str | Path) -> Any:
    """The command's JSON: exit 0, stdout is one JSON document and nothing else."""
    code, out, err = _invoke(ccp, *args, "--json")
    assert code == 0, err
    assert err == ""
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def _money(value: Any) -> Decimal:
    """A JSON amount: a decimal string in cents (USD), never a float."""
    assert isinstance(value, str), value
    assert re.fullmatch(r"-?\d+\.\d\d", value), value
    return Decimal(value)


def _cents(count: int) -> Decimal:
    """How far a sum of ``count`` amounts, each rounded to the cent, may be from its total."""
    return Decimal("0.005") * count + Decimal("0.005")


def test_risk_commands_are_registered(ccp: typer.Typer) -> None:
    assert "ccpwaterfall.cli.risk_commands" in COMMAND_MODULES
    code, out, _ = _invoke(ccp, "--help")
    assert code == 0
    for command in ("margin", "stress", "size-fund", "capital", "eod"):
        assert f" {command} " in out


def test_margin_json_members_and_accounts_add_up(ccp: typer.Typer, demo: Path) -> None:
    data = _json(ccp, "margin", demo)
    assert data["format"] == "ccp-margin/1"
    assert data["currency"] == "USD"
    model = data["model"]
    # examples/demo-ccp/case.toml: ES at 99% over 2-day moves, EWMA, a 25% buffer.
    assert model["margin_model"] == "es"
    assert model["mpor_days"] == 2
    assert model["volatility_filter"] == "ewma"
    assert model["anti_procyclicality"] == "buffer"
    assert model["apc_buffer"] == 0.25
    # ES of the k worst with k = ceil(n x (1 - 0.99)).
    n = model["scenarios"]
    assert model["es_worst"] == -(-n // 100)
    members = data["members"]
    accounts = data["accounts"]
    assert len(members) == 40
    assert len(accounts) == 400
    margins = [_money(m["initial_margin"]) for m in members]
    assert margins == sorted(margins, reverse=True)
    assert abs(sum(margins) - _money(data["total"])) <= _cents(len(margins))
    for member in members:
        own = [
            _money(a["initial_margin"]) for a in accounts.values() if a["member"] == member["id"]
        ]
        assert abs(sum(own) - _money(member["initial_margin"])) <= _cents(len(own))


def test_margin_view_shows_top_rows_then_the_rest(ccp: typer.Typer, demo: Path) -> None:
    code, out, err = _invoke(ccp, "margin", demo, "--top", "5")
    assert code == 0
    assert err == ""
    assert "expected shortfall" in out
    assert "25% buffer" in out
    assert "... and 35 more members" in out
    data = _json(ccp, "margin", demo)
    members = data["members"]
    shown = [m["id"] for m in members if re.search(rf"^{m['id']}\s", out, re.MULTILINE)]
    assert shown == [m["id"] for m in members[:5]]


def test_stress_json_cover_measures_follow_from_the_scenarios(ccp: typer.Typer, demo: Path) -> None:
    data = _json(ccp, "stress", demo)
    scenarios = data["scenarios"]
    assert len(scenarios) == SCENARIOS
    cover1, cover2, floor = data["cover1"], data["cover2"], data["art42_floor"]
    pairs = {s["name"]: _money(s["two_largest"]) for s in scenarios}
    largest = {s["name"]: _money(s["largest"][0]["exposure"]) for s in scenarios}
    amount1, amount2 = _money(cover1["amount"]), _money(cover2["amount"])
    # Cover-2 is the largest pair over the scenarios, Cover-1 the largest single group.
    assert abs(amount2 - max(pairs.values())) <= _cents(2)
    assert abs(pairs[cover2["scenario"]] - amount2) <= _cents(2)
    assert cover2["groups"] == [g["group"] for g in _scenario(scenarios, cover2)["largest"]]
    assert abs(amount1 - max(largest.values())) <= _cents(1)
    assert amount1 <= _money(floor["amount"]) <= amount2
    for scenario in scenarios:
        exposures = [_money(g["exposure"]) for g in scenario["largest"]]
        assert exposures == sorted(exposures, reverse=True)
        assert sum(exposures) <= _money(scenario["all_groups"]) + _cents(len(exposures))
    beyond = data["cover_beyond_own_fund"]
    assert beyond["cover"] == 2
    assert _money(beyond["amount"]) <= amount2
    assert data["reverse_stress_grid"] == [1.0, 2.0, 3.0, 5.0]  # examples/demo-ccp/case.toml


def _scenario(scenarios: list[Any], cover: Any) -> Any:
    found = [s for s in scenarios if s["name"] == cover["scenario"]]
    assert len(found) == 1
    return found[0]


def test_stress_view_reports_reverse_stress_per_scenario(ccp: typer.Typer, demo: Path) -> None:
    data = _json(ccp, "stress", demo)
    scenarios = data["scenarios"]
    # Wide enough that no table cell wraps.
    code, out, _ = _invoke(ccp, "stress", demo, width=200)
    assert code == 0
    for label in ("Cover-1", "Cover-2", "EMIR Art 42(3) floor", "Cover-2 beyond own fund"):
        assert label in out
    never = [s for s in scenarios if s["reverse_stress"]["multiplier"] is None]
    reached = [s for s in scenarios if s["reverse_stress"]["multiplier"] is not None]
    assert never
    assert reached
    lines = {s["name"]: _line_of(out, s["name"]) for s in scenarios}
    for scenario in never:
        assert "not exhausted on the grid up to 5x" in lines[scenario["name"]]
    for scenario in reached:
        floored = math.floor(scenario["reverse_stress"]["multiplier"] * 100) / 100
        assert f"{floored:.2f}x" in lines[scenario["name"]]


def _line_of(text: str, start: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith(start)]
    return line


def test_size_fund_json_contributions_sum_to_the_fund(ccp: typer.Typer, demo: Path) -> None:
    data = _json(ccp, "size-fund", demo)
    assert data["set_by"] == "cover"
    contributions = data["contributions"]
    assert len(contributions) == 40
    fund = _money(data["fund"])
    assert sum(_money(v) for v in contributions.values()) == fund
    assert abs(fund - _money(data["size"])) < Decimal("0.01")
    drills = data["drills"]
    assert len(drills) == SCENARIOS
    cover = data["cover"]
    sizing = [d for d in drills if d["scenario"] == cover["scenario"]]
    assert len(sizing) == 1
    assert sizing[0]["groups"] == cover["groups"]
    # Sized to Cover-2 with junior SITG ahead: no assessment ([LCH-STRESS-THIS-HOUSE]).
    assert Decimal(sizing[0]["assessments"]) == 0
    for drill in drills:
        for key in ("loss", "member_fund_used", "assessments", "uncovered"):
            assert re.fullmatch(r"\d+\.\d\d", drill[key]), (key, drill[key])


def test_size_fund_view_shows_the_exact_fund_as_the_total(ccp: typer.Typer, demo: Path) -> None:
    data = _json(ccp, "size-fund", demo)
    code, out, _ = _invoke(ccp, "size-fund", demo)
    assert code == 0
    fund = f"{Decimal(str(data['fund'])):,}"
    assert f"USD {fund}" in out
    assert re.search(rf"Total = fund\s+40 members\s+{re.escape(fund)}", out)
    assert "Cover-2 less junior skin in the game, plus a 10% buffer" in out
    assert "(sets the fund)" in out


def test_write_case_then_run_it(ccp: typer.Typer, demo: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "drill.toml"
    code, out, err = _invoke(ccp, "size-fund", demo, "--write-case", out_file)
    assert code == 0, err
    assert f"to {out_file}" in out
    data = _json(ccp, "size-fund", demo)
    cover = data["cover"]
    code, _, err = _invoke(ccp, "check", out_file)
    assert code == 0, err
    result = _json(ccp, "run", out_file)
    assert result["format"] == "ccp-result/1"
    drills = data["drills"]
    (sizing,) = [d for d in drills if d["scenario"] == cover["scenario"]]
    events = result["events"]
    assert events[0]["loss"] == sizing["loss"]
    assert events[0]["defaulters"] == sizing["defaulters"]
    assert f"'{cover['scenario']}'" in str(result["case"])


def test_write_case_of_a_named_scenario_with_json(
    ccp: typer.Typer, demo: Path, tmp_path: Path
) -> None:
    out_file = tmp_path / "oil.toml"
    code, out, err = _invoke(
        ccp,
        "size-fund",
        demo,
        "--json",
        "--write-case",
        out_file,
        "--scenario",
        "Oil crash 2015",
    )
    assert code == 0
    json.loads(out)  # only JSON on stdout; the note on the written file goes to stderr
    assert str(out_file) in err
    result = _json(ccp, "run", out_file)
    assert "'Oil crash 2015'" in str(result["case"])


def test_unknown_scenario_exits_2_listing_the_scenarios(
    ccp: typer.Typer, demo: Path, tmp_path: Path
) -> None:
    out_file = tmp_path / "drill.toml"
    code, out, err = _invoke(
        ccp, "size-fund", demo, "--write-case", out_file, "--scenario", "Martian crash"
    )
    assert code == 2
    assert out == ""
    assert "'Martian crash' is not a stress scenario" in err
    assert "'Oil crash 2015'" in err
    assert "'Flash rally'" in err
    assert not out_file.exists()


def test_scenario_without_write_case_exits_2(ccp: typer.Typer, demo: Path) -> None:
    code, out, err = _invoke(ccp, "size-fund", demo, "--scenario", "Flash rally")
    assert code == 2
    assert out == ""
    assert "--write-case" in err


def test_write_case_into_a_missing_folder_exits_2(
    ccp: typer.Typer, demo: Path, tmp_path: Path
) -> None:
    out_file = tmp_path / "missing" / "drill.toml"
    code, _, err = _invoke(ccp, "size-fund", demo, "--write-case", out_file)
    assert code == 2
    assert f"{out_file}: cannot be written" in err
    assert err.splitlines()[-1] == f"1 problem in {out_file}"


def test_capital_json_floor_and_risk_weight(ccp: typer.Typer, demo: Path) -> None:
    base = _json(ccp, "capital", demo)
    doubled = _json(ccp, "capital", demo, "--risk-weight", "0.4")
    assert base["risk_weight"] == 0.2
    assert base["capital_ratio"] == 0.08
    # K_CCP = sum max(EAD - IM - DF, 0) x RW x ratio (CRE54.29): linear in the risk weight.
    assert abs(_money(doubled["k_ccp"]) - 2 * _money(base["k_ccp"])) <= _cents(2)
    members = base["members"]
    assert len(members) == 40
    for figures in members.values():
        k_cm = _money(figures["k_cm"])
        assert k_cm + _cents(1) >= Decimal("0.0016") * _money(figures["default_fund"])
        assert abs(_money(figures["rwa"]) - Decimal("12.5") * k_cm) <= Decimal("12.5") * _cents(1)


def test_capital_help_documents_the_ead_stand_in(ccp: typer.Typer) -> None:
    code, out, _ = _invoke(ccp, "capital", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert "EAD stand-in" in flat
    assert "worst stress loss" in flat


def test_capital_view(ccp: typer.Typer, demo: Path) -> None:
    code, out, _ = _invoke(ccp, "capital", demo, "--capital-ratio", "0.1")
    assert code == 0
    assert "K_CCP" in out
    assert "Capital ratio" in out
    assert "10%" in out


def test_eod_json_holds_every_part_and_the_worst_drill_result(
    ccp: typer.Typer, demo: Path, tmp_path: Path
) -> None:
    data = _json(ccp, "eod", demo)
    assert data["format"] == "ccp-eod/1"
    assert {"margin", "stress", "fund", "worst_drill"} <= set(data)
    fund = data["fund"]
    worst = data["worst_drill"]
    assert worst["scenario"] == fund["cover"]["scenario"]
    # The worst drill's result is the ccp-result/1 of its written case, run on its own.
    out_file = tmp_path / "worst.toml"
    code, _, err = _invoke(ccp, "size-fund", demo, "--write-case", out_file)
    assert code == 0, err
    assert worst["result"] == _json(ccp, "run", out_file)


def test_eod_view_shows_each_section_and_the_worst_run(ccp: typer.Typer, demo: Path) -> None:
    code, out, err = _invoke(ccp, "eod", demo)
    assert code == 0
    assert err == ""
    for heading in (
        "Initial margin",
        "Stress tests",
        "Default fund",
        "Default drills",
        "The worst Cover-2 default through the waterfall",
        "Event 1 of 1",
        "Totals over 1 event",
    ):
        assert heading in out


def test_a_missing_risk_case_exits_2(ccp: typer.Typer, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    code, out, err = _invoke(ccp, "eod", missing)
    assert code == 2
    assert out == ""
    assert err.splitlines() == [f"{missing}: file not found", f"1 problem in {missing}"]


def test_a_bad_risk_case_lists_every_problem_and_exits_2(ccp: typer.Typer, tmp_path: Path) -> None:
    accounts = (DEMO_DIR / "accounts.csv").read_text(encoding="utf-8").splitlines()
    # Row 3 (line 4) gets an account kind that does not exist.
    accounts[3] = accounts[3].replace(",client", ",hose")
    (tmp_path / "accounts.csv").write_text("\n".join(accounts) + "\n", encoding="utf-8")
    text = _demo_text().replace(f'"{(DEMO_DIR / "accounts.csv").as_posix()}"', '"accounts.csv"')
    text = text.replace("[risk]\n", "[risk]\nmpor_dayz = 2\n")
    case = tmp_path / "case.toml"
    case.write_text(text, encoding="utf-8")
    for command in ("margin", "eod"):
        code, out, err = _invoke(ccp, command, case, "--json")
        assert code == 2
        assert out == ""
        lines = err.splitlines()
        assert any(line.startswith(f"{case}: risk.mpor_dayz: unknown key") for line in lines)
        assert any("accounts.csv" in line and "row 3, column kind" in line for line in lines)
        assert lines[-1] == f"{len(lines) - 1} problems in {case}"


def test_a_plain_case_is_not_a_risk_case(ccp: typer.Typer) -> None:
    plain = DEMO_DIR.parent / "nasdaq-2018" / "case.toml"
    code, _, err = _invoke(ccp, "margin", plain)
    assert code == 2
    assert "ccp run" in err


def test_stress_commands_need_stress_scenarios(ccp: typer.Typer, tmp_path: Path) -> None:
    text = _demo_text()
    # Keep [risk] and [fund], drop every [[risk.stress]] table.
    head, rest = text.split("[[risk.stress]]", 1)
    fund = rest[rest.index("[fund]") :]
    case = tmp_path / "case.toml"
    case.write_text(head.replace("stress_multipliers = [1, 2, 3, 5]", "") + fund, encoding="utf-8")
    code, _, err = _invoke(ccp, "margin", case)
    assert code == 0, err
    code, out, err = _invoke(ccp, "size-fund", case)
    assert code == 2
    assert out == ""
    assert f"{case}: risk.stress: ccp size-fund needs stress scenarios" in err
